"""Typed CSV loads with DuckDB's own reader: header check, lineage, rejects, partition replace.

The caller owns the transaction: ``replace_partition`` deletes a partition's rows
and inserts the file's, so wrapped in ``begin``/``commit`` a rerun gives the same
rows and a crash or a failed gate leaves the previous rows in place.

``replace_partitions`` does the same for many files at once (one file per partition,
e.g. every force's street file of a month): one ``read_csv([...], filename = true)``
statement, so DuckDB parses the files in parallel and the per-statement overhead is paid
once, not once per file. Each row's lineage (partition keys, source file) comes from a
small table keyed by the file path DuckDB reports for it; rejects are kept per file.
Headers are checked per file before anything is read (:func:`check_headers`).
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
class CsvFile:
    """One file to load as one partition: where it is and the lineage values of its rows."""

    path: Path
    label: str  # the name errors and rejects use, e.g. the archive member 2024-03/2024-03-kent-street.csv
    lineage: dict[str, object]  # every lineage column of the table, in table order (partition keys first)
    rejects_key: dict[str, str]  # dataset, force_id, month of raw.load_rejects


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


def _sql_text(value: object) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def _file_map(files: Sequence[CsvFile], name: str) -> str:
    """``MAP {'<path>': '<lineage value>', …}``: one lineage column's value for each file."""
    return "MAP {" + ", ".join(f"{_sql_text(str(f.path))}: {_sql_text(f.lineage[name])}" for f in files) + "}"


def check_headers(
    files: Sequence[CsvFile], columns: Sequence[TypedColumn], other_formats: dict[str, Sequence[str]] | None = None
) -> dict[str, LoadError]:
    """Check every file's header against the contract; return the refused files' errors by label.

    Reads one line per file, so it is cheap enough to run on every file before a batch load.
    """
    expected = [c.header for c in columns]
    refused: dict[str, LoadError] = {}
    for item in files:
        try:
            check_header(read_header(item.path, item.label), expected, item.label, other_formats)
        except LoadError as exc:
            refused[item.label] = exc
    return refused


def _partition_filter(files: Sequence[CsvFile], keys: Sequence[str]) -> tuple[str, list]:
    """``where`` clause matching exactly the files' partitions.

    Each key also gets a plain ``in`` list, which DuckDB pushes into the scan (zone maps), so
    replacing one month touches that month's row groups only, not the table's history.
    """
    clauses, params = [], []
    for key in keys:
        values = sorted({str(f.lineage[key]) for f in files})
        clauses.append(f"{quote_identifier(key)} in ({', '.join('?' * len(values))})")
        params += values
    combinations = 1
    for key in keys:
        combinations *= len({str(f.lineage[key]) for f in files})
    if len({tuple(str(f.lineage[k]) for k in keys) for f in files}) == combinations:
        return " and ".join(clauses), params  # the files cover every combination: the in-lists are exact
    struct = ", ".join(f"'{k}': {quote_identifier(k)}" for k in keys)
    rows = ", ".join("(" + ", ".join("?" * len(keys)) + ")" for _ in files)
    key_columns = ", ".join(quote_identifier(k) for k in keys)
    clauses.append(f"{{{struct}}} in (select {{{struct}}} from (values {rows}) as k({key_columns}))")
    params += [str(f.lineage[k]) for f in files for k in keys]
    return " and ".join(clauses), params


