"""What a raw table accepts from a publisher's file, and how a file's header is checked against it.

Two ways to read a header, for two kinds of publisher:
* exactly (:class:`TypedColumn`, :func:`check_header`): data.police.uk writes the same header
  every month, so anything else — a renamed column, the 2011 layout — is refused by name;
* by pattern (:class:`Contract`, :func:`match_header`): ONS and the Home Office rename columns
  between releases (``LAD19CD`` → ``LAD23CD``), move their id column and put notes above the
  header, so each contract column is found by a regular expression wherever it stands, and a
  file with an unknown column or without a required one is refused, naming both.

Only the standard library is imported (DAG files import source modules).
"""

from __future__ import annotations

import csv
import enum
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from ingest.warehouse import SHARED_RAW_DDL, quote_identifier

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

class LoadError(RuntimeError):
    """A file cannot be loaded as it stands; nothing from it was loaded."""


class HeaderError(LoadError):
    """The file's columns are not the contract's; nothing was loaded from it."""


LINEAGE_TAIL: tuple[tuple[str, str], ...] = (
    ("_source_file", "VARCHAR"),  # landed file name (plus !sheet for a spreadsheet sheet)
    ("_file_sha256", "VARCHAR"),  # sha256 of the landed file as published
    ("_loaded_at", "TIMESTAMP"),  # UTC
)


HEADER_SCAN_LINES = 60  # notes above a header: the real MYE export has 7


DUCKDB_TYPES = {"VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "DATE", "BOOLEAN", "TIMESTAMP"}


# --------------------------------------------------------------------------- exact headers


@dataclass(frozen=True)
class TypedColumn:
    header: str
    name: str
    duckdb_type: str


def read_header_cells(path: Path, label: str) -> list[str]:
    """The first line of a CSV as a list of names (BOM and CR tolerated)."""
    with path.open("rb") as handle:
        first = handle.readline(1 << 16)
    if not first:
        raise LoadError(f"{label}: the file is empty (no header row)")
    if b"\x00" in first:
        raise LoadError(f"{label}: the header contains NUL bytes; the file is not a text CSV")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{label}: the header is not UTF-8 ({exc}); expected the publisher's UTF-8 CSV") from exc
    return [name.strip().strip('"') for name in text.rstrip("\r\n").split(",")]


def column_differences(expected: Sequence[str], found: Sequence[str]) -> str:
    """``missing columns [...]; unexpected columns [...]`` or the order found; empty when they agree."""
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    detail = []
    if missing:
        detail.append(f"missing columns {missing}")
    if unexpected:
        detail.append(f"unexpected columns {unexpected}")
    if not detail and list(expected) != list(found):
        detail.append(f"columns in a different order: found {list(found)}")
    return "; ".join(detail)


def check_header(
    found: Sequence[str], expected: Sequence[str], label: str, other_formats: dict[str, Sequence[str]] | None = None
) -> None:
    """Refuse a file whose header is not exactly the contract's, naming what differs.

    ``other_formats`` names layouts the publisher used before (refused by name, so the
    person reading the error knows what they are looking at).
    """
    if list(found) == list(expected):
        return
    for description, header in (other_formats or {}).items():
        if list(found) == list(header):
            raise LoadError(
                f"{label}: this file is in {description}, which this loader does not read. "
                "Nothing was loaded from it; fetch the month again from the current archive, "
                "which re-issues old months in the current layout."
            )
    raise LoadError(
        f"{label}: header does not match the contract ({column_differences(expected, found)}). "
        f"Expected exactly: {','.join(expected)}. Nothing was loaded from this file; "
        "if the publisher changed the format, update the contract and the models together."
    )


# --------------------------------------------------------------------------- headers matched by pattern


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
    # Full match on the stripped header cell, case-insensitive; by default the column's own name
    # (an office template or a file the platform writes, whose header is the raw column's name).
    pattern: str = ""
    duckdb_type: str = "VARCHAR"
    required: bool = True
    clean: Clean = Clean.NONE
    description: str = ""

    def __post_init__(self) -> None:
        if not self.pattern:
            object.__setattr__(self, "pattern", re.escape(self.name))  # frozen: set once, here


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
    """Create the shared raw tables and these contracts' tables (idempotent); a table made by an
    earlier contract that lacked some of today's columns is brought up to date (``migrate_table``)."""
    con.execute(SHARED_RAW_DDL)
    for contract in contracts:
        con.execute(contract.ddl())
        migrate_table(con, contract)


def migrate_table(con: "duckdb.DuckDBPyConnection", contract: Contract) -> None:
    """A raw table created before its contract gained columns (an optional column added to a
    template, say) is rebuilt in the contract's column order, which the suites check, its rows
    kept and the new columns empty. A table that already has every column is left alone."""
    table = quote_identifier(contract.table)
    present = {name for (name,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = ?", [contract.table]
    ).fetchall()}
    missing = [name for name, _ in contract.raw_columns() if name not in present]
    if not missing:
        return
    before = quote_identifier(f"{contract.table}__before_migration")
    con.execute(f"alter table raw.{table} rename to {before}")
    con.execute(contract.ddl())
    kept = ", ".join(quote_identifier(name) for name, _ in contract.raw_columns() if name in present)
    con.execute(f"insert into raw.{table} by name select {kept} from raw.{before}")
    con.execute(f"drop table raw.{before}")
    log.info("raw.%s: added %s (%s rows kept)", contract.table, ", ".join(missing),
             con.execute(f"select count(*) from raw.{table}").fetchone()[0])


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
