"""Loads for reference tables: ONS lookups and population, Home Office recorded crime.

Reference publishers rename columns between releases (``LAD19CD`` → ``LAD23CD``), move
their id column (``FID`` first or last, ``ObjectId``), put notes above the header, write
numbers as formatted text (``" \\t60,238,038 "``) and ship spreadsheets. So, unlike
:func:`ingest.csv_load.replace_partition` (exact header, positional insert), a load here:

* finds each contract column by a regular expression on the header, wherever it stands,
  and refuses a file with an unknown column or without a required one, naming the file,
  the columns and the patterns expected (the year in a name, e.g. ``19`` in ``LAD19CD``, is
  captured as the file's vintage);
* reads the file with DuckDB's CSV reader and explicit types; rows DuckDB cannot parse go
  to ``raw.load_rejects`` with DuckDB's reason;
* cleans, in SQL, what DuckDB cannot type directly (formatted numbers, dd-mm-yyyy dates,
  double-encoded UTF-8 such as ``Ynys MÃ´n``); a row whose value still does not clean is
  rejected whole, with the column and the value;
* can unpivot a family of measure columns (single years of age, ethnic groups) into rows,
  so a new category is data, not a schema change;
* replaces the partition, gates it with the table's GX suite and records ``raw.load_log``,
  all in one transaction: a failure leaves the previous rows.

Rows of ``raw.load_log`` and ``raw.load_rejects`` (shared with police.uk) are keyed here by
``dataset`` = raw table, ``force_id`` = ``all`` (these files cover every force) and
``month`` = the partition label (``2019``, ``2022/persons``, ``2023/24``).

Spreadsheets (ODS, XLSX) are converted sheet by sheet to CSV with python-calamine at fetch
time, then loaded the same way.

Only the standard library is imported at module level (DAG files import source modules).
"""

from __future__ import annotations

import csv
import enum
import json
import logging
import os
import re
import time
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ingest.csv_load import LoadError
from ingest.landing import LandingError, ManifestRow, check_text_file, extract_member, fetch_to_landing
from ingest.warehouse import SHARED_RAW_DDL, quote_identifier

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

ALL_FORCES = "all"  # raw.load_log / raw.load_rejects force_id for files that cover every force
LINEAGE_TAIL: tuple[tuple[str, str], ...] = (
    ("_source_file", "VARCHAR"),  # landed file name (plus !sheet for a spreadsheet sheet)
    ("_file_sha256", "VARCHAR"),  # sha256 of the landed file as published
    ("_loaded_at", "TIMESTAMP"),  # UTC
)
HEADER_SCAN_LINES = 60  # notes above a header: the real MYE export has 7
DUCKDB_TYPES = {"VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "DATE", "BOOLEAN", "TIMESTAMP"}
_REJECTS = "ref_reject_errors"
_REJECT_SCANS = "ref_reject_scans"


class HeaderError(LoadError):
    """The file's columns are not the contract's; nothing was loaded from it."""


class MissingDependency(LoadError):
    """A spreadsheet cannot be read because its reader package is not installed."""


class Clean(enum.Enum):
    """How a text value becomes its raw type when DuckDB cannot cast it directly."""

    NONE = "none"  # DuckDB reads the column with its raw type
    INTEGER_TEXT = "integer_text"  # " \t60,238,038 " -> 60238038; "" -> NULL
    # As INTEGER_TEXT, and a lone "-" is 0: a spreadsheet's accounting number format shows zero
    # as "-" (the real MYE2 export has Isles of Scilly, age 17: " \t-   ").
    ACCOUNTING_INTEGER = "accounting_integer"
    DATE_TEXT = "date_text"  # 31-03-2003, 31/03/2003 or 2003-03-31 -> DATE
    REPAIR_TEXT = "repair_text"  # "Ynys MÃ´n" (UTF-8 decoded as Latin-1, re-encoded) -> "Ynys Môn"
    # A financial year as the Home Office writes it across vintages: 2023/24, 2002-03, 2015_16
    # (the sheet-name spelling) -> 2023/24; "" -> NULL; 2023/25 or 2023 does not clean.
    FINANCIAL_YEAR = "financial_year"


@dataclass(frozen=True)
class Column:
    name: str  # raw table column
    pattern: str  # full match on the stripped header cell, case-insensitive
    duckdb_type: str = "VARCHAR"
    required: bool = True
    clean: Clean = Clean.NONE
    description: str = ""


@dataclass(frozen=True)
class Measures:
    """A family of columns whose header is a category (an age, an ethnic group): one row each."""

    pattern: str
    label_column: str  # raw column receiving the header text
    value_column: str  # raw column receiving the value
    duckdb_type: str = "BIGINT"
    clean: Clean = Clean.NONE
    min_columns: int = 1


@dataclass(frozen=True)
class Contract:
    """What one raw table accepts from a publisher's file."""

    dataset: str  # short name used in configuration, e.g. "lad_csp_pfa_lookup"
    table: str  # raw table (schema raw)
    description: str
    columns: tuple[Column, ...]
    partition: tuple[str, ...]  # lineage columns that key a partition, e.g. ("_vintage",)
    measures: Measures | None = None
    ignored: str = r"FID|OBJECTID|ObjectId|OBJECTID_1|GlobalID"  # id columns ONS adds and moves
    header_starts_with: tuple[str, ...] = ()  # notes lines come before a header starting so
    other_layouts: tuple[tuple[str, str], ...] = ()  # (description, regex on the joined header)

    @property
    def lineage(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, "VARCHAR") for name in self.partition) + LINEAGE_TAIL

    def raw_columns(self) -> list[tuple[str, str]]:
        columns = [(c.name, c.duckdb_type) for c in self.columns]
        if self.measures is not None:
            columns += [(self.measures.label_column, "VARCHAR"), (self.measures.value_column, self.measures.duckdb_type)]
        return columns + list(self.lineage)

    def ddl(self) -> str:
        parts = []
        for name, kind in self.raw_columns():
            if kind not in DUCKDB_TYPES:
                raise ValueError(f"{self.table}.{name}: unexpected type {kind!r}")
            parts.append(f"{quote_identifier(name)} {kind}")
        return f"create table if not exists raw.{quote_identifier(self.table)} ({', '.join(parts)})"


