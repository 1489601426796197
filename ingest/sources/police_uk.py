"""data.police.uk bulk archive: street crime, outcomes and stop and search per force per month.

The same small surface as every source:
  * ``archive_url`` / ``is_month_published`` — what there is to fetch for a period;
  * ``fetch``  — land the month's archive and extract this platform's members;
  * ``load``   — replace each force-month partition in ``raw.*``, gate it, commit.
"""

from __future__ import annotations

import json
import logging
import zipfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from ingest.config import MONTH_PATTERN, Settings, validate_force_id
from ingest.csv_load import CsvFile, LoadError, TypedColumn, check_headers, replace_partitions
from ingest.landing import (
    LandingError,
    ManifestRow,
    extract_member,
    fetch_to_landing,
    is_published,
    unsafe_member_names,
    verify_zip,
)
from ingest.sources.police_uk_contract import DATASETS, LEGACY_2011_STREET_HEADER, LINEAGE_COLUMNS, Dataset
from ingest.warehouse import connect

log = logging.getLogger(__name__)

SOURCE = "police_uk"
OLDER_FORMATS = {"the 2011 publication layout (Easting/Northing, no Crime ID or LSOA)": LEGACY_2011_STREET_HEADER}


class MonthNotInArchive(LoadError):
    """The archive holds nothing for the month asked for."""


@dataclass
class FetchResult:
    month: str
    archive: str
    sha256: str
    status: str  # fetched | unchanged
    members: dict[str, dict[str, str | None]] = field(default_factory=dict)  # force -> kind -> path


def _check_month(month: str) -> str:
    if not MONTH_PATTERN.match(month):
        raise ValueError(f"expected a month as YYYY-MM, found {month!r}")
    return month


def archive_url(settings: Settings, month: str) -> str:
    return settings.police_uk.archive_url.format(month=_check_month(month))


def _api_offline(settings: Settings) -> bool:
    url = settings.police_uk.api_url
    return not url or url.startswith("file:")


def is_month_published(settings: Settings, month: str) -> bool:
    """Has data.police.uk published ``month``? From the API's ``/crimes-street-dates``.

    Offline (``[police_uk] api_url`` empty or ``file://``, as in the demo) the month counts as
    published when its archive exists. An API that cannot be reached raises (the task fails
    and is retried); only an answer without the month means "not yet".
    """
    _check_month(month)
    if _api_offline(settings):
        return is_published(archive_url(settings, month), timeout=settings.police_uk.http_timeout_seconds)
    from ingest.sources import police_uk_api

    months = police_uk_api.published_months(settings)
    if month not in months:
        log.info("data.police.uk has not published %s: /crimes-street-dates ends at %s", month, max(months))
        return False
    without = [f for f in settings.police_uk.forces if f not in months[month]]
    if without:
        log.info("data.police.uk %s: no stop and search for %s (the load records it as absent)", month, without)
    return True


def stop_and_search_forces(settings: Settings, month: str) -> frozenset[str] | None:
    """The forces data.police.uk has stop and search for in ``month``; None offline or when not published."""
    _check_month(month)
    if _api_offline(settings):
        return None
    from ingest.sources import police_uk_api

    return police_uk_api.published_months(settings).get(month)


def _landing(settings: Settings) -> Path:
    return settings.paths.landing_dir / SOURCE


def _extracted_dir(settings: Settings, month: str) -> Path:
    return _landing(settings) / "extracted" / month


def verify_archive(path: Path) -> None:
    verify_zip(path)
    unsafe = unsafe_member_names(path)
    if unsafe:
        raise LandingError(
            f"{path.name}: refusing an archive with member paths outside its folder: {unsafe[:5]}"
        )


def fetch(settings: Settings, month: str) -> FetchResult:
    """Land the archive for ``month`` and extract the configured forces' files for that month."""
    url = archive_url(settings, month)
    archive_path = _landing(settings) / "archive" / f"{month}.zip"
    row = fetch_to_landing(
        url,
        archive_path,
        source=SOURCE,
        partition=month,
        max_bytes=settings.police_uk.max_archive_bytes,
        verify=verify_archive,
        timeout=settings.police_uk.http_timeout_seconds,
    )
    with zipfile.ZipFile(archive_path) as archive:
        names = set(archive.namelist())
    if not any(name.startswith(f"{month}/") for name in names):
        raise MonthNotInArchive(
            f"{archive_path.name} (from {url}) holds no files for {month}: the month is missing from "
            "the archive. Nothing was loaded and the published data is unchanged; check the month "
            "is published (data.police.uk/data/archive) and rerun."
        )
    out_dir = _extracted_dir(settings, month)
    result = FetchResult(month=month, archive=str(archive_path), sha256=row.sha256, status=row.status)
    for force_id in settings.police_uk.forces:
        result.members[force_id] = {}
        for dataset in DATASETS:
            member = dataset.member_name(month, validate_force_id(force_id))
            if member not in names:
                level = logging.WARNING if dataset.required else logging.INFO
                log.log(level, "%s: no %s", archive_path.name, member)
                result.members[force_id][dataset.kind] = None
                continue
            target = out_dir / Path(member).name
            extract_member(archive_path, member, target, max_member_bytes=settings.police_uk.max_member_bytes)
            result.members[force_id][dataset.kind] = str(target)
    (out_dir / "members.json").write_text(json.dumps(asdict(result), indent=2))
    return result


