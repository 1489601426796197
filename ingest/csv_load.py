"""Typed CSV loads with DuckDB's own reader: header check, lineage, rejects, partition replace.

The caller owns the transaction: ``replace_partition`` deletes a partition's rows
and inserts the file's, so wrapped in ``begin``/``commit`` a rerun gives the same
rows and a crash or a failed gate leaves the previous rows in place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ingest.warehouse import quote_identifier

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

REJECTS_TABLE = "csv_reject_errors"  # temporary, per connection
REJECTS_SCAN = "csv_reject_scans"


class LoadError(RuntimeError):
    """A file cannot be loaded as it stands; nothing from it was loaded."""


@dataclass(frozen=True)
class TypedColumn:
    header: str
    name: str
    duckdb_type: str


@dataclass(frozen=True)
class LoadResult:
    table: str
    source_file: str
    rows_loaded: int
    rows_rejected: int


def read_header(path: Path, label: str) -> list[str]:
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
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    detail = []
    if missing:
        detail.append(f"missing columns {missing}")
    if unexpected:
        detail.append(f"unexpected columns {unexpected}")
    if not detail:
        detail.append(f"columns in a different order: found {list(found)}")
    raise LoadError(
        f"{label}: header does not match the contract ({'; '.join(detail)}). "
        f"Expected exactly: {','.join(expected)}. Nothing was loaded from this file; "
        "if the publisher changed the format, update the contract and the models together."
    )


def _columns_literal(columns: Sequence[TypedColumn]) -> str:
    # Names and types come from the contract in code, never from configuration or files.
    parts = []
    for column in columns:
        quote_identifier(column.name)
        if not column.duckdb_type.replace(" ", "").isalpha():
            raise ValueError(f"unexpected type {column.duckdb_type!r}")
        parts.append(f"'{column.name}': '{column.duckdb_type}'")
    return "{" + ", ".join(parts) + "}"


def replace_partition(
    con: "duckdb.DuckDBPyConnection",
    *,
    table: str,
    columns: Sequence[TypedColumn],
    csv_path: Path,
    partition: dict[str, str],
    lineage: dict[str, object],
    rejects_key: dict[str, str],
    other_formats: dict[str, Sequence[str]] | None = None,
) -> LoadResult:
    """Replace one partition of ``raw.<table>`` with the rows of ``csv_path``.

    ``partition`` maps lineage columns to the key (``{"_force_id": …, "_month": …}``);
    ``lineage`` holds every lineage column's value for the new rows, in table order;
    ``rejects_key`` is the (dataset, force_id, month, source_file) of ``raw.load_rejects``.
    Rows DuckDB cannot parse or cast go to ``raw.load_rejects`` with the reason.
    """
    table = quote_identifier(table)
    label = str(rejects_key.get("source_file", csv_path))
    check_header(read_header(csv_path, label), [c.header for c in columns], label, other_formats)

    key_sql = " and ".join(f"{quote_identifier(k)} = ?" for k in partition)
    con.execute(f"delete from raw.{table} where {key_sql}", list(partition.values()))
    con.execute(f"drop table if exists {REJECTS_TABLE}; drop table if exists {REJECTS_SCAN};")

    lineage_sql = ", ".join(f"?::{'timestamp' if k == '_loaded_at' else 'varchar'} as {quote_identifier(k)}" for k in lineage)
    try:
        (rows_loaded,) = con.execute(
            f"""
            insert into raw.{table}
            select *, {lineage_sql}
            from read_csv(
                ?, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
                columns = {_columns_literal(columns)},
                store_rejects = true, rejects_table = '{REJECTS_TABLE}', rejects_scan = '{REJECTS_SCAN}'
            )
            """,
            [*lineage.values(), str(csv_path)],
        ).fetchall()[0]
    except Exception as exc:  # duckdb raises several error classes for an unreadable file
        raise LoadError(f"{label}: DuckDB could not read the file: {exc}") from exc

    con.execute(
        f"delete from raw.load_rejects where dataset = ? and force_id = ? and month = ?",
        [rejects_key["dataset"], rejects_key["force_id"], rejects_key["month"]],
    )
    con.execute(
        f"""
        insert into raw.load_rejects
        select ?, ?, ?, ?, line, column_name, error_type::varchar, error_message, csv_line, ?::timestamp
        from {REJECTS_TABLE}
        """,
        [rejects_key["dataset"], rejects_key["force_id"], rejects_key["month"], label, lineage.get("_loaded_at")],
    )
    (rows_rejected,) = con.execute(f"select count(distinct line) from {REJECTS_TABLE}").fetchall()[0]
    if rows_rejected:
        log.warning("%s: %d malformed rows kept in raw.load_rejects", label, rows_rejected)
    return LoadResult(table=table, source_file=label, rows_loaded=int(rows_loaded), rows_rejected=int(rows_rejected))
