"""The 43 territorial police forces of England and Wales plus British Transport Police.

Reference table for the synthetic data.police.uk archive (``devtools.sample.police_uk``).
Ids and names are the publisher's (the API's ``/forces`` ids, the names written in
``Reported by`` / ``Falls within``). Volumes are rough monthly averages of recent
years (street rows include anti-social behaviour); centres are rough; district names
are the local authority names used in 2021 LSOA names (``Preston 013B``), i.e. before
the 2023 reorganisations in Cumbria, North Yorkshire and Somerset.
"""

from __future__ import annotations

from dataclasses import dataclass

# Population shares by officer-defined group, in the order of the contract's
# OFFICER_DEFINED_ETHNICITIES: White, Black, Asian, Mixed, Other (Census 2021, rounded).
DEFAULT_ETHNICITY = (0.93, 0.015, 0.03, 0.017, 0.008)
WELSH_FORCES = frozenset({"dyfed-powys", "gwent", "north-wales", "south-wales"})
# Forces whose street files repeat Crime IDs as some real ones do: 6-8 % of non-empty ids appear
# on more than one row, the rows differing in place, outcome or crime type. The others repeat a
# handful at most (Lancashire's and Cumbria's real 2018-19 files: none; City of London: 4).
HIGH_REPEAT_FORCES = frozenset({"kent", "merseyside", "south-yorkshire"})


@dataclass(frozen=True)
class Force:
    id: str  # data.police.uk force id, as in file names
    name: str  # as written in Reported by / Falls within
    street_per_month: int  # street-level rows a month, ASB included
    stop_search_per_month: int
    lon: float  # rough centre of the force area
    lat: float
    districts: tuple[str, ...]  # local authority / CSP names used in LSOA names
    radius: float = 0.2  # degrees of latitude around the centre (longitude: 1.5x)
    ethnicity: tuple[float, float, float, float, float] = DEFAULT_ETHNICITY

    @property
    def is_welsh(self) -> bool:
        return self.id in WELSH_FORCES

    @property
    def lsoa_prefix(self) -> str:
        return "W01" if self.is_welsh else "E01"

    @property
    def crime_id_repeat_share(self) -> float:
        """Share of the month's non-empty Crime IDs that stand on more than one street row."""
        return 0.07 if self.id in HIGH_REPEAT_FORCES else 0.0

    @property
    def publishes_outcomes(self) -> bool:
        # British Transport Police publishes no outcomes file and no Crime IDs.
        return self.id != "btp"


_LONDON_BOROUGHS = (
    "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley", "Camden", "Croydon", "Ealing",
    "Enfield", "Greenwich", "Hackney", "Hammersmith and Fulham", "Haringey", "Harrow", "Havering",
    "Hillingdon", "Hounslow", "Islington", "Kensington and Chelsea", "Kingston upon Thames", "Lambeth",
    "Lewisham", "Merton", "Newham", "Redbridge", "Richmond upon Thames", "Southwark", "Sutton",
    "Tower Hamlets", "Waltham Forest", "Wandsworth", "Westminster",
)

