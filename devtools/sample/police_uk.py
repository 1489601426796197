"""Synthetic data.police.uk bulk archive, byte-compatible with the publisher's files.

For each month from ``first`` to ``last`` it writes ``<out>/archive/YYYY-MM.zip`` holding
``YYYY-MM/YYYY-MM-<force>-street.csv``, ``-outcomes.csv`` and ``-stop-and-search.csv`` per
force (headers from :mod:`ingest.sources.police_uk_contract`), plus ``<out>/archive/index.json``
(months, forces, rows per member, absent members) and ``<out>/lsoa_lookup.csv`` (the synthetic
LSOAs with their district and force).

Everything is a pure function of (seed, force, month, scale) and of the archive window:

* a force-month's crimes (ids, types, places, and each crime's whole outcome history) come
  from a random stream keyed by (seed, force, month), so any month can be recomputed alone;
* a street file shows each crime's *last* outcome as of ``as_of`` (default: the last month
  of the window), so older months are more resolved, like one release of the real archive;
* an outcomes file for month M lists the outcome events dated M of crimes from M and earlier
  months inside the window (or, with ``prewindow_outcomes``, also from up to ``MAX_LAG``
  months before it, whose ids then match no street file, as in the real archive).

Generation streams month by month: a month's rows are built, zipped and dropped; the
only state kept across months is the queue of future outcome events (compact arrays).

CLI::

    python -m devtools.sample.police_uk --out var/sample/police_uk --first 2022-10 --last 2025-09 \\
        --forces lancashire west-midlands --seed 2011 [--scale 1.0]
"""

from __future__ import annotations

import argparse
import calendar
import csv
import hashlib
import io
import json
import logging
import math
import os
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.months import check_month as _check_month, month_from_index, month_index, month_range
from devtools.sample.forces import BTP_HOST_FORCES, FORCE_IDS, FORCES, Force, get_force
from ingest.sources.police_uk_contract import (
    AGE_RANGES,
    CRIME_TYPES,
    OFFICER_DEFINED_ETHNICITIES,
    OUTCOME_CATEGORIES,
    OUTCOMES,
    STOP_AND_SEARCH,
    STOP_SEARCH_OUTCOMES,
    STOP_SEARCH_TYPES,
    STREET,
)

log = logging.getLogger(__name__)

MAX_LAG = 24  # months between a crime and its last outcome event
POINTS_PER_LSOA = 10  # anonymised map points per LSOA
CRIMES_PER_LSOA_MONTH = 40  # sets the number of synthetic LSOAs per force
GEOGRAPHY_SEED = 1_844_674  # geography does not depend on --seed: LSOA codes stay put
_STREAM_CRIMES, _STREAM_STOP_SEARCH, _STREAM_FORCE, _STREAM_REPEATS = 1, 2, 3, 4
_TREND_BASE_MONTH = "2023-01"

# --- vocabularies the contract does not carry -------------------------------------------
GENDERS = ("Male", "Female", "Other")
# The 2011 Census 18+1 categories, as the publisher writes them.
SELF_DEFINED_ETHNICITIES: dict[str, tuple[str, ...]] = {
    "White": (
        "White - English/Welsh/Scottish/Northern Irish/British",
        "White - Irish",
        "White - Gypsy or Irish Traveller",
        "White - Any other White background",
    ),
    "Black": (
        "Black/African/Caribbean/Black British - African",
        "Black/African/Caribbean/Black British - Caribbean",
        "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background",
    ),
    "Asian": (
        "Asian/Asian British - Indian",
        "Asian/Asian British - Pakistani",
        "Asian/Asian British - Bangladeshi",
        "Asian/Asian British - Chinese",
        "Asian/Asian British - Any other Asian background",
    ),
    "Mixed": (
        "Mixed/Multiple ethnic groups - White and Black Caribbean",
        "Mixed/Multiple ethnic groups - White and Black African",
        "Mixed/Multiple ethnic groups - White and Asian",
        "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background",
    ),
    "Other": (
        "Other ethnic group - Arab",
        "Other ethnic group - Any other ethnic group",
    ),
}
ETHNICITY_NOT_STATED = "Other ethnic group - Not stated"
SELF_DEFINED_ETHNICITY_VALUES: tuple[str, ...] = (
    *(e for group in SELF_DEFINED_ETHNICITIES.values() for e in group), ETHNICITY_NOT_STATED,
)
_SUBGROUP_WEIGHTS: dict[str, tuple[float, ...]] = {
    "White": (0.78, 0.02, 0.005, 0.195),
    "Black": (0.42, 0.30, 0.28),
    "Asian": (0.20, 0.35, 0.15, 0.04, 0.26),
    "Mixed": (0.40, 0.15, 0.15, 0.30),
    "Other": (0.25, 0.75),
}
# Search rate per head relative to White people (the disproportionality in the real data).
_SEARCH_RATE = {"White": 1.0, "Black": 2.6, "Asian": 1.3, "Mixed": 1.6, "Other": 1.5}

LEGISLATIONS = (
    "Misuse of Drugs Act 1971 (section 23)",
    "Police and Criminal Evidence Act 1984 (section 1)",
    "Criminal Justice and Public Order Act 1994 (section 60)",
    "Firearms Act 1968 (section 47)",
)
_LEGISLATION_WEIGHTS = (0.60, 0.33, 0.05, 0.02)
# Object of search by legislation ("" = not recorded).
_OBJECTS: tuple[tuple[tuple[str, float], ...], ...] = (
    (("Controlled drugs", 1.0),),
    (
        ("Offensive weapons", 0.34), ("Stolen goods", 0.29), ("Article for use in theft", 0.12),
        ("Evidence of offences under the Act", 0.14), ("Articles for use in criminal damage", 0.07),
        ("Fireworks", 0.02), ("", 0.02),
    ),
    (("Anything to threaten or harm anyone", 1.0),),
    (("Firearms", 1.0),),
)
OBJECTS_OF_SEARCH: tuple[str, ...] = tuple(sorted({o for row in _OBJECTS for o, _ in row if o}))
# Outcome of a search by legislation (order of STOP_SEARCH_OUTCOMES); only drugs searches
# can end in a khat or cannabis warning.
_SS_OUTCOME_WEIGHTS = {
    "drugs": (0.66, 0.10, 0.12, 0.06, 0.03, 0.025, 0.005),
    "other": (0.74, 0.15, 0.05, 0.0, 0.025, 0.025, 0.01),
}
POLICING_OPERATIONS = (
    "Operation Sceptre", "Operation Sceptre, phase 2", "Operation Venice", "Operation Viper",
    "Operation Shield", "Knife crime week of action, phase 1", "Operation Trident", "Operation Target",
)
# Force-months with no stop-and-search file at all (a real, common gap).
STOP_SEARCH_GAPS: dict[str, frozenset[str]] = {
    "west-midlands": frozenset({"2023-07"}),
    "gwent": frozenset({"2024-02"}),
    "north-yorkshire": frozenset({"2022-12", "2023-01"}),
}

