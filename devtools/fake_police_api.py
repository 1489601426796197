"""A fake data.police.uk on 127.0.0.1, serving the generated sample in the publisher's real shapes, misbehaving on demand.

Serves, from the output folder of :func:`devtools.sample.police_uk.generate_archive`:

* ``/data/archive/{month}.zip`` — the sample zips, with ``ETag``/``Last-Modified``, conditional
  GET (``If-None-Match``, ``If-Modified-Since`` → 304) and ``HEAD``;
* the JSON API under ``/api``: ``/forces``, ``/forces/{id}``, ``/forces/{id}/people``,
  ``/crime-last-updated``, ``/crimes-street-dates``, ``/crime-categories``,
  ``/{force}/neighbourhoods``, ``/{force}/{id}``, ``/{force}/{id}/priorities``, ``/stops-force``,
  ``/crimes-no-location``, ``/outcomes-for-crime/{id}``. Months, forces and stop-and-search
  availability come from ``index.json``; searches and crimes from the zips; neighbourhoods from
  ``lsoa_lookup.csv`` (one to three per district); senior officers and priorities are generated
  from hashes of the names, so every run serves the same bytes. Priorities are HTML fragments
  as the real API's are (``<p>Tackle anti-social behaviour on the Deepdale estate</p>``).

Faults, queued with :meth:`FakePoliceApi.inject` and consumed one per matching request:
``429`` (with ``Retry-After``), ``500``, ``502``, ``503``, ``truncate`` (the body is cut off
mid-stream), ``slow`` (no answer for ``delay`` seconds: past the client's read timeout) and
``reset`` (the connection is closed without an answer). :meth:`reissue` gives an archive a new
ETag, as the publisher does when it re-issues a month. ``max_results`` makes list endpoints
answer 503 above it, as the real API does over 10,000 results. ``enforce_rate_limit`` makes
the server answer 429 when a client goes over a leaky bucket, like the real API. Every request
is recorded with its arrival time (:attr:`FakePoliceApi.requests`).

    with FakePoliceApi(sample_dir) as server:
        server.inject("429", count=50, retry_after=1)
        ... settings with api_url=server.api_url, archive_url=server.archive_url ...

CLI (for a demo against a local "publisher")::

    python -m devtools.fake_police_api --sample var/sample/police_uk --port 8765
"""

from __future__ import annotations

import argparse
import csv
import email.utils
import hashlib
import io
import json
import logging
import re
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from devtools.sample.forces import FORCES, get_force

log = logging.getLogger(__name__)

FAULT_KINDS = ("429", "500", "502", "503", "truncate", "slow", "reset")
CHUNK = 64 * 1024
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


# --------------------------------------------------------------------------- the publisher's data


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
    def _crime_index(self) -> dict[str, tuple[str, str, dict[str, str]]]:
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
            hit = self._crime_index().get(crime_id)
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


# --------------------------------------------------------------------------- faults and records


@dataclass
class Fault:
    kind: str
    remaining: int
    retry_after: str | None = None
    delay: float = 0.0
    path: re.Pattern[str] | None = None  # only requests whose path this matches (from its start)


@dataclass
class RequestRecord:
    """One request, recorded on arrival; its status is set before any byte of the answer is sent."""

    at: float  # time.monotonic() when the request line was read
    method: str
    path: str  # without the query string
    query: str
    status: int = 0  # 0: no answer (a "reset")
    fault: str | None = None  # the injected fault that answered it, or "rate-limit"


@dataclass
class _Archive:
    version: int = 1
    modified: float = field(default_factory=lambda: 1_700_000_000.0)  # a fixed Last-Modified per month


