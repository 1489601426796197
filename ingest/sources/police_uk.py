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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from ingest.config import MONTH_PATTERN, Settings, validate_force_id
from ingest.raw import LoadError, TypedColumn, check_headers
from ingest.raw.load import (
    CsvFile,
    FileResult,
    HoldRules,
    PartitionLimits,
    is_out_of_space,
    judge,
    replace_partitions,
    rollback_quietly,
)
from ingest.raw.landing import (
    LandingError,
    ManifestRow,
    extract_member,
    fetch_to_landing,
    is_published,
    redact,
    swap_in,
    unsafe_member_names,
    verify_zip,
)
from ingest.raw.scan import LandedScan
from ingest.sources.police_uk_contract import DATASETS, LEGACY_2011_STREET_HEADER, LINEAGE_COLUMNS, Dataset
from ingest.warehouse import connect, record_loads

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
    # file name -> its LandedScan: records counted as the member was extracted (the load reuses them)
    scans: dict[str, dict] = field(default_factory=dict)


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
    without = [f for f in settings.police_uk.forces_to_load if f not in months[month]]
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
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    # zipfile returns the last of two members with one name: which copy would load is an accident.
    twice = sorted(name for name, n in Counter(names).items() if n > 1)
    if twice:
        raise LandingError(
            f"{path.name}: refusing an archive that holds the same member name more than once "
            f"({len(twice)} name(s): {', '.join(twice[:5])}{'…' if len(twice) > 5 else ''}); which copy is "
            "the publisher's cannot be told. Nothing was extracted; fetch the month again."
        )


def fetch(settings: Settings, month: str) -> FetchResult:
    """Land the archive for ``month`` and extract the files of the forces to load for that month
    (the configured forces and, with ``load_msg_peers``, their most similar groups' peers)."""
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
        # Each member's records are counted here, in the fetch, so the load (which holds the
        # warehouse's one writer) need not read every byte again; moving the folder keeps each
        # file's size and mtime, which the load checks. Counting (numpy, file reads) and
        # decompressing (zlib) release the GIL: the next member extracts while one is counted.
        with ThreadPoolExecutor(max_workers=2) as counting:
            scans = {}
            for force_id in settings.police_uk.forces_to_load:
                result.members[force_id] = {}
                for dataset in DATASETS:
                    member = dataset.member_name(month, validate_force_id(force_id))
                    if member not in names:
                        level = logging.WARNING if dataset.required else logging.INFO
                        log.log(level, "%s: no %s", archive_path.name, member)
                        result.members[force_id][dataset.kind] = None
                        continue
                    extracted = extract_member(archive_path, member, partial / Path(member).name,
                                               max_member_bytes=settings.police_uk.max_member_bytes)
                    result.members[force_id][dataset.kind] = str(out_dir / extracted.name)
                    scans[extracted.name] = counting.submit(LandedScan.of, extracted)
            result.scans = {name: scan.result().to_json() for name, scan in scans.items()}
        (partial / "members.json").write_text(json.dumps(asdict(result), indent=2))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    swap_in(partial, out_dir)
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
            landed = fetched.scans.get(Path(path).name)
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
                landed_scan=LandedScan.from_json(landed) if landed else None,
            )))
    return files


@dataclass
class NotLoaded:
    """A force-month whose files did not replace its partition: its previous rows are kept.

    ``status`` is what the load log records: ``refused`` (a broken file: changed header, two
    files joined, a failed gate, unreadable) or ``held`` (rows that do not add up, too many
    rejects, far fewer rows than before). ``attempts``: each dataset's rolled-back load, if any.
    """

    status: str
    reason: str
    attempts: dict[str, FileResult] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reason


