"""Stop and search files in the publisher's layout: who was searched, when, for what, with what outcome.

Forces fill the True/False columns differently (one leaves a column empty on every row), round
their times differently, and leave coordinates out on 10-36 % of rows, as the real files do.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass

import numpy as np

from devtools.sample import draws
from devtools.sample.forces import get_force
from devtools.sample.police_uk_common import HEADER, SEASON, STREAM_STOP_SEARCH, trend
from devtools.sample.police_uk_places import geography
from ingest.months import month_index
from ingest.sources.police_uk_contract import (
    AGE_RANGES,
    OFFICER_DEFINED_ETHNICITIES,
    STOP_SEARCH_OUTCOMES,
    STOP_SEARCH_TYPES,
)

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

def expected_stop_search_rows(force_id: str, month: str, scale: float = 1.0) -> float:
    force = get_force(force_id)
    season = 1 + 0.5 * (SEASON[month_index(month) % 12] - 1)
    return force.stop_search_per_month * scale * season * trend(force_id, month, "stop-search")

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
    u = draws.unit(force_id, "search-style")
    operation = ("filled", "false", "empty")[int(u * 3)]
    booleans = "filled" if draws.unit(force_id, "booleans") < 0.8 else ("empty", "removal-empty")[int(u * 2)]
    return _SearchStyle(operation, booleans, draws.unit(force_id, "minutes") < 0.3,
                        0.10 + 0.20 * draws.unit(force_id, "no-coordinates"))

_MINUTE_SECOND = np.array([f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)], dtype=object)

_HOUR_WEIGHT = (5, 4, 3, 2, 1.5, 1, 1, 1.5, 2, 3, 3.5, 4, 4.5, 5, 5.5, 6, 7, 7.5, 8, 8, 8, 7.5, 7, 6)

_ROUND_MINUTES = np.array([0, 30, 45, 15, 20, 10, 40, 50])

_GROUPS = OFFICER_DEFINED_ETHNICITIES

_SUB_CDF = np.array([
    np.pad(draws.cdf(_SUBGROUP_WEIGHTS[g]), (0, 5 - len(_SUBGROUP_WEIGHTS[g])), constant_values=1.0) for g in _GROUPS
])

_SUB_TEXT = np.array(
    [[*SELF_DEFINED_ETHNICITIES[g], *([""] * (5 - len(SELF_DEFINED_ETHNICITIES[g])))] for g in _GROUPS],
    dtype=object,
)

_OBJECT_CDF = np.array([np.pad(draws.cdf([w for _, w in row]), (0, 7 - len(row)), constant_values=1.0) for row in _OBJECTS])

_OBJECT_TEXT = np.array([[o for o, _ in row] + [""] * (7 - len(row)) for row in _OBJECTS], dtype=object)

_SS_OUTCOME_CDF = np.array([draws.cdf(_SS_OUTCOME_WEIGHTS["drugs"])] + [draws.cdf(_SS_OUTCOME_WEIGHTS["other"])] * 3)

# Officer-defined ethnicity given the person's group (rows) - mostly agrees with self-definition.
_OFFICER_GIVEN_GROUP = np.array([
    [0.96, 0.005, 0.01, 0.005, 0.02],  # White
    [0.02, 0.95, 0.01, 0.01, 0.01],  # Black
    [0.02, 0.01, 0.93, 0.01, 0.03],  # Asian
    [0.15, 0.40, 0.05, 0.35, 0.05],  # Mixed
    [0.15, 0.05, 0.20, 0.02, 0.58],  # Other
])

_OFFICER_CDF = np.array([draws.cdf(r) for r in _OFFICER_GIVEN_GROUP])

_TF = np.array(["False", "True", ""], dtype=object)

def stop_search_csv(force_id: str, month: str, seed: int = 2011, scale: float = 1.0) -> tuple[bytes, int]:
    """The stop-and-search file of a force-month (rows in time order)."""
    force = get_force(force_id)
    geo = geography(force_id)
    style = _search_style(force_id)
    rng = draws.rng(seed, STREAM_STOP_SEARCH, draws.key(force_id), month_index(month))
    n = int(rng.poisson(expected_stop_search_rows(force_id, month, scale) * math.exp(rng.normal(0, 0.05))))
    year, mon = int(month[:4]), int(month[5:])
    days = calendar.monthrange(year, mon)[1]
    # when
    day = rng.integers(1, days + 1, n)
    hour = draws.pick(draws.cdf(_HOUR_WEIGHT), rng.random(n))
    minute = rng.integers(0, 60, n)
    second = rng.integers(0, 60, n)
    u_round = rng.random(n)
    if style.whole_minutes:
        second[:] = 0
        minute = np.where(u_round < 0.5, _ROUND_MINUTES[rng.integers(0, len(_ROUND_MINUTES), n)], minute)
    else:
        rng.integers(0, len(_ROUND_MINUTES), n)  # keep the stream aligned across styles
    # what and who
    stype = draws.pick(draws.cdf((0.72, 0.03, 0.25)), rng.random(n))
    u_op, u_opname, op_name = rng.random(n), rng.random(n), rng.integers(0, len(POLICING_OPERATIONS), n)
    has_coords = rng.random(n) >= style.no_coordinates
    where = np.where(has_coords, geo.draw_points(rng.random(n)), geo.no_location)
    gender = draws.pick(draws.cdf((0.89, 0.10, 0.002, 0.008)), rng.random(n))
    age = draws.pick(draws.cdf((0.0005, 0.17, 0.35, 0.25, 0.15, 0.0795)), rng.random(n))
    group_w = np.array([share * _SEARCH_RATE[g] for share, g in zip(force.ethnicity, _GROUPS)])
    group = draws.pick(draws.cdf(group_w), rng.random(n))
    sub = draws.pick_rows(_SUB_CDF, group, rng.random(n))
    u_self = rng.random(n)
    officer = draws.pick_rows(_OFFICER_CDF, group, rng.random(n))
    u_officer = rng.random(n)
    legislation = draws.pick(draws.cdf(_LEGISLATION_WEIGHTS), rng.random(n))
    obj = draws.pick_rows(_OBJECT_CDF, legislation, rng.random(n))
    outcome = draws.pick_rows(_SS_OUTCOME_CDF, legislation, rng.random(n))
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
        op_text[named] = [draws.csv_fields(POLICING_OPERATIONS[k]) for k in op_name[named].tolist()]
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
    return (HEADER["stop-and-search"] + draws.join_columns(pieces, n)).encode("utf-8"), n


SELF_DEFINED_ETHNICITY_VALUES: tuple[str, ...] = (
    *(e for group in SELF_DEFINED_ETHNICITIES.values() for e in group), ETHNICITY_NOT_STATED,
)

OBJECTS_OF_SEARCH: tuple[str, ...] = tuple(sorted({o for row in _OBJECTS for o, _ in row if o}))
