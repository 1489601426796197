"""What the fake data.police.uk answers: its data, derived from a sample archive folder.

Forces, senior officers, neighbourhoods and their priorities are made up deterministically
from the force table (names from fixed lists, picked by a hash of the force and item); crime
dates, categories and stop-and-search months come from the archive's own files, so the API and
the archive agree as the real publisher's do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import threading
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from devtools.sample.forces import FORCES, get_force

# The API's category slugs (``/crime-categories``), keyed by the archive's ``Crime type``.
CRIME_CATEGORIES: dict[str, str] = {
    "Anti-social behaviour": "anti-social-behaviour",
    "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson",
    "Drugs": "drugs",
    "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person",
    "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime",
    "Other crime": "other-crime",
}


_RANKS = ("Chief Constable", "Deputy Chief Constable", "Assistant Chief Constable", "Assistant Chief Constable",
          "Assistant Chief Officer")


_FIRST = ("Sarah", "James", "Amina", "David", "Claire", "Rajesh", "Helen", "Mark", "Joanne", "Imran", "Louise",
          "Gareth", "Rachel", "Tom", "Bethan", "Chris")


_LAST = ("Hughes", "Ahmed", "Roberts", "Walsh", "Patel", "Thompson", "Evans", "Kaur", "Murray", "Clarke", "Jones",
         "Okafor", "Fletcher", "Bradley", "Singh", "Morgan")


_SUFFIXES = ("Central", "North", "South", "East", "West", "Rural")


_PLACES = ("Deepdale", "Ribbleton", "Fishwick", "Larkhill", "Moor Park", "Brookfield", "Frenchwood", "Ingol",
           "Ashton", "Avenham", "Plungington", "Tanterton", "Callon", "Holme Slack", "Greenlands", "Sherwood")


_STREETS = ("Church Street", "Fishergate", "Friargate", "Station Road", "London Road", "Victoria Street",
            "Market Place", "Ribbleton Lane", "New Hall Lane", "Blackpool Road")


# (issue, action or None): HTML fragments, with the entities and tags real priorities carry.
_PRIORITIES: tuple[tuple[str, str | None], ...] = (
    ("<p>Tackle anti-social behaviour on the {place} estate</p>",
     "<p>High-visibility patrols on Friday and Saturday evenings; two Community Protection Warnings issued.</p>"),
    ("<p>Reduce drug dealing around {place} Park</p>",
     "<p>Two warrants executed &amp; a closure order obtained on one address.</p>"),
    ("<p>Address speeding on {street}</p>",
     "<p>Community Speed Watch sessions held with volunteers;<br />46 advisory letters sent.</p>"),
    ("<p>Prevent burglary in {place}</p>",
     "<p>Crime prevention advice given to 120 homes.</p>\r\n<p>SmartWater kits issued.</p>"),
    ("<p>Reduce shoplifting in {place} town centre</p>",
     "<p>Retailers&#39; radio scheme relaunched with the Business Crime Reduction Partnership.</p>"),
    ("<p><strong>Vehicle crime</strong> at {place} station car park</p>", None),
    ("<p>Reduce violence in the night-time economy around {street}</p>",
     "<p>Weekend patrols with licensing officers; one premises licence reviewed.</p>"),
)


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) for a tuple of names (Python's hash() is salted per process)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(options: tuple, *parts: object) -> Any:
    return options[int(_unit(*parts) * len(options))]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _bool(text: str) -> bool | None:
    return {"True": True, "False": False}.get(text)


def _month_shift(month: str, months: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class PublisherData:
    """Everything the fake serves, derived from a generated sample folder. Read lazily, cached."""

    def __init__(self, sample_dir: Path) -> None:
        self.sample_dir = Path(sample_dir)
        self.archive_dir = self.sample_dir / "archive"
        index_file = self.archive_dir / "index.json"
        if not index_file.is_file():
            raise FileNotFoundError(f"{index_file}: no sample index; generate one with python -m devtools.sample.police_uk")
        self.index = json.loads(index_file.read_text())
        self.months: list[str] = list(self.index["months"])
        self.archives: dict[str, dict] = {a["month"]: a for a in self.index["archives"]}
        self.sample_forces: list[str] = list(self.index["forces"])
        self._lsoas = self._read_lookup(self.sample_dir / "lsoa_lookup.csv")
        self._lock = threading.Lock()

    @staticmethod
    def _read_lookup(path: Path) -> dict[str, list[dict[str, str]]]:
        by_force: dict[str, list[dict[str, str]]] = {}
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    by_force.setdefault(row["Force ID"], []).append(row)
        return by_force

    # -- archive-derived -------------------------------------------------------------------

    def street_dates(self) -> list[dict]:
        dates = []
        for month in sorted(self.months, reverse=True):  # newest first, as the API lists them
            members = self.archives[month]["members"]
            with_searches = sorted(f for f in self.sample_forces
                                   if f"{month}/{month}-{f}-stop-and-search.csv" in members)
            dates.append({"date": month, "stop-and-search": with_searches})
        return dates

    def last_updated(self) -> dict:
        return {"date": f"{max(self.months)}-01"}

    def _member_rows(self, month: str, member: str) -> list[dict[str, str]]:
        return _read_member(self.archive_dir / f"{month}.zip", member)

    def stops(self, force_id: str, month: str) -> list[dict] | None:
        if month not in self.archives:
            return None
        member = f"{month}/{month}-{force_id}-stop-and-search.csv"
        if member not in self.archives[month]["members"]:
            return []
        out = []
        for i, row in enumerate(self._member_rows(month, member)):
            lat, lon = row["Latitude"], row["Longitude"]
            location = None
            if lat and lon:
                location = {"latitude": lat, "longitude": lon,
                            "street": {"id": 900000 + i, "name": "On or near " + _pick(_STREETS, force_id, month, i)}}
            outcome = row["Outcome"]
            out.append({
                "type": row["Type"],
                "involved_person": row["Type"] in ("Person search", "Person and Vehicle search"),
                "datetime": row["Date"],
                "operation": _bool(row["Part of a policing operation"]),
                "operation_name": row["Policing operation"] or None,
                "location": location,
                "gender": row["Gender"] or None,
                "age_range": row["Age range"] or None,
                "self_defined_ethnicity": row["Self-defined ethnicity"] or None,
                "officer_defined_ethnicity": row["Officer-defined ethnicity"] or None,
                "legislation": row["Legislation"] or None,
                "object_of_search": row["Object of search"] or None,
                "outcome": outcome or None,
                "outcome_linked_to_object_of_search": _bool(row["Outcome linked to object of search"]),
                "removal_of_more_than_outer_clothing": _bool(row["Removal of more than just outer clothing"]),
                "outcome_object": {"id": _slug(outcome) if outcome else "", "name": outcome},
            })
        return out

    def crimes_no_location(self, force_id: str, month: str, category: str) -> list[dict] | None:
        if month not in self.archives:
            return None
        member = f"{month}/{month}-{force_id}-street.csv"
        if member not in self.archives[month]["members"]:
            return []
        out = []
        for i, row in enumerate(self._member_rows(month, member)):
            slug = CRIME_CATEGORIES.get(row["Crime type"], "other-crime")
            if row["Location"] != "No Location" or category not in ("all-crime", slug):
                continue
            outcome = row["Last outcome category"]
            out.append({
                "category": slug, "location_type": None, "location": None, "context": row["Context"],
                "outcome_status": {"category": outcome, "date": month} if outcome else None,
                "persistent_id": row["Crime ID"], "id": int(_unit(member, i) * 1e9), "location_subtype": "",
                "month": month,
            })
        return out

    @lru_cache(maxsize=1)
    def crime_index(self) -> dict[str, tuple[str, str, dict[str, str]]]:
        """crime id -> (month, force, street row), over every month (built once, on first use)."""
        found: dict[str, tuple[str, str, dict[str, str]]] = {}
        for month in self.months:
            for force_id in self.sample_forces:
                member = f"{month}/{month}-{force_id}-street.csv"
                if member in self.archives[month]["members"]:
                    for row in self._member_rows(month, member):
                        if row["Crime ID"]:
                            found.setdefault(row["Crime ID"], (month, force_id, row))
        return found

    def outcomes_for_crime(self, crime_id: str) -> dict | None:
        with self._lock:
            hit = self.crime_index().get(crime_id)
        if hit is None:
            return None
        month, force_id, row = hit
        outcomes = []
        for later in self.months:
            if later < month:
                continue
            member = f"{later}/{later}-{force_id}-outcomes.csv"
            if member in self.archives[later]["members"]:
                for event in self._member_rows(later, member):
                    if event["Crime ID"] == crime_id:
                        outcomes.append({"category": {"code": _slug(event["Outcome type"]),
                                                      "name": event["Outcome type"]},
                                         "date": later, "person_id": None})
        located = row["Location"] != "No Location"
        crime = {
            "category": CRIME_CATEGORIES.get(row["Crime type"], "other-crime"),
            "persistent_id": crime_id, "month": month, "context": row["Context"], "id": int(_unit(crime_id) * 1e9),
            "location_type": "Force" if located else None, "location_subtype": "",
            "location": {"latitude": row["Latitude"], "longitude": row["Longitude"],
                         "street": {"id": int(_unit(row["Location"]) * 1e6), "name": row["Location"]}}
            if located else None,
        }
        return {"crime": crime, "outcomes": outcomes}

    # -- generated reference data ------------------------------------------------------------------

    def forces(self) -> list[dict]:
        return [{"id": f.id, "name": f.name} for f in FORCES.values()]

    def force(self, force_id: str) -> dict | None:
        force = FORCES.get(force_id)
        if force is None:
            return None
        return {
            "id": force.id,
            "name": force.name,
            "description": f"<p>{force.name} serves the people of {', '.join(force.districts[:3])} and "
                           f"the surrounding areas.</p>",
            "url": f"https://www.{force.id}.police.uk/",
            "telephone": "101",
            "engagement_methods": [
                {"type": "facebook", "title": "Facebook", "description": None,
                 "url": f"https://www.facebook.com/{force.id.replace('-', '')}police"},
                {"type": "twitter", "title": "X (Twitter)", "description": "<p>Follow us for updates</p>",
                 "url": f"https://x.com/{force.id.replace('-', '')}police"},
            ],
        }

    def people(self, force_id: str) -> list[dict] | None:
        force = FORCES.get(force_id)
        if force is None:
            return None
        count = 3 + int(_unit(force_id, "people") * 3)
        out = []
        for i, rank in enumerate(_RANKS[:count]):
            name = f"{_pick(_FIRST, force_id, i, 'first')} {_pick(_LAST, force_id, i, 'last')}"
            year = 2015 + int(_unit(force_id, i, "year") * 10)
            out.append({
                "name": name,
                "rank": rank,
                "bio": f"<p>{name} was appointed {rank} of {force.name} in {year}.</p>" if i < 3 else None,
                "contact_details": {"twitter": f"https://x.com/{_slug(name)}"} if i == 0 else {},
            })
        return out

    @lru_cache(maxsize=64)
    def _neighbourhoods(self, force_id: str) -> tuple[dict, ...]:
        force = get_force(force_id)
        lsoas = self._lsoas.get(force_id, [])
        districts = sorted({row["District"] for row in lsoas}) or list(force.districts)
        out: list[dict] = []
        used: set[str] = set()
        for district in districts:
            rows = [r for r in lsoas if r["District"] == district]
            if rows:
                lat = sum(float(r["Latitude"]) for r in rows) / len(rows)
                lon = sum(float(r["Longitude"]) for r in rows) / len(rows)
            else:
                lat, lon = force.lat, force.lon
            words = [w for w in re.split(r"[\s-]+", district) if w.lower() not in {"and", "with", "upon", "of", "the", "on"}]
            stem = ("".join(w[0] for w in words) if len(words) > 1 else district[:2]).upper()
            for n in range(1 + int(_unit(force_id, district, "count") * 3)):
                suffix = _SUFFIXES[n]
                nid = f"{stem}{n + 1}"
                while nid in used:
                    nid += "X"
                used.add(nid)
                name = f"{district} {suffix}"
                out.append({
                    "id": nid,
                    "name": name,
                    "description": f"<p>The {name} neighbourhood team covers {district} {suffix.lower()} "
                                   f"&amp; the surrounding wards.</p>",
                    "population": str(4000 + int(_unit(force_id, nid, "pop") * 20000)),
                    "url_force": f"https://www.{force_id}.police.uk/area/your-area/{_slug(name)}/",
                    "centre": {"latitude": f"{lat + (n - 1) * 0.01:.6f}", "longitude": f"{lon + (n - 1) * 0.01:.6f}"},
                    "contact_details": {"email": f"{_slug(name)}@{force_id}.police.uk", "telephone": "101"},
                    "links": [],
                    "locations": [{"name": f"{district} Police Station", "type": "station", "postcode": None,
                                   "address": f"{_pick(_STREETS, nid)}, {district}", "latitude": None,
                                   "longitude": None, "description": None}] if n == 0 else [],
                })
        return tuple(out)

    def neighbourhoods(self, force_id: str) -> list[dict] | None:
        if force_id not in FORCES:
            return None
        return [{"id": n["id"], "name": n["name"]} for n in self._neighbourhoods(force_id)]

    def neighbourhood(self, force_id: str, neighbourhood_id: str) -> dict | None:
        if force_id not in FORCES:
            return None
        return next((n for n in self._neighbourhoods(force_id) if n["id"] == neighbourhood_id), None)

    def priorities(self, force_id: str, neighbourhood_id: str) -> list[dict] | None:
        if self.neighbourhood(force_id, neighbourhood_id) is None:
            return None
        last = max(self.months)
        out = []
        for i in range(int(_unit(force_id, neighbourhood_id, "priorities") * 4)):  # 0 to 3
            issue, action = _pick(_PRIORITIES, force_id, neighbourhood_id, i)
            place = _pick(_PLACES, force_id, neighbourhood_id, i, "place")
            street = _pick(_STREETS, force_id, neighbourhood_id, i, "street")
            issued = _month_shift(last, -int(_unit(force_id, neighbourhood_id, i, "age") * 12))
            day = 1 + int(_unit(force_id, neighbourhood_id, i, "day") * 27)
            action_day = min(28, day + 1 + int(_unit(force_id, neighbourhood_id, i, "lag") * 20))
            out.append({
                "issue": issue.format(place=place, street=street),
                "issue-date": f"{issued}-{day:02d}T00:00:00",
                "action": action,
                "action-date": f"{issued}-{action_day:02d}T00:00:00" if action else None,
            })
        return out


@lru_cache(maxsize=256)
def _read_member_cached(zip_path: str, mtime_ns: int, member: str) -> tuple[dict[str, str], ...]:
    with zipfile.ZipFile(zip_path) as archive:
        text = archive.read(member).decode("utf-8-sig")
    return tuple(csv.DictReader(io.StringIO(text)))


def _read_member(zip_path: Path, member: str) -> list[dict[str, str]]:
    return list(_read_member_cached(str(zip_path), zip_path.stat().st_mtime_ns, member))
