"""Finance: each force's finance plan (the xlsx template) and the Home Office police grant settlement.

There is no API for a PCC's budget, precept, reserves or Medium Term Financial Plan: the
OPCC finance team fills in the platform's workbook template
(``templates/finance/finance_plan_template.xlsx``, built from :data:`SHEETS` by
``templates/finance/build_template.py``; instructions in ``templates/finance/README.md``),
one workbook per force and plan. The Home Office settlement (the Police Grant Report's
per-force table) comes as CSV (``force,budget_gbp`` after ``#`` notes lines).

The same small surface as every source:
  * ``files_for`` / ``is_published`` — what there is to fetch for a year (configured files);
  * ``fetch``  — land each file as published (skipped when unchanged);
  * ``load``   — a workbook is checked cell by cell and refused whole, naming the sheet,
    cell and problem (a missing sheet, a renamed column, text in a money cell, a formula
    error such as ``#REF!``); a good workbook's tables replace the plan's partition
    (force × first financial year) of every ``raw.finance_*`` table, are gated, and are
    committed together in one transaction. The settlement CSV is one partition per year.

Workbooks are read with openpyxl, not calamine: calamine turns ``#REF!`` into an empty
cell, and an error must be refused, not loaded as a gap.

Only the standard library is imported at module level (DAG files import source modules).
"""

from __future__ import annotations

import csv
import logging
import re
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ingest import raw
from ingest.raw import Clean, Column, Contract
from ingest.sources.finance_template import (  # noqa: F401 - the template's contract, re-exported for callers
    FORCE_NAMES,
    SHEETS,
    TEMPLATE_PATH,
    SheetColumn,
    SheetSpec,
    WorkbookRefused,
    budget_lines,
    column_letter,
    financial_year_label,
    lists,
    read_workbook,
)
from ingest.warehouse import quote_identifier, record_loads

if TYPE_CHECKING:
    import duckdb

    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "finance"
PLAN_PARTITION = ("_force_id", "_plan_year")


POLICE_GRANT = Contract(
    dataset="police_grant",
    table="finance_police_grant",
    description="Home Office police grant settlement per force (Police Grant Report 'Overall Total'), integer pounds.",
    columns=(
        Column("force"),
        Column("budget_gbp", duckdb_type="BIGINT", clean=Clean.INTEGER_TEXT),
    ),
    partition=("_settlement_year",),
    header_starts_with=("force", "budget_gbp"),
)
CONTRACTS: dict[str, Contract] = {POLICE_GRANT.dataset: POLICE_GRANT, **{s.dataset: s.contract() for s in SHEETS}}
FILE_DATASETS = ("police_grant", "finance_plan")  # what a [[finance.files]] entry can be


# The raw tables and "is it published?" come from the declaration; what to fetch and how is this module's own.
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, is_published = DECLARED.ensure_raw_tables, DECLARED.is_published


# --------------------------------------------------------------------------- what is there, fetch


def files_for(settings: "Settings", year: int | None = None) -> list[raw.SourceFile]:
    """The configured settlement tables and workbooks whose ``year`` (first year) is ``year`` or earlier."""
    return raw.configured_files(DECLARED.section(settings), SOURCE, FILE_DATASETS, year)


def _land_workbook(file: raw.SourceFile, landing_root: Path, section: dict[str, Any]) -> raw.Landed:
    """Land a workbook as published; it is read (and checked) by the load, not converted here."""
    from ingest.raw.landing import fetch_to_landing

    target = raw.landing_dir(landing_root, SOURCE) / "files" / file.name
    row = fetch_to_landing(file.url, target, source=SOURCE, partition=f"{file.dataset}/{file.name}",
                           max_bytes=int(section.get("max_file_bytes", 50_000_000)),
                           timeout=float(section.get("http_timeout_seconds", 60)))
    # The unit's "csv_path" is the workbook itself: it becomes CSVs only once checked, in the load.
    landed = raw.Landed(file=file, path=str(target), sha256=row.sha256, status=row.status,
                       units=[raw.Unit(file.dataset, str(target), file.name)])
    raw.write_units(landing_root, landed)
    return landed