def ensure_tables(con: "duckdb.DuckDBPyConnection", contracts: Iterable[Contract]) -> None:
    """Create the shared raw tables and these contracts' tables (idempotent)."""
    con.execute(SHARED_RAW_DDL)
    for contract in contracts:
        con.execute(contract.ddl())


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class HeaderMatch:
    header: tuple[str, ...]  # as in the file, stripped
    roles: tuple[str, ...]  # per position: a raw column name, "*measure*", or "" (ignored id column)
    captured: dict[str, str]  # named groups of the patterns, e.g. {"vintage": "2019"}
    header_line: int  # 0-based line of the header (notes lines come before it)

    MEASURE = "*measure*"

    def positions(self) -> dict[str, int]:
        return {role: i for i, role in enumerate(self.roles) if role and role != self.MEASURE}

    @property
    def measure_positions(self) -> list[int]:
        return [i for i, role in enumerate(self.roles) if role == self.MEASURE]


def _year(text: str) -> str:
    """ONS puts two-digit years in column names: 19 -> 2019."""
    return f"20{text}" if len(text) == 2 else text


def read_header(path: Path, contract: Contract, label: str) -> tuple[list[str], int]:
    """The header cells and their 0-based line; notes lines before it are skipped.

    Only the first lines are parsed here (with the csv module, so quoted names with commas
    split correctly); the rows themselves are read by DuckDB.
    """
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if not head.strip():
        raise HeaderError(f"{label}: the file is empty (no header row)")
    if b"\x00" in head[:4096]:
        raise HeaderError(f"{label}: the file contains NUL bytes; it is not a text CSV (a spreadsheet saved as .csv?)")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise HeaderError(f"{label}: not UTF-8 ({exc}); expected the publisher's UTF-8 CSV") from exc
        text = head[: exc.start].decode("utf-8-sig")
    lines = text.splitlines()[:HEADER_SCAN_LINES]
    wanted = [c.lower() for c in contract.header_starts_with]
    for number, row in enumerate(csv.reader(lines)):
        cells = [c.strip() for c in row]
        if not wanted:
            return cells, number
        if [c.lower() for c in cells[: len(wanted)]] == wanted:
            return cells, number
    raise HeaderError(
        f"{label}: no header row starting {','.join(contract.header_starts_with)} in the first "
        f"{HEADER_SCAN_LINES} lines. Nothing was loaded; if the publisher changed the layout, update "
        f"the {contract.table} contract."
    )


def readable_pattern(pattern: str) -> str:
    """``LAD(?P<vintage>\\d{2})CD`` -> ``LADnnCD``, ``Financial\\s*Year`` -> ``Financial Year``: for error messages."""
    text = re.sub(r"\(\?P<\w+>\\d\{2\}\)", "nn", pattern)
    text = text.replace("\\d{2}", "nn").replace("\\s*", " ").replace("\\s+", " ").replace("(?:", "(")
    return text