# --- crime mix and seasonality ----------------------------------------------------------
_CRIME_SHARE = {
    "Anti-social behaviour": 0.27,
    "Bicycle theft": 0.008,
    "Burglary": 0.05,
    "Criminal damage and arson": 0.08,
    "Drugs": 0.02,
    "Other crime": 0.015,
    "Other theft": 0.07,
    "Possession of weapons": 0.006,
    "Public order": 0.07,
    "Robbery": 0.007,
    "Shoplifting": 0.06,
    "Theft from the person": 0.008,
    "Vehicle crime": 0.05,
    "Violence and sexual offences": 0.30,
}
# Amplitude of each type's own summer peak (negative: a winter peak).
_CRIME_SEASON_AMPLITUDE = {
    "Anti-social behaviour": 0.15, "Bicycle theft": 0.30, "Burglary": -0.08,
    "Criminal damage and arson": 0.05, "Theft from the person": -0.05,
    "Violence and sexual offences": 0.06,
}
_FORCE_MIX = {
    "metropolitan": {"Theft from the person": 4.0, "Robbery": 2.5, "Bicycle theft": 2.0, "Other theft": 1.3,
                     "Anti-social behaviour": 0.6},
    "city-of-london": {"Theft from the person": 4.0, "Other theft": 2.0, "Shoplifting": 1.5, "Bicycle theft": 2.0,
                       "Anti-social behaviour": 0.5},
    "btp": {"Anti-social behaviour": 0.0, "Theft from the person": 4.0, "Other theft": 2.0, "Public order": 1.5,
            "Burglary": 0.1, "Vehicle crime": 0.3, "Shoplifting": 0.3},
}
# Volume by calendar month (Feb is short and quiet, summer peaks).
_SEASON = (0.96, 0.88, 0.98, 0.98, 1.04, 1.06, 1.10, 1.07, 1.02, 1.01, 0.97, 0.93)

# --- outcome paths ------------------------------------------------------------------------
_NO_EVENT = "(no outcome event)"
_COURT = "(charged, then a court result)"
# (path, base weight, mean lag in months to its first event)
_PATHS: tuple[tuple[str, float, float], ...] = (
    ("Investigation complete; no suspect identified", 0.38, 1.2),
    ("Unable to prosecute suspect", 0.27, 3.0),
    (_COURT, 0.085, 2.0),
    ("Local resolution", 0.05, 1.0),
    ("Offender given a caution", 0.022, 2.0),
    ("Offender given penalty notice", 0.006, 1.0),
    ("Offender given a drugs possession warning", 0.004, 0.5),
    ("Formal action is not in the public interest", 0.02, 2.0),
    ("Further investigation is not in the public interest", 0.045, 1.5),
    ("Further action is not in the public interest", 0.006, 2.0),
    ("Action to be taken by another organisation", 0.016, 1.0),
    ("Suspect charged as part of another case", 0.008, 3.0),
    (_NO_EVENT, 0.0, 3.0),  # weight set per force; lag = when the status goes stale
)
_TYPE_NO_SUSPECT = {
    "Bicycle theft": 1.8, "Burglary": 1.5, "Criminal damage and arson": 1.4, "Other theft": 1.5,
    "Theft from the person": 1.9, "Vehicle crime": 1.9, "Robbery": 1.1, "Shoplifting": 0.9,
    "Violence and sexual offences": 0.35, "Public order": 0.6, "Drugs": 0.05, "Possession of weapons": 0.1,
    "Other crime": 0.6,
}
_TYPE_COURT = {
    "Drugs": 3.0, "Possession of weapons": 4.0, "Shoplifting": 2.2, "Robbery": 1.6, "Burglary": 0.6,
    "Vehicle crime": 0.35, "Other theft": 0.35, "Bicycle theft": 0.25, "Theft from the person": 0.25,
    "Criminal damage and arson": 0.6, "Violence and sexual offences": 1.0, "Public order": 0.9, "Other crime": 1.2,
}
_COURT_RESULTS = (
    ("Offender sent to prison", 0.14), ("Offender given community sentence", 0.17),
    ("Offender given suspended prison sentence", 0.11), ("Offender fined", 0.15),
    ("Offender given conditional discharge", 0.07), ("Offender given absolute discharge", 0.01),
    ("Offender ordered to pay compensation", 0.02), ("Offender deprived of property", 0.005),
    ("Offender otherwise dealt with", 0.025), ("Defendant found not guilty", 0.09),
    ("Court case unable to proceed", 0.08), ("Court result unavailable", 0.13),
)
_COURT_LAG_MEAN = 4.0  # months from charge to result
_CROWN_COURT_SHARE = 0.15
_MULTI_SUSPECT_SHARE = 0.04  # events recorded once per suspect

_OC = {name: i for i, name in enumerate(OUTCOME_CATEGORIES)}
_EMPTY_OUTCOME = len(OUTCOME_CATEGORIES)  # index of "" in display arrays
_ASB = CRIME_TYPES.index("Anti-social behaviour")

# --- place names ---------------------------------------------------------------------------
_PLACE_TYPES = (
    "Supermarket", "Parking Area", "Shopping Area", "Petrol Station", "Sports/Recreation Area", "Nightclub",
    "Park/Open Space", "Pedestrian Subway", "Police Station", "Further/Higher Educational Building",
    "Hospital", "Theatre/Concert Hall", "Bus/Coach Station", "Conference/Exhibition Centre",
)
_STREET_STEMS = (
    "Abbey", "Albert", "Albion", "Alexandra", "Ash", "Bank", "Beacon", "Beech", "Birch", "Briar", "Bridge",
    "Brook", "Castle", "Cedar", "Chapel", "Cherry", "Church", "Clarence", "Clay", "College", "Cross", "Dale",
    "Derwent", "Eden", "Elm", "Fern", "George", "Glen", "Grange", "Green", "Hall", "Hawthorn", "Heath",
    "High", "Highfield", "Hill", "Holly", "King", "Lark", "Laurel", "Lime", "Lord", "Manor", "Maple",
    "Market", "Meadow", "Mill", "Moor", "Moss", "Nelson", "New", "North", "Oak", "Orchard", "Park",
    "Priory", "Queen", "Rowan", "School", "Spring", "Springfield", "St Mary's", "Stanley", "Station",
    "Stone", "Tudor", "Union", "Vale", "Victoria", "Water", "Wellington", "West", "Willow", "Windsor", "York",
)
_STREET_SUFFIXES = (
    "Street", "Road", "Lane", "Avenue", "Close", "Drive", "Way", "Grove", "Crescent", "Place", "Gardens",
    "Court", "Terrace", "View", "Walk", "Rise",
)
_SHOPS = ("Tesco", "Asda", "Morrisons", "Sainsbury's", "Aldi", "Lidl", "Co-op", "Retail Park")
_STATION_SUFFIXES = ("", " Central", " Road", " Junction", " North", " East", " West", " Park", " Town", " Parkway")
_SCOTTISH_STATIONS = (  # BTP crimes outside England and Wales: coordinates but no LSOA
    ("Glasgow Central", -4.258, 55.859), ("Edinburgh Waverley", -3.189, 55.952),
    ("Glasgow Queen Street", -4.251, 55.862), ("Aberdeen", -2.099, 57.143),
    ("Dundee", -2.971, 56.457), ("Stirling", -3.934, 56.120),
)


