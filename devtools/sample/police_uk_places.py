"""Where the sample's crimes happen: synthetic LSOAs, map points and place names per force.

Geography does not depend on the archive's seed (``GEOGRAPHY_SEED``), so LSOA codes stay put
across samples; a force's LSOAs are named after its districts as the real 2021 LSOAs are
(``Preston 013B``), and BTP's points sit at stations, a few in Scotland with no LSOA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from devtools.sample import draws
from devtools.sample.forces import BTP_HOST_FORCES, FORCES, Force, get_force

POINTS_PER_LSOA = 10  # anonymised map points per LSOA
CRIMES_PER_LSOA_MONTH = 40  # sets the number of synthetic LSOAs per force
GEOGRAPHY_SEED = 1_844_674  # geography does not depend on --seed: LSOA codes stay put

PLACE_TYPES = (
    "Supermarket", "Parking Area", "Shopping Area", "Petrol Station", "Sports/Recreation Area", "Nightclub",
    "Park/Open Space", "Pedestrian Subway", "Police Station", "Further/Higher Educational Building",
    "Hospital", "Theatre/Concert Hall", "Bus/Coach Station", "Conference/Exhibition Centre",
)


STREET_STEMS = (
    "Abbey", "Albert", "Albion", "Alexandra", "Ash", "Bank", "Beacon", "Beech", "Birch", "Briar", "Bridge",
    "Brook", "Castle", "Cedar", "Chapel", "Cherry", "Church", "Clarence", "Clay", "College", "Cross", "Dale",
    "Derwent", "Eden", "Elm", "Fern", "George", "Glen", "Grange", "Green", "Hall", "Hawthorn", "Heath",
    "High", "Highfield", "Hill", "Holly", "King", "Lark", "Laurel", "Lime", "Lord", "Manor", "Maple",
    "Market", "Meadow", "Mill", "Moor", "Moss", "Nelson", "New", "North", "Oak", "Orchard", "Park",
    "Priory", "Queen", "Rowan", "School", "Spring", "Springfield", "St Mary's", "Stanley", "Station",
    "Stone", "Tudor", "Union", "Vale", "Victoria", "Water", "Wellington", "West", "Willow", "Windsor", "York",
)


STREET_SUFFIXES = (
    "Street", "Road", "Lane", "Avenue", "Close", "Drive", "Way", "Grove", "Crescent", "Place", "Gardens",
    "Court", "Terrace", "View", "Walk", "Rise",
)


SHOPS = ("Tesco", "Asda", "Morrisons", "Sainsbury's", "Aldi", "Lidl", "Co-op", "Retail Park")


STATION_SUFFIXES = ("", " Central", " Road", " Junction", " North", " East", " West", " Park", " Town", " Parkway")


SCOTTISH_STATIONS = (  # BTP crimes outside England and Wales: coordinates but no LSOA
    ("Glasgow Central", -4.258, 55.859), ("Edinburgh Waverley", -3.189, 55.952),
    ("Glasgow Queen Street", -4.251, 55.862), ("Aberdeen", -2.099, 57.143),
    ("Dundee", -2.971, 56.457), ("Stirling", -3.934, 56.120),
)


@dataclass(frozen=True)
class Lsoa:
    code: str
    name: str
    district: str
    force_id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Geography:
    """A force's synthetic LSOAs and anonymised map points (rows sort by LSOA name in point order)."""

    force_id: str
    lsoas: tuple[Lsoa, ...]
    point_prob: np.ndarray  # alias table of where crimes happen
    point_alias: np.ndarray
    street_block: np.ndarray  # object: "lon,lat,location,lsoa code,lsoa name" per point, + No Location
    latlon_block: np.ndarray  # object: "lat,lon" per point (stop and search order), + ","

    @property
    def no_location(self) -> int:
        return len(self.street_block) - 1

    def draw_points(self, u: np.ndarray) -> np.ndarray:
        return draws.alias_draw(self.point_prob, self.point_alias, u)


def lsoa_counts() -> dict[str, int]:
    return {
        f.id: max(3 * len(f.districts), round(f.street_per_month / CRIMES_PER_LSOA_MONTH))
        for f in FORCES.values() if f.id != "btp"
    }


SYNTHETIC_LSOA_BASE = 900_001