def _refused_headers(fetched: FetchResult, forces: list[str]) -> dict[str, NotLoaded]:
    """Forces with a file whose header is not the contract's (checked per file, one line each)."""
    refused: dict[str, NotLoaded] = {}
    files = _month_files(fetched, forces, datetime.now(timezone.utc))
    for dataset in DATASETS:
        present = [(force_id, item) for force_id, item in files[dataset.kind] if item is not None]
        errors = check_headers([item for _, item in present], _typed_columns(dataset), OLDER_FORMATS)
        for force_id, item in present:
            if item.label in errors and force_id not in refused:
                refused[force_id] = NotLoaded("refused", f"{force_id} {fetched.month} refused: {errors[item.label]}")
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
    con, batch: dict[str, FetchResult], forces: dict[str, list[str]], results_dirs: dict[str, Path | None],
    rules: HoldRules,
) -> tuple[dict[str, dict], dict[tuple[str, str], NotLoaded]]:
    """Load and gate ``forces[month]`` of every month in ``batch`` (all three datasets) in one transaction.

    Each dataset is read in one statement over every file of the batch; each force-month is then
    gated in-database and its files checked against the rules (every row accounted for, reject
    share, shrink). If any force-month fails, nothing is committed and the failed (month, force)
    pairs are returned, so the caller can load the others without them.
    Returns the loaded summary per month (force -> dataset -> status and counts).
    """
    from ingest.raw import gate

    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    files = {month: _month_files(batch[month], forces[month], loaded_at) for month in batch}
    summary: dict[str, dict[str, dict]] = {month: {f: {} for f in forces[month]} for month in batch}
    failed: dict[tuple[str, str], NotLoaded] = {}
    attempts: dict[tuple[str, str], dict[str, FileResult]] = {}
    log_rows: list[dict] = []
    con.execute("begin transaction")
    try:
        for dataset in DATASETS:
            present: list[tuple[str, str, CsvFile]] = []  # (month, force, file)
            for month in batch:
                for force_id, item in files[month][dataset.kind]:
                    if item is None:
                        # The publisher leaves gaps (stop and search often; some forces miss whole months).
                        # Keep what an earlier archive gave us: absence is recorded, not loaded as zero rows.
                        log_rows.append({"dataset": dataset.table, "force_id": force_id, "month": month,
                                         "archive_sha256": batch[month].sha256, "status": "absent",
                                         "rows_loaded": 0, "rows_rejected": 0, "loaded_at": loaded_at})
                        summary[month][force_id][dataset.kind] = {"status": "absent"}
                    else:
                        present.append((month, force_id, item))
            if not present:
                continue
            results = replace_partitions(
                con, table=dataset.table, columns=_typed_columns(dataset), files=[item for _, _, item in present]
            )
            reports = gate.validate_partitions(
                con, dataset.table, [{"_force_id": f, "_month": m} for m, f, _ in present]
            )
            for report in reports:
                results_dir = results_dirs.get(report.partition["_month"])
                if results_dir is not None:
                    report.result_path = gate.write_report(results_dir, report)
            for month in batch:
                _log_warnings(dataset.table, month, [r for r in reports if r.partition["_month"] == month])
            for (month, force_id, item), report in zip(present, reports):
                result = results[item.label]
                attempts.setdefault((month, force_id), {})[dataset.table] = result
                status, reason, may_replace = judge(result, report, f"{force_id} {month}", f"{force_id}:{month}", rules)
                if not may_replace:
                    if (month, force_id) in failed:
                        failed[(month, force_id)].reason += "\n" + reason
                        if status == "refused":
                            failed[(month, force_id)].status = "refused"
                    else:
                        failed[(month, force_id)] = NotLoaded(status, reason)
                    continue
                if status == "accepted":
                    log.warning("%s", reason)
                log_rows.append({"dataset": dataset.table, "force_id": force_id, "month": month,
                                 "source_file": item.label, "archive_sha256": batch[month].sha256,
                                 "status": status, "rows_loaded": result.rows_loaded,
                                 "rows_rejected": result.rows_rejected, "loaded_at": loaded_at,
                                 "rows_in": result.rows_in, "reason": reason})
                summary[month][force_id][dataset.kind] = {
                    "status": status,
                    "rows_in": result.rows_in,
                    "rows_loaded": result.rows_loaded,
                    "rows_rejected": result.rows_rejected,
                    "gate_warnings": len(report.warnings),
                }
        if failed:
            rollback_quietly(con)
            for key, not_loaded in failed.items():
                not_loaded.attempts = attempts.get(key, {})
            return {}, failed
        record_loads(con, log_rows)
        con.execute("commit")
    except BaseException as exc:
        rollback_quietly(con)
        if is_out_of_space(exc) and not isinstance(exc, LoadError):
            raise LoadError(
                f"police.uk {', '.join(batch)}: the warehouse ran out of disk space while loading "
                f"({str(exc).splitlines()[0]}). Nothing was loaded and the previous rows are kept; free "
                "space on the warehouse's disk and rerun."
            ) from exc
        raise
    return summary, {}