def match_header(header: Sequence[str], contract: Contract, label: str, header_line: int = 0) -> HeaderMatch:
    """Give each header cell its role, or refuse the file naming what does not fit."""
    joined = ",".join(header)
    for description, regex in contract.other_layouts:
        if re.search(regex, joined):
            raise HeaderError(
                f"{label}: this file is {description}, which raw.{contract.table} does not take. "
                f"Nothing was loaded from it. Header: {joined[:300]}"
            )
    roles: list[str] = []
    captured: dict[str, str] = {}
    matched: dict[str, str] = {}
    conflicts: list[str] = []
    unknown: list[str] = []
    for cell in header:
        role = ""
        if re.fullmatch(contract.ignored, cell, flags=re.IGNORECASE):
            roles.append("")
            continue
        for column in contract.columns:
            found = re.fullmatch(column.pattern, cell, flags=re.IGNORECASE)
            if found is None:
                continue
            if column.name in matched:
                conflicts.append(f"{matched[column.name]!r} and {cell!r} both look like {column.name} ({column.pattern})")
            matched[column.name] = cell
            role = column.name
            for group, value in found.groupdict().items():
                if value is None:
                    continue
                value = _year(value) if group.endswith("vintage") else value
                if captured.setdefault(group, value) != value:
                    conflicts.append(f"{cell!r} says {group} {value}, another column says {captured[group]}")
            break
        if not role and contract.measures is not None and re.fullmatch(contract.measures.pattern, cell, flags=re.IGNORECASE):
            role = HeaderMatch.MEASURE
        if not role:
            unknown.append(cell)
        roles.append(role)
    missing = [f"{c.name} (like {readable_pattern(c.pattern)})" for c in contract.columns
               if c.required and c.name not in matched]
    n_measures = roles.count(HeaderMatch.MEASURE)
    if contract.measures is not None and n_measures < contract.measures.min_columns:
        missing.append(f"at least {contract.measures.min_columns} columns matching {readable_pattern(contract.measures.pattern)}")
    if unknown or missing or conflicts:
        detail = []
        if missing:
            detail.append(f"missing: {', '.join(missing)}")
        if unknown:
            detail.append(f"unexpected columns: {', '.join(unknown)}")
        if conflicts:
            detail.append("; ".join(conflicts))
        raise HeaderError(
            f"{label}: the columns are not raw.{contract.table}'s ({'; '.join(detail)}). Found: {list(header)}. "
            "Nothing was loaded from this file. If the publisher changed the layout on purpose, update "
            f"the contract for {contract.dataset} (its patterns), the GX suite raw_{contract.table}.json and "
            "the staging model together."
        )
    return HeaderMatch(header=tuple(header), roles=tuple(roles), captured=captured, header_line=header_line)


# --------------------------------------------------------------------------- cleaning SQL

# Text that was UTF-8, read as Latin-1 and written out as UTF-8 again ("Ynys MÃ´n"): every
# character is below U+0100, and a lead byte (Â-ô) is followed by a continuation byte. The
# characters are taken back to bytes and decoded as UTF-8; if that is not valid UTF-8 the
# text is left as it was. cp1252-only characters (€ ƒ …) are not repaired: Welsh letters
# with a circumflex, diaeresis or acute (â ê î ô û ŵ ŷ, ä ë ï, á é) all come through Latin-1.
_MOJIBAKE_LIKELY = "[\u00c2-\u00f4][\u0080-\u00bf]"


def repair_text_sql(x: str) -> str:
    as_bytes = (
        f"from_hex(list_aggr(list_transform(string_split({x}, ''), lambda ch: printf('%02x', unicode(ch))), "
        "'string_agg', ''))"
    )
    all_latin1 = f"list_bool_and(list_transform(string_split({x}, ''), lambda ch: unicode(ch) < 256))"
    return (
        f"case when regexp_matches({x}, '{_MOJIBAKE_LIKELY}') and {all_latin1} "
        f"then coalesce(try(decode({as_bytes})), {x}) else {x} end"
    )


def clean_sql(x: str, clean: Clean, duckdb_type: str) -> tuple[str, str | None]:
    """(expression giving the typed value, condition true when the value cannot be cleaned)."""
    if clean is Clean.NONE:
        return x, None
    if clean in (Clean.INTEGER_TEXT, Clean.ACCOUNTING_INTEGER):
        stripped = f"nullif(regexp_replace({x}, '[\\s,]', '', 'g'), '')"
        if clean is Clean.ACCOUNTING_INTEGER:
            stripped = f"(case when {stripped} = '-' then '0' else {stripped} end)"
        value = f"try_cast({stripped} as {duckdb_type})"
        return value, f"({stripped} is not null and {value} is null)"
    if clean is Clean.DATE_TEXT:
        t = f"nullif(trim({x}), '')"
        value = (
            f"coalesce(try_strptime({t}, '%d-%m-%Y'), try_strptime({t}, '%d/%m/%Y'), "
            f"try_strptime({t}, '%Y-%m-%d'))::date"
        )
        return value, f"({t} is not null and {value} is null)"
    if clean is Clean.FINANCIAL_YEAR:
        t = f"nullif(trim({x}), '')"
        start, end = f"try_cast(left({t}, 4) as integer)", f"try_cast(right({t}, 2) as integer)"
        value = (
            f"(case when regexp_full_match({t}, '(19|20)[0-9]{{2}}[ ]*[-_/][ ]*[0-9]{{2}}') "
            f"and ({start} + 1) % 100 = {end} then left({t}, 4) || '/' || right({t}, 2) end)"
        )
        return value, f"({t} is not null and {value} is null)"
    if clean is Clean.REPAIR_TEXT:
        return repair_text_sql(x), None
    raise ValueError(clean)