class _ServerBucket:
    """The real API's leaky bucket, server side: answer 429 rather than wait."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


# --------------------------------------------------------------------------- the server


class FakePoliceApi:
    """The fake publisher: ``start()`` serves on 127.0.0.1 (port 0: any free port) in a thread; ``stop()``."""

    def __init__(self, sample_dir: Path, *, host: str = "127.0.0.1", port: int = 0, max_results: int = 10_000) -> None:
        self.data = PublisherData(sample_dir)
        self.max_results = max_results
        self._faults: list[Fault] = []
        self._records: list[RequestRecord] = []
        self._archives: dict[str, _Archive] = {m: _Archive(modified=1_700_000_000.0 + i * 86_400)
                                               for i, m in enumerate(self.data.months)}
        self._bucket: _ServerBucket | None = None
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FakePoliceApi":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-police-api", daemon=True)
        self._thread.start()
        log.info("fake data.police.uk serving %s at %s", self.data.sample_dir, self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakePoliceApi":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def archive_url(self) -> str:
        return f"{self.url}/data/archive/{{month}}.zip"

    # -- misbehaviour ------------------------------------------------------------------------

    def inject(self, kind: str, count: int = 1, *, retry_after: int | str | None = None, delay: float = 2.0,
               path: str | None = None) -> None:
        """Answer the next ``count`` requests with fault ``kind``.

        ``path``: only requests whose path matches this regular expression from its start (a
        plain prefix such as ``/api/lancashire/`` works as one).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULT_KINDS}")
        pattern = None if path is None else re.compile(path)
        with self._lock:
            self._faults.append(Fault(kind, count, None if retry_after is None else str(retry_after), delay, pattern))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def reissue(self, month: str) -> str:
        """The publisher re-issues ``month``: a new ETag and Last-Modified (same bytes). Returns the ETag."""
        with self._lock:
            archive = self._archives[month]
            archive.version += 1
            archive.modified += 3600
        return self.etag(month)

    def enforce_rate_limit(self, requests_per_second: float | None, burst: int = 30) -> None:
        """Answer 429 (Retry-After: 1) to requests over a leaky bucket, as data.police.uk does; None: off."""
        self._bucket = None if requests_per_second is None else _ServerBucket(requests_per_second, burst)

    # -- what happened ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far, in order of arrival."""
        with self._lock:
            return list(self._records)

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.path is None or fault.path.match(path)):
                    fault.remaining -= 1
                    return fault
            self._faults = [f for f in self._faults if f.remaining > 0]
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    # -- archives ---------------------------------------------------------------------------------

    def etag(self, month: str) -> str:
        sha = self.data.archives[month]["sha256"]
        return f'"{sha[:16]}-v{self._archives[month].version}"'

    def last_modified(self, month: str) -> str:
        return email.utils.formatdate(self._archives[month].modified, usegmt=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler sleeping in a "slow" fault must not hold up stop()

    def __init__(self, address: tuple[str, int], handler: type, owner: FakePoliceApi) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server: the client reuses connections

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive response (real servers set it too).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("fake data.police.uk: " + format, *args)

    # -- plumbing ----------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json", send_body: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, send_body: bool = True) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), send_body=send_body)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Recorded before the answer leaves: a client that reacts at once still finds it in the log.
        self._record.status = code
        super().send_response(code, message)

    def _handle(self, method: str) -> None:
        owner = self.server.owner
        parsed = urlparse(self.path)
        path, query = parsed.path, parsed.query
        self._record = RequestRecord(time.monotonic(), method, path, query)
        owner._record(self._record)
        try:
            fault = owner._take_fault(path)
            if fault is not None:
                self._record.fault = fault.kind
                self._misbehave(fault, method, path, parse_qs(query))
            elif owner._bucket is not None and not owner._bucket.take():
                self._record.fault = "rate-limit"
                self._send(429, b"", {"Retry-After": "1"})
            else:
                self._serve(method, path, parse_qs(query))
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True  # the client gave up on us (a "slow" fault past its timeout)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    # -- faults -------------------------------------------------------------------------------------

    def _misbehave(self, fault: Fault, method: str, path: str, params: dict[str, list[str]]) -> int:
        if fault.kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(429, b'{"error": "Too Many Requests"}', headers)
            return 429
        if fault.kind in ("500", "502", "503"):
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(int(fault.kind), b"", headers, content_type="text/html")
            return int(fault.kind)
        if fault.kind == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return 0
        if fault.kind == "slow":
            time.sleep(fault.delay)  # past the client's read timeout: it gives up before we answer
            return self._serve(method, path, params)
        if fault.kind == "truncate":
            status, body, headers, content_type = self._response(method, path, params)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True  # the rest never comes
            return status
        raise AssertionError(fault.kind)

    # -- routes -------------------------------------------------------------------------------------

    def _serve(self, method: str, path: str, params: dict[str, list[str]]) -> int:
        status, body, headers, content_type = self._response(method, path, params)
        if status == 200 and path.startswith("/data/archive/") and method == "GET":
            # Stream archives in chunks, as a file server does, instead of one write.
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            for start in range(0, len(body), CHUNK):
                self.wfile.write(body[start:start + CHUNK])
            return 200
        self._send(status, body, headers, content_type, send_body=method != "HEAD")
        return status

    def _response(self, method: str, path: str, params: dict[str, list[str]]) -> tuple[int, bytes, dict[str, str], str]:
        """(status, body, headers, content type) for a well-behaved answer."""
        owner = self.server.owner
        data = owner.data
        archive = re.fullmatch(r"/data/archive/(\d{4}-\d{2})\.zip", path)
        if archive:
            return self._archive(archive.group(1))
        if not path.startswith("/api/"):
            return 404, b"Not Found", {}, "text/plain"
        route = path[len("/api/"):].rstrip("/")
        arg = {k: v[0] for k, v in params.items() if v}
        routes: list[tuple[str, Callable[..., Any]]] = [
            (r"forces", lambda: data.forces()),
            (r"forces/([a-z0-9-]+)", lambda f: data.force(f)),
            (r"forces/([a-z0-9-]+)/people", lambda f: data.people(f)),
            (r"crime-last-updated", lambda: data.last_updated()),
            (r"crimes-street-dates", lambda: data.street_dates()),
            (r"crime-categories", lambda: [{"url": "all-crime", "name": "All crime"}]
             + [{"url": slug, "name": name} for name, slug in CRIME_CATEGORIES.items()]),
            (r"stops-force", lambda: self._limited(data.stops(arg.get("force", ""), arg.get("date", max(data.months))))),
            (r"crimes-no-location", lambda: self._limited(data.crimes_no_location(
                arg.get("force", ""), arg.get("date", max(data.months)), arg.get("category", "all-crime")))),
            (r"outcomes-for-crime/([0-9a-f]{64})", lambda c: data.outcomes_for_crime(c)),
            (r"([a-z0-9-]+)/neighbourhoods", lambda f: data.neighbourhoods(f)),
            (r"([a-z0-9-]+)/([A-Za-z0-9_.-]+)/priorities", lambda f, n: data.priorities(f, n)),
            (r"([a-z0-9-]+)/([A-Za-z0-9_.-]+)", lambda f, n: data.neighbourhood(f, n)),
        ]
        for pattern, build in routes:
            match = re.fullmatch(pattern, route)
            if match:
                payload = build(*match.groups())
                if payload is None:
                    return 404, b'{"error": "Not Found"}', {}, "application/json"
                if isinstance(payload, _TooMany):
                    return 503, b"", {}, "text/html"  # the real API: 503, no explanation
                return 200, json.dumps(payload, ensure_ascii=False).encode("utf-8"), {}, "application/json"
        return 404, b'{"error": "Not Found"}', {}, "application/json"

    def _limited(self, rows: list[dict] | None) -> "list[dict] | _TooMany | None":
        if rows is not None and len(rows) > self.server.owner.max_results:
            return _TooMany()
        return rows

    def _archive(self, month: str) -> tuple[int, bytes, dict[str, str], str]:
        owner = self.server.owner
        if month not in owner.data.archives:
            return 404, b"Not Found", {}, "text/plain"
        etag, modified = owner.etag(month), owner.last_modified(month)
        headers = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "none"}
        if_none_match = self.headers.get("If-None-Match")
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_none_match is not None:
            if etag in [t.strip() for t in if_none_match.split(",")]:
                return 304, b"", headers, "application/zip"
        elif if_modified_since is not None:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                since = None
            if since is not None and owner._archives[month].modified <= since:
                return 304, b"", headers, "application/zip"
        body = (owner.data.archive_dir / f"{month}.zip").read_bytes()
        return 200, body, headers, "application/zip"


class _TooMany:
    """Marker: the query would return more rows than ``max_results``."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.fake_police_api", description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=Path, default=Path("var/sample/police_uk"),
                        help="output folder of python -m devtools.sample.police_uk")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = FakePoliceApi(args.sample, port=args.port).start()
    log.info("OPCC_POLICE_UK__API_URL=%s OPCC_POLICE_UK__ARCHIVE_URL='%s' (Ctrl-C stops)",
             server.api_url, server.archive_url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
