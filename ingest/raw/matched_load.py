"""The typed load of files whose columns are found by pattern and cleaned (ONS, Home Office, the office's templates).

Reference publishers write numbers as formatted text (``" \\t60,238,038 "``), dates as
dd-mm-yyyy, Welsh names double-encoded (``Ynys MÃ´n``) and families of measure columns (single
years of age). So a load here:

* reads the file with DuckDB's CSV reader and explicit types, under the columns
  :func:`ingest.raw.contract.match_header` found; rows DuckDB cannot parse go to
  ``raw.load_rejects`` with DuckDB's reason;
* cleans, in SQL, what DuckDB cannot type directly; a row whose value still does not clean is
  rejected whole, with the column and the value;
* can unpivot a family of measure columns into rows, so a new category is data, not a schema change;
* replaces the partition, gates it with the table's suite (:mod:`ingest.raw.gate`) and records
  ``raw.load_log``, all in one transaction: a failure leaves the previous rows.

Rows of ``raw.load_log`` and ``raw.load_rejects`` are keyed by ``dataset`` = raw table,
``force_id`` = ``all`` (these files cover every force) and ``month`` = the partition label
(``2019``, ``2022/persons``, ``2023/24``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.raw.contract import (
    Clean,
    Contract,
    HeaderError,
    HeaderMatch,
    LoadError,
    match_header,
    read_header,
)
from ingest.raw.landing import check_text_file
from ingest.warehouse import quote_identifier, record_loads

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

ALL_FORCES = "all"  # raw.load_log / raw.load_rejects force_id for files that cover every force


_REJECTS = "ref_reject_errors"


_REJECT_SCANS = "ref_reject_scans"


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
        record_loads(con, [{"dataset": contract.table, "force_id": ALL_FORCES, "month": result.label,
                            "source_file": source_file, "archive_sha256": file_sha256, "status": "loaded",
                            "rows_loaded": result.rows_loaded, "rows_rejected": result.rows_rejected,
                            "loaded_at": loaded_at}])
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