def _reading_type(column_type: str, clean: Clean) -> str:
    return column_type if clean is Clean.NONE else "VARCHAR"


# --------------------------------------------------------------------------- load one file


@dataclass
class LoadResult:
    table: str
    partition: dict[str, str]
    source_file: str
    rows_loaded: int  # file rows loaded
    rows_rejected: int  # file rows refused (DuckDB's and ours), each with a reason in raw.load_rejects
    raw_rows: int  # rows written to the raw table (more than rows_loaded when measures are unpivoted)
    notes_lines: int  # lines before the header (notes), not data
    values_repaired: int = 0
    gate_warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return partition_label(self.partition)


def partition_label(partition: dict[str, str]) -> str:
    return "/".join(str(v) for v in partition.values())


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_file(
    con: "duckdb.DuckDBPyConnection",
    contract: Contract,
    csv_path: Path,
    *,
    partition: dict[str, str],
    source_file: str,
    file_sha256: str,
    results_dir: Path | None = None,
    expect_captured: dict[str, str] | None = None,
) -> LoadResult:
    """Replace one partition of ``raw.<contract.table>`` with ``csv_path``, gate it, log it: one transaction.

    ``partition`` gives the partition columns not read from the header; the others come from
    the header's captured vintages (``LAD19CD`` -> ``_vintage`` = ``2019``). ``expect_captured``
    (e.g. the vintage the configuration names) must agree with what the header says.
    """
    label = source_file
    # Before DuckDB reads it: a NUL byte would load silently and a cp1252 export would lose its
    # accented rows one by one as rejects; refused whole instead, naming the line and byte.
    check_text_file(csv_path, label)
    header, header_line = read_header(csv_path, contract, label)
    match = match_header(header, contract, label, header_line)
    for key, value in (expect_captured or {}).items():
        found = match.captured.get(key)
        if found is not None and found != str(value):
            raise HeaderError(
                f"{label}: the configuration says {key} {value} but the header says {found} ({','.join(header)}). "
                "Nothing was loaded; fix the file's entry in the configuration or fetch the right file."
            )
    full_partition = {}
    for name in contract.partition:
        key = name.lstrip("_")
        value = partition.get(name, match.captured.get(key))
        if value in (None, ""):
            raise LoadError(f"{label}: no value for partition column {name} (not in the header, not given)")
        full_partition[name] = str(value)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    started = time.perf_counter()
    con.execute("begin transaction")
    try:
        result = _replace(con, contract, csv_path, match, full_partition, label, file_sha256, loaded_at)
        report = gate_partition(con, contract.table, full_partition, results_dir=results_dir)
        result.gate_warnings = [str(w) for w in report.warnings]
        con.execute(
            "insert or replace into raw.load_log (dataset, force_id, month, source_file, archive_sha256, status, "
            "rows_loaded, rows_rejected, loaded_at) values (?, ?, ?, ?, ?, 'loaded', ?, ?, ?)",
            [contract.table, ALL_FORCES, result.label, source_file, file_sha256, result.rows_loaded,
             result.rows_rejected, loaded_at],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    log.info(
        "raw.%s %s: %d rows loaded from %s (%d rejected, %d raw rows, %d notes lines, %d values repaired) in %.1fs",
        contract.table, result.label, result.rows_loaded, label, result.rows_rejected, result.raw_rows,
        result.notes_lines, result.values_repaired, time.perf_counter() - started,
    )
    for warning in result.gate_warnings:
        log.warning("raw.%s %s: %s", contract.table, result.label, warning)
    return result


def _replace(
    con: "duckdb.DuckDBPyConnection",
    contract: Contract,
    csv_path: Path,
    match: HeaderMatch,
    partition: dict[str, str],
    label: str,
    file_sha256: str,
    loaded_at: datetime,
) -> LoadResult:
    """Read, clean, replace the partition and record rejects (inside the caller's transaction)."""
    table = quote_identifier(contract.table)
    _read_into_temp(con, contract, csv_path, match, label)
    typed, measure_values = _find_values_that_do_not_clean(con, contract, match)

    partition_filter = " and ".join(f"{quote_identifier(k)} = ?" for k in partition)
    con.execute(f"delete from raw.{table} where {partition_filter}", list(partition.values()))
    _insert_kept_rows(con, contract, match, typed, measure_values, partition, label, file_sha256, loaded_at)
    _record_rejects(con, contract, match, partition_label(partition), label, loaded_at)

    (duck_rejected,) = con.execute(f"select count(distinct line) from {_REJECTS}").fetchall()[0]
    (clean_rejected,) = con.execute("select count(distinct _row) from _ref_bad").fetchall()[0]
    (read_rows,) = con.execute("select count(*) from _ref_read").fetchall()[0]
    (raw_rows,) = con.execute(f"select count(*) from raw.{table} where {partition_filter}",
                              list(partition.values())).fetchall()[0]
    repaired = _count_repairs(con, contract, match, typed, label)
    if duck_rejected or clean_rejected:
        log.warning("%s: %d rows refused (%d unreadable, %d values that do not clean); see raw.load_rejects",
                    label, duck_rejected + clean_rejected, duck_rejected, clean_rejected)
    con.execute("drop table if exists _ref_read; drop table if exists _ref_bad; drop table if exists _ref_headers")
    return LoadResult(
        table=contract.table,
        partition=partition,
        source_file=label,
        rows_loaded=int(read_rows - clean_rejected),
        rows_rejected=int(duck_rejected + clean_rejected),
        raw_rows=int(raw_rows),
        notes_lines=match.header_line,
        values_repaired=repaired,
    )


def _read_into_temp(con, contract: Contract, csv_path: Path, match: HeaderMatch, label: str) -> None:
    """``_ref_read``: the file's rows under positional names (c0, c1, …), typed; ``_ref_headers`` maps them back.

    Header text never reaches SQL: it is only ever a bound value in ``_ref_headers``.
    """
    by_name = {c.name: c for c in contract.columns}
    reading: dict[str, str] = {}
    for i, role in enumerate(match.roles):
        if role == HeaderMatch.MEASURE and contract.measures is not None:
            reading[f"c{i}"] = _reading_type(contract.measures.duckdb_type, contract.measures.clean)
        elif role:
            reading[f"c{i}"] = _reading_type(by_name[role].duckdb_type, by_name[role].clean)
        else:
            reading[f"c{i}"] = "VARCHAR"
    columns_literal = "{" + ", ".join(f"'{k}': '{v}'" for k, v in reading.items()) + "}"
    con.execute(f"drop table if exists {_REJECTS}; drop table if exists {_REJECT_SCANS}; drop table if exists _ref_read")
    try:
        con.execute(
            f"""
            create temp table _ref_read as
            select row_number() over () as _row, *
            from read_csv(
                ?, header = true, skip = {int(match.header_line)}, auto_detect = false,
                delim = ',', quote = '"', escape = '"', columns = {columns_literal},
                store_rejects = true, rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}'
            )
            """,
            [str(csv_path)],
        )
    except Exception as exc:  # duckdb raises several classes for an unreadable file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise LoadError(f"{label}: DuckDB could not read the file ({first_line}). Nothing was loaded; "
                        "check the file is the publisher's CSV (not an HTML error page or a truncated copy).") from exc
    con.execute("drop table if exists _ref_headers")
    con.execute("create temp table _ref_headers (position integer, key varchar, header varchar)")
    con.executemany("insert into _ref_headers values (?, ?, ?)", [[i, f"c{i}", h] for i, h in enumerate(match.header)])


