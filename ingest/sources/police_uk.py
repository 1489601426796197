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
from ingest.csv_load import LoadError, TypedColumn, replace_partition
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


def is_month_published(settings: Settings, month: str) -> bool:
    return is_published(archive_url(settings, month), timeout=settings.police_uk.http_timeout_seconds)


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


def _load_force_month(con, settings: Settings, fetched: FetchResult, force_id: str, results_dir: Path | None) -> dict:
    """Load, gate and commit one force-month (all three datasets) as one transaction."""
    from ingest import gates

    month = fetched.month
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    partition = {"_force_id": force_id, "_month": month}
    summary: dict[str, dict] = {}
    con.execute("begin transaction")
    try:
        for dataset in DATASETS:
            path = fetched.members.get(force_id, {}).get(dataset.kind)
            if path is None:
                # The publisher leaves gaps (stop and search often; some forces miss whole months).
                # Keep what an earlier archive gave us: absence is recorded, not loaded as zero rows.
                con.execute(
                    "insert or replace into raw.load_log values (?, ?, ?, null, ?, 'absent', 0, 0, ?)",
                    [dataset.table, force_id, month, fetched.sha256, loaded_at],
                )
                summary[dataset.kind] = {"status": "absent"}
                continue
            member = dataset.member_name(month, force_id)
            result = replace_partition(
                con,
                table=dataset.table,
                columns=_typed_columns(dataset),
                csv_path=Path(path),
                partition=partition,
                lineage={
                    "_force_id": force_id,
                    "_month": month,
                    "_source_file": member,
                    "_archive_sha256": fetched.sha256,
                    "_loaded_at": loaded_at,
                },
                rejects_key={"dataset": dataset.table, "force_id": force_id, "month": month, "source_file": member},
                other_formats=OLDER_FORMATS,
            )
            report = gates.validate_partition(con, dataset.table, partition, results_dir=results_dir)
            for warning in report.warnings:
                log.warning("%s %s/%s: %s", dataset.table, force_id, month, warning)
            gates.check(report)
            con.execute(
                "insert or replace into raw.load_log values (?, ?, ?, ?, ?, 'loaded', ?, ?, ?)",
                [dataset.table, force_id, month, member, fetched.sha256, result.rows_loaded,
                 result.rows_rejected, loaded_at],
            )
            summary[dataset.kind] = {
                "status": "loaded",
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "gate_warnings": len(report.warnings),
            }
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return summary


def load(settings: Settings, month: str, run_dir: Path | None = None) -> dict:
    """Replace the month's partitions for every configured force; each force-month is atomic.

    A force whose file is refused (bad header, failed gate) keeps its previous rows and
    is reported; the other forces still load. Raises at the end if any force failed.
    """
    _check_month(month)
    members_file = _extracted_dir(settings, month) / "members.json"
    if not members_file.exists():
        raise LoadError(f"{members_file}: nothing landed for {month}; run fetch first")
    fetched = FetchResult(**json.loads(members_file.read_text()))
    manifest = ManifestRow.read(Path(fetched.archive))
    results_dir = (run_dir or settings.paths.runs_dir / "gates") / SOURCE / month
    summary: dict[str, dict] = {}
    failures: list[str] = []
    with connect(settings) as con:
        ensure_raw_tables(con)
        if manifest is not None:
            # The sidecar describes the landed file; this run's status says whether it was fetched again.
            _record_manifest(con, replace(manifest, status=fetched.status))
        for force_id in settings.police_uk.forces:
            try:
                summary[force_id] = _load_force_month(con, settings, fetched, force_id, results_dir)
            except Exception as exc:  # noqa: BLE001 - reported below, with every force's outcome
                log.error("%s %s: not loaded: %s", force_id, month, exc)
                failures.append(f"{force_id} {month}: {exc}")
    log.info("police_uk %s: %s", month, json.dumps(summary))
    if failures:
        raise LoadError(
            f"police.uk {month}: {len(failures)} of {len(settings.police_uk.forces)} force-months were not "
            "loaded (their previous rows are kept):\n  " + "\n  ".join(failures)
        )
    return summary