# --- small helpers ----------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _key(text: str) -> int:
    """A stable 32-bit number for a name (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _unit(*parts: str) -> float:
    """A stable number in [0, 1) for a tuple of names: force-level parameters."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _rng(*entropy: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(entropy))))


def _cdf(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: index of the bucket each uniform falls in."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def _pick_rows(cdf_rows: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling with a different distribution per element: row r of ``cdf_rows``."""
    k = cdf_rows.shape[1]
    flat = (cdf_rows + np.arange(cdf_rows.shape[0])[:, None]).ravel()
    idx = np.searchsorted(flat, row + u, side="right")
    return np.minimum(idx - row * k, k - 1)


def _alias_table(weights: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table: O(1) sampling from a large categorical distribution."""
    w = np.asarray(weights, dtype=np.float64)
    k = len(w)
    scaled = w / w.sum() * k
    prob = np.ones(k)
    alias = np.arange(k)
    small = [i for i in range(k) if scaled[i] < 1.0]
    large = [i for i in range(k) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


def _alias_draw(prob: np.ndarray, alias: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One uniform per draw: its integer part picks a column, its fraction accepts it or takes the alias."""
    x = u * len(prob)
    col = np.minimum(x.astype(np.int64), len(prob) - 1)
    return np.where(x - col < prob[col], col, alias[col])


def _csv_fields(*fields: str) -> str:
    """Fields joined as the csv module writes them (minimal quoting), without a line end."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _hex_ids(words: np.ndarray) -> list[str]:
    """64-hex-character ids from rows of four 64-bit words."""
    if not len(words):
        return []
    return np.ascontiguousarray(words, dtype="<u8").tobytes().hex(" ", 32).split(" ")


def _join_columns(columns: Sequence[np.ndarray | str], n: int) -> str:
    """Row-major concatenation of n rows whose pieces already carry their separators."""
    grid = np.empty((n, len(columns)), dtype=object)
    for j, col in enumerate(columns):
        grid[:, j] = col
    return "".join(grid.ravel().tolist())


# --- geography --------------------------------------------------------------------------------
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
        return _alias_draw(self.point_prob, self.point_alias, u)


def _lsoa_counts() -> dict[str, int]:
    return {
        f.id: max(3 * len(f.districts), round(f.street_per_month / CRIMES_PER_LSOA_MONTH))
        for f in FORCES.values() if f.id != "btp"
    }


# Synthetic LSOA codes start here: real E01/W01 codes stay below 100000, so a synthetic
# code can never be mistaken for (or silently join to) a real LSOA.
SYNTHETIC_LSOA_BASE = 900_001


def _lsoa_code_base(force: Force) -> int:
    """First LSOA number of the force: codes run on across forces of one country, so they never clash."""
    counts = _lsoa_counts()
    base = SYNTHETIC_LSOA_BASE
    for f in FORCES.values():
        if f.id == force.id:
            return base
        if f.id != "btp" and f.is_welsh == force.is_welsh:
            base += counts[f.id]
    raise AssertionError(force.id)


def _location_names(rng: np.random.Generator, n: int, district: str) -> tuple[list[str], np.ndarray]:
    """``On or near ...`` names and a popularity factor for n points."""
    kind = rng.random(n)
    stem = rng.integers(0, len(_STREET_STEMS), n)
    suffix = rng.integers(0, len(_STREET_SUFFIXES), n)
    place = rng.integers(0, len(_PLACE_TYPES), n)
    road = rng.integers(0, 1000, n)
    shop = rng.integers(0, len(_SHOPS), n)
    names, factor = [], np.ones(n)
    for i in range(n):
        if kind[i] < 0.003:  # a few names carry a comma, so the files need csv quoting
            names.append(f"On or near {_SHOPS[shop[i]]}, {district}")
            factor[i] = 2.5
        elif kind[i] < 0.25:
            names.append(f"On or near {_PLACE_TYPES[place[i]]}")
            factor[i] = 2.5 if place[i] < 4 else 1.5
        elif kind[i] < 0.31:
            names.append(f"On or near A{road[i] % 700 + 1}" if road[i] % 2 else f"On or near B{5000 + road[i]}")
        else:
            names.append(f"On or near {_STREET_STEMS[stem[i]]} {_STREET_SUFFIXES[suffix[i]]}")
    return names, factor


def _finish(force_id: str, lsoas: list[Lsoa], point_lsoa: np.ndarray, lon: np.ndarray, lat: np.ndarray,
            names: list[str], weight: np.ndarray) -> Geography:
    street, latlon = [], []
    for i, li in enumerate(point_lsoa):
        lo, la = f"{lon[i]:.6f}", f"{lat[i]:.6f}"
        code, name = (lsoas[li].code, lsoas[li].name) if li >= 0 else ("", "")
        street.append(_csv_fields(lo, la, names[i], code, name))
        latlon.append(f"{la},{lo}")
    street.append(_csv_fields("", "", "No Location", "", ""))
    latlon.append(",")
    prob, alias = _alias_table(weight)
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
        return _btp_geography()
    rng = _rng(GEOGRAPHY_SEED, _key(force.id))
    n_lsoa = _lsoa_counts()[force.id]
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
    code = _lsoa_code_base(force)
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
        nm, f = _location_names(rng, p, lsoa.district)
        names.extend(nm)
        factor[i * p:(i + 1) * p] = f
    zipf = np.tile(1.0 / np.arange(1, p + 1), n_lsoa)
    weight = lsoa_weight.repeat(p) * zipf / zipf[:p].sum() * factor
    return _finish(force.id, lsoas, point_lsoa, lon, lat, names, weight)


def _btp_geography() -> Geography:
    """Stations in the LSOAs of the forces BTP polices over, plus a few in Scotland (no LSOA)."""
    rng = _rng(GEOGRAPHY_SEED, _key("btp"))
    hosts = list(BTP_HOST_FORCES)
    n_stations = 400
    host_of = _pick(_cdf([BTP_HOST_FORCES[h] for h in hosts]), rng.random(n_stations))
    rows = []
    for s in range(n_stations):
        host = geography(hosts[host_of[s]])
        lsoa = host.lsoas[int(rng.integers(0, len(host.lsoas)))]
        station = f"{lsoa.district.split(',')[0]}{_STATION_SUFFIXES[int(rng.integers(0, len(_STATION_SUFFIXES)))]}"
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
    scot_weight = 0.02 * sum(weight) / (1 - 0.02) / len(_SCOTTISH_STATIONS)
    for name, lo, la in _SCOTTISH_STATIONS:
        point_lsoa.append(-1)
        lon.append(lo)
        lat.append(la)
        names.append(f"On or near {name} (Station)")
        weight.append(scot_weight)
    return _finish("btp", lsoas, np.array(point_lsoa), np.array(lon), np.array(lat), names, np.array(weight))


def lsoa_lookup(force_ids: Sequence[str]) -> list[Lsoa]:
    """The synthetic LSOAs used by these forces' files (BTP uses its host forces' LSOAs)."""
    seen: dict[str, Lsoa] = {}
    for fid in force_ids:
        for lsoa in geography(fid).lsoas:
            seen.setdefault(lsoa.code, lsoa)
    return sorted(seen.values(), key=lambda l: l.code)


# --- volumes ------------------------------------------------------------------------------------
def _trend(force_id: str, month: str, salt: str) -> float:
    yearly = -0.02 + 0.06 * _unit(force_id, salt, "trend")  # -2% .. +4% a year
    years = (month_index(month) - month_index(_TREND_BASE_MONTH)) / 12
    return (1 + yearly) ** years


def expected_street_rows(force_id: str, month: str, scale: float = 1.0) -> float:
    """Mean street rows for a force-month before noise: table value x scale x season x trend."""
    force = get_force(force_id)
    return force.street_per_month * scale * _SEASON[month_index(month) % 12] * _trend(force_id, month, "street")


def expected_stop_search_rows(force_id: str, month: str, scale: float = 1.0) -> float:
    force = get_force(force_id)
    season = 1 + 0.5 * (_SEASON[month_index(month) % 12] - 1)
    return force.stop_search_per_month * scale * season * _trend(force_id, month, "stop-search")


def _crime_type_cdf(force_id: str, month: str) -> np.ndarray:
    cal = month_index(month) % 12 + 1
    mix = _FORCE_MIX.get(force_id, {})
    w = []
    for t in CRIME_TYPES:
        season = 1 + _CRIME_SEASON_AMPLITUDE.get(t, 0.0) * math.cos(2 * math.pi * (cal - 7) / 12)
        local = 0.9 + 0.2 * _unit(force_id, t, "mix")
        w.append(_CRIME_SHARE[t] * mix.get(t, 1.0) * season * local)
    return _cdf(w)


@lru_cache(maxsize=64)
def _path_tables(force_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per crime type: CDF over outcome paths; per path: first-event code and mean lag."""
    no_event = 0.20 + 0.18 * _unit(force_id, "no-event")
    if force_id == "lancashire":
        no_event = 0.35  # the real files are heavy with "Status update unavailable"
    rows = []
    for t in CRIME_TYPES:
        w = []
        for name, base, _ in _PATHS:
            if name == _NO_EVENT:
                w.append(0.0)
                continue
            m = 1.0
            if name == "Investigation complete; no suspect identified":
                m = _TYPE_NO_SUSPECT.get(t, 1.0)
            elif name == _COURT:
                m = _TYPE_COURT.get(t, 1.0)
            elif name == "Offender given a drugs possession warning":
                m = 1.0 if t == "Drugs" else 0.0
            elif name == "Local resolution" and t in ("Drugs", "Shoplifting", "Public order"):
                m = 2.5
            w.append(base * m)
        w = np.array(w) / sum(w) * (1 - no_event)
        w[-1] = no_event
        rows.append(np.cumsum(w))
    cdf = np.array(rows)
    cdf[:, -1] = 1.0
    codes = np.array([_OC.get(name, _OC["Suspect charged"] if name == _COURT else _OC["Under investigation"])
                      for name, _, _ in _PATHS], dtype=np.uint8)
    lags = np.array([lag for _, _, lag in _PATHS])
    return cdf, codes, lags


_COURT_CDF = _cdf([w for _, w in _COURT_RESULTS])
_COURT_CODES = np.array([_OC[name] for name, _ in _COURT_RESULTS], dtype=np.uint8)
_PATH_COURT = [p for p, _, _ in _PATHS].index(_COURT)
_PATH_NO_EVENT = [p for p, _, _ in _PATHS].index(_NO_EVENT)


# --- crimes -------------------------------------------------------------------------------------
@dataclass
class CrimeMonth:
    """One force-month of crimes with every crime's full outcome history (rows in file order)."""

    force_id: str
    month: str
    crime_type: np.ndarray  # uint8 index into CRIME_TYPES
    point: np.ndarray  # int32 index into the force's points; geography().no_location = No Location
    id_words: np.ndarray  # (n, 4) uint64: the 64-hex Crime ID
    has_id: np.ndarray  # bool: False for anti-social behaviour and for BTP
    ev_lag: np.ndarray  # (n, 3) int16 months after the crime, -1 = no event
    ev_code: np.ndarray  # (n, 3) uint8 index into OUTCOME_CATEGORIES
    stale_lag: np.ndarray  # int16: no-event crimes turn "Status update unavailable" at this age
    multi_suspect: np.ndarray  # bool: suspect outcomes are recorded twice

    @property
    def n(self) -> int:
        return len(self.crime_type)

    def crime_ids(self) -> np.ndarray:
        """Crime IDs in file order ('' where the publisher leaves them empty), as an object array."""
        ids = np.full(self.n, "", dtype=object)
        with_id = np.flatnonzero(self.has_id)
        if len(with_id):
            ids[with_id] = _hex_ids(self.id_words[with_id])
        return ids

    def last_outcome(self, as_of: str) -> np.ndarray:
        """Index into OUTCOME_CATEGORIES (or _EMPTY_OUTCOME) of each crime's last outcome as of a month."""
        age = month_index(as_of) - month_index(self.month)
        if age < 0:
            raise ValueError(f"as_of {as_of} is before the crime month {self.month}")
        reached = (self.ev_lag >= 0) & (self.ev_lag <= age)
        count = reached.sum(axis=1)
        last = self.ev_code[np.arange(self.n), np.maximum(count - 1, 0)]
        pending = np.where(self.stale_lag <= age, _OC["Status update unavailable"], _OC["Under investigation"])
        shown = np.where(count > 0, last, pending).astype(np.int16)
        shown[shown == _OC["Suspect charged"]] = _OC["Awaiting court outcome"]
        shown[~self.has_id] = _EMPTY_OUTCOME
        return shown


def generate_crimes(force_id: str, month: str, seed: int = 2011, scale: float = 1.0) -> CrimeMonth:
    """The force-month's crimes, a pure function of (seed, force, month, scale)."""
    force = get_force(force_id)
    geo = geography(force_id)
    rng = _rng(seed, _STREAM_CRIMES, _key(force_id), month_index(month))
    mean = expected_street_rows(force_id, month, scale) * math.exp(rng.normal(0, 0.03))
    n = int(rng.poisson(mean))
    ctype = _pick(_crime_type_cdf(force_id, month), rng.random(n)).astype(np.uint8)
    point = geo.draw_points(rng.random(n)).astype(np.int32)
    words = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64, endpoint=False)
    is_asb = ctype == _ASB
    u_noloc = rng.random(n)
    if force.id != "btp":
        no_loc_share = 0.05 + 0.04 * _unit(force_id, "no-location")
        point[(~is_asb) & (u_noloc < no_loc_share)] = geo.no_location
    # outcome history
    cdf, codes, lags = _path_tables(force_id)
    path = _pick_rows(cdf, ctype.astype(np.int64), rng.random(n))
    lag1 = rng.geometric(1.0 / (1.0 + lags[path])) - 1
    lag2 = lag1 + rng.geometric(1.0 / (1.0 + _COURT_LAG_MEAN), n)  # at least a month after the charge
    crown = rng.random(n) < _CROWN_COURT_SHARE
    result = _COURT_CODES[_pick(_COURT_CDF, rng.random(n))]
    multi = rng.random(n) < _MULTI_SUSPECT_SHARE
    n_dups = int(rng.integers(0, 3))
    dup_u = rng.random(2)

    ev_lag = np.full((n, 3), -1, dtype=np.int16)
    ev_code = np.zeros((n, 3), dtype=np.uint8)
    has_event = path != _PATH_NO_EVENT
    ev_lag[has_event, 0] = lag1[has_event]
    ev_code[:, 0] = codes[path]
    court = path == _PATH_COURT
    with_crown = court & crown
    lag2 = np.where(with_crown, np.maximum(lag2, lag1 + 2), lag2)
    ev_lag[with_crown, 1] = lag1[with_crown] + 1
    ev_code[with_crown, 1] = _OC["Defendant sent to Crown Court"]
    col = np.where(with_crown, 2, 1)
    idx = np.flatnonzero(court)
    ev_lag[idx, col[idx]] = lag2[idx]
    ev_code[idx, col[idx]] = result[idx]
    ev_lag[ev_lag > MAX_LAG] = -1
    # an event past MAX_LAG drops, and so do the ones after it
    ev_lag[:, 2] = np.where(ev_lag[:, 1] < 0, -1, ev_lag[:, 2])
    stale = np.where(has_event, np.int16(MAX_LAG + 1), np.minimum(lag1 + 1, MAX_LAG)).astype(np.int16)

    has_id = ~is_asb if force.publishes_outcomes else np.zeros(n, dtype=bool)
    ev_lag[~has_id] = -1
    # A street file can repeat a Crime ID (real files do, a handful at most): same id and
    # crime type, each row with its own place and outcome, as in the real ones.
    candidates = np.flatnonzero(has_id)
    if force.publishes_outcomes and len(candidates) > 50:
        for k in range(n_dups):
            src = candidates[int(dup_u[k] * len(candidates))]
            dst = candidates[(int(dup_u[k] * len(candidates)) + 7) % len(candidates)]
            words[dst] = words[src]
            ctype[dst] = ctype[src]
    if force.crime_id_repeat_share and len(candidates) > 50:
        # Its own stream, so every other force's months stay exactly as they were.
        extra = _rng(seed, _STREAM_REPEATS, _key(force_id), month_index(month))
        k = int(force.crime_id_repeat_share / 2 * len(candidates))  # each pair puts two rows' ids in repeats
        dst = extra.choice(candidates, size=k, replace=False)
        src = extra.choice(np.setdiff1d(candidates, dst), size=k, replace=False)
        words[dst] = words[src]
        same_type = extra.random(k) < 0.8  # most repeats keep the crime type; some do not
        ctype[dst[same_type]] = ctype[src[same_type]]
    order = np.argsort(point, kind="stable")
    return CrimeMonth(
        force_id=force_id, month=month, crime_type=ctype[order], point=point[order], id_words=words[order],
        has_id=has_id[order], ev_lag=ev_lag[order], ev_code=ev_code[order], stale_lag=stale[order],
        multi_suspect=multi[order],
    )