def _find_values_that_do_not_clean(con, contract: Contract, match: HeaderMatch) -> tuple[dict[str, str], dict[int, str]]:
    """The typed SQL for each column and measure; rows with a value that does not clean go to ``_ref_bad``.

    Such a row is refused whole (a population row with one bad age would understate its total).
    """
    by_name = {c.name: c for c in contract.columns}
    positions = match.positions()
    key_cell = next((f"c{positions[c.name]}" for c in contract.columns if c.name in positions), "c0")
    cells = [(name, position, by_name[name].clean, by_name[name].duckdb_type) for name, position in positions.items()]
    if contract.measures is not None:
        cells += [(None, p, contract.measures.clean, contract.measures.duckdb_type) for p in match.measure_positions]
    typed: dict[str, str] = {}
    measure_values: dict[int, str] = {}
    problems: list[str] = []
    for name, position, clean, duckdb_type in cells:
        expression, failure = clean_sql(f"c{position}", clean, duckdb_type)
        if name is None:
            measure_values[position] = expression
        else:
            typed[name] = expression
        if failure:
            problems.append(
                f"select _row, {position} as position, c{position}::varchar as value, "
                f"'not a {duckdb_type.lower()} ({clean.value})' as reason, {key_cell}::varchar as row_key "
                f"from _ref_read where {failure}"
            )
    empty = ("select null::bigint as _row, null::integer as position, null::varchar as value, "
             "null::varchar as reason, null::varchar as row_key where false")
    con.execute("drop table if exists _ref_bad")
    con.execute("create temp table _ref_bad as " + (" union all ".join(problems) or empty))
    return typed, measure_values


