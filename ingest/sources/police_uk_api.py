"""data.police.uk JSON API: a client, fetch to landing, and load to ``raw.police_uk_api_*``.

The same small surface as every source:

* ``published_months`` — what there is (``/crimes-street-dates``: months, and the forces with
  stop and search in each);
* ``fetch_national`` / ``fetch_force`` — land the reference data: forces, publication dates,
  crime categories (national); senior officers, neighbourhoods and their priorities (per force);
* ``load`` — replace those partitions in ``raw.police_uk_api_*``, checked, in one transaction.

**Landing.** Each dataset × partition is one file, ``<landing>/police_uk_api/<dataset>/<partition>.ndjson``:
one line per API response, ``{"url": …, <request keys>, "body": <the JSON as published>}``
(a priorities response does not say which neighbourhood it is for, so the request's keys
travel beside it), with the usual sidecar manifest. All of a partition's responses are
fetched before anything is written, and the file is renamed into place whole: a failed
fetch lands nothing and leaves the previous file. An identical re-fetch is recorded as
``unchanged``. The API sends no ETag, so unchanged is judged by the file's sha256.

**Load.** DuckDB's ``read_json`` with explicit column types (nested bodies as ``STRUCT`` /
``JSON``), never Python row loops. Every row carries ``_partition``, ``_source_url`` (the API
call), ``_source_file``, ``_file_sha256`` and ``_loaded_at``. All partitions of a run are
replaced in one transaction, each gated by the one gate engine (``ingest.raw.gate``) with the
suite its declaration implies (:func:`suite`: columns, keys present and unique, no empty answer
where the API always has rows; ``expectations/raw_police_uk_api_*.json``): a failed check rolls
everything back and the previous rows stay.

**Rate limit and faults** are the HTTP layer's (``ingest/http.py``): 15 requests/s with bursts
of 30, shared by this process's threads; 429 pauses every thread for ``Retry-After``. The
endpoints that answer 503 rather than return more than 10,000 rows (``/crimes-no-location``,
``/stops-force``) are asked at most twice; ``crimes_no_location`` then splits the query by
crime category, ``stops_force`` raises :class:`~ingest.http.QueryTooLarge` naming the
archive's stop-and-search file as the way to get those rows.

Only the standard library is imported at module level (DAG files import source modules).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TypeVar
from urllib.parse import quote

from ingest.config import MONTH_PATTERN, Settings, validate_force_id
from ingest.raw import LoadError
from ingest.raw.landing import ManifestRow
from ingest.sources.police_uk_api_contract import (  # noqa: F401 - the contract, re-exported for callers
    NATIONAL,
    FORCE,
    ALL,
    LINEAGE_COLUMNS,
    DUCKDB_TYPES,
    Field,
    ApiDataset,
    STREET_DATES,
    LAST_UPDATED,
    CRIME_CATEGORIES,
    FORCES,
    SENIOR_OFFICERS,
    NEIGHBOURHOODS,
    NEIGHBOURHOOD_PRIORITIES,
    DATASETS,
    BY_NAME,
    suite,
)
from ingest.warehouse import quote_identifier, record_loads

if TYPE_CHECKING:
    import duckdb

    from ingest.http import JsonResponse, ResilientSession

log = logging.getLogger(__name__)

SOURCE = "police_uk_api"
_PERSISTENT_ID = re.compile(r"^[0-9a-f]{64}$")
T = TypeVar("T")
R = TypeVar("R")


def ensure_raw_tables(con: "duckdb.DuckDBPyConnection") -> None:
    """Create ``raw.police_uk_api_*`` empty if missing (idempotent); the loader's DDL."""
    con.execute("create schema if not exists raw")
    for dataset in DATASETS:
        con.execute(dataset.ddl())


# --------------------------------------------------------------------------- the client


def _check_month(month: str) -> str:
    if not MONTH_PATTERN.match(month):
        raise ValueError(f"expected a month as YYYY-MM, found {month!r}")
    return month


def path_segment(value: str) -> str:
    """An id from the API (a neighbourhood's) as one path segment: nothing in it can change the path."""
    if not value or value in {".", ".."}:
        raise ValueError(f"{value!r} is not a usable id")
    return quote(value, safe="")