# --- file bodies ----------------------------------------------------------------------------------
_HEADER = {ds.kind: _csv_fields(*ds.headers) + "\n" for ds in (STREET, OUTCOMES, STOP_AND_SEARCH)}
_OUTCOME_FIELD = np.array([_csv_fields(o) for o in OUTCOME_CATEGORIES] + [""], dtype=object)
# "Crime type,Last outcome category,Context" + line end, for every (type, outcome) pair.
_TYPE_OUTCOME_TAIL = np.array(
    [f"{_csv_fields(t)},{o},\n" for t in CRIME_TYPES for o in _OUTCOME_FIELD.tolist()], dtype=object
)


def _middle(force_id: str, month: str) -> np.ndarray:
    """Per map point: ",Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"."""
    force = get_force(force_id)
    prefix = _csv_fields(month, force.name, force.name)
    return np.array([f",{prefix},{b}," for b in geography(force_id).street_block.tolist()], dtype=object)


def street_csv(crimes: CrimeMonth, as_of: str) -> bytes:
    """The street-level file of a force-month, with last outcomes as of ``as_of``."""
    tail = crimes.crime_type.astype(np.intp) * len(_OUTCOME_FIELD) + crimes.last_outcome(as_of)
    body = _join_columns(
        [crimes.crime_ids(), _middle(crimes.force_id, crimes.month)[crimes.point], _TYPE_OUTCOME_TAIL[tail]],
        crimes.n,
    )
    return (_HEADER["street"] + body).encode("utf-8")