def _insert_kept_rows(con, contract: Contract, match: HeaderMatch, typed: dict[str, str], measure_values: dict[int, str],
                      partition: dict[str, str], label: str, file_sha256: str, loaded_at: datetime) -> None:
    """Insert the rows that read and clean, by column name, with lineage; measures unpivoted to rows."""
    table = quote_identifier(contract.table)
    lineage_select = ", ".join(
        [f"{_sql_literal(v)} as {quote_identifier(k)}" for k, v in partition.items()]
        + [f"{_sql_literal(label)} as _source_file", f"{_sql_literal(file_sha256)} as _file_sha256",
           f"{_sql_literal(loaded_at.isoformat(sep=' '))}::timestamp as _loaded_at"]
    )
    column_select = ", ".join(f"{expr} as {quote_identifier(name)}" for name, expr in typed.items())
    kept = "from _ref_read where _row not in (select _row from _ref_bad)"
    measures = contract.measures
    if measures is None:
        con.execute(f"insert into raw.{table} by name select {column_select}, {lineage_select} {kept}")
        return
    keys = [f"c{p}" for p in match.measure_positions]
    measure_select = ", ".join(f"{measure_values[p]} as c{p}" for p in match.measure_positions)
    id_names = ", ".join(quote_identifier(n) for n in typed)
    comma = "," if typed else ""
    con.execute(
        f"""
        insert into raw.{table} by name
        with kept as (select _row, {column_select}{comma} {measure_select} {kept}),
        long_rows as (from kept unpivot include nulls (_value for _key in ({', '.join(keys)})))
        select {id_names}{comma}
               h.header as {quote_identifier(measures.label_column)},
               _value as {quote_identifier(measures.value_column)},
               {lineage_select}
        from long_rows join _ref_headers h on h.key = long_rows._key
        order by _row, h.position
        """
    )


def _record_rejects(con, contract: Contract, match: HeaderMatch, month: str, label: str, loaded_at: datetime) -> None:
    """Replace the partition's rows in ``raw.load_rejects``: DuckDB's (unreadable) and ours (do not clean)."""
    con.execute("delete from raw.load_rejects where dataset = ? and force_id = ? and month = ?",
                [contract.table, ALL_FORCES, month])
    # DuckDB's own rejects name our positional column (c3): put the publisher's header back.
    con.execute(
        f"""
        insert into raw.load_rejects
        select ?, ?, ?, ?, r.line, coalesce(h.header, r.column_name), r.error_type::varchar,
               case when h.header is null then r.error_message
                    else replace(r.error_message, '"' || r.column_name || '"', '"' || h.header || '"') end,
               r.csv_line, ?::timestamp
        from {_REJECTS} r left join _ref_headers h on h.key = r.column_name
        """,
        [contract.table, ALL_FORCES, month, label, loaded_at],
    )
    # Rows refused after reading have no line number (DuckDB does not keep it): the message names
    # the row by its position and first key instead, and csv_line is rebuilt from its cells.
    cells = ", ".join(f"r.c{i}::varchar" for i in range(len(match.header)))
    con.execute(
        f"""
        insert into raw.load_rejects
        select ?, ?, ?, ?, null, h.header, 'CLEAN',
               'data row ' || b._row || ' (' || coalesce(b.row_key, '?') || '): ' || h.header || ' = '
                   || coalesce('''' || b.value || '''', 'NULL') || ' is ' || b.reason
                   || '; the whole row was refused',
               (select concat_ws(',', {cells}) from _ref_read r where r._row = b._row),
               ?::timestamp
        from _ref_bad b join _ref_headers h on h.position = b.position
        """,
        [contract.table, ALL_FORCES, month, label, loaded_at],
    )


def _count_repairs(con, contract: Contract, match: HeaderMatch, typed: dict[str, str], label: str) -> int:
    """How many names the double-encoding repair changed (logged with examples)."""
    repaired = 0
    for column in contract.columns:
        position = match.positions().get(column.name)
        if position is None or column.clean is not Clean.REPAIR_TEXT:
            continue
        changed = f"from _ref_read where c{position} is distinct from ({typed[column.name]})"
        (n,) = con.execute(f"select count(*) {changed}").fetchall()[0]
        if n:
            examples = con.execute(f"select distinct c{position}, {typed[column.name]} {changed} limit 3").fetchall()
            log.info("%s: %d double-encoded values repaired in %s, e.g. %s", label, n, match.header[position], examples)
        repaired += int(n)
    return repaired


# --------------------------------------------------------------------------- gate


class ReferenceGateFailed(LoadError):
    """A loaded partition failed an error-severity expectation; the load was rolled back."""


def gate_partition(
    con: "duckdb.DuckDBPyConnection", table: str, partition: dict[str, str], results_dir: Path | None = None
) -> Any:
    """Gate one partition of ``raw.<table>`` with ``expectations/raw_<table>.json`` (the one engine,
    :mod:`ingest.raw.gate`); raise :class:`ReferenceGateFailed` naming what failed."""
    from ingest.raw import gate

    (report,) = gate.validate_partitions(con, table, [dict(partition)], results_dir=results_dir)
    if not report.success:
        raise ReferenceGateFailed(str(gate.GateFailed(report)))
    return report


# --------------------------------------------------------------------------- files: configure, fetch, convert


