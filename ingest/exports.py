"""Exports written with each publication, for readers without DuckDB.

* ``parquet/<table>.parquet``: every mart (the published file's ``main`` and ``performance``
  tables), written by DuckDB itself, so pandas, R (arrow), Power BI and Excel's Power Query
  read the same rows as the DuckDB file; a mart of months (``month_start``) is a folder instead,
  ``parquet/<table>/<year>.parquet``, one file per year.
* ``exports/<YYYY>Q<n>-scorecard.xlsx``: per reporting quarter, the scorecard and the tables
  the National Crime and Policing Measures statement reads, one sheet per table, and a
  ``notes`` sheet saying where the rows came from, when they were published and what every
  column means (from the published file's comments).

Both are written into folders beside the published file by :func:`ingest.publish.publish`
before it swaps anything in, so they always match the DuckDB file they sit beside.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.warehouse import column_types, quote_identifier, row_fingerprints

log = logging.getLogger(__name__)

# Schemas of the published file that hold marts (``meta`` is lineage, not a mart).
MART_SCHEMAS = ("main", "performance")

# The quarter's workbook: (schema, table, sheet, column holding the quarter or None for all rows).
# Excel limits a sheet name to 31 characters, hence the one shortened name.
WORKBOOK_TABLES = (
    ("performance", "fct_measure_assessment", "fct_measure_assessment", "reporting_period"),
    ("performance", "fct_stop_search_disproportionality", "stop_search_disproportionality", "period_label"),
    ("performance", "dim_measure", "dim_measure", None),
)
QUARTERS_FROM = ("performance", "fct_measure_assessment", "reporting_period")
WORKBOOK_NAME = "{quarter}-scorecard.xlsx"
NOTES_SHEET = "notes"
# Fingerprints of the rows each file was written from, kept beside the files: a quarter whose rows,
# columns and descriptions are unchanged keeps its workbook (writing a national quarter's ~350,000
# cells takes seconds, and a new month changes only the newest quarters); a mart whose columns and
# rows are unchanged keeps its Parquet file (most marts, in a new month). Change LAYOUT_VERSION
# (workbooks) or PARQUET_LAYOUT_VERSION when how the files are written changes, so every one is
# written again.
FINGERPRINTS = ".fingerprints.json"
# A mart of months (it has this column) is written as one Parquet file per calendar year: a new
# month rewrites its year's file, not every row of history (ten years of fct_crime_monthly, 12.6 M
# rows, took 3.4 s to write whole). ingest/publish.py replaces a mart's rows by the same column.
MONTH_COLUMN = "month_start"
LAYOUT_VERSION = 1
PARQUET_LAYOUT_VERSION = 1


def mart_tables(con, database: str) -> list[tuple[str, str]]:
    """(schema, table) of every mart in ``database``, ordered."""
    return [tuple(r) for r in con.execute(
        """
        select schema_name, table_name from duckdb_tables()
        where database_name = ? and schema_name in (select unnest(?::varchar[]))
        order by 1, 2
        """,
        [database, list(MART_SCHEMAS)],
    ).fetchall()]


def write_parquet(con, database: str, out_dir: Path, previous_dir: Path | None = None,
                  mart_fingerprints: dict[str, dict] | None = None) -> dict[str, Path]:
    """The marts of ``database`` as Parquet in ``out_dir`` (created); returns table -> file or folder.

    A mart with a ``month_start`` column is a folder, ``<table>/<year>.parquet``, one file per
    calendar year of that column (``undated.parquet`` for rows without one; ``none.parquet``, with
    no rows, for an empty mart, so that readers still see its columns); any other mart is one file,
    ``<table>.parquet``. A file whose columns and rows are those of its namesake in ``previous_dir``
    (by the fingerprints kept beside them) is that file, not written again: a new month rewrites
    its year's file and the marts it changed. ``mart_fingerprints``: ``schema.table`` -> {"columns", "rows"}
    of the marts as publish took them (per month), summed here per year instead of reading the
    rows again; a mart without them, or whose columns differ, is read."""
    import duckdb

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _read_fingerprints(previous_dir)
    fingerprints: dict[str, str] = {}
    written: dict[str, Path] = {}
    reused = 0
    for schema, table in mart_tables(con, database):
        # One folder for every mart: a table name used in two schemas would overwrite the other's
        # files, so it is refused instead.
        if table in written:
            raise RuntimeError(f"mart {table} is in two published schemas; Parquet files are named by table alone")
        relation = f"{quote_identifier(database)}.{quote_identifier(schema)}.{quote_identifier(table)}"
        columns = column_types(con, database, schema, table)
        known = (mart_fingerprints or {}).get(f"{schema}.{table}")
        known_rows = known["rows"] if known and known["columns"] == columns else None
        files = _parquet_files(con, relation, table, [name for name, _ in columns], known_rows)
        for name, (where, params, rows) in files.items():
            fingerprints[name] = hashlib.sha256(json.dumps(
                [PARQUET_LAYOUT_VERSION, duckdb.__version__, columns, rows], default=str).encode()).hexdigest()
            path = out_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if previous.get(name) == fingerprints[name] and (previous_dir / name).exists():
                _reuse(previous_dir / name, path)
                reused += 1
            else:
                # The relation API takes the path as a value: nothing from the file system is quoted into SQL.
                con.sql(f"select * from {relation} where {where}", params=params).write_parquet(
                    str(path), compression="zstd")
        written[table] = out_dir / (table if MONTH_COLUMN in (name for name, _ in columns) else f"{table}.parquet")
    (out_dir / FINGERPRINTS).write_text(json.dumps(fingerprints, indent=1, sort_keys=True), encoding="utf-8")
    log.info("Parquet files in %s: %d written, %d unchanged, in %.1fs", out_dir, len(fingerprints) - reused, reused,
             time.perf_counter() - started)
    return written


def _parquet_files(con, relation: str, table: str, columns: list[str],
                   known: dict | None = None) -> dict[str, tuple[str, list, object]]:
    """The Parquet files of a mart: path under the Parquet folder -> (SQL condition on ``relation``
    picking its rows, its parameters, the rows' fingerprint). ``known``: the mart's fingerprints
    (per month when it has ``month_start``, else the whole mart's), to read no row for them."""
    if MONTH_COLUMN not in columns:
        whole = known if known is not None else row_fingerprints(con, relation)
        return {f"{table}.parquet": ("true", [], sorted(whole.items(), key=str))}
    month = quote_identifier(MONTH_COLUMN)
    if known is not None:  # a year's rows and hash sum are its months' sums: exact, in any order
        years: dict = {}
        for key, (rows, total) in known.items():
            year = key.year if key is not None else None
            before = years.get(year, (0, 0))
            years[year] = (before[0] + rows, before[1] + total)
    else:
        years = row_fingerprints(con, relation, f"year({month})")
    if not years:
        return {f"{table}/none.parquet": ("false", [], [])}
    return {
        f"{table}/{year}.parquet" if year is not None else f"{table}/undated.parquet": (
            f"{month} >= ? and {month} < ?" if year is not None else f"{month} is null",
            [date(year, 1, 1), date(year + 1, 1, 1)] if year is not None else [],
            fingerprint,
        )
        for year, fingerprint in years.items()
    }


def _read_fingerprints(folder: Path | None) -> dict:
    """The fingerprints kept in ``folder`` by the previous publication ({} when there are none or unreadable)."""
    if folder is None or not (folder / FINGERPRINTS).exists():
        return {}
    try:
        return json.loads((folder / FINGERPRINTS).read_text(encoding="utf-8"))
    except ValueError:
        return {}


def _relation_exists(con, database: str, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
        [database, schema, table]).fetchone()[0])


def excel_value(value: Any) -> Any:
    """A value openpyxl can store: numbers, text, booleans and dates as they are; anything else as text."""
    if value is None or isinstance(value, (bool, int, float, str, date, datetime)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _fingerprints(con, database: str, tables, quarters: list[str], descriptions: dict, source: str) -> dict[str, str]:
    """Quarter -> a digest of everything its workbook shows: each table's rows (count and an
    order-free hash), columns and descriptions, and the source named in the notes."""
    db = quote_identifier(database)
    per_table = {}
    for s, t, _, period_column in tables:
        relation = f"{db}.{quote_identifier(s)}.{quote_identifier(t)}"
        if period_column:
            per_table[(s, t)] = {q: [n, str(h)] for q, (n, h) in
                                 row_fingerprints(con, relation, quote_identifier(period_column)).items()}
        else:
            n, h = row_fingerprints(con, relation).get(None, (0, 0))
            per_table[(s, t)] = {q: [n, str(h)] for q in quarters}
    return {q: hashlib.sha256(json.dumps(
        [LAYOUT_VERSION, source] + [[s, t, descriptions[(s, t)], per_table[(s, t)].get(q)] for s, t, _, _ in tables],
        default=str).encode()).hexdigest() for q in quarters}


def _reuse(previous: Path, target: Path) -> None:
    try:
        os.link(previous, target)  # the old folder is deleted after the swap; the new one keeps the file
    except OSError:
        shutil.copy2(previous, target)


def write_workbooks(con, database: str, out_dir: Path, published_at: datetime, source: str,
                    previous_dir: Path | None = None, database_file: Path | None = None) -> list[Path]:
    """One workbook per reporting quarter in ``out_dir`` (created); returns the files written.

    ``source`` is what the notes sheet names as the rows' origin (the published file's path). A
    workbook in ``previous_dir`` written from the same rows is reused instead of written again.
    ``database_file``: the file ``database`` is attached from, read-only. When several workbooks are
    to be written, processes of their own (one a core) each open it and write a share of them:
    openpyxl spends ~15 microseconds of Python a cell, and a first publication writes every quarter."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    schema, table, column = QUARTERS_FROM
    if not _relation_exists(con, database, schema, table):
        log.warning("no %s.%s in the published file: no scorecard workbooks", schema, table)
        return []
    db = quote_identifier(database)
    quarters = [q for (q,) in con.execute(
        f"select distinct {quote_identifier(column)} from {db}.{quote_identifier(schema)}.{quote_identifier(table)} "
        "order by 1").fetchall()]
    tables = [t for t in WORKBOOK_TABLES if _relation_exists(con, database, t[0], t[1])]
    descriptions = {
        (s, t): (comment, [(c, cc) for c, cc in con.execute(
            "select column_name, comment from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ? order by column_index", [database, s, t]).fetchall()])
        for s, t, _, _ in tables
        for (comment,) in con.execute(
            "select comment from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
            [database, s, t]).fetchall()
    }
    fingerprints = _fingerprints(con, database, tables, quarters, descriptions, source)
    previous = _read_fingerprints(previous_dir)
    written, to_write = [], []
    for quarter in quarters:
        path = out_dir / WORKBOOK_NAME.format(quarter=quarter)
        written.append(path)
        if previous.get(quarter) == fingerprints[quarter] and (previous_dir / path.name).exists():
            _reuse(previous_dir / path.name, path)
        else:
            to_write.append((quarter, path))
    workers = min(len(to_write), os.cpu_count() or 1) if database_file is not None else 1
    if workers > 1:
        _write_in_processes(database_file, database, [to_write[i::workers] for i in range(workers)],
                            tables, descriptions, published_at, source)
    else:
        for quarter, path in to_write:
            _write_workbook(con, database, quarter, path, tables, descriptions, published_at, source)
    (out_dir / FINGERPRINTS).write_text(json.dumps(fingerprints, indent=1, sort_keys=True), encoding="utf-8")
    log.info("scorecard workbooks in %s: %d written (%d process%s), %d unchanged, in %.1fs", out_dir, len(to_write),
             workers, "" if workers == 1 else "es", len(written) - len(to_write), time.perf_counter() - started)
    return written


def _write_in_processes(database_file: Path, database: str, shares: list[list[tuple[str, Path]]], tables,
                        descriptions: dict, published_at: datetime, source: str) -> None:
    """Each share of the workbooks written by a Python process of its own (``python -m ingest.exports JOB``),
    which opens ``database_file`` read-only under the name ``database``. Plain processes rather than
    a multiprocessing pool: nothing of the caller (its threads, its main module) is copied or re-run."""
    import subprocess
    import sys
    import tempfile

    package_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    common = {
        "database_file": str(database_file), "database": database, "tables": tables,
        "descriptions": [[s, t, comment, columns] for (s, t), (comment, columns) in descriptions.items()],
        "published_at": published_at.isoformat(), "source": source,
    }
    with tempfile.TemporaryDirectory(prefix="workbooks-") as tmp:
        running = []
        try:
            for index, share in enumerate(shares):
                job, errors = Path(tmp) / f"{index}.json", Path(tmp) / f"{index}.err"
                job.write_text(json.dumps({**common, "quarters": [[quarter, str(path)] for quarter, path in share]}),
                               encoding="utf-8")
                with errors.open("w", encoding="utf-8") as stderr:
                    running.append((subprocess.Popen([sys.executable, "-m", "ingest.exports", str(job)], env=env,
                                                     stdout=subprocess.DEVNULL, stderr=stderr), errors))
            for process, errors in running:
                if process.wait() != 0:
                    raise RuntimeError(f"writing scorecard workbooks from {database_file} failed "
                                       f"(exit {process.returncode}): "
                                       f"{errors.read_text(encoding='utf-8', errors='replace').strip()[-2000:]}")
        finally:
            for process, _ in running:  # a failure, or an interrupt, leaves no worker writing
                if process.poll() is None:
                    process.kill()
                    process.wait()


def _write_job(job_file: Path) -> None:
    """One process's share of the workbooks (see :func:`_write_in_processes`)."""
    import duckdb

    job = json.loads(job_file.read_text(encoding="utf-8"))
    tables = [tuple(table) for table in job["tables"]]
    descriptions = {(s, t): (comment, [tuple(c) for c in columns]) for s, t, comment, columns in job["descriptions"]}
    published_at = datetime.fromisoformat(job["published_at"])
    with duckdb.connect() as con:
        con.execute(f"attach ? as {quote_identifier(job['database'])} (read_only)", [job["database_file"]])
        for quarter, path in job["quarters"]:
            _write_workbook(con, job["database"], quarter, Path(path), tables, descriptions, published_at, job["source"])


def _write_workbook(con, database: str, quarter: str, path: Path, tables, descriptions: dict, published_at: datetime,
                    source: str) -> None:
    """The quarter's workbook: a sheet per table (its rows for the quarter), then the notes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    db = quote_identifier(database)
    bold = Font(bold=True)
    # write-only: rows are streamed to the file instead of held as cell objects (a national
    # scorecard is ~7,000 rows x 50 columns a quarter)
    book = Workbook(write_only=True)
    counts = {}
    for s, t, sheet_name, period_column in tables:
        sheet = book.create_sheet(sheet_name)
        sql = f"select * from {db}.{quote_identifier(s)}.{quote_identifier(t)}"
        params: list = []
        if period_column:
            sql += f" where {quote_identifier(period_column)} = ?"
            params.append(quarter)
        cursor = con.execute(sql + " order by all", params)
        names = [d[0] for d in cursor.description]
        sheet.freeze_panes = "A2"
        sheet.append([_bold(WriteOnlyCell(sheet, value=n), bold) for n in names])
        rows = cursor.fetchall()
        for row in rows:
            sheet.append([excel_value(v) for v in row])
        counts[(s, t)] = len(rows)
    notes = book.create_sheet(NOTES_SHEET)
    notes.append([_bold(WriteOnlyCell(notes, value=f"Scorecard for {quarter}"), bold)])
    notes.append(["source", source])
    # to the second: Excel keeps milliseconds at most, so the exact value could not be shown anyway
    notes.append(["published_at (UTC)", published_at.replace(microsecond=0)])
    notes.append(["", "The publication that wrote this workbook; later publications with the same rows keep it."])
    notes.append(["quarter", quarter])
    notes.append([])
    notes.append([_bold(WriteOnlyCell(notes, value=h), bold) for h in ("sheet", "table", "rows", "filter", "description")])
    for s, t, sheet_name, period_column in tables:
        notes.append([sheet_name, f"{s}.{t}", counts[(s, t)],
                      f"{period_column} = '{quarter}'" if period_column else "all rows", descriptions[(s, t)][0]])
    notes.append([])
    notes.append([_bold(WriteOnlyCell(notes, value=h), bold) for h in ("sheet", "column", "description")])
    for s, t, sheet_name, _ in tables:
        for name, comment in descriptions[(s, t)][1]:
            notes.append([sheet_name, name, comment])
    book.save(path)


def _bold(cell, font):
    cell.font = font
    return cell


if __name__ == "__main__":  # a worker of _write_in_processes
    import sys

    _write_job(Path(sys.argv[1]))