@dataclass
class _Events:
    """Outcome events waiting for their month: compact arrays, no strings."""

    words: list[np.ndarray] = field(default_factory=list)
    point: list[np.ndarray] = field(default_factory=list)
    code: list[np.ndarray] = field(default_factory=list)

    def add(self, words: np.ndarray, point: np.ndarray, code: np.ndarray) -> None:
        if len(code):
            self.words.append(words)
            self.point.append(point)
            self.code.append(code)


def _queue_events(crimes: CrimeMonth, queue: dict[int, _Events], until: int) -> None:
    """File each outcome event of these crimes under the month it happens (up to ``until``)."""
    start = month_index(crimes.month)
    no_suspect = _OC["Investigation complete; no suspect identified"]
    for j in range(3):
        lag = crimes.ev_lag[:, j]
        has = lag >= 0
        if not has.any():
            continue
        for k in np.unique(lag[has]).tolist():
            if start + k > until:
                continue
            sel = np.flatnonzero(lag == k)
            code = crimes.ev_code[sel, j]
            again = sel[crimes.multi_suspect[sel] & (code != no_suspect)]
            sel = np.concatenate([sel, again])
            queue.setdefault(start + k, _Events()).add(crimes.id_words[sel], crimes.point[sel], crimes.ev_code[sel, j])