_TABLE: tuple[Force, ...] = (
    Force("avon-and-somerset", "Avon and Somerset Constabulary", 13000, 500, -2.75, 51.30,
          ("Bath and North East Somerset", "Bristol", "Mendip", "North Somerset", "Sedgemoor",
           "Somerset West and Taunton", "South Gloucestershire", "South Somerset"),
          ethnicity=(0.91, 0.025, 0.03, 0.025, 0.01)),
    Force("bedfordshire", "Bedfordshire Police", 5000, 350, -0.45, 52.00,
          ("Bedford", "Central Bedfordshire", "Luton"), radius=0.15,
          ethnicity=(0.75, 0.05, 0.15, 0.03, 0.02)),
    Force("cambridgeshire", "Cambridgeshire Constabulary", 7000, 350, 0.05, 52.40,
          ("Cambridge", "East Cambridgeshire", "Fenland", "Huntingdonshire", "Peterborough",
           "South Cambridgeshire")),
    Force("cheshire", "Cheshire Constabulary", 8000, 400, -2.55, 53.20,
          ("Cheshire East", "Cheshire West and Chester", "Halton", "Warrington"), radius=0.18),
    Force("city-of-london", "City of London Police", 700, 150, -0.0920, 51.5155,
          ("City of London",), radius=0.008, ethnicity=(0.54, 0.135, 0.21, 0.057, 0.063)),
    Force("cleveland", "Cleveland Police", 8000, 300, -1.20, 54.57,
          ("Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees"), radius=0.1),
    Force("cumbria", "Cumbria Constabulary", 3500, 250, -2.90, 54.50,
          ("Allerdale", "Barrow-in-Furness", "Carlisle", "Copeland", "Eden", "South Lakeland")),
    Force("derbyshire", "Derbyshire Constabulary", 8000, 350, -1.55, 53.05,
          ("Amber Valley", "Bolsover", "Chesterfield", "Derby", "Derbyshire Dales", "Erewash", "High Peak",
           "North East Derbyshire", "South Derbyshire")),
    Force("devon-and-cornwall", "Devon & Cornwall Police", 10000, 450, -4.20, 50.50,
          ("Cornwall", "East Devon", "Exeter", "Isles of Scilly", "Mid Devon", "North Devon", "Plymouth",
           "South Hams", "Teignbridge", "Torbay", "Torridge", "West Devon")),
    Force("dorset", "Dorset Police", 4000, 250, -2.20, 50.75,
          ("Bournemouth, Christchurch and Poole", "Dorset"), radius=0.15),
    Force("durham", "Durham Constabulary", 6000, 300, -1.70, 54.65,
          ("County Durham", "Darlington"), radius=0.15),
    Force("dyfed-powys", "Dyfed-Powys Police", 3000, 200, -3.90, 52.10,
          ("Carmarthenshire", "Ceredigion", "Pembrokeshire", "Powys")),
    Force("essex", "Essex Police", 15000, 1200, 0.55, 51.80,
          ("Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester", "Epping Forest",
           "Harlow", "Maldon", "Rochford", "Southend-on-Sea", "Tendring", "Thurrock", "Uttlesford"),
          ethnicity=(0.90, 0.03, 0.04, 0.02, 0.01)),
    Force("gloucestershire", "Gloucestershire Constabulary", 4000, 250, -2.20, 51.85,
          ("Cheltenham", "Cotswold", "Forest of Dean", "Gloucester", "Stroud", "Tewkesbury"), radius=0.15),
    Force("greater-manchester", "Greater Manchester Police", 32000, 1500, -2.25, 53.50,
          ("Bolton", "Bury", "Manchester", "Oldham", "Rochdale", "Salford", "Stockport", "Tameside",
           "Trafford", "Wigan"), radius=0.12, ethnicity=(0.78, 0.04, 0.13, 0.03, 0.02)),
    Force("gwent", "Gwent Police", 5000, 300, -3.05, 51.68,
          ("Blaenau Gwent", "Caerphilly", "Monmouthshire", "Newport", "Torfaen"), radius=0.12),
    Force("hampshire", "Hampshire Constabulary", 15000, 600, -1.25, 51.00,
          ("Basingstoke and Deane", "East Hampshire", "Eastleigh", "Fareham", "Gosport", "Hart", "Havant",
           "Isle of Wight", "New Forest", "Portsmouth", "Rushmoor", "Southampton", "Test Valley",
           "Winchester")),
    Force("hertfordshire", "Hertfordshire Constabulary", 8000, 500, -0.25, 51.80,
          ("Broxbourne", "Dacorum", "East Hertfordshire", "Hertsmere", "North Hertfordshire", "St Albans",
           "Stevenage", "Three Rivers", "Watford", "Welwyn Hatfield"), radius=0.15,
          ethnicity=(0.84, 0.04, 0.07, 0.03, 0.02)),
    Force("humberside", "Humberside Police", 9000, 400, -0.50, 53.70,
          ("East Riding of Yorkshire", "Kingston upon Hull", "North East Lincolnshire", "North Lincolnshire")),
    Force("kent", "Kent Police", 16000, 900, 0.75, 51.20,
          ("Ashford", "Canterbury", "Dartford", "Dover", "Folkestone and Hythe", "Gravesham", "Maidstone",
           "Medway", "Sevenoaks", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells"),
          ethnicity=(0.89, 0.03, 0.05, 0.02, 0.01)),
    Force("lancashire", "Lancashire Constabulary", 15000, 800, -2.60, 53.80,
          ("Blackburn with Darwen", "Blackpool", "Burnley", "Chorley", "Fylde", "Hyndburn", "Lancaster",
           "Pendle", "Preston", "Ribble Valley", "Rossendale", "South Ribble", "West Lancashire", "Wyre"),
          ethnicity=(0.86, 0.006, 0.11, 0.015, 0.009)),
    Force("leicestershire", "Leicestershire Police", 8000, 450, -1.13, 52.65,
          ("Blaby", "Charnwood", "Harborough", "Hinckley and Bosworth", "Leicester", "Melton",
           "North West Leicestershire", "Oadby and Wigston", "Rutland"), radius=0.15,
          ethnicity=(0.78, 0.025, 0.16, 0.02, 0.015)),
    Force("lincolnshire", "Lincolnshire Police", 5000, 250, -0.30, 53.10,
          ("Boston", "East Lindsey", "Lincoln", "North Kesteven", "South Holland", "South Kesteven",
           "West Lindsey")),
    Force("merseyside", "Merseyside Police", 12000, 2500, -2.95, 53.42,
          ("Knowsley", "Liverpool", "Sefton", "St. Helens", "Wirral"), radius=0.1,
          ethnicity=(0.92, 0.02, 0.025, 0.02, 0.015)),
    Force("metropolitan", "Metropolitan Police Service", 90000, 15000, -0.12, 51.50,
          _LONDON_BOROUGHS, radius=0.17, ethnicity=(0.54, 0.135, 0.21, 0.057, 0.063)),
    Force("norfolk", "Norfolk Constabulary", 6000, 350, 1.00, 52.65,
          ("Breckland", "Broadland", "Great Yarmouth", "King's Lynn and West Norfolk", "North Norfolk",
           "Norwich", "South Norfolk")),
    Force("north-wales", "North Wales Police", 4500, 300, -3.60, 53.10,
          ("Conwy", "Denbighshire", "Flintshire", "Gwynedd", "Isle of Anglesey", "Wrexham")),
    Force("north-yorkshire", "North Yorkshire Police", 5000, 250, -1.35, 54.10,
          ("Craven", "Hambleton", "Harrogate", "Richmondshire", "Ryedale", "Scarborough", "Selby", "York")),
    Force("northamptonshire", "Northamptonshire Police", 6000, 300, -0.85, 52.30,
          ("North Northamptonshire", "West Northamptonshire"), radius=0.15),
    Force("northumbria", "Northumbria Police", 14000, 600, -1.65, 55.00,
          ("Gateshead", "Newcastle upon Tyne", "North Tyneside", "Northumberland", "South Tyneside",
           "Sunderland")),
    Force("nottinghamshire", "Nottinghamshire Police", 9000, 500, -1.10, 53.10,
          ("Ashfield", "Bassetlaw", "Broxtowe", "Gedling", "Mansfield", "Newark and Sherwood", "Nottingham",
           "Rushcliffe"), radius=0.18, ethnicity=(0.88, 0.03, 0.05, 0.03, 0.01)),
    Force("south-wales", "South Wales Police", 11000, 1000, -3.45, 51.60,
          ("Bridgend", "Cardiff", "Merthyr Tydfil", "Neath Port Talbot", "Rhondda Cynon Taf", "Swansea",
           "Vale of Glamorgan"), radius=0.12, ethnicity=(0.92, 0.015, 0.035, 0.02, 0.01)),
    Force("south-yorkshire", "South Yorkshire Police", 14000, 700, -1.35, 53.50,
          ("Barnsley", "Doncaster", "Rotherham", "Sheffield"), radius=0.15,
          ethnicity=(0.89, 0.02, 0.05, 0.02, 0.02)),
    Force("staffordshire", "Staffordshire Police", 8000, 350, -2.00, 52.85,
          ("Cannock Chase", "East Staffordshire", "Lichfield", "Newcastle-under-Lyme", "South Staffordshire",
           "Stafford", "Staffordshire Moorlands", "Stoke-on-Trent", "Tamworth")),
    Force("suffolk", "Suffolk Constabulary", 5000, 250, 1.00, 52.20,
          ("Babergh", "East Suffolk", "Ipswich", "Mid Suffolk", "West Suffolk")),
    Force("surrey", "Surrey Police", 6500, 400, -0.40, 51.25,
          ("Elmbridge", "Epsom and Ewell", "Guildford", "Mole Valley", "Reigate and Banstead", "Runnymede",
           "Spelthorne", "Surrey Heath", "Tandridge", "Waverley", "Woking"), radius=0.12,
          ethnicity=(0.87, 0.02, 0.07, 0.025, 0.015)),
    Force("sussex", "Sussex Police", 11000, 600, -0.30, 50.95,
          ("Adur", "Arun", "Brighton and Hove", "Chichester", "Crawley", "Eastbourne", "Hastings", "Horsham",
           "Lewes", "Mid Sussex", "Rother", "Wealden", "Worthing"), radius=0.15),
    Force("thames-valley", "Thames Valley Police", 15000, 700, -1.00, 51.65,
          ("Bracknell Forest", "Buckinghamshire", "Cherwell", "Milton Keynes", "Oxford", "Reading", "Slough",
           "South Oxfordshire", "Vale of White Horse", "West Berkshire", "West Oxfordshire",
           "Windsor and Maidenhead", "Wokingham"), ethnicity=(0.82, 0.03, 0.10, 0.03, 0.02)),
    Force("warwickshire", "Warwickshire Police", 3500, 200, -1.55, 52.30,
          ("North Warwickshire", "Nuneaton and Bedworth", "Rugby", "Stratford-on-Avon", "Warwick"),
          radius=0.15),
    Force("west-mercia", "West Mercia Police", 9000, 400, -2.55, 52.40,
          ("Bromsgrove", "Herefordshire", "Malvern Hills", "Redditch", "Shropshire", "Telford and Wrekin",
           "Worcester", "Wychavon", "Wyre Forest")),
    Force("west-midlands", "West Midlands Police", 25000, 1500, -1.90, 52.48,
          ("Birmingham", "Coventry", "Dudley", "Sandwell", "Solihull", "Walsall", "Wolverhampton"),
          radius=0.1, ethnicity=(0.66, 0.07, 0.20, 0.045, 0.025)),
    Force("west-yorkshire", "West Yorkshire Police", 25000, 1500, -1.65, 53.75,
          ("Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"), radius=0.12,
          ethnicity=(0.77, 0.025, 0.16, 0.025, 0.02)),
    Force("wiltshire", "Wiltshire Police", 4000, 200, -1.90, 51.35,
          ("Swindon", "Wiltshire"), radius=0.15),
    # BTP crimes happen at stations inside other forces' areas: the generator places them
    # in LSOAs of the forces in BTP_HOST_FORCES, so the centre and districts here are nominal.
    Force("btp", "British Transport Police", 4500, 700, -0.12, 51.51,
          ("Camden", "City of London", "Lambeth", "Southwark", "Westminster"), radius=0.1,
          ethnicity=(0.62, 0.12, 0.16, 0.05, 0.05)),
)

FORCES: dict[str, Force] = {f.id: f for f in _TABLE}
FORCE_IDS: tuple[str, ...] = tuple(FORCES)

# Where British Transport Police stations are, as shares of its crime.
BTP_HOST_FORCES: dict[str, float] = {
    "metropolitan": 0.50, "west-midlands": 0.06, "greater-manchester": 0.07, "west-yorkshire": 0.05,
    "merseyside": 0.03, "lancashire": 0.02, "sussex": 0.05, "kent": 0.05, "surrey": 0.04,
    "hertfordshire": 0.04, "essex": 0.04, "thames-valley": 0.03, "south-wales": 0.02,
}


def get_force(force_id: str) -> Force:
    """The force with this data.police.uk id, or a ValueError naming the known ids."""
    try:
        return FORCES[force_id]
    except KeyError:
        raise ValueError(
            f"unknown police force id {force_id!r}; expected one of: {', '.join(FORCE_IDS)}"
        ) from None
