"""The typed load of files whose header is exactly the contract's (data.police.uk).

The caller owns the transaction: :func:`replace_partitions` deletes each file's partition and
inserts its rows, so wrapped in ``begin``/``commit`` a rerun gives the same rows and a crash,
a failed gate or a held file leaves the previous rows in place.

Many files are read in one ``read_csv([...], filename = true)`` statement (every force's street
file of a month), so DuckDB parses them in parallel and the per-statement cost is paid once.
Each row's lineage (partition keys, source file) comes from a MAP keyed by the file path DuckDB
reports for it; rejects are kept per file. Each file's records are counted from its bytes
(:mod:`ingest.raw.scan`: when the file was landed, or here if it changed since), and
:func:`problems` says whether its rows may replace the partition.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ingest.raw.contract import LoadError, TypedColumn, check_header, read_header_cells
from ingest.raw.scan import FileScan, LandedScan, scan_landed
from ingest.warehouse import quote_identifier

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

REJECTS_TABLE = "csv_reject_errors"  # temporary, per connection


REJECTS_SCAN = "csv_reject_scans"


@dataclass(frozen=True)
class CsvFile:
    """One file to load as one partition: where it is and the lineage values of its rows."""

    path: Path
    label: str  # the name errors and rejects use, e.g. the archive member 2024-03/2024-03-kent-street.csv
    lineage: dict[str, object]  # every lineage column of the table, in table order (partition keys first)
    rejects_key: dict[str, str]  # dataset, force_id, month of raw.load_rejects
    landed_scan: "LandedScan | None" = None  # counted when the file was landed (ingest.raw.scan)


@dataclass(frozen=True)
class FileResult:
    table: str
    source_file: str
    rows_loaded: int
    rows_rejected: int
    rows_in: int | None = None  # records in the file, counted from its bytes (scan_file)
    rows_before: int = 0  # rows the partition held before this load replaced them
    scan: "FileScan | None" = None
    reject_samples: tuple[str, ...] = ()  # "line N: DuckDB's reason", a few, for the operator

    @property
    def reject_share(self) -> float:
        return self.rows_rejected / self.rows_in if self.rows_in else 0.0

    @property
    def shrink_share(self) -> float:
        """How much smaller the new partition is than the one it replaces (0 when it grew)."""
        return max(0.0, 1 - self.rows_loaded / self.rows_before) if self.rows_before else 0.0


@dataclass(frozen=True)
class PartitionLimits:
    """When a new file may not replace its partition (config: ``[police_uk] max_reject_share``…)."""

    max_reject_share: float = 0.01
    max_shrink_share: float = 0.2


@dataclass(frozen=True)
class Problem:
    """Why a file's rows may not replace its partition.

    ``status`` is what the load log records: ``refused`` (the file is broken: two files joined, a
    quote never closed, a changed header) or ``held`` (the rows do not add up, or the file would
    replace good data with much less). ``acceptable``: an operator may load it anyway.
    """

    status: str
    reason: str
    acceptable: bool = False


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%" if share >= 0.001 or share == 0 else f"{100 * share:.2f}%"


def problems(result: FileResult, limits: PartitionLimits) -> list[Problem]:
    """What stops ``result`` from replacing its partition, most serious first (empty: it may)."""
    label = result.source_file
    found: list[Problem] = []
    broken = result.scan.broken_reason(label) if result.scan is not None else None
    if broken:
        found.append(Problem("refused", broken))
    if result.rows_in is not None and result.rows_loaded + result.rows_rejected != result.rows_in:
        missing = result.rows_in - result.rows_loaded - result.rows_rejected
        found.append(Problem("held", (
            f"{label}: the file holds {result.rows_in:,} rows but {result.rows_loaded:,} were loaded and "
            f"{result.rows_rejected:,} rejected: {abs(missing):,} rows {'unaccounted for' if missing > 0 else 'too many'} "
            "(a row DuckDB's reader skipped, e.g. a field over its line-size limit). Nothing from this "
            "file replaced the partition.")))
    if result.reject_share > limits.max_reject_share:
        found.append(Problem("held", (
            f"{label}: {result.rows_rejected:,} of {result.rows_in:,} rows ({_pct(result.reject_share)}) could "
            f"not be read (the limit is {_pct(limits.max_reject_share)}, max_reject_share)"
            + (f", e.g. {'; '.join(result.reject_samples)}" if result.reject_samples else "") + "."),
            acceptable=True))
    if result.shrink_share > limits.max_shrink_share:
        found.append(Problem("held", (
            f"{label}: would replace {result.rows_before:,} rows with {result.rows_loaded:,} "
            f"({_pct(result.shrink_share)} fewer; the limit is {_pct(limits.max_shrink_share)}, "
            "max_shrink_share)."), acceptable=True))
    return found


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
) -> FileResult:
    """Replace one partition of ``raw.<table>`` with the rows of ``csv_path``.

    ``partition`` maps lineage columns to the key (``{"_force_id": …, "_month": …}``);
    ``lineage`` holds every lineage column's value for the new rows, in table order;
    ``rejects_key`` is the (dataset, force_id, month, source_file) of ``raw.load_rejects``.
    Rows DuckDB cannot parse or cast go to ``raw.load_rejects`` with the reason.
    """
    table = quote_identifier(table)
    label = str(rejects_key.get("source_file", csv_path))
    check_header(read_header_cells(csv_path, label), [c.header for c in columns], label, other_formats)

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
        "delete from raw.load_rejects where dataset = ? and force_id = ? and month = ?",
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
    return FileResult(table=table, source_file=label, rows_loaded=int(rows_loaded), rows_rejected=int(rows_rejected))


def _sql_text(value: object) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def _file_map(files: Sequence[CsvFile], name: str) -> str:
    """``MAP {'<path>': '<lineage value>', …}``: one lineage column's value for each file."""
    return "MAP {" + ", ".join(f"{_sql_text(str(f.path))}: {_sql_text(f.lineage[name])}" for f in files) + "}"