def replace_partitions(
    con: "duckdb.DuckDBPyConnection",
    *,
    table: str,
    columns: Sequence[TypedColumn],
    files: Sequence[CsvFile],
    partition_keys: Sequence[str] = ("_force_id", "_month"),
) -> dict[str, LoadResult]:
    """Replace one partition of ``raw.<table>`` per file, reading every file in one statement.

    Headers must have been checked (:func:`check_headers`). Every file's partition is deleted,
    the files are inserted with DuckDB's CSV reader (typed columns, rejects kept), each row
    tagged with its file's lineage; rows DuckDB cannot parse or cast go to ``raw.load_rejects``
    under their own file. The caller owns the transaction. Returns a result per file label.
    """
    if not files:
        return {}
    table = quote_identifier(table)
    lineage_names = list(files[0].lineage)
    for item in files:
        if list(item.lineage) != lineage_names:
            raise ValueError(f"{item.label}: lineage columns {list(item.lineage)} differ from {lineage_names}")
    for key in partition_keys:
        if key not in lineage_names:
            raise ValueError(f"partition key {key!r} is not a lineage column {lineage_names}")
    paths = [str(item.path) for item in files]
    if len(set(paths)) != len(paths):
        raise ValueError("a file is listed twice")

    where, where_params = _partition_filter(files, partition_keys)
    con.execute(f"delete from raw.{table} where {where}", where_params)
    con.execute(f"drop table if exists {REJECTS_TABLE}; drop table if exists {REJECTS_SCAN};")

    # The files' lineage, keyed by the path DuckDB reports in its `filename` column: a MAP lookup
    # per row rather than a join, so the insert keeps the files' row order and DuckDB writes the
    # row groups as it reads them (a join reorders rows and leaves work for the checkpoint).
    lineage_columns = ", ".join(f"l{i}" for i in range(len(lineage_names)))
    value_rows = ", ".join("(" + ", ".join("?" * (len(lineage_names) + 5)) + ")" for _ in files)
    value_params: list = []
    for item in files:
        value_params += [str(item.path), item.label, item.rejects_key["dataset"], item.rejects_key["force_id"],
                         item.rejects_key["month"], *[None if v is None else str(v) for v in item.lineage.values()]]
    files_cte = (
        f"files as (select * from (values {value_rows}) "
        f"as f(path, label, dataset, force_id, month, {lineage_columns}))"
    )
    lineage_sql = ", ".join(
        f"{_file_map(files, name)}[r.filename]::{'timestamp' if name == '_loaded_at' else 'varchar'} "
        f"as {quote_identifier(name)}"
        for name in lineage_names
    )
    source_columns = ", ".join(f"r.{quote_identifier(c.name)}" for c in columns)
    try:
        con.execute(
            f"""
            insert into raw.{table}
            select {source_columns}, {lineage_sql}
            from read_csv(
                ?, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
                columns = {_columns_literal(columns)}, filename = true,
                store_rejects = true, rejects_table = '{REJECTS_TABLE}', rejects_scan = '{REJECTS_SCAN}'
            ) as r
            """,
            [paths],
        )
    except Exception as exc:  # duckdb raises several error classes for an unreadable file
        raise LoadError(f"{', '.join(i.label for i in files[:3])}{'…' if len(files) > 3 else ''}: "
                        f"DuckDB could not read the files: {exc}") from exc

    rejected_keys = sorted({(i.rejects_key["dataset"], i.rejects_key["force_id"], i.rejects_key["month"]) for i in files})
    con.execute(
        "delete from raw.load_rejects where {'d': dataset, 'f': force_id, 'm': month} in "
        f"(select {{'d': d, 'f': f, 'm': m}} from (values {', '.join(['(?, ?, ?)'] * len(rejected_keys))}) as k(d, f, m))",
        [v for key in rejected_keys for v in key],
    )
    loaded_at = files[0].lineage.get("_loaded_at")
    con.execute(
        f"""
        insert into raw.load_rejects
        with {files_cte}
        select f.dataset, f.force_id, f.month, f.label, e.line, e.column_name, e.error_type::varchar,
               e.error_message, e.csv_line, ?::timestamp
        from {REJECTS_TABLE} as e
        join {REJECTS_SCAN} as s on e.scan_id = s.scan_id and e.file_id = s.file_id
        join files as f on s.file_path = f.path
        """,
        [*value_params, loaded_at],
    )
    rejected = dict(con.execute(
        f"""
        select s.file_path, count(distinct e.line)
        from {REJECTS_TABLE} as e
        join {REJECTS_SCAN} as s on e.scan_id = s.scan_id and e.file_id = s.file_id
        group by s.file_path
        """
    ).fetchall())
    # Rows per file, by the lineage value that tells files apart (the source file name).
    file_key = "_source_file" if "_source_file" in lineage_names else lineage_names[0]
    loaded = dict(con.execute(
        f"select {quote_identifier(file_key)}, count(*) from raw.{table} where {where} group by all", where_params
    ).fetchall())
    results = {}
    for item in files:
        rows_loaded = int(loaded.get(str(item.lineage.get(file_key)), 0))
        rows_rejected = int(rejected.get(str(item.path), 0))
        if rows_rejected:
            log.warning("%s: %d malformed rows kept in raw.load_rejects", item.label, rows_rejected)
        results[item.label] = LoadResult(table=table, source_file=item.label, rows_loaded=rows_loaded,
                                         rows_rejected=rows_rejected)
    return results