def outcomes_csv(force_id: str, month: str, events: _Events | None) -> tuple[bytes, int]:
    """The outcomes file of a force-month from the events dated that month."""
    if events is None or not events.code:
        return _HEADER["outcomes"].encode("utf-8"), 0
    words = np.concatenate(events.words)
    point = np.concatenate(events.point)
    code = np.concatenate(events.code)
    order = np.lexsort((code, point))
    body = _join_columns(
        [np.array(_hex_ids(words[order]), dtype=object), _middle(force_id, month)[point[order]],
         _OUTCOME_LINE_END[code[order]]],
        len(order),
    )
    return (_HEADER["outcomes"] + body).encode("utf-8"), len(order)


_OUTCOME_LINE_END = np.array([f"{o}\n" for o in _OUTCOME_FIELD.tolist()], dtype=object)


@dataclass(frozen=True)
class _SearchStyle:
    """How a force fills the optional stop-and-search columns (forces differ in the real files)."""

    operation: str  # filled | false | empty
    booleans: str  # filled | empty | removal-empty
    whole_minutes: bool  # times entered by hand: seconds 00, round minutes
    no_coordinates: float  # share of rows without latitude/longitude


def _search_style(force_id: str) -> _SearchStyle:
    if force_id == "metropolitan":
        return _SearchStyle("false", "empty", True, 0.09)
    if force_id == "city-of-london":
        return _SearchStyle("empty", "filled", False, 0.28)
    u = _unit(force_id, "search-style")
    operation = ("filled", "false", "empty")[int(u * 3)]
    booleans = "filled" if _unit(force_id, "booleans") < 0.8 else ("empty", "removal-empty")[int(u * 2)]
    return _SearchStyle(operation, booleans, _unit(force_id, "minutes") < 0.3,
                        0.10 + 0.20 * _unit(force_id, "no-coordinates"))


_MINUTE_SECOND = np.array([f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)], dtype=object)
_HOUR_WEIGHT = (5, 4, 3, 2, 1.5, 1, 1, 1.5, 2, 3, 3.5, 4, 4.5, 5, 5.5, 6, 7, 7.5, 8, 8, 8, 7.5, 7, 6)
_ROUND_MINUTES = np.array([0, 30, 45, 15, 20, 10, 40, 50])
_GROUPS = OFFICER_DEFINED_ETHNICITIES
_SUB_CDF = np.array([
    np.pad(_cdf(_SUBGROUP_WEIGHTS[g]), (0, 5 - len(_SUBGROUP_WEIGHTS[g])), constant_values=1.0) for g in _GROUPS
])
_SUB_TEXT = np.array(
    [[*SELF_DEFINED_ETHNICITIES[g], *([""] * (5 - len(SELF_DEFINED_ETHNICITIES[g])))] for g in _GROUPS],
    dtype=object,
)
_OBJECT_CDF = np.array([np.pad(_cdf([w for _, w in row]), (0, 7 - len(row)), constant_values=1.0) for row in _OBJECTS])
_OBJECT_TEXT = np.array([[o for o, _ in row] + [""] * (7 - len(row)) for row in _OBJECTS], dtype=object)
_SS_OUTCOME_CDF = np.array([_cdf(_SS_OUTCOME_WEIGHTS["drugs"])] + [_cdf(_SS_OUTCOME_WEIGHTS["other"])] * 3)
# Officer-defined ethnicity given the person's group (rows) - mostly agrees with self-definition.
_OFFICER_GIVEN_GROUP = np.array([
    [0.96, 0.005, 0.01, 0.005, 0.02],  # White
    [0.02, 0.95, 0.01, 0.01, 0.01],  # Black
    [0.02, 0.01, 0.93, 0.01, 0.03],  # Asian
    [0.15, 0.40, 0.05, 0.35, 0.05],  # Mixed
    [0.15, 0.05, 0.20, 0.02, 0.58],  # Other
])
_OFFICER_CDF = np.array([_cdf(r) for r in _OFFICER_GIVEN_GROUP])
_TF = np.array(["False", "True", ""], dtype=object)
# Rows are joined without quoting these: none may need it.
assert not any(set(v) & {",", '"', "\n", "\r"} for v in (
    *SELF_DEFINED_ETHNICITY_VALUES, *OBJECTS_OF_SEARCH, *LEGISLATIONS, *STOP_SEARCH_OUTCOMES, *STOP_SEARCH_TYPES,
    *OFFICER_DEFINED_ETHNICITIES, *AGE_RANGES, *GENDERS,
))