def parse_member_name(name: str) -> tuple[str, str]:
    """``2024-03-west-midlands-stop-and-search.csv`` → (``west-midlands``, ``stop-and-search``)."""
    stem = Path(name).name.removesuffix(".csv")[len("YYYY-MM-"):]
    for dataset in DATASETS:
        if stem.endswith("-" + dataset.kind):
            return stem.removesuffix("-" + dataset.kind), dataset.kind
    raise ValueError(f"{name}: not a data.police.uk archive member name")


def _typed_columns(dataset: Dataset) -> list[TypedColumn]:
    return [TypedColumn(c.header, c.name, c.duckdb_type) for c in dataset.columns]


def raw_table_ddl(dataset: Dataset) -> str:
    columns = [f"{c.name} {c.duckdb_type}" for c in dataset.columns]
    columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS]
    return f"create table if not exists raw.{dataset.table} ({', '.join(columns)})"


def ensure_raw_tables(con) -> None:
    for dataset in DATASETS:
        con.execute(raw_table_ddl(dataset))


def _record_manifest(con, row: ManifestRow) -> None:
    con.execute(
        """
        insert or replace into raw.landing_manifest
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp)
        """,
        [row.source, row.partition, row.url, row.path, row.sha256, row.bytes, row.fetched_at,
         row.etag, row.last_modified, row.status],
    )


def _month_files(fetched: FetchResult, forces: list[str], loaded_at: datetime) -> dict[str, list[tuple[str, CsvFile | None]]]:
    """Per dataset: (force, the file to load or None when the archive has none) for each force."""
    month = fetched.month
    files: dict[str, list[tuple[str, CsvFile | None]]] = {}
    for dataset in DATASETS:
        files[dataset.kind] = []
        for force_id in forces:
            path = fetched.members.get(force_id, {}).get(dataset.kind)
            if path is None:
                files[dataset.kind].append((force_id, None))
                continue
            member = dataset.member_name(month, force_id)
            files[dataset.kind].append((force_id, CsvFile(
                path=Path(path),
                label=member,
                lineage={
                    "_force_id": force_id,
                    "_month": month,
                    "_source_file": member,
                    "_archive_sha256": fetched.sha256,
                    "_loaded_at": loaded_at,
                },
                rejects_key={"dataset": dataset.table, "force_id": force_id, "month": month},
            )))
    return files


def _refused_headers(fetched: FetchResult, forces: list[str]) -> dict[str, str]:
    """Forces with a file whose header is not the contract's (checked per file, one line each)."""
    refused: dict[str, str] = {}
    files = _month_files(fetched, forces, datetime.now(timezone.utc))
    for dataset in DATASETS:
        present = [(force_id, item) for force_id, item in files[dataset.kind] if item is not None]
        errors = check_headers([item for _, item in present], _typed_columns(dataset), OLDER_FORMATS)
        for force_id, item in present:
            if item.label in errors and force_id not in refused:
                refused[force_id] = f"{force_id} {fetched.month}: {errors[item.label]}"
    return refused


def _log_warnings(table: str, month: str, reports: list) -> None:
    """One line per warning expectation for the month (not one per force): which forces, how many rows."""
    by_expectation: dict[str, list[str]] = {}
    for report in reports:
        for warning in report.warnings:
            key = f"{warning['expectation']}({warning.get('column') or 'table'})"
            by_expectation.setdefault(key, []).append(f"{report.partition['_force_id']} {warning.get('unexpected_count')}")
    for key, forces in by_expectation.items():
        log.warning("raw.%s %s: warning %s in %d force-month(s), rows: %s (details in the gate results)",
                    table, month, key, len(forces), ", ".join(forces))


