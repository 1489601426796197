"""data.police.uk bulk archive: street crime, outcomes and stop and search per force per month.

The same small surface as every source:
  * ``archive_url`` / ``is_month_published`` — what there is to fetch for a period;
  * ``fetch``  — land the month's archive and extract this platform's members;
  * ``load``   — replace each force-month partition in ``raw.*``, gate it, commit;
    ``load_months`` does the same for a backfill, several months per transaction.
"""

from __future__ import annotations

import json
import logging
import shutil
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
    redact,
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
            f"{archive_path.name} (from {redact(url)}) holds no files for {month}: the month is missing from "
            "the archive. Nothing was loaded and the published data is unchanged; check the month "
            "is published (data.police.uk/data/archive) and rerun."
        )
    out_dir = _extracted_dir(settings, month)
    # Extract into a fresh folder and swap it in whole: a member refused part-way (a NUL byte, a
    # zip bomb) leaves the previous extraction and its members.json exactly as they were.
    partial = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    result = FetchResult(month=month, archive=str(archive_path), sha256=row.sha256, status=row.status)
    try:
        for force_id in settings.police_uk.forces:
            result.members[force_id] = {}
            for dataset in DATASETS:
                member = dataset.member_name(month, validate_force_id(force_id))
                if member not in names:
                    level = logging.WARNING if dataset.required else logging.INFO
                    log.log(level, "%s: no %s", archive_path.name, member)
                    result.members[force_id][dataset.kind] = None
                    continue
                extract_member(archive_path, member, partial / Path(member).name,
                               max_member_bytes=settings.police_uk.max_member_bytes)
                result.members[force_id][dataset.kind] = str(out_dir / Path(member).name)
        (partial / "members.json").write_text(json.dumps(asdict(result), indent=2))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    previous = out_dir.with_name(f".{out_dir.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(previous)
    partial.rename(out_dir)
    shutil.rmtree(previous, ignore_errors=True)
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


def _load_batch(
    con, batch: dict[str, FetchResult], forces: dict[str, list[str]], results_dirs: dict[str, Path | None]
) -> tuple[dict[str, dict], dict[tuple[str, str], str]]:
    """Load and gate ``forces[month]`` of every month in ``batch`` (all three datasets) in one transaction.

    Each dataset is read in one statement over every file of the batch; each force-month is then
    gated in-database. If any force-month fails its gate, nothing is committed and the failed
    (month, force) pairs are returned, so the caller can load the others without them.
    Returns the loaded summary per month (force -> dataset -> status and counts).
    """
    from ingest import gates

    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    files = {month: _month_files(batch[month], forces[month], loaded_at) for month in batch}
    summary: dict[str, dict[str, dict]] = {month: {f: {} for f in forces[month]} for month in batch}
    failed: dict[tuple[str, str], str] = {}
    log_rows: list[list] = []
    con.execute("begin transaction")
    try:
        for dataset in DATASETS:
            present: list[tuple[str, str, CsvFile]] = []  # (month, force, file)
            for month in batch:
                for force_id, item in files[month][dataset.kind]:
                    if item is None:
                        # The publisher leaves gaps (stop and search often; some forces miss whole months).
                        # Keep what an earlier archive gave us: absence is recorded, not loaded as zero rows.
                        log_rows.append([dataset.table, force_id, month, None, batch[month].sha256, "absent", 0, 0,
                                         loaded_at])
                        summary[month][force_id][dataset.kind] = {"status": "absent"}
                    else:
                        present.append((month, force_id, item))
            if not present:
                continue
            results = replace_partitions(
                con, table=dataset.table, columns=_typed_columns(dataset), files=[item for _, _, item in present]
            )
            reports = gates.validate_partitions(
                con, dataset.table, [{"_force_id": f, "_month": m} for m, f, _ in present]
            )
            for report in reports:
                results_dir = results_dirs.get(report.partition["_month"])
                if results_dir is not None:
                    report.result_path = gates.write_report(results_dir, report)
            for month in batch:
                _log_warnings(dataset.table, month, [r for r in reports if r.partition["_month"] == month])
            for (month, force_id, item), report in zip(present, reports):
                if not report.success:
                    failed.setdefault((month, force_id), f"{force_id} {month}: {gates.GateFailed(report)}")
                    continue
                result = results[item.label]
                log_rows.append([dataset.table, force_id, month, item.label, batch[month].sha256, "loaded",
                                 result.rows_loaded, result.rows_rejected, loaded_at])
                summary[month][force_id][dataset.kind] = {
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


@dataclass
class _PendingMonth:
    """A landed month ready to load: what was fetched, and the forces refused before loading."""

    fetched: FetchResult
    manifest: ManifestRow | None
    results_dir: Path
    failures: dict[str, str]


def _pending_month(settings: Settings, month: str, run_dir: Path | None) -> _PendingMonth:
    _check_month(month)
    members_file = _extracted_dir(settings, month) / "members.json"
    if not members_file.exists():
        raise LoadError(f"{members_file}: nothing landed for {month}; run fetch first")
    fetched = FetchResult(**json.loads(members_file.read_text()))
    return _PendingMonth(
        fetched=fetched,
        manifest=ManifestRow.read(Path(fetched.archive)),
        results_dir=(run_dir or settings.paths.runs_dir / "gates") / SOURCE / month,
        failures=_refused_headers(fetched, list(settings.police_uk.forces)),
    )


def _prepare_connection(con, pending: list[_PendingMonth]) -> None:
    # Rows of one month may land in any order (every query filters by partition, nothing reads
    # raw in file order): DuckDB then parses and writes the files on all threads, about twice
    # as fast as keeping the files' order.
    con.execute("set preserve_insertion_order = false")
    ensure_raw_tables(con)
    for item in pending:
        if item.manifest is not None:
            # The sidecar describes the landed file; this run's status says whether it was fetched again.
            _record_manifest(con, replace(item.manifest, status=item.fetched.status))


def _load_pending(con, pending: list[_PendingMonth], todo: dict[str, list[str]]) -> dict[str, dict]:
    """Load ``todo[month]`` (forces) of every month of ``pending`` in one transaction.

    Each force-month stays all or nothing: one that fails its gate is left out and the rest
    loaded again (its previous rows are kept). A file DuckDB cannot read fails the whole
    statement: the batch is then loaded month by month, and a month force by force, to find it
    and keep the others. Failures are added to each month's ``failures``; returns the loaded
    summary per month.
    """
    by_month = {item.fetched.month: item for item in pending}
    results_dirs = {month: item.results_dir for month, item in by_month.items()}
    summary: dict[str, dict] = {month: {} for month in by_month}
    todo = {month: list(todo.get(month, [])) for month in by_month}
    while any(todo.values()):
        months = [m for m in todo if todo[m]]
        try:
            loaded, failed = _load_batch(con, {m: by_month[m].fetched for m in months}, todo, results_dirs)
        except LoadError as exc:
            if len(months) > 1:
                log.warning("police.uk %s..%s: batch load failed (%s); loading month by month",
                            months[0], months[-1], exc)
                for month in months:
                    summary[month].update(_load_pending(con, [by_month[month]], {month: todo[month]})[month])
                break
            month = months[0]
            if len(todo[month]) == 1:
                by_month[month].failures[todo[month][0]] = f"{todo[month][0]} {month}: {exc}"
                break
            # A file DuckDB cannot read: load force by force to find it and keep the others.
            log.warning("police.uk %s: batch load failed (%s); loading force by force", month, exc)
            for force_id in todo[month]:
                summary[month].update(_load_pending(con, [by_month[month]], {month: [force_id]})[month])
            break
        for month, forces_loaded in loaded.items():
            summary[month].update(forces_loaded)
        for (month, force_id), message in failed.items():
            by_month[month].failures.setdefault(force_id, message)
        todo = {m: [f for f in todo[m] if (m, f) not in failed] for m in todo} if failed else {}
    return summary


def load(settings: Settings, month: str, run_dir: Path | None = None) -> dict:
    """Replace the month's partitions for every configured force; each force-month is all or nothing.

    Every file's header is checked first; then each dataset is loaded for all forces in one
    statement and gated in-database, all in one transaction. A force whose file is refused
    (bad header, unreadable, failed gate) keeps its previous rows and is reported; the other
    forces still load (the month is retried without it). Raises at the end if any force failed.
    """
    return load_months(settings, [month], run_dir=run_dir)[month]


def load_months(
    settings: Settings, months: list[str], run_dir: Path | None = None, *, months_per_transaction: int = 6
) -> dict[str, dict]:
    """A backfill: :func:`load` for each of ``months``, through one connection.

    Up to ``months_per_transaction`` months are loaded per transaction, each dataset in one
    statement over all their files, and gated together; the database is checkpointed once, when
    the connection closes, instead of once per month. The unit of success is still the
    force-month: one that fails is left out (its previous rows kept) and the rest of its batch
    loaded again, exactly as :func:`load` does within a month, and the gate results are the same.
    Raises at the end, naming every force-month not loaded. Returns the summary per month.
    """
    pending = [_pending_month(settings, month, run_dir) for month in months]
    forces = list(settings.police_uk.forces)
    summary: dict[str, dict] = {}
    with connect(settings) as con:
        _prepare_connection(con, pending)
        step = max(1, months_per_transaction)
        for start in range(0, len(pending), step):
            batch = pending[start:start + step]
            todo = {item.fetched.month: [f for f in forces if f not in item.failures] for item in batch}
            summary.update(_load_pending(con, batch, todo))
    lines = []
    for item in pending:
        month = item.fetched.month
        failures = item.failures
        for force_id, message in failures.items():
            log.error("%s %s: not loaded: %s", force_id, month, message)
        log.info("police_uk %s: %d force-months loaded, %d refused", month, len(summary[month]), len(failures))
        if failures:
            failed_lines = [failures[f] for f in forces if f in failures]
            lines.append(
                f"police.uk {month}: {len(failures)} of {len(forces)} force-months were not "
                "loaded (their previous rows are kept):\n  " + "\n  ".join(failed_lines)
            )
    if lines:
        raise LoadError("\n".join(lines))
    return summary