def stop_search_csv(force_id: str, month: str, seed: int = 2011, scale: float = 1.0) -> tuple[bytes, int]:
    """The stop-and-search file of a force-month (rows in time order)."""
    force = get_force(force_id)
    geo = geography(force_id)
    style = _search_style(force_id)
    rng = _rng(seed, _STREAM_STOP_SEARCH, _key(force_id), month_index(month))
    n = int(rng.poisson(expected_stop_search_rows(force_id, month, scale) * math.exp(rng.normal(0, 0.05))))
    year, mon = int(month[:4]), int(month[5:])
    days = calendar.monthrange(year, mon)[1]
    # when
    day = rng.integers(1, days + 1, n)
    hour = _pick(_cdf(_HOUR_WEIGHT), rng.random(n))
    minute = rng.integers(0, 60, n)
    second = rng.integers(0, 60, n)
    u_round = rng.random(n)
    if style.whole_minutes:
        second[:] = 0
        minute = np.where(u_round < 0.5, _ROUND_MINUTES[rng.integers(0, len(_ROUND_MINUTES), n)], minute)
    else:
        rng.integers(0, len(_ROUND_MINUTES), n)  # keep the stream aligned across styles
    # what and who
    stype = _pick(_cdf((0.72, 0.03, 0.25)), rng.random(n))
    u_op, u_opname, op_name = rng.random(n), rng.random(n), rng.integers(0, len(POLICING_OPERATIONS), n)
    has_coords = rng.random(n) >= style.no_coordinates
    where = np.where(has_coords, geo.draw_points(rng.random(n)), geo.no_location)
    gender = _pick(_cdf((0.89, 0.10, 0.002, 0.008)), rng.random(n))
    age = _pick(_cdf((0.0005, 0.17, 0.35, 0.25, 0.15, 0.0795)), rng.random(n))
    group_w = np.array([share * _SEARCH_RATE[g] for share, g in zip(force.ethnicity, _GROUPS)])
    group = _pick(_cdf(group_w), rng.random(n))
    sub = _pick_rows(_SUB_CDF, group, rng.random(n))
    u_self = rng.random(n)
    officer = _pick_rows(_OFFICER_CDF, group, rng.random(n))
    u_officer = rng.random(n)
    legislation = _pick(_cdf(_LEGISLATION_WEIGHTS), rng.random(n))
    obj = _pick_rows(_OBJECT_CDF, legislation, rng.random(n))
    outcome = _pick_rows(_SS_OUTCOME_CDF, legislation, rng.random(n))
    u_linked, u_removal, u_blank = rng.random(n), rng.random(n), rng.random(n)

    order = np.lexsort((second, minute, hour, day))
    day_hour = np.array([f"{month}-{d:02d}T{h:02d}" for d in range(32) for h in range(24)], dtype=object)
    t = [f"{a}:{b}+00:00" for a, b in zip(day_hour[(day * 24 + hour)[order]].tolist(),
                                           _MINUTE_SECOND[(minute * 60 + second)[order]].tolist())]
    part = np.full(n, 2)  # ""
    op_text = np.full(n, "", dtype=object)
    if style.operation == "filled":
        part = (u_op < 0.04).astype(int)
        named = (part == 1) & (u_opname < 0.6)
        op_text[named] = [_csv_fields(POLICING_OPERATIONS[k]) for k in op_name[named].tolist()]
    elif style.operation == "false":
        part = np.zeros(n, dtype=int)
    gender_text = np.array([*GENDERS, ""], dtype=object)[gender]
    age_text = np.array([*AGE_RANGES, ""], dtype=object)[age]
    self_text = _SUB_TEXT[group, sub]
    self_text[u_self < 0.16] = ETHNICITY_NOT_STATED
    self_text[u_self > 0.99] = ""
    officer_text = np.array(_GROUPS, dtype=object)[officer]
    officer_text[u_officer < 0.02] = ""
    obj_text = _OBJECT_TEXT[legislation, obj]
    nfa = outcome == 0
    linked = np.where(nfa, u_linked < 0.08, u_linked < 0.55).astype(int)
    removal = (u_removal < 0.04).astype(int)
    if style.booleans == "empty":
        linked[:] = 2
        removal[:] = 2
    elif style.booleans == "removal-empty":
        removal[:] = 2
    else:
        linked[u_blank < 0.01] = 2
    cols = [
        np.array(STOP_SEARCH_TYPES, dtype=object)[stype], _TF[part], op_text, geo.latlon_block[where],
        gender_text, age_text, self_text, officer_text, np.array(LEGISLATIONS, dtype=object)[legislation],
        obj_text, np.array(STOP_SEARCH_OUTCOMES, dtype=object)[outcome], _TF[linked], _TF[removal],
    ]
    cols.insert(1, np.array(t, dtype=object))  # Date, already in time order
    pieces: list[np.ndarray | str] = []
    for j, c in enumerate(cols):
        pieces.append(c if j == 1 else c[order])
        pieces.append("," if j < len(cols) - 1 else "\n")
    return (_HEADER["stop-and-search"] + _join_columns(pieces, n)).encode("utf-8"), n