@dataclass
class _PendingMonth:
    """A landed month ready to load: what was fetched, and the forces refused before loading."""

    fetched: FetchResult
    manifest: ManifestRow | None
    results_dir: Path
    failures: dict[str, NotLoaded]


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
        failures=_refused_headers(fetched, list(settings.police_uk.forces_to_load)),
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
            replace(item.manifest, status=item.fetched.status).record(con)


def _load_pending(con, pending: list[_PendingMonth], todo: dict[str, list[str]], rules: HoldRules) -> dict[str, dict]:
    """Load ``todo[month]`` (forces) of every month of ``pending`` in one transaction.

    Each force-month stays all or nothing: one that fails its gate or its checks is left out and
    the rest loaded again (its previous rows are kept). A file DuckDB cannot read fails the whole
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
            loaded, failed = _load_batch(con, {m: by_month[m].fetched for m in months}, todo, results_dirs, rules)
        except LoadError as exc:
            if is_out_of_space(exc.__cause__ or exc):
                raise  # every retry would fail the same way
            if len(months) > 1:
                log.warning("police.uk %s..%s: batch load failed (%s); loading month by month",
                            months[0], months[-1], exc)
                for month in months:
                    summary[month].update(_load_pending(con, [by_month[month]], {month: todo[month]}, rules)[month])
                break
            month = months[0]
            if len(todo[month]) == 1:
                by_month[month].failures[todo[month][0]] = NotLoaded("refused", f"{todo[month][0]} {month} refused: {exc}")
                break
            # A file DuckDB cannot read: load force by force to find it and keep the others.
            log.warning("police.uk %s: batch load failed (%s); loading force by force", month, exc)
            for force_id in todo[month]:
                summary[month].update(_load_pending(con, [by_month[month]], {month: [force_id]}, rules)[month])
            break
        for month, forces_loaded in loaded.items():
            summary[month].update(forces_loaded)
        for (month, force_id), not_loaded in failed.items():
            by_month[month].failures.setdefault(force_id, not_loaded)
        todo = {m: [f for f in todo[m] if (m, f) not in failed] for m in todo} if failed else {}
    return summary


def _logged_reason(reason: str) -> str:
    """The reason as the load log keeps it: without this run's result path (the gate pages link the
    result), so a rerun or a backfill of the same files records the same words."""
    return "\n".join(line for line in reason.splitlines()
                     if not line.lstrip().startswith("Full validation result:"))[:4000]


def _record_not_loaded(con, item: _PendingMonth) -> None:
    """A load-log row for every file of a held or refused force-month: what was tried and why not.

    ``rows_loaded`` is what the partition still holds (the previous rows, kept).
    """
    month, rows = item.fetched.month, []
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    files = _month_files(item.fetched, list(item.failures), now)
    for dataset in DATASETS:
        for force_id, csv_file in files[dataset.kind]:
            if csv_file is None:
                continue
            not_loaded = item.failures[force_id]
            attempt = not_loaded.attempts.get(dataset.table)
            (kept,) = con.execute(
                f"select count(*) from raw.{dataset.table} where _force_id = ? and _month = ?", [force_id, month]
            ).fetchall()[0]
            rows.append({"dataset": dataset.table, "force_id": force_id, "month": month,
                         "source_file": csv_file.label, "archive_sha256": item.fetched.sha256,
                         "status": not_loaded.status, "rows_loaded": kept,
                         "rows_rejected": attempt.rows_rejected if attempt else 0, "loaded_at": now,
                         "rows_in": attempt.rows_in if attempt else None, "reason": _logged_reason(not_loaded.reason)})
    con.execute("begin transaction")
    try:
        record_loads(con, rows)
        con.execute("commit")
    except BaseException:
        rollback_quietly(con)
        raise


def load(settings: Settings, month: str, run_dir: Path | None = None) -> dict:
    """Replace the month's partitions for every force to load (``forces_to_load``: the configured
    forces and their most similar groups' peers); each force-month is all or nothing.

    Every file's header is checked first; then each dataset is loaded for all forces in one
    statement and gated in-database, all in one transaction. A force whose file is refused
    (bad header, broken file, failed gate) or held (rows unaccounted for, too many rejects,
    far fewer rows than before) keeps its previous rows and is reported; the other forces still
    load (the month is retried without it). Raises at the end if any force failed.
    """
    return load_months(settings, [month], run_dir=run_dir)[month]


def _month_line(month: str, forces: list[str], summary: dict, failures: dict[str, NotLoaded]) -> str:
    """One plain line: how many force-months loaded, and what happened to the others."""
    loaded = [f for f in forces if any(d.get("status") in {"loaded", "accepted"} for d in summary.get(f, {}).values())]
    absent = [f for f in forces if f not in failures and summary.get(f)
              and all(d.get("status") == "absent" for d in summary[f].values())]
    held = [f for f in forces if f in failures and failures[f].status == "held"]
    refused = [f for f in forces if f in failures and failures[f].status == "refused"]
    parts = [f"{len(loaded)} of {len(forces)} force-months loaded"]
    for word, names in (("no files in the archive", absent), ("held", held), ("refused", refused)):
        if names:
            parts.append(f"{len(names)} {word} ({', '.join(names)})")
    return f"police_uk {month}: " + "; ".join(parts)


def load_months(
    settings: Settings, months: list[str], run_dir: Path | None = None, *, months_per_transaction: int = 6
) -> dict[str, dict]:
    """A backfill: :func:`load` for each of ``months``, through one connection.

    Up to ``months_per_transaction`` months are loaded per transaction, each dataset in one
    statement over all their files, and gated together; the database is checkpointed after each
    batch, not after each month. (Checkpointed only when the connection closed, a 36-month
    national backfill held 0.13 GiB more at its peak, 1.91 against 1.78 GiB, and took as long.)
    The unit of success is still the force-month: one that fails is left out (its previous rows kept, its attempt recorded in
    ``raw.load_log``) and the rest of its batch loaded again, exactly as :func:`load` does within
    a month, and the gate results are the same. Raises at the end, naming every force-month not
    loaded, or a month where no configured force had a file. Returns the summary per month.
    """
    pending = [_pending_month(settings, month, run_dir) for month in months]
    forces = list(settings.police_uk.forces_to_load)
    police = settings.police_uk
    rules = HoldRules(PartitionLimits(police.max_reject_share, police.max_shrink_share), frozenset(police.accept_held))
    summary: dict[str, dict] = {}
    with connect(settings) as con:
        _prepare_connection(con, pending)
        step = max(1, months_per_transaction)
        for start in range(0, len(pending), step):
            batch = pending[start:start + step]
            todo = {item.fetched.month: [f for f in forces if f not in item.failures] for item in batch}
            summary.update(_load_pending(con, batch, todo, rules))
            con.execute("checkpoint")
        for item in pending:
            if item.failures:
                _record_not_loaded(con, item)
    lines = []
    for item in pending:
        month = item.fetched.month
        failures = item.failures
        for force_id in forces:
            if force_id in failures:
                log.error("%s", failures[force_id].reason)
        log.info("%s", _month_line(month, forces, summary[month], failures))
        if failures:
            failed_lines = [failures[f].reason.replace("\n", "\n  ") for f in forces if f in failures]
            held = [f for f in forces if f in failures and failures[f].status == "held"]
            hint = (
                "\nTo load a held force-month anyway, after checking the file: add it to [police_uk] "
                f"accept_held (e.g. OPCC_POLICE_UK__ACCEPT_HELD={held[0]}:{month}) and rerun; the load log "
                "records it as 'accepted'." if held else ""
            )
            lines.append(
                f"police.uk {month}: {len(failures)} of {len(forces)} force-months were not "
                "loaded (their previous rows are kept; raw.load_log says why):\n  " + "\n  ".join(failed_lines) + hint
            )
        elif forces and all(d.get("status") == "absent" for f in forces for d in summary[month].get(f, {}).values()):
            lines.append(
                f"police.uk {month}: the archive {Path(item.fetched.archive).name} holds no file for any "
                f"configured force ({', '.join(forces)}): nothing was loaded. Check [police_uk] forces "
                "against the publisher's force ids."
            )
    if lines:
        raise LoadError("\n".join(lines))
    return summary