@dataclass(frozen=True)
class SourceFile:
    """One file a reference source fetches, as configured (``[[<source>.files]]``)."""

    source: str
    dataset: str  # which contract loads it
    name: str  # the landed file name (and the _source_file of its rows)
    url: str  # https://… or file://…
    year: int | None = None  # the vintage/period it belongs to (bounds a run's period)
    member: str | None = None  # a zip archive's member to load
    sheets: tuple[str, ...] = ()  # spreadsheet sheets to load
    sheet_pattern: str | None = None  # or: every sheet whose name matches
    options: dict[str, Any] = field(default_factory=dict)  # anything else the source reads (edition, sex, …)

    KNOWN = ("dataset", "name", "url", "year", "member", "sheets", "sheet_pattern")

    @classmethod
    def from_config(cls, source: str, entry: dict[str, Any], where: str) -> "SourceFile":
        try:
            name = str(entry["name"])
            dataset, url = str(entry["dataset"]), str(entry["url"])
        except KeyError as exc:
            raise LoadError(f"{where}: a file entry has no {exc} (entry: {entry})") from exc
        if "/" in name or "\\" in name or name.startswith("."):
            raise LoadError(f"{where}: file name {name!r} must be a plain file name")
        return cls(
            source=source, dataset=dataset, name=name, url=url,
            year=int(entry["year"]) if entry.get("year") is not None else None,
            member=entry.get("member"), sheets=tuple(entry.get("sheets", ())),
            sheet_pattern=entry.get("sheet_pattern"),
            options={k: v for k, v in entry.items() if k not in cls.KNOWN},
        )

    @property
    def is_spreadsheet(self) -> bool:
        return Path(self.member or self.name).suffix.lower() in {".ods", ".xlsx", ".xls", ".xlsm"}


@dataclass
class Unit:
    """One CSV to load: a landed CSV, a zip member, or a sheet converted to CSV."""

    dataset: str
    csv_path: str
    source_file: str  # file name, plus !member or !sheet
    sheet: str | None = None


@dataclass
class Landed:
    file: SourceFile
    path: str
    sha256: str
    status: str  # fetched | unchanged
    units: list[Unit] = field(default_factory=list)

    def to_json(self) -> dict:
        payload = asdict(self)
        payload["file"] = asdict(self.file)
        return payload

    @classmethod
    def from_json(cls, payload: dict) -> "Landed":
        file = payload["file"]
        file["sheets"] = tuple(file.get("sheets", ()))
        return cls(file=SourceFile(**file), path=payload["path"], sha256=payload["sha256"],
                   status=payload["status"], units=[Unit(**u) for u in payload.get("units", [])])


def landing_dir(landing_root: Path, source: str) -> Path:
    return landing_root / source


def land(
    file: SourceFile,
    landing_root: Path,
    *,
    max_bytes: int,
    timeout: float,
) -> Landed:
    """Fetch ``file`` to landing (skipped when unchanged) and prepare its CSV units.

    Spreadsheet sheets are converted to CSV here, at fetch time, so the DuckDB writer pool
    is not held while a spreadsheet is read. The list of units is written beside the file
    (``<name>.units.json``) for the load task.
    """
    folder = landing_dir(landing_root, file.source)
    target = folder / "files" / file.name
    row = fetch_to_landing(file.url, target, source=file.source, partition=f"{file.dataset}/{file.name}",
                           max_bytes=max_bytes, timeout=timeout)
    landed = Landed(file=file, path=str(target), sha256=row.sha256, status=row.status)
    extracted = folder / "extracted" / file.name
    source_path, source_label = target, file.name
    if file.member:
        if not zipfile.is_zipfile(target):
            raise LandingError(f"{file.url}: expected a zip archive holding {file.member}; got something else")
        source_path = extract_member(target, file.member, extracted / Path(file.member).name,
                                     max_member_bytes=max_bytes)
        source_label = f"{file.name}!{file.member}"
    if file.is_spreadsheet:
        names = spreadsheet_sheet_names(source_path)
        wanted = list(file.sheets) or [s for s in names if file.sheet_pattern and re.fullmatch(file.sheet_pattern, s)]
        absent = [s for s in file.sheets if s not in names]
        if absent or not wanted:
            raise LoadError(
                f"{source_label}: sheets {absent or file.sheet_pattern!r} not found; the workbook has {names}. "
                "Update the file's `sheets` or `sheet_pattern` in the configuration."
            )
        for sheet in wanted:
            out = extracted / (re.sub(r"[^A-Za-z0-9._-]+", "_", sheet) + ".csv")
            spreadsheet_sheet_to_csv(source_path, sheet, out)
            landed.units.append(Unit(file.dataset, str(out), f"{source_label}!{sheet}", sheet))
    else:
        landed.units.append(Unit(file.dataset, str(source_path), source_label))
    _write_units(folder, file.name, landed)
    return landed


def _write_units(folder: Path, name: str, landed: Landed) -> None:
    path = folder / "extracted" / f"{name}.units.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(landed.to_json(), indent=2))
    os.replace(tmp, path)


def write_units(landing_root: Path, landed: Landed) -> None:
    """Record ``landed`` (after a source changed its units, e.g. split a CSV by year)."""
    _write_units(landing_dir(landing_root, landed.file.source), landed.file.name, landed)