def fetch(settings: "Settings", year: int | None = None) -> list[dict]:
    """Land every file for the year (unchanged: skipped; not there yet: logged and skipped)."""
    from ingest.raw.landing import NotPublished

    section = DECLARED.section(settings)
    files = files_for(settings, year)
    landed = raw.fetch_files([f for f in files if f.dataset == POLICE_GRANT.dataset], settings.paths.landing_dir, section)
    for file in files:
        if file.dataset != "finance_plan":
            continue
        try:
            landed.append(_land_workbook(file, settings.paths.landing_dir, section))
        except NotPublished as exc:
            log.warning("%s: not published (%s); skipped", file.name, exc)
    return raw.fetch_summary(landed)


# --------------------------------------------------------------------------- load


def _write_csv(spec: SheetSpec, rows: Iterable[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = ["source_row", *(c.name for c in spec.columns)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            out = []
            for name in names:
                value = row.get(name)
                out.append("" if value is None else value.isoformat() if isinstance(value, date) else
                           repr(float(value)) if isinstance(value, float) else str(value))
            writer.writerow(out)
    return path


def _load_plan(con: "duckdb.DuckDBPyConnection", landed: raw.Landed, unit: raw.Unit, results_dir: Path) -> raw.LoadResult:
    """Check the workbook, then replace the plan's partition of every finance table in one transaction."""
    plan = read_workbook(Path(unit.csv_path), unit.source_file)
    out_dir = Path(landed.path).parent.parent / "extracted" / landed.file.name  # <landing>/finance/extracted/<name>
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    partition = plan.partition
    started = time.perf_counter()
    rows_total = 0
    con.execute("begin transaction")
    try:
        for spec in SHEETS:
            contract = CONTRACTS[spec.dataset]
            rows = plan.tables.get(spec.dataset, [])
            csv_path = _write_csv(spec, rows, out_dir / f"{spec.dataset}.csv")
            table = quote_identifier(contract.table)
            con.execute(f"delete from raw.{table} where _force_id = ? and _plan_year = ?", list(partition.values()))
            if rows:
                columns = "{" + ", ".join(f"'{c.name}': '{c.duckdb_type}'" for c in contract.columns) + "}"
                con.execute(
                    f"""
                    insert into raw.{table}
                    select *, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::timestamp
                    from read_csv(?, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
                                  columns = {columns})
                    """,
                    [plan.force_id, plan.plan_year, f"{unit.source_file}!{spec.sheet}", landed.sha256, loaded_at,
                     str(csv_path)],
                )
                raw.gate_partition(con, contract.table, partition, results_dir=results_dir)
            record_loads(con, [{"dataset": contract.table, "force_id": plan.force_id, "month": plan.plan_year,
                                "source_file": f"{unit.source_file}!{spec.sheet}", "archive_sha256": landed.sha256,
                                "status": "loaded", "rows_loaded": len(rows), "rows_rejected": 0,
                                "loaded_at": loaded_at}])
            rows_total += len(rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    log.info("finance plan %s (%s, %s): %d rows in %d tables in %.1fs", unit.source_file, plan.force_id,
             plan.plan_year, rows_total, len(SHEETS), time.perf_counter() - started)
    return raw.LoadResult(table="finance_*", partition=partition, source_file=unit.source_file,
                         rows_loaded=rows_total, rows_rejected=0, raw_rows=rows_total, notes_lines=0)


def settlement_year(file: raw.SourceFile) -> str:
    """The settlement's financial year: configured (``settlement_year``) or from the file name (``-2025-26``)."""
    configured = file.options.get("settlement_year")
    if configured:
        label = financial_year_label(str(configured))
    else:
        m = re.search(r"(20\d{2})[-_](\d{2})", file.name)
        label = financial_year_label(f"{m.group(1)}/{m.group(2)}") if m else None
    if label is None:
        raise raw.LoadError(f"[{SOURCE}] file {file.name}: set settlement_year = \"2025/26\" (the year the settlement is for)")
    return label


def _load_unit(con, landed: raw.Landed, unit: raw.Unit, results_dir: Path) -> raw.LoadResult:
    if unit.dataset == "finance_plan":
        return _load_plan(con, landed, unit, results_dir)
    return raw.load_file(con, POLICE_GRANT, Path(unit.csv_path), partition={"_settlement_year": settlement_year(landed.file)},
                        source_file=unit.source_file, file_sha256=landed.sha256, results_dir=results_dir)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed file for the year; each workbook (all its tables) and each settlement is one transaction.

    A refused workbook keeps the force's previous plan; the others still load, and the task
    fails at the end naming every refusal (sheet and cell).
    """
    return DECLARED.load(settings, _load_unit, run_dir=run_dir, files=files_for(settings, year))
