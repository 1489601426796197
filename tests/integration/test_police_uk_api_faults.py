"""The HTTP layer and the data.police.uk client against a fake publisher that misbehaves on demand.

A small sample (two forces, three months) is generated once; each test starts its own
:class:`~devtools.fake_police_api.FakePoliceApi` on 127.0.0.1 and points the platform at it.
Every fault either ends in success after retries with exactly one copy of the data loaded,
or in a clear error with nothing landed or loaded. The request timestamps the server records
show the limiter keeping to the configured rate and Retry-After being honoured by every thread.
Run with ``-o log_cli=true -o log_cli_level=INFO`` to see the measured rates.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import http
from ingest.config import HostLimit, HttpSettings, Settings, load_settings
from ingest.raw import LoadError
from devtools.fake_police_api import FakePoliceApi
from ingest.http import HttpGaveUp, QueryTooLarge
from ingest.raw.landing import LandingError, ManifestRow
from devtools.sample.police_uk import generate_archive
from ingest.sources import police_uk, police_uk_api
from ingest.sources.police_uk_api import PoliceUkApi
from tests.helpers import query

log = logging.getLogger(__name__)
FORCES = ("lancashire", "west-midlands")
MONTHS = ("2025-07", "2025-09")
RAW_API_TABLES = ("police_uk_api_forces", "police_uk_api_senior_officers", "police_uk_api_neighbourhoods",
                  "police_uk_api_neighbourhood_priorities", "police_uk_api_street_dates",
                  "police_uk_api_crime_categories", "police_uk_api_last_updated")


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publisher")
    generate_archive(out, *MONTHS, list(FORCES), scale=0.02)
    return out


@pytest.fixture
def server(sample_dir: Path) -> Iterator[FakePoliceApi]:
    with FakePoliceApi(sample_dir) as fake:
        yield fake


@pytest.fixture(autouse=True)
def fresh_http_session() -> Iterator[None]:
    http.reset()
    yield
    http.reset()


def configure(tmp_path: Path, server: FakePoliceApi, *, rate: float = 200, burst: int = 50, **overrides) -> Settings:
    """The platform pointed at the fake, with short timeouts and backoffs so faults cost little time."""
    base = load_settings(environ={
        "OPCC_ROOT": str(tmp_path),
        "OPCC_POLICE_UK__API_URL": server.api_url,
        "OPCC_POLICE_UK__ARCHIVE_URL": server.archive_url,
        "OPCC_POLICE_UK__FORCES": ",".join(FORCES),
    })
    # The archive download's read timeout ([police_uk] http_timeout_seconds; 60 s for real).
    base = dataclasses.replace(base, police_uk=dataclasses.replace(base.police_uk, http_timeout_seconds=0.5))
    options = dict(connect_timeout_seconds=1.0, read_timeout_seconds=0.5, max_attempts=4, backoff_base_seconds=0.05,
                   backoff_max_seconds=0.5, max_throttled_seconds=30.0, max_retry_after_seconds=5.0, concurrency=4,
                   rate_limits=(("127.0.0.1", HostLimit(rate, burst)),))
    settings = dataclasses.replace(base, http=HttpSettings(**{**options, **overrides}))
    http.configure(settings.http)  # the archive fetch (ingest.raw.landing) uses the process-wide session
    return settings


def expected_rows(server: FakePoliceApi) -> dict[str, int]:
    """What one complete copy of the fake's reference data is, counted from the fake's own data."""
    data = server.data
    neighbourhoods = {f: data.neighbourhoods(f) for f in FORCES}
    return {
        "police_uk_api_forces": len(data.forces()),
        "police_uk_api_senior_officers": sum(len(data.people(f)) for f in FORCES),
        "police_uk_api_neighbourhoods": sum(len(n) for n in neighbourhoods.values()),
        "police_uk_api_neighbourhood_priorities": sum(len(data.priorities(f, n["id"]))
                                                      for f in FORCES for n in neighbourhoods[f]),
        "police_uk_api_street_dates": len(data.months),
        "police_uk_api_crime_categories": 15,
        "police_uk_api_last_updated": 1,
    }


def assert_one_complete_copy(settings: Settings, server: FakePoliceApi) -> None:
    for table, rows in expected_rows(server).items():
        assert query(settings, f"select count(*), count(distinct _loaded_at) from raw.{table}") == [(rows, 1)], table
    assert query(settings, "select count(*) from (select force_id, neighbourhood_id from raw.police_uk_api_neighbourhoods"
                           " group by all having count(*) > 1)") == [(0,)]


def refresh(settings: Settings) -> dict:
    police_uk_api.fetch_reference(settings)
    return police_uk_api.load(settings)


# --------------------------------------------------------------------------- the client


def test_every_endpoint_answers_in_the_real_shapes(tmp_path: Path, server: FakePoliceApi):
    api = PoliceUkApi.from_settings(configure(tmp_path, server))
    forces = api.forces()
    assert len(forces) == 44 and {"id": "lancashire", "name": "Lancashire Constabulary"} in forces
    assert set(api.force("lancashire")) == {"id", "name", "description", "url", "telephone", "engagement_methods"}
    assert {p["rank"] for p in api.senior_officers("lancashire")} >= {"Chief Constable"}
    assert api.crime_last_updated() == {"date": "2025-09-01"}
    assert [d["date"] for d in api.crimes_street_dates()] == ["2025-09", "2025-08", "2025-07"]
    assert {"url": "violent-crime", "name": "Violence and sexual offences"} in api.crime_categories("2025-09")
    first = api.neighbourhoods("lancashire")[0]
    detail = api.neighbourhood("lancashire", first["id"])
    assert detail["name"] == first["name"] and set(detail["centre"]) == {"latitude", "longitude"}
    priorities = [p for n in api.neighbourhoods("lancashire") for p in api.neighbourhood_priorities("lancashire", n["id"])]
    assert priorities and all(p["issue"].startswith("<p>") for p in priorities)
    assert set(priorities[0]) == {"issue", "issue-date", "action", "action-date"}
    index = json.loads((server.data.archive_dir / "index.json").read_text())
    archive = next(a for a in index["archives"] if a["month"] == "2025-08")
    stops = api.stops_force("lancashire", "2025-08")
    assert len(stops) == archive["members"]["2025-08/2025-08-lancashire-stop-and-search.csv"]
    assert set(stops[0]) >= {"type", "involved_person", "datetime", "location", "outcome_object", "legislation"}
    unlocated = api.crimes_no_location("lancashire", "2025-08")
    assert unlocated and all(c["location"] is None for c in unlocated)
    crime_id = next(cid for cid, (month, *_) in server.data.crime_index().items() if month == "2025-07")
    assert api.outcomes_for_crime(crime_id)["crime"]["persistent_id"] == crime_id


# --------------------------------------------------------------------------- faults that retries absorb


@pytest.mark.parametrize("kind, options", [
    ("429", {"count": 3, "retry_after": 1}),
    ("500", {"count": 3}),
    ("502", {"count": 3}),
    ("503", {"count": 3}),
    ("truncate", {"count": 3}),  # the body stops half way
    ("slow", {"count": 2, "delay": 1.0}),  # no answer within the 0.5 s read timeout
    ("reset", {"count": 3}),  # the connection is closed without an answer
], ids=lambda v: v if isinstance(v, str) else "")
def test_reference_refresh_survives_the_fault_with_one_copy_loaded(tmp_path, server, kind, options):
    settings = configure(tmp_path, server)
    server.inject(kind, path="/api/lancashire/", **options)  # mid-run: the neighbourhood calls
    refresh(settings)
    assert server.pending_faults() == 0
    assert_one_complete_copy(settings, server)
    served = [r for r in server.requests if r.fault == kind]
    assert len(served) == options["count"]
    retries = http.session().stats.snapshot()["retries"]
    log.info("%s x%d absorbed: %s; %d requests", kind, options["count"], retries, len(server.requests))
    assert sum(retries.values()) == options["count"]


def test_archive_faults_end_in_one_copy_and_an_unchanged_archive_is_not_downloaded_twice(tmp_path, server):
    settings = configure(tmp_path, server)
    month, member = "2025-08", "2025-08/2025-08-lancashire-street.csv"
    path = f"/data/archive/{month}.zip"
    for kind, options in [("truncate", {}), ("500", {}), ("429", {"retry_after": 0, "count": 2}),
                          ("slow", {"delay": 0.8})]:
        server.inject(kind, path=path, **options)
    fetched = police_uk.fetch(settings, month)
    archive = server.data.archives[month]
    assert fetched.status == "fetched" and fetched.sha256 == archive["sha256"]
    police_uk.load(settings, month)
    street = "select count(*), count(distinct _loaded_at) from raw.police_uk_street where _force_id = 'lancashire' and _month = ?"
    assert query(settings, street, [month]) == [(archive["members"][member], 1)]

    # Unchanged: a conditional GET answered 304, nothing downloaded again.
    assert police_uk.fetch(settings, month).status == "unchanged"
    gets = [r for r in server.requests if r.path == path and r.method == "GET"]
    assert [r.status for r in gets if r.fault is None] == [200, 304]

    # The publisher re-issues the month (new ETag): downloaded and loaded again, still one copy.
    server.reissue(month)
    assert police_uk.fetch(settings, month).status == "fetched"
    police_uk.load(settings, month)
    assert query(settings, street, [month]) == [(archive["members"][member], 1)]
    assert [r.status for r in server.requests if r.path == path and r.fault is None] == [200, 304, 200]


# --------------------------------------------------------------------------- faults that outlast the retries


@pytest.mark.parametrize("kind, options, message", [
    ("503", {}, r"HTTP 503 Service Unavailable \(last: HTTP 503; 4 attempts\)"),
    ("truncate", {}, r"body cut off mid-stream .*\(last: no response; 4 attempts\)"),
    ("slow", {"delay": 0.7}, r"timed out \(ReadTimeout\) \(last: no response; 4 attempts\)"),
    ("429", {"retry_after": 1}, r"still answered 429 Too Many Requests after \d+ tries"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 10 else "")
def test_a_fault_that_outlasts_the_retries_is_a_clear_error_and_nothing_changes(tmp_path, server, kind, options,
                                                                               message):
    settings = configure(tmp_path, server, max_throttled_seconds=2.0)
    refresh(settings)
    landed = {p: p.read_bytes() for p in (settings.paths.landing_dir / "police_uk_api").rglob("*")
              if p.is_file()}
    before = {t: query(settings, f"select count(*), max(_loaded_at) from raw.{t}") for t in RAW_API_TABLES}
    # One neighbourhood's priorities fail after every other west-midlands call has succeeded.
    last = server.data.neighbourhoods("west-midlands")[-1]["id"]
    failing = f"/api/west-midlands/{last}/priorities"
    server.inject(kind, count=1000, path=failing, **options)
    with pytest.raises(HttpGaveUp, match=message) as caught:
        police_uk_api.fetch_force(settings, "west-midlands")
    assert failing in str(caught.value)
    # Nothing partial: no landed file changed (not even the force's neighbourhoods, fetched fine),
    # no temporary file left, and raw is as it was.
    after = {p: p.read_bytes() for p in (settings.paths.landing_dir / "police_uk_api").rglob("*") if p.is_file()}
    assert after == landed
    assert {t: query(settings, f"select count(*), max(_loaded_at) from raw.{t}") for t in RAW_API_TABLES} == before


def test_an_archive_cut_off_every_time_keeps_the_previous_copy(tmp_path, server):
    settings = configure(tmp_path, server)
    month = "2025-08"
    police_uk.fetch(settings, month)
    police_uk.load(settings, month)
    landed = settings.paths.landing_dir / "police_uk" / "archive" / f"{month}.zip"
    before_sha, before_rows = ManifestRow.read(landed).sha256, query(settings, "select count(*), max(_loaded_at) "
                                                                               "from raw.police_uk_street")
    server.reissue(month)
    server.inject("truncate", count=1000, path=f"/data/archive/{month}.zip")
    with pytest.raises(LandingError, match=rf"{month}\.zip: download truncated after \d+ of \d+ bytes .*4 attempts"):
        police_uk.fetch(settings, month)
    assert hashlib.sha256(landed.read_bytes()).hexdigest() == before_sha == ManifestRow.read(landed).sha256
    assert not [p for p in landed.parent.iterdir() if p.name.startswith(".")]
    assert query(settings, "select count(*), max(_loaded_at) from raw.police_uk_street") == before_rows


# --------------------------------------------------------------------------- the rate limit


def test_the_limiter_keeps_to_the_configured_rate_measured_at_the_server(tmp_path, server):
    rate, burst = 15.0, 30  # data.police.uk's limit, as configured for it
    settings = configure(tmp_path, server, rate=rate, burst=burst)
    started = time.monotonic()
    police_uk_api.fetch_reference(settings)
    arrivals = sorted(r.at for r in server.requests)
    n = len(arrivals)
    # Token-bucket conformance at the server: any run of requests fits burst + rate x its span,
    # give or take two requests (a request delayed ~0.1 s on its way bunches up with the next).
    worst = max((j - i + 1) - (burst + rate * (arrivals[j] - arrivals[i]))
                for i in range(n) for j in range(i, n))
    log.info("worst excess over burst + rate x span: %.2f requests", worst)
    assert worst <= 2.0
    peak_1s = max(sum(1 for t in arrivals if a <= t < a + 1.0) for a in arrivals)
    # Beyond the initial burst, over the whole span: the bucket refills while the burst itself is
    # sent, so timing from the burst's last request overstates the rate on a busy machine.
    sustained = (n - burst) / (arrivals[-1] - arrivals[0])
    log.info("rate limit %.0f/s burst %d: %d requests in %.2f s; sustained %.2f requests/s after the burst; "
             "busiest 1-second window %d requests (limit %d); no 429", rate, burst, n, time.monotonic() - started,
             sustained, peak_1s, burst + int(rate))
    assert sustained <= rate * 1.02
    assert peak_1s <= burst + rate + 2
    assert all(r.status == 200 for r in server.requests)


def test_a_50_request_429_storm_is_absorbed(tmp_path, server):
    # The storm hits the force's neighbourhood calls, which run on 8 threads: every thread pauses
    # for each Retry-After together. (One sequential caller would wait 1 s per 429: 50 s.)
    settings = configure(tmp_path, server, rate=15, burst=30, concurrency=8)
    police_uk_api.fetch_national(settings)
    server.clear_requests()
    server.inject("429", count=50, retry_after=1, path="/api/lancashire/(?!neighbourhoods$)")
    started = time.monotonic()
    police_uk_api.fetch_force(settings, "lancashire")
    police_uk_api.load(settings, forces=["lancashire"])
    elapsed = time.monotonic() - started
    stats = http.session().stats.snapshot()  # the national fetch before the storm had no retries
    throttled = [r.at for r in server.requests if r.status == 429]
    log.info("50 x 429 (Retry-After: 1) absorbed in %.2f s: %d requests, %d of them refused, %s", elapsed,
             len(server.requests), len(throttled), stats)
    assert server.pending_faults() == 0 and len(throttled) == 50 and stats["retries"] == {"429": 50}
    assert stats["gave_up"] == 0
    # Retry-After honoured by every thread: after a 429, nothing arrives until its second is up
    # (requests already on their way when the 429 reached the client may land just after it).
    arrivals = [r.at for r in server.requests]
    assert not [a for t in throttled for a in arrivals if t + 0.25 < a < t + 0.95]
    neighbourhoods = server.data.neighbourhoods("lancashire")
    expected = {
        "police_uk_api_neighbourhoods": len(neighbourhoods),
        "police_uk_api_neighbourhood_priorities": sum(len(server.data.priorities("lancashire", n["id"]))
                                                      for n in neighbourhoods),
    }
    for table, rows in expected.items():
        assert query(settings, f"select count(*), count(distinct _loaded_at) from raw.{table}") == [(rows, 1)]


# --------------------------------------------------------------------------- 503 over 10,000 results


def test_503_for_too_many_results_is_split_by_category_or_refused_not_retried(tmp_path, server):
    api = PoliceUkApi.from_settings(configure(tmp_path, server))
    everything = server.data.crimes_no_location("west-midlands", "2025-08", "all-crime")
    per_category: dict[str, int] = {}
    for crime in everything:
        per_category[crime["category"]] = per_category.get(crime["category"], 0) + 1
    server.max_results = max(per_category.values())  # too many together, each category fits
    assert len(everything) > server.max_results
    found = api.crimes_no_location("west-midlands", "2025-08")
    assert sorted(c["persistent_id"] for c in found) == sorted(c["persistent_id"] for c in everything)
    all_crime = [r for r in server.requests if r.path == "/api/crimes-no-location" and "category=all-crime" in r.query]
    assert [r.status for r in all_crime] == [503, 503]  # asked twice, then split

    server.max_results = 5
    with pytest.raises(QueryTooLarge, match=r"stops-force: 503 Service Unavailable twice.*2025-08-lancashire-stop-and-search\.csv.*2 attempts"):
        api.stops_force("lancashire", "2025-08")
    assert [r.status for r in server.requests if r.path == "/api/stops-force"] == [503, 503]


# --------------------------------------------------------------------------- is the month published?


def test_a_month_is_published_when_crimes_street_dates_lists_it(tmp_path, server):
    settings = configure(tmp_path, server)
    assert police_uk.is_month_published(settings, "2025-08")
    assert not police_uk.is_month_published(settings, "2025-10")  # not yet: the DAG skips it
    assert police_uk.stop_and_search_forces(settings, "2025-08") == frozenset(FORCES)
    server.inject("503", count=100, path="/api/crimes-street-dates")
    with pytest.raises(HttpGaveUp, match="crimes-street-dates"):  # the API is down: fail (and retry), not skip
        police_uk.is_month_published(settings, "2025-08")


def test_load_after_a_failed_first_fetch_names_what_is_missing(tmp_path, server):
    settings = configure(tmp_path, server)
    server.inject("500", count=1000, path="/api/lancashire/neighbourhoods")
    police_uk_api.fetch_national(settings)
    with pytest.raises(HttpGaveUp):
        police_uk_api.fetch_force(settings, "lancashire")
    with pytest.raises(LoadError, match=r"nothing landed for senior_officers/lancashire, neighbourhoods/lancashire"):
        police_uk_api.load(settings, forces=["lancashire"])
    assert not settings.paths.warehouse.exists() or query(
        settings, "select count(*) from raw.police_uk_api_forces") == [(0,)]


# --------------------------------------------------------------------------- DAG wiring


def test_reference_dag_and_check_published_share_the_api_pool():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert "police_uk_api" in bag.dag_ids and not bag.import_errors
    reference = bag.dags["police_uk_api"]
    assert type(reference.timetable).__name__ == "CronTriggerTimetable"
    assert reference.get_task("fetch_national").pool == "police_uk_api"
    assert reference.get_task("fetch_force").pool == "police_uk_api"
    assert reference.get_task("fetch_force").retry_exponential_backoff
    assert reference.get_task("load").pool == "duckdb_writer"
    assert {a.name for a in reference.get_task("load").outlets} == {"raw_police_uk_api"}
    assert bag.dags["police_uk"].get_task("check_published").pool == "police_uk_api"