class PoliceUkApi:
    """The data.police.uk endpoints the platform uses; every call goes through the HTTP layer."""

    def __init__(self, base_url: str, session: "ResilientSession | None" = None, *, concurrency: int = 4) -> None:
        from ingest import http

        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"data.police.uk API URL must be http(s), found {base_url!r} ([police_uk] api_url)")
        self.base_url = base_url.rstrip("/")
        self.session = session or http.session()
        self.concurrency = max(1, concurrency)

    @classmethod
    def from_settings(cls, settings: Settings, session: "ResilientSession | None" = None) -> "PoliceUkApi":
        from ingest import http

        return cls(settings.police_uk.api_url, session or http.configure(settings.http),
                   concurrency=settings.http.concurrency)

    def get(self, path: str, params: dict[str, str] | None = None, *, too_large_on_503: bool = False) -> "JsonResponse":
        return self.session.get_json(self.base_url + path, params=params, too_large_on_503=too_large_on_503)

    def map(self, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``call`` on every item with the configured threads, results in item order (the bucket paces them)."""
        if len(items) <= 1 or self.concurrency == 1:
            return [call(item) for item in items]
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="police-uk-api") as pool:
            return list(pool.map(call, items))

    # -- the endpoints ------------------------------------------------------------------------

    def forces(self) -> list[dict]:
        return self.get("/forces").body

    def force(self, force_id: str) -> dict:
        return self.get(f"/forces/{validate_force_id(force_id)}").body

    def senior_officers(self, force_id: str) -> list[dict]:
        return self.get(f"/forces/{validate_force_id(force_id)}/people").body

    def crime_last_updated(self) -> dict:
        return self.get("/crime-last-updated").body

    def crimes_street_dates(self) -> list[dict]:
        return self.get("/crimes-street-dates").body

    def crime_categories(self, month: str | None = None) -> list[dict]:
        return self.get("/crime-categories", {"date": _check_month(month)} if month else None).body

    def neighbourhoods(self, force_id: str) -> list[dict]:
        return self.get(f"/{validate_force_id(force_id)}/neighbourhoods").body

    def neighbourhood(self, force_id: str, neighbourhood_id: str) -> dict:
        return self.get(f"/{validate_force_id(force_id)}/{path_segment(neighbourhood_id)}").body

    def neighbourhood_priorities(self, force_id: str, neighbourhood_id: str) -> list[dict]:
        return self.get(f"/{validate_force_id(force_id)}/{path_segment(neighbourhood_id)}/priorities").body

    def stops_force(self, force_id: str, month: str) -> list[dict]:
        from ingest.http import QueryTooLarge

        params = {"force": validate_force_id(force_id), "date": _check_month(month)}
        try:
            return self.get("/stops-force", params, too_large_on_503=True).body
        except QueryTooLarge as exc:
            raise QueryTooLarge(
                exc.url,
                f"{exc.reason}. stops-force cannot be narrowed further; the archive's "
                f"{month}/{month}-{force_id}-stop-and-search.csv (police_uk) has the same rows",
                status=exc.status, attempts=exc.attempts,
            ) from exc

    def crimes_no_location(self, force_id: str, month: str, category: str = "all-crime") -> list[dict]:
        """Crimes that could not be mapped; split by category when the API refuses all of them at once (503)."""
        from ingest.http import QueryTooLarge

        params = {"category": category, "force": validate_force_id(force_id), "date": _check_month(month)}
        try:
            return self.get("/crimes-no-location", params, too_large_on_503=True).body
        except QueryTooLarge:
            if category != "all-crime":
                raise
            categories = [c["url"] for c in self.crime_categories(month) if c["url"] != "all-crime"]
            log.warning("crimes-no-location %s %s: too many for one query (503); asking per category (%d queries)",
                        force_id, month, len(categories))
            parts = self.map(lambda c: self.crimes_no_location(force_id, month, c), categories)
            return [crime for part in parts for crime in part]

    def outcomes_for_crime(self, persistent_id: str) -> dict:
        if not _PERSISTENT_ID.match(persistent_id):
            raise ValueError(f"{persistent_id!r} is not a 64-hex-character crime id")
        return self.get(f"/outcomes-for-crime/{persistent_id}").body


# --------------------------------------------------------------------------- publication dates


def published_months(settings: Settings, api: PoliceUkApi | None = None) -> dict[str, frozenset[str]]:
    """``/crimes-street-dates``: every published month → the forces with stop and search that month."""
    api = api or PoliceUkApi.from_settings(settings)
    months: dict[str, frozenset[str]] = {}
    for entry in api.crimes_street_dates():
        month = str(entry.get("date", ""))
        if MONTH_PATTERN.match(month):
            months[month] = frozenset(entry.get("stop-and-search") or ())
    if not months:
        raise LoadError(f"{api.base_url}/crimes-street-dates answered no months; the API may be broken. Rerun later.")
    return months


# --------------------------------------------------------------------------- landing


@dataclass(frozen=True)
class Landed:
    dataset: str
    partition: str
    path: str
    sha256: str
    status: str  # fetched | unchanged
    responses: int


def _landing_dir(settings: Settings) -> Path:
    return settings.paths.landing_dir / SOURCE


def landed_path(settings: Settings, dataset: ApiDataset, partition: str) -> Path:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", partition):
        raise ValueError(f"{partition!r} is not a partition name (a force id, a month or {ALL!r})")
    return _landing_dir(settings) / dataset.name / f"{partition}.ndjson"


def envelope(response: "JsonResponse", keys: dict[str, str]) -> dict[str, Any]:
    return {"url": response.url, **keys, "body": response.body}


def _land(settings: Settings, dataset: ApiDataset, partition: str, lines: list[dict[str, Any]], url: str) -> Landed:
    """Write a partition's responses as one NDJSON file, atomically, with its manifest; skip if identical."""
    target = landed_path(settings, dataset, partition)
    target.parent.mkdir(parents=True, exist_ok=True)
    content = "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines).encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    previous = ManifestRow.read(target)
    if previous is not None and previous.sha256 == digest:
        # Not written again; the manifest says the last fetch found it unchanged, as police.uk's archives do.
        log.info("%s/%s unchanged since %s (%d responses)", dataset.name, partition, previous.fetched_at, len(lines))
        if previous.status != "unchanged":
            replace(previous, status="unchanged").write(target)
        return Landed(dataset.name, partition, str(target), digest, "unchanged", len(lines))
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(content)
    os.replace(tmp, target)
    row = ManifestRow(source=SOURCE, partition=f"{dataset.name}/{partition}", url=url, path=str(target),
                      sha256=digest, bytes=len(content),
                      fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    row.write(target)
    log.info("landed %s/%s: %d responses, %d bytes -> %s", dataset.name, partition, len(lines), len(content), target)
    return Landed(dataset.name, partition, str(target), digest, "fetched", len(lines))


def fetch_national(settings: Settings, api: PoliceUkApi | None = None) -> list[dict]:
    """Land publication dates, the latest month's crime categories, and every force's details."""
    api = api or PoliceUkApi.from_settings(settings)
    started = api.session.stats.snapshot()["attempts"]
    dates = api.get("/crimes-street-dates")
    updated = api.get("/crime-last-updated")
    months = sorted(str(e.get("date")) for e in dates.body if MONTH_PATTERN.match(str(e.get("date", ""))))
    if not months:
        raise LoadError(f"{dates.url} answered no months; nothing landed. Rerun later.")
    latest = months[-1]
    categories = api.get("/crime-categories", {"date": latest})
    listed = api.get("/forces")

    def details(force: dict) -> dict[str, Any]:
        from ingest.http import NotFound

        try:
            return envelope(api.get(f"/forces/{validate_force_id(force['id'])}"), {})
        except NotFound:
            # Listed but without a details page: keep what the list says rather than lose the force.
            log.warning("/forces/%s: 404; keeping the id and name from /forces only", force["id"])
            return {"url": f"{api.base_url}/forces", "body": {"id": force["id"], "name": force.get("name")}}

    forces = api.map(details, listed.body)
    # Everything was fetched: only now is anything written (a failure above lands nothing).
    landed = [
        _land(settings, STREET_DATES, ALL, [envelope(dates, {})], dates.url),
        _land(settings, LAST_UPDATED, ALL, [envelope(updated, {})], updated.url),
        _land(settings, CRIME_CATEGORIES, latest, [envelope(categories, {"month": latest})], categories.url),
        _land(settings, FORCES, ALL, forces, f"{api.base_url}/forces/{{force}}"),
    ]
    log.info("data.police.uk national reference: %d requests; %s", api.session.stats.snapshot()["attempts"] - started,
             api.session.stats.snapshot())
    return [asdict(item) for item in landed]


def fetch_force(settings: Settings, force_id: str, api: PoliceUkApi | None = None) -> list[dict]:
    """Land one force's senior officers, neighbourhoods (with details) and every neighbourhood's priorities."""
    from ingest.http import NotFound

    validate_force_id(force_id)
    api = api or PoliceUkApi.from_settings(settings)
    people = api.get(f"/forces/{force_id}/people")
    listed = api.get(f"/{force_id}/neighbourhoods").body
    if not listed:
        raise LoadError(f"{api.base_url}/{force_id}/neighbourhoods answered no neighbourhoods; nothing landed.")

    def details(item: dict) -> dict[str, Any]:
        try:
            return envelope(api.get(f"/{force_id}/{path_segment(str(item['id']))}"), {"force_id": force_id})
        except NotFound:
            log.warning("/%s/%s: 404; keeping the id and name from /%s/neighbourhoods only",
                        force_id, item["id"], force_id)
            return {"url": f"{api.base_url}/{force_id}/neighbourhoods", "force_id": force_id,
                    "body": {"id": item["id"], "name": item.get("name")}}

    def priorities(item: dict) -> dict[str, Any]:
        nid = str(item["id"])
        return envelope(api.get(f"/{force_id}/{path_segment(nid)}/priorities"),
                         {"force_id": force_id, "neighbourhood_id": nid})

    neighbourhoods = api.map(details, listed)
    issues = api.map(priorities, listed)
    base = api.base_url
    landed = [
        _land(settings, SENIOR_OFFICERS, force_id, [envelope(people, {"force_id": force_id})], people.url),
        _land(settings, NEIGHBOURHOODS, force_id, neighbourhoods, f"{base}/{force_id}/{{neighbourhood}}"),
        _land(settings, NEIGHBOURHOOD_PRIORITIES, force_id, issues, f"{base}/{force_id}/{{neighbourhood}}/priorities"),
    ]
    log.info("data.police.uk %s: %d neighbourhoods, %d priorities responses; %s",
             force_id, len(neighbourhoods), len(issues), api.session.stats.snapshot())
    return [asdict(item) for item in landed]


def fetch_reference(settings: Settings, forces: Iterable[str] | None = None, api: PoliceUkApi | None = None) -> list[dict]:
    """Everything the weekly refresh lands: national datasets, then each configured force's."""
    api = api or PoliceUkApi.from_settings(settings)
    landed = fetch_national(settings, api)
    for force_id in forces if forces is not None else settings.police_uk.forces:
        landed += fetch_force(settings, force_id, api)
    return landed


# --------------------------------------------------------------------------- load


@dataclass
class _Partition:
    dataset: ApiDataset
    partition: str
    path: Path
    manifest: ManifestRow


def _partitions(settings: Settings, forces: Sequence[str]) -> list[_Partition]:
    """What to load: every landed national partition, and each force's three partitions (all must be landed)."""
    found: list[_Partition] = []
    missing: list[str] = []
    for dataset in DATASETS:
        if dataset.scope == NATIONAL:
            folder = _landing_dir(settings) / dataset.name
            paths = sorted(folder.glob("*.ndjson")) if folder.is_dir() else []
            if not paths:
                missing.append(f"{dataset.name} (any partition)")
            names = [p.stem for p in paths]
        else:
            names = [validate_force_id(f) for f in forces]
        for name in names:
            path = landed_path(settings, dataset, name)
            manifest = ManifestRow.read(path)
            if manifest is None:
                missing.append(f"{dataset.name}/{name}")
                continue
            found.append(_Partition(dataset, name, path, manifest))
    if missing:
        raise LoadError(
            f"nothing landed for {', '.join(missing)} under {_landing_dir(settings)}; run the fetch "
            "(police_uk_api fetch tasks, or police_uk_api.fetch_reference) first. Nothing was loaded."
        )
    return found


def _insert_sql(dataset: ApiDataset) -> str:
    keys = [name for name, _ in dataset.keys]
    columns = {"url": "VARCHAR", **dict(dataset.keys), "body": dataset.body_type()}
    columns_sql = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
    body = "unnest(body)" if dataset.body_is_list else "body"
    selected = [*(quote_identifier(k) for k in keys), *(dataset.field_sql(f) for f in dataset.fields)]
    raw = [name for name, _ in dataset.raw_columns()]
    return f"""
        insert into raw.{quote_identifier(dataset.table)} ({', '.join(raw)})
        select {', '.join(selected)}, ?, url, ?, ?, ?::timestamp
        from (
            select url{''.join(', ' + quote_identifier(k) for k in keys)}, {body} as b
            from read_json(?, format = 'newline_delimited', columns = {columns_sql})
        )
    """


def _problems(report, dataset: ApiDataset) -> list[str]:
    """The gate's failures in the words of the API's contract."""
    problems = []
    for failure in report.failures:
        kind = failure["expectation"]
        if kind == "expect_table_row_count_to_be_between":
            problems.append(f"{report.row_count} rows; the API always has at least {dataset.min_rows} (a broken answer?)")
        elif kind == "expect_column_values_to_not_be_null":
            problems.append(f"{failure['unexpected_count']} rows without {failure['column']}")
        elif kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            shown = ", ".join(f"{v['value']} x{v['count']}" for v in failure.get("sample_values") or [])
            problems.append(f"({failure['column']}) repeated: {shown}")
        else:
            problems.append(str(failure))
    return problems


def load(settings: Settings, forces: Sequence[str] | None = None) -> dict[str, Any]:
    """Replace every landed national partition and ``forces``' partitions in ``raw``, in one transaction.

    Each partition's rows are deleted and re-read from its landed file with ``read_json``, then
    checked; the manifest and load log are written in the same transaction. Any failure rolls
    back everything: the previous rows stay, and the error names the file and what was wrong.
    """
    import duckdb

    from ingest.raw import gate
    from ingest.warehouse import connect

    forces = list(settings.police_uk.forces if forces is None else forces)
    parts = _partitions(settings, forces)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    summary: dict[str, Any] = {}
    with connect(settings) as con:
        ensure_raw_tables(con)
        con.execute("begin transaction")
        try:
            for part in parts:
                table = quote_identifier(part.dataset.table)
                con.execute(f"delete from raw.{table} where _partition = ?", [part.partition])
                try:
                    ((rows,),) = con.execute(
                        _insert_sql(part.dataset),
                        [part.partition, part.path.name, part.manifest.sha256, loaded_at, str(part.path)],
                    ).fetchall()
                except duckdb.Error as exc:  # a landed file that is not the contract's shape
                    raise LoadError(
                        f"{part.path}: cannot be read as {part.dataset.endpoint} responses ({exc}). Nothing was "
                        "loaded; if the API changed shape, update the contract in ingest/sources/police_uk_api.py "
                        "and the staging models together."
                    ) from exc
                (report,) = gate.validate_partitions(con, part.dataset.table, [{"_partition": part.partition}])
                problems = _problems(report, part.dataset)
                if problems:
                    raise LoadError(
                        f"{part.path} ({part.dataset.table}, partition {part.partition}): {'; '.join(problems)}. "
                        "Nothing was loaded; the previous rows are kept."
                    )
                row = part.manifest
                row.record(con)
                force_id = part.partition if part.dataset.scope == FORCE else ALL
                month = part.partition if MONTH_PATTERN.match(part.partition) else "current"
                record_loads(con, [{"dataset": part.dataset.table, "force_id": force_id, "month": month,
                                    "source_file": part.path.name, "archive_sha256": row.sha256, "status": "loaded",
                                    "rows_loaded": rows, "rows_rejected": 0, "loaded_at": loaded_at}])
                summary[f"{part.dataset.name}/{part.partition}"] = rows
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    log.info("police_uk_api: loaded %d partitions: %s", len(summary), summary)
    return summary