def is_out_of_space(exc: BaseException) -> bool:
    text = str(exc)
    return any(sign in text for sign in ("No space left on device", "Disk full", "disk is full", "File too large"))


def read_failure_message(files: Sequence[CsvFile], scans: dict[str, FileScan], exc: BaseException) -> str:
    """Say what stopped DuckDB, in the operator's terms: the file and the real cause.

    DuckDB's CSV errors end with advice for its own options ("Possible fixes: … strict_mode"),
    which does not apply to a loader with a fixed contract: it is cut, and what the bytes show
    (two files joined, a quote never closed, line ends) is said instead.
    """
    names = f"{', '.join(i.label for i in files[:3])}{'…' if len(files) > 3 else ''}"
    if is_out_of_space(exc):
        return (f"{names}: the warehouse ran out of disk space while loading ({str(exc).splitlines()[0]}). "
                "Nothing was loaded and the previous rows are kept; free space on the warehouse's disk "
                "and rerun.")
    detail = str(exc).split("Possible fixes:")[0].strip()
    for item in files:
        reason = scans[item.label].broken_reason(item.label) if item.label in scans else None
        if reason:
            return f"{reason}. DuckDB stopped reading it: {detail.splitlines()[0] if detail else exc}"
    endings = {item.label: scans[item.label].line_endings for item in files if item.label in scans}
    mixed = [label for label, kind in endings.items() if kind == "mixed"]
    note = (f" ({', '.join(mixed[:3])} mixes CRLF and LF line ends, which DuckDB reads; the cause is "
            "elsewhere)") if mixed else ""
    return f"{names}: DuckDB could not read the file{'s' if len(files) > 1 else ''}: {detail}{note}"


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
            check_header(read_header_cells(item.path, item.label), expected, item.label, other_formats)
        except LoadError as exc:
            refused[item.label] = exc
    return refused