def lsoa_code_base(force: Force) -> int:
    """First LSOA number of the force: codes run on across forces of one country, so they never clash."""
    counts = lsoa_counts()
    base = SYNTHETIC_LSOA_BASE
    for f in FORCES.values():
        if f.id == force.id:
            return base
        if f.id != "btp" and f.is_welsh == force.is_welsh:
            base += counts[f.id]
    raise AssertionError(force.id)


def location_names(rng: np.random.Generator, n: int, district: str) -> tuple[list[str], np.ndarray]:
    """``On or near ...`` names and a popularity factor for n points."""
    kind = rng.random(n)
    stem = rng.integers(0, len(STREET_STEMS), n)
    suffix = rng.integers(0, len(STREET_SUFFIXES), n)
    place = rng.integers(0, len(PLACE_TYPES), n)
    road = rng.integers(0, 1000, n)
    shop = rng.integers(0, len(SHOPS), n)
    names, factor = [], np.ones(n)
    for i in range(n):
        if kind[i] < 0.003:  # a few names carry a comma, so the files need csv quoting
            names.append(f"On or near {SHOPS[shop[i]]}, {district}")
            factor[i] = 2.5
        elif kind[i] < 0.25:
            names.append(f"On or near {PLACE_TYPES[place[i]]}")
            factor[i] = 2.5 if place[i] < 4 else 1.5
        elif kind[i] < 0.31:
            names.append(f"On or near A{road[i] % 700 + 1}" if road[i] % 2 else f"On or near B{5000 + road[i]}")
        else:
            names.append(f"On or near {STREET_STEMS[stem[i]]} {STREET_SUFFIXES[suffix[i]]}")
    return names, factor


def finish(force_id: str, lsoas: list[Lsoa], point_lsoa: np.ndarray, lon: np.ndarray, lat: np.ndarray,
            names: list[str], weight: np.ndarray) -> Geography:
    street, latlon = [], []
    for i, li in enumerate(point_lsoa):
        lo, la = f"{lon[i]:.6f}", f"{lat[i]:.6f}"
        code, name = (lsoas[li].code, lsoas[li].name) if li >= 0 else ("", "")
        street.append(draws.csv_fields(lo, la, names[i], code, name))
        latlon.append(f"{la},{lo}")
    street.append(draws.csv_fields("", "", "No Location", "", ""))
    latlon.append(",")
    prob, alias = draws.alias_table(weight)
    return Geography(
        force_id=force_id,
        lsoas=tuple(lsoas),
        point_prob=prob,
        point_alias=alias,
        street_block=np.array(street, dtype=object),
        latlon_block=np.array(latlon, dtype=object),
    )