def read_landed(landing_root: Path, file: SourceFile) -> Landed | None:
    path = landing_dir(landing_root, file.source) / "extracted" / f"{file.name}.units.json"
    if not path.exists():
        return None
    return Landed.from_json(json.loads(path.read_text()))


def record_manifest(con: "duckdb.DuckDBPyConnection", landed: Landed) -> None:
    row = ManifestRow.read(Path(landed.path))
    if row is None:
        return
    con.execute(
        "insert or replace into raw.landing_manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp)",
        [row.source, row.partition, row.url, row.path, row.sha256, row.bytes, row.fetched_at,
         row.etag, row.last_modified, row.status],
    )


# --------------------------------------------------------------------------- spreadsheets

CALAMINE_HINT = (
    "reading ODS/XLSX needs the python-calamine package (PyPI `python-calamine`, 0.9): add it to "
    "pyproject.toml and requirements.lock, or configure the publisher's CSV edition instead"
)


def _calamine():
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:
        raise MissingDependency(CALAMINE_HINT) from exc
    return CalamineWorkbook


def spreadsheet_sheet_names(path: Path) -> list[str]:
    workbook = _calamine().from_path(str(path))
    return list(workbook.sheet_names)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def spreadsheet_sheet_to_csv(path: Path, sheet: str, target: Path) -> Path:
    """Write one sheet as UTF-8 CSV (integral numbers without '.0', dates ISO); notes rows are kept."""
    workbook = _calamine().from_path(str(path))
    rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            writer.writerow([_cell_text(v) for v in row])
    os.replace(tmp, target)
    return target


# --------------------------------------------------------------------------- the fetch and load loops


def fetch_files(files: Sequence[SourceFile], landing_root: Path, section: dict[str, Any]) -> list[Landed]:
    """Land every file; one the publisher has not published (yet) is logged and skipped."""
    from ingest.landing import NotPublished

    landed = []
    for file in files:
        try:
            landed.append(land(file, landing_root, max_bytes=int(section.get("max_file_bytes", 500_000_000)),
                               timeout=float(section.get("http_timeout_seconds", 120))))
        except NotPublished as exc:
            log.warning("%s: not published (%s); skipped", file.name, exc)
    return landed


def fetch_summary(landed: Sequence[Landed]) -> list[dict]:
    return [{"file": l.file.name, "status": l.status, "sha256": l.sha256, "units": [u.source_file for u in l.units]}
            for l in landed]


def load_landed(
    settings: Any,
    source: str,
    files: Sequence[SourceFile],
    load_unit: Any,
    ensure: Any,
    run_dir: Path | None = None,
) -> dict[str, dict]:
    """Load every landed unit of ``files``: ``load_unit(con, landed, unit, results_dir) -> LoadResult``.

    Each unit is its own transaction: a refused unit (changed columns, failed gate) keeps its
    previous rows and is reported, the others still load; raises at the end naming every failure.
    """
    from ingest.warehouse import connect

    results_dir = (run_dir or settings.paths.runs_dir / "gates") / source
    summary: dict[str, dict] = {}
    failures: list[str] = []
    with connect(settings) as con:
        ensure(con)
        for file in files:
            landed = read_landed(settings.paths.landing_dir, file)
            if landed is None:
                log.warning("%s: nothing landed (not published yet, or fetch not run); skipped", file.name)
                summary[file.name] = {"status": "absent"}
                continue
            record_manifest(con, landed)
            for unit in landed.units:
                try:
                    result = load_unit(con, landed, unit, results_dir)
                except Exception as exc:  # noqa: BLE001 - reported below with every unit's outcome
                    message = str(exc) if str(exc).startswith(unit.source_file) else f"{unit.source_file}: {exc}"
                    log.error("not loaded: %s", message)
                    failures.append(message)
                    continue
                summary[unit.source_file] = {
                    "status": "loaded", "table": result.table, "partition": result.label,
                    "rows_loaded": result.rows_loaded, "rows_rejected": result.rows_rejected,
                    "raw_rows": result.raw_rows, "values_repaired": result.values_repaired,
                    "gate_warnings": len(result.gate_warnings),
                }
    log.info("%s: %s", source, json.dumps(summary))
    if failures:
        raise LoadError(f"{source}: {len(failures)} file(s) not loaded (their previous rows are kept):\n  "
                        + "\n  ".join(failures))
    return summary


def configured_files(section: dict[str, Any], source: str, datasets: Iterable[str], year: int | None) -> list[SourceFile]:
    """The section's ``files`` entries, checked, optionally only those of ``year`` or earlier."""
    known = sorted(datasets)
    files = [SourceFile.from_config(source, entry, f"[{source}] files") for entry in section.get("files", [])]
    for file in files:
        if file.dataset not in known:
            raise LoadError(f"[{source}] file {file.name}: unknown dataset {file.dataset!r}; expected one of {known}")
    return [f for f in files if year is None or f.year is None or f.year <= year]