def replace_partitions(
    con: "duckdb.DuckDBPyConnection",
    *,
    table: str,
    columns: Sequence[TypedColumn],
    files: Sequence[CsvFile],
    partition_keys: Sequence[str] = ("_force_id", "_month"),
) -> dict[str, FileResult]:
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

    # Counted before DuckDB reads anything: the check that every row is accounted for, and the
    # signs of a broken file (two files joined, a quote never closed), come from the bytes. Most
    # were counted as the fetch landed them (outside the warehouse's one writer); a file changed
    # since, or landed without a count, is counted here. Reading and counting release the GIL
    # (file reads, numpy): two threads keep both cores busy.
    with ThreadPoolExecutor(max_workers=min(len(files), os.cpu_count() or 1, 4)) as pool:
        scans = dict(zip((item.label for item in files),
                         pool.map(lambda item: scan_landed(item.path, item.landed_scan), files)))

    where, where_params = _partition_filter(files, partition_keys)
    key_columns = ", ".join(quote_identifier(k) for k in partition_keys)
    before = {tuple(row[:-1]): int(row[-1]) for row in con.execute(
        f"select {key_columns}, count(*) from raw.{table} where {where} group by all", where_params
    ).fetchall()}
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
        raise LoadError(read_failure_message(files, scans, exc)) from exc

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
    samples: dict[str, list[str]] = {}
    if rejected:
        for path, line, message in con.execute(
            f"""
            select s.file_path, e.line, any_value(e.error_message)
            from {REJECTS_TABLE} as e
            join {REJECTS_SCAN} as s on e.scan_id = s.scan_id and e.file_id = s.file_id
            group by s.file_path, e.line qualify row_number() over (partition by s.file_path order by e.line) <= 3
            order by s.file_path, e.line
            """
        ).fetchall():
            samples.setdefault(path, []).append(f"line {line}: {message.splitlines()[0] if message else '?'}")
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
        scan = scans[item.label]
        results[item.label] = FileResult(
            table=table, source_file=item.label, rows_loaded=rows_loaded, rows_rejected=rows_rejected,
            rows_in=scan.records, rows_before=before.get(tuple(str(item.lineage[k]) for k in partition_keys), 0),
            scan=scan, reject_samples=tuple(samples.get(str(item.path), ())),
        )
    return results


@dataclass(frozen=True)
class HoldRules:
    """What decides whether a file may replace its partition: the limits, and the partitions an
    operator accepted despite a hold (``"force:YYYY-MM"``, as ``[police_uk] accept_held`` writes them)."""

    limits: PartitionLimits = PartitionLimits()
    accepted: frozenset[str] = frozenset()


def judge(result: FileResult, report, label: str, accept_key: str, rules: HoldRules) -> tuple[str, str | None, bool]:
    """(status, reason, may replace the partition) for one file's load and gate.

    ``label`` names the partition in the reason (``lancashire 2024-03``); ``accept_key`` is how an
    operator's acceptance names it (``lancashire:2024-03``).
    """
    from ingest.raw.gate import GateFailed

    found = problems(result, rules.limits)
    if not report.success:
        found.append(Problem("refused", str(GateFailed(report))))
    blocking = [p for p in found if not (p.acceptable and accept_key in rules.accepted)]
    if blocking:
        status = "refused" if any(p.status == "refused" for p in blocking) else "held"
        return status, "\n".join(f"{label} {status}: {p.reason}" for p in blocking), False
    if found:
        reason = "; ".join(p.reason for p in found)
        return "accepted", f"accepted by [police_uk] accept_held despite: {reason}", True
    return "loaded", None, True


def rollback_quietly(con: "duckdb.DuckDBPyConnection") -> None:
    """Roll back, saying nothing if DuckDB already ended the transaction (it does on a failed write)."""
    try:
        con.execute("rollback")
    except Exception:  # "cannot rollback - no transaction is active" would hide the real error
        pass

