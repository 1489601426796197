"""Street crimes and their outcomes, month by month, for one force: what the sample archive's street and outcomes files hold.

Each force-month's crimes are a pure function of (seed, force, month, scale): a crime type from
the force's mix and season, a map point, and an outcome path (no suspect, charged then a court
result, …) whose events land in later months' outcomes files, up to ``MAX_LAG`` months on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from devtools.sample import draws
from devtools.sample.forces import get_force
from devtools.sample.police_uk_common import HEADER, SEASON, STREAM_CRIMES, STREAM_REPEATS, trend
from devtools.sample.police_uk_places import geography
from ingest.months import month_index
from ingest.sources.police_uk_contract import CRIME_TYPES, OUTCOME_CATEGORIES

MAX_LAG = 24  # months between a crime and its last outcome event

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

def expected_street_rows(force_id: str, month: str, scale: float = 1.0) -> float:
    """Mean street rows for a force-month before noise: table value x scale x season x trend."""
    force = get_force(force_id)
    return force.street_per_month * scale * SEASON[month_index(month) % 12] * trend(force_id, month, "street")

def _crime_type_cdf(force_id: str, month: str) -> np.ndarray:
    cal = month_index(month) % 12 + 1
    mix = _FORCE_MIX.get(force_id, {})
    w = []
    for t in CRIME_TYPES:
        season = 1 + _CRIME_SEASON_AMPLITUDE.get(t, 0.0) * math.cos(2 * math.pi * (cal - 7) / 12)
        local = 0.9 + 0.2 * draws.unit(force_id, t, "mix")
        w.append(_CRIME_SHARE[t] * mix.get(t, 1.0) * season * local)
    return draws.cdf(w)

@lru_cache(maxsize=64)
def _path_tables(force_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per crime type: CDF over outcome paths; per path: first-event code and mean lag."""
    no_event = 0.20 + 0.18 * draws.unit(force_id, "no-event")
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

_COURT_CDF = draws.cdf([w for _, w in _COURT_RESULTS])

_COURT_CODES = np.array([_OC[name] for name, _ in _COURT_RESULTS], dtype=np.uint8)

_PATH_COURT = [p for p, _, _ in _PATHS].index(_COURT)

_PATH_NO_EVENT = [p for p, _, _ in _PATHS].index(_NO_EVENT)

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
            ids[with_id] = draws.hex_ids(self.id_words[with_id])
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
    rng = draws.rng(seed, STREAM_CRIMES, draws.key(force_id), month_index(month))
    mean = expected_street_rows(force_id, month, scale) * math.exp(rng.normal(0, 0.03))
    n = int(rng.poisson(mean))
    ctype = draws.pick(_crime_type_cdf(force_id, month), rng.random(n)).astype(np.uint8)
    point = geo.draw_points(rng.random(n)).astype(np.int32)
    words = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64, endpoint=False)
    is_asb = ctype == _ASB
    u_noloc = rng.random(n)
    if force.id != "btp":
        no_loc_share = 0.05 + 0.04 * draws.unit(force_id, "no-location")
        point[(~is_asb) & (u_noloc < no_loc_share)] = geo.no_location
    # outcome history
    cdf, codes, lags = _path_tables(force_id)
    path = draws.pick_rows(cdf, ctype.astype(np.int64), rng.random(n))
    lag1 = rng.geometric(1.0 / (1.0 + lags[path])) - 1
    lag2 = lag1 + rng.geometric(1.0 / (1.0 + _COURT_LAG_MEAN), n)  # at least a month after the charge
    crown = rng.random(n) < _CROWN_COURT_SHARE
    result = _COURT_CODES[draws.pick(_COURT_CDF, rng.random(n))]
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
        extra = draws.rng(seed, STREAM_REPEATS, draws.key(force_id), month_index(month))
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

_OUTCOME_FIELD = np.array([draws.csv_fields(o) for o in OUTCOME_CATEGORIES] + [""], dtype=object)

# "Crime type,Last outcome category,Context" + line end, for every (type, outcome) pair.
_TYPE_OUTCOME_TAIL = np.array(
    [f"{draws.csv_fields(t)},{o},\n" for t in CRIME_TYPES for o in _OUTCOME_FIELD.tolist()], dtype=object
)

def _middle(force_id: str, month: str) -> np.ndarray:
    """Per map point: ",Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"."""
    force = get_force(force_id)
    prefix = draws.csv_fields(month, force.name, force.name)
    return np.array([f",{prefix},{b}," for b in geography(force_id).street_block.tolist()], dtype=object)

def street_csv(crimes: CrimeMonth, as_of: str) -> bytes:
    """The street-level file of a force-month, with last outcomes as of ``as_of``."""
    tail = crimes.crime_type.astype(np.intp) * len(_OUTCOME_FIELD) + crimes.last_outcome(as_of)
    body = draws.join_columns(
        [crimes.crime_ids(), _middle(crimes.force_id, crimes.month)[crimes.point], _TYPE_OUTCOME_TAIL[tail]],
        crimes.n,
    )
    return (HEADER["street"] + body).encode("utf-8")

@dataclass
class Events:
    """Outcome events waiting for their month: compact arrays, no strings."""

    words: list[np.ndarray] = field(default_factory=list)
    point: list[np.ndarray] = field(default_factory=list)
    code: list[np.ndarray] = field(default_factory=list)

    def add(self, words: np.ndarray, point: np.ndarray, code: np.ndarray) -> None:
        if len(code):
            self.words.append(words)
            self.point.append(point)
            self.code.append(code)

def queue_events(crimes: CrimeMonth, queue: dict[int, Events], until: int) -> None:
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
            queue.setdefault(start + k, Events()).add(crimes.id_words[sel], crimes.point[sel], crimes.ev_code[sel, j])

def outcomes_csv(force_id: str, month: str, events: Events | None) -> tuple[bytes, int]:
    """The outcomes file of a force-month from the events dated that month."""
    if events is None or not events.code:
        return HEADER["outcomes"].encode("utf-8"), 0
    words = np.concatenate(events.words)
    point = np.concatenate(events.point)
    code = np.concatenate(events.code)
    order = np.lexsort((code, point))
    body = draws.join_columns(
        [np.array(draws.hex_ids(words[order]), dtype=object), _middle(force_id, month)[point[order]],
         _OUTCOME_LINE_END[code[order]]],
        len(order),
    )
    return (HEADER["outcomes"] + body).encode("utf-8"), len(order)

_OUTCOME_LINE_END = np.array([f"{o}\n" for o in _OUTCOME_FIELD.tolist()], dtype=object)