# --- the archive ----------------------------------------------------------------------------------
def _zip_info(name: str, month: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(int(month[:4]), int(month[5:]), 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


class _MonthZip:
    """One month's zip, written member by member in name order (the zip lists them sorted).

    The file appears under its name only when complete; ``close`` returns its sha256.
    """

    def __init__(self, path: Path, month: str, compresslevel: int) -> None:
        self.path, self.month, self.compresslevel = path, month, compresslevel
        self._tmp = path.with_name(path.name + ".part")
        self._zip = zipfile.ZipFile(self._tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._last = ""

    def add(self, name: str, data: bytes) -> None:
        if name <= self._last:
            raise AssertionError(f"zip members out of order: {name} after {self._last}")
        self._last = name
        self._zip.writestr(_zip_info(name, self.month), data, compresslevel=self.compresslevel)

    def close(self) -> str:
        self._zip.close()
        digest = hashlib.sha256()
        with self._tmp.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        os.replace(self._tmp, self.path)
        return digest.hexdigest()

    def abort(self) -> None:
        self._zip.close()
        self._tmp.unlink(missing_ok=True)


def _write_lookup(path: Path, force_ids: Sequence[str]) -> int:
    rows = lsoa_lookup(force_ids)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["LSOA code", "LSOA name", "District", "Force ID", "Force name", "Longitude", "Latitude"])
    for l in rows:
        w.writerow([l.code, l.name, l.district, l.force_id, FORCES[l.force_id].name, f"{l.lon:.6f}", f"{l.lat:.6f}"])
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return len(rows)


def _kind(member: str) -> str:
    for ds in (STOP_AND_SEARCH, OUTCOMES, STREET):
        if member.endswith(f"-{ds.kind}.csv"):
            return ds.kind
    raise AssertionError(member)


def _add_month(archive: _MonthZip, month: str, force_ids: list[str], queues: dict[str, dict[int, _Events]],
               rows: dict[str, int], absent: dict[str, str], totals: dict[str, int], seed: int, scale: float,
               as_of: str, last_idx: int) -> None:
    """Generate every force's files for a month into its zip, in member-name order."""
    for fid in sorted(force_ids):
        force = get_force(fid)
        members: dict[str, tuple[bytes, int]] = {}
        crimes = generate_crimes(fid, month, seed, scale)
        members[STREET.member_name(month, fid)] = (street_csv(crimes, as_of), crimes.n)
        name = OUTCOMES.member_name(month, fid)
        if force.publishes_outcomes:
            _queue_events(crimes, queues[fid], last_idx)
            members[name] = outcomes_csv(fid, month, queues[fid].pop(month_index(month), None))
        else:
            absent[name] = "British Transport Police publishes no outcomes"
        del crimes
        name = STOP_AND_SEARCH.member_name(month, fid)
        if month in STOP_SEARCH_GAPS.get(fid, ()):
            absent[name] = "no stop-and-search file this month (a publisher gap)"
        else:
            members[name] = stop_search_csv(fid, month, seed, scale)
        for name in sorted(members):
            body, n = members.pop(name)
            archive.add(name, body)
            rows[name] = n
            totals[_kind(name)] += n


def generate_archive(
    out_dir: Path,
    first_month: str,
    last_month: str,
    forces: list[str],
    seed: int = 2011,
    scale: float = 1.0,
    progress: Callable[[str, int, int, dict], None] | None = None,
    *,
    as_of: str | None = None,
    prewindow_outcomes: bool = False,
    compresslevel: int = 1,
) -> dict:
    """Write ``<out_dir>/archive/YYYY-MM.zip`` for every month, ``index.json`` and ``lsoa_lookup.csv``.

    ``progress(month, i, total, month_summary)`` is called after each month's zip is written.
    Returns the summary also written to ``index.json``: rows per dataset, files, and per
    month the rows of every member and the members that are absent (and why).
    """
    months = month_range(first_month, last_month)
    force_ids = list(dict.fromkeys(forces))
    for fid in force_ids:
        get_force(fid)
    if not force_ids:
        raise ValueError("no forces given")
    if scale <= 0:
        raise ValueError(f"scale must be positive, found {scale}")
    as_of = _check_month(as_of or last_month)
    if month_index(as_of) < month_index(last_month):
        raise ValueError(f"as_of {as_of} is before the last month {last_month}")
    out_dir = Path(out_dir)
    archive_dir = out_dir / "archive"
    archive_dir.mkdir(parents=True, exist_ok=True)
    last_idx = month_index(last_month)
    queues: dict[str, dict[int, _Events]] = {fid: {} for fid in force_ids}

    if prewindow_outcomes:
        for fid in force_ids:
            if get_force(fid).publishes_outcomes:
                for m in range(month_index(first_month) - MAX_LAG, month_index(first_month)):
                    _queue_events(generate_crimes(fid, month_from_index(m), seed, scale), queues[fid], last_idx)

    totals = {"street": 0, "outcomes": 0, "stop-and-search": 0}
    archives = []
    started = time.perf_counter()
    for i, month in enumerate(months, start=1):
        rows: dict[str, int] = {}
        absent: dict[str, str] = {}
        zip_path = archive_dir / f"{month}.zip"
        archive = _MonthZip(zip_path, month, compresslevel)
        try:
            _add_month(archive, month, force_ids, queues, rows, absent, totals, seed, scale, as_of, last_idx)
        except BaseException:
            archive.abort()
            raise
        digest = archive.close()
        entry = {"month": month, "file": zip_path.name, "sha256": digest, "members": dict(sorted(rows.items())),
                 "absent": dict(sorted(absent.items()))}
        archives.append(entry)
        log.debug("%s: %s", month, rows)
        if progress is not None:
            progress(month, i, len(months), entry)

    lookup_forces = list(force_ids)
    if "btp" in force_ids:
        lookup_forces += [h for h in BTP_HOST_FORCES if h not in lookup_forces]
    n_lsoas = _write_lookup(out_dir / "lsoa_lookup.csv", lookup_forces)
    summary = {
        "generator": "devtools.sample.police_uk",
        "seed": seed,
        "scale": scale,
        "first_month": months[0],
        "last_month": months[-1],
        "as_of": as_of,
        "prewindow_outcomes": prewindow_outcomes,
        "months": months,
        "forces": {fid: FORCES[fid].name for fid in force_ids},
        "rows": totals,
        "files": sum(len(a["members"]) for a in archives),
        "lsoa_lookup": {"file": "lsoa_lookup.csv", "rows": n_lsoas},
        "archives": archives,
    }
    (archive_dir / "index.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("police.uk sample: %d months x %d forces, %d street rows in %.1fs",
             len(months), len(force_ids), totals["street"], time.perf_counter() - started)
    return summary


# --- CLI ----------------------------------------------------------------------------------------
def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m devtools.sample.police_uk",
        description="Write a deterministic synthetic data.police.uk archive (one zip per month).",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (zips go to OUT/archive/)")
    p.add_argument("--first", required=True, help="first month, YYYY-MM")
    p.add_argument("--last", required=True, help="last month, YYYY-MM")
    p.add_argument("--forces", nargs="+", required=True,
                   help="data.police.uk force ids, or 'all' for the 43 territorial forces and BTP")
    p.add_argument("--seed", type=int, default=2011)
    p.add_argument("--scale", type=float, default=1.0, help="multiplier on every force's monthly volume")
    p.add_argument("--as-of", default=None, help="month the street files' last outcomes are as of (default: --last)")
    p.add_argument("--prewindow-outcomes", action="store_true",
                   help="also list outcomes of crimes from before --first (their ids match no street file)")
    p.add_argument("--compresslevel", type=int, default=1, choices=range(0, 10), metavar="0-9")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    forces = list(FORCE_IDS) if args.forces == ["all"] else args.forces
    started = time.perf_counter()

    def report(month: str, i: int, total: int, entry: dict) -> None:
        street = sum(n for k, n in entry["members"].items() if k.endswith("-street.csv"))
        elapsed = time.perf_counter() - started
        log.info("[%d/%d] %s: %d members, %d street rows, %d absent (%.1fs)",
                 i, total, month, len(entry["members"]), street, len(entry["absent"]), elapsed)

    try:
        summary = generate_archive(args.out, args.first, args.last, forces, seed=args.seed, scale=args.scale,
                                   progress=report, as_of=args.as_of, prewindow_outcomes=args.prewindow_outcomes,
                                   compresslevel=args.compresslevel)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    elapsed = time.perf_counter() - started
    r = summary["rows"]
    print(f"wrote {len(summary['months'])} archives ({summary['files']} files) to {args.out / 'archive'}: "
          f"{r['street']} street, {r['outcomes']} outcomes, {r['stop-and-search']} stop-and-search rows "
          f"in {elapsed:.1f}s ({r['street'] / max(elapsed, 1e-9):,.0f} street rows/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