@lru_cache(maxsize=64)
def geography(force_id: str) -> Geography:
    """The force's fixed synthetic geography (independent of seed and scale)."""
    force = get_force(force_id)
    if force.id == "btp":
        return btp_geography()
    rng = draws.rng(GEOGRAPHY_SEED, draws.key(force.id))
    n_lsoa = lsoa_counts()[force.id]
    districts = sorted(force.districts)
    d_weight = rng.gamma(2.0, 1.0, len(districts))
    # LSOAs per district: at least 2 each, the rest by weight (largest remainder).
    spare = n_lsoa - 2 * len(districts)
    exact = spare * d_weight / d_weight.sum()
    per_district = 2 + np.floor(exact).astype(int)
    for i in np.argsort(-(exact - np.floor(exact)), kind="stable")[: n_lsoa - per_district.sum()]:
        per_district[i] += 1
    r_lat, r_lon = force.radius, force.radius * 1.5
    angle = rng.uniform(0, 2 * math.pi, len(districts))
    dist = 0.65 * np.sqrt(rng.random(len(districts)))
    d_lon = force.lon + r_lon * dist * np.cos(angle)
    d_lat = force.lat + r_lat * dist * np.sin(angle)
    if len(districts) == 1:
        d_lon[:], d_lat[:] = force.lon, force.lat
    code = lsoa_code_base(force)
    lsoas: list[Lsoa] = []
    for d, district in enumerate(districts):
        k = int(per_district[d])
        sizes = rng.integers(3, 7, k)  # LSOAs per MSOA
        msoa_of = np.repeat(np.arange(k), sizes)[:k]
        letter_of = np.concatenate([np.arange(s) for s in sizes])[:k]
        lons = np.clip(d_lon[d] + rng.normal(0, 0.12 * r_lon, k), force.lon - r_lon, force.lon + r_lon)
        lats = np.clip(d_lat[d] + rng.normal(0, 0.12 * r_lat, k), force.lat - r_lat, force.lat + r_lat)
        for j in range(k):
            lsoas.append(Lsoa(
                code=f"{force.lsoa_prefix}{code:06d}",
                name=f"{district} {msoa_of[j] + 1:03d}{'ABCDEFGH'[letter_of[j]]}",
                district=district, force_id=force.id, lon=float(lons[j]), lat=float(lats[j]),
            ))
            code += 1
    # Crime rates differ by LSOA: lognormal spread plus a few town-centre hotspots.
    lsoa_weight = rng.lognormal(0.0, 0.7, n_lsoa)
    lsoa_weight[rng.random(n_lsoa) < 0.03] *= 5.0
    p = POINTS_PER_LSOA
    point_lsoa = np.repeat(np.arange(n_lsoa), p)
    jitter = min(0.004, force.radius / 8)
    lon = np.array([l.lon for l in lsoas]).repeat(p) + rng.normal(0, jitter * 1.5, n_lsoa * p)
    lat = np.array([l.lat for l in lsoas]).repeat(p) + rng.normal(0, jitter, n_lsoa * p)
    names: list[str] = []
    factor = np.empty(n_lsoa * p)
    for i, lsoa in enumerate(lsoas):
        nm, f = location_names(rng, p, lsoa.district)
        names.extend(nm)
        factor[i * p:(i + 1) * p] = f
    zipf = np.tile(1.0 / np.arange(1, p + 1), n_lsoa)
    weight = lsoa_weight.repeat(p) * zipf / zipf[:p].sum() * factor
    return finish(force.id, lsoas, point_lsoa, lon, lat, names, weight)


def btp_geography() -> Geography:
    """Stations in the LSOAs of the forces BTP polices over, plus a few in Scotland (no LSOA)."""
    rng = draws.rng(GEOGRAPHY_SEED, draws.key("btp"))
    hosts = list(BTP_HOST_FORCES)
    n_stations = 400
    host_of = draws.pick(draws.cdf([BTP_HOST_FORCES[h] for h in hosts]), rng.random(n_stations))
    rows = []
    for s in range(n_stations):
        host = geography(hosts[host_of[s]])
        lsoa = host.lsoas[int(rng.integers(0, len(host.lsoas)))]
        station = f"{lsoa.district.split(',')[0]}{STATION_SUFFIXES[int(rng.integers(0, len(STATION_SUFFIXES)))]}"
        rows.append((lsoa.name, station, lsoa, float(rng.lognormal(0, 0.9))))
    rows.sort(key=lambda r: (r[0], r[1]))
    lsoas, index = [], {}
    for _, _, lsoa, _ in rows:
        if lsoa.code not in index:
            index[lsoa.code] = len(lsoas)
            lsoas.append(lsoa)
    point_lsoa = [index[r[2].code] for r in rows]
    lon = [r[2].lon + rng.normal(0, 0.002) for r in rows]
    lat = [r[2].lat + rng.normal(0, 0.0013) for r in rows]
    names = [f"On or near {r[1]} (Station)" for r in rows]
    weight = [r[3] for r in rows]
    scot_weight = 0.02 * sum(weight) / (1 - 0.02) / len(SCOTTISH_STATIONS)
    for name, lo, la in SCOTTISH_STATIONS:
        point_lsoa.append(-1)
        lon.append(lo)
        lat.append(la)
        names.append(f"On or near {name} (Station)")
        weight.append(scot_weight)
    return finish("btp", lsoas, np.array(point_lsoa), np.array(lon), np.array(lat), names, np.array(weight))


def lsoa_lookup(force_ids: Sequence[str]) -> list[Lsoa]:
    """The synthetic LSOAs used by these forces' files (BTP uses its host forces' LSOAs)."""
    seen: dict[str, Lsoa] = {}
    for fid in force_ids:
        for lsoa in geography(fid).lsoas:
            seen.setdefault(lsoa.code, lsoa)
    return sorted(seen.values(), key=lambda l: l.code)