def _load_forces(con, fetched: FetchResult, forces: list[str], results_dir: Path | None) -> tuple[dict, dict[str, str]]:
    """Load and gate the month for ``forces`` (all three datasets) in one transaction.

    Each dataset is read in one statement over every force's file; each force-month is then
    gated in-database. If any force-month fails its gate, nothing is committed and the failed
    forces are returned, so the caller can load the others without them.
    """
    from ingest import gates

    month = fetched.month
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    files = _month_files(fetched, forces, loaded_at)
    summary: dict[str, dict] = {force_id: {} for force_id in forces}
    failed: dict[str, str] = {}
    log_rows: list[list] = []
    con.execute("begin transaction")
    try:
        for dataset in DATASETS:
            present = [(force_id, item) for force_id, item in files[dataset.kind] if item is not None]
            for force_id, item in files[dataset.kind]:
                if item is None:
                    # The publisher leaves gaps (stop and search often; some forces miss whole months).
                    # Keep what an earlier archive gave us: absence is recorded, not loaded as zero rows.
                    log_rows.append([dataset.table, force_id, month, None, fetched.sha256, "absent", 0, 0, loaded_at])
                    summary[force_id][dataset.kind] = {"status": "absent"}
            if not present:
                continue
            results = replace_partitions(
                con, table=dataset.table, columns=_typed_columns(dataset), files=[item for _, item in present]
            )
            reports = gates.validate_partitions(
                con, dataset.table, [{"_force_id": f, "_month": month} for f, _ in present], results_dir=results_dir
            )
            _log_warnings(dataset.table, month, reports)
            for (force_id, item), report in zip(present, reports):
                if not report.success:
                    failed.setdefault(force_id, f"{force_id} {month}: {gates.GateFailed(report)}")
                    continue
                result = results[item.label]
                log_rows.append([dataset.table, force_id, month, item.label, fetched.sha256, "loaded",
                                 result.rows_loaded, result.rows_rejected, loaded_at])
                summary[force_id][dataset.kind] = {
                    "status": "loaded",
                    "rows_loaded": result.rows_loaded,
                    "rows_rejected": result.rows_rejected,
                    "gate_warnings": len(report.warnings),
                }
        if failed:
            con.execute("rollback")
            return {}, failed
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(log_rows))
        con.execute(f"insert or replace into raw.load_log values {values}", [v for row in log_rows for v in row])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return summary, {}


def load(settings: Settings, month: str, run_dir: Path | None = None) -> dict:
    """Replace the month's partitions for every configured force; each force-month is all or nothing.

    Every file's header is checked first; then each dataset is loaded for all forces in one
    statement and gated in-database, all in one transaction. A force whose file is refused
    (bad header, unreadable, failed gate) keeps its previous rows and is reported; the other
    forces still load (the month is retried without it). Raises at the end if any force failed.
    """
    _check_month(month)
    members_file = _extracted_dir(settings, month) / "members.json"
    if not members_file.exists():
        raise LoadError(f"{members_file}: nothing landed for {month}; run fetch first")
    fetched = FetchResult(**json.loads(members_file.read_text()))
    manifest = ManifestRow.read(Path(fetched.archive))
    results_dir = (run_dir or settings.paths.runs_dir / "gates") / SOURCE / month
    forces = list(settings.police_uk.forces)
    summary: dict[str, dict] = {}
    failures = _refused_headers(fetched, forces)
    with connect(settings) as con:
        # Rows of one month may land in any order (every query filters by partition, nothing reads
        # raw in file order): DuckDB then parses and writes the files on all threads, about twice
        # as fast as keeping the files' order.
        con.execute("set preserve_insertion_order = false")
        ensure_raw_tables(con)
        if manifest is not None:
            # The sidecar describes the landed file; this run's status says whether it was fetched again.
            _record_manifest(con, replace(manifest, status=fetched.status))
        pending = [f for f in forces if f not in failures]
        while pending:
            try:
                loaded, failed = _load_forces(con, fetched, pending, results_dir)
            except LoadError as exc:
                if len(pending) == 1:
                    failures[pending[0]] = f"{pending[0]} {month}: {exc}"
                    break
                # A file DuckDB cannot read: load force by force to find it and keep the others.
                log.warning("police.uk %s: batch load failed (%s); loading force by force", month, exc)
                for force_id in pending:
                    try:
                        loaded, failed = _load_forces(con, fetched, [force_id], results_dir)
                    except LoadError as single:
                        loaded, failed = {}, {force_id: f"{force_id} {month}: {single}"}
                    summary.update(loaded)
                    failures.update(failed)
                break
            summary.update(loaded)
            failures.update(failed)
            pending = [f for f in pending if f not in failed] if failed else []
    for force_id, message in failures.items():
        log.error("%s %s: not loaded: %s", force_id, month, message)
    log.info("police_uk %s: %d force-months loaded, %d refused", month, len(summary), len(failures))
    if failures:
        lines = [failures[f] for f in forces if f in failures]
        raise LoadError(
            f"police.uk {month}: {len(failures)} of {len(forces)} force-months were not "
            "loaded (their previous rows are kept):\n  " + "\n  ".join(lines)
        )
    return summary
