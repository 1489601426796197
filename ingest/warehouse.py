"""The pipeline's DuckDB file: connections with the configured limits, and the raw-layer DDL.

Only one process may write the file at a time: every Airflow task that calls
``connect()`` runs in the ``duckdb_writer`` pool (1 slot), and ``connect()`` waits (up to
``[duckdb] lock_wait_seconds``) for a process outside the pool that holds the file.
"""

from __future__ import annotations

import logging
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TYPE_CHECKING

if TYPE_CHECKING:  # duckdb is imported lazily so DAG files parse fast
    import duckdb

log = logging.getLogger(__name__)

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

# Tables every source shares: what was landed, what was loaded, what was refused.
SHARED_RAW_DDL = """
create schema if not exists raw;
create table if not exists raw.landing_manifest (
    source varchar not null,
    partition varchar not null,
    url varchar not null,
    path varchar not null,
    sha256 varchar not null,
    bytes bigint not null,
    fetched_at varchar not null,
    etag varchar,
    last_modified varchar,
    status varchar not null,
    recorded_at timestamp not null,
    primary key (source, partition)
);
create table if not exists raw.load_log (
    dataset varchar not null,
    force_id varchar not null,
    month varchar not null,
    source_file varchar,
    archive_sha256 varchar,
    status varchar not null,            -- loaded | accepted | absent | held | refused
    rows_loaded bigint not null,        -- rows the partition holds after this attempt
    rows_rejected bigint not null,
    loaded_at timestamp not null,
    primary key (dataset, force_id, month)
);
-- Added after the first release: an existing warehouse gains them on its next connection.
alter table raw.load_log add column if not exists rows_in bigint;    -- records in the file, counted from its bytes
alter table raw.load_log add column if not exists reason varchar;    -- why it was held, refused or accepted
create table if not exists raw.load_rejects (
    dataset varchar not null,
    force_id varchar not null,
    month varchar not null,
    source_file varchar not null,
    line bigint,
    column_name varchar,
    error_type varchar,
    error_message varchar,
    csv_line varchar,
    _loaded_at timestamp not null
);
"""


LOAD_LOG_COLUMNS = ("dataset", "force_id", "month", "source_file", "archive_sha256", "status", "rows_loaded",
                    "rows_rejected", "loaded_at", "rows_in", "reason")


def record_loads(con: "duckdb.DuckDBPyConnection", rows: list[dict]) -> None:
    """Write ``raw.load_log`` rows (one per dataset, force and month; the latest attempt wins).

    Each row is a dict of :data:`LOAD_LOG_COLUMNS`; ``rows_in`` and ``reason`` may be left out.
    """
    if not rows:
        return
    columns = ", ".join(LOAD_LOG_COLUMNS)
    values = ", ".join(["(" + ", ".join("?" * len(LOAD_LOG_COLUMNS)) + ")"] * len(rows))
    con.execute(f"insert or replace into raw.load_log ({columns}) values {values}",
                [row.get(column) for row in rows for column in LOAD_LOG_COLUMNS])


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (for statements that take no parameters, e.g. COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """Return ``name`` for use in SQL, refusing anything that is not a plain identifier."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain SQL identifier")
    return name


def column_types(con, database: str, schema: str, table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of ``database.schema.table``, in the table's column order."""
    return [tuple(row) for row in con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = ? "
        "and table_name = ? order by column_index", [database, schema, table]).fetchall()]


def column_comments(con, database: str, schema: str, table: str) -> dict[str, str | None]:
    """Column -> comment of ``database.schema.table``, in the table's column order."""
    return dict(con.execute(
        "select column_name, comment from duckdb_columns() where database_name = ? and schema_name = ? "
        "and table_name = ? order by column_index", [database, schema, table]).fetchall())


def sync_comments(con, source: tuple[str, str, str], target: tuple[str, str, str], table_comment: str | None) -> None:
    """Give table ``target`` = (database, schema, table) ``table_comment`` and the column comments of
    ``source`` = (database, schema, table), setting only those that differ: a copy keeps its
    documentation, and a published copy that mostly has it already is not written again (comments
    cost a catalog write each)."""
    name = ".".join(quote_identifier(part) for part in target)
    (current,) = con.execute(
        "select comment from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
        list(target)).fetchone()
    table_comment = table_comment or None
    if table_comment != (current or None):  # a description taken away is taken away here too
        con.execute(f"comment on table {name} is {sql_string(table_comment) if table_comment else 'null'}")
    present = column_comments(con, *target)
    for column, comment in column_comments(con, *source).items():
        if column in present and (present[column] or None) != (comment or None):
            con.execute(f"comment on column {name}.{quote_identifier(column)} is "
                        f"{sql_string(comment) if comment else 'null'}")


def row_fingerprints(con, relation: str, by: str | None = None) -> dict:
    """``by``'s value (or None for the whole relation) -> (rows, sum of the rows' hashes): equal for two
    relations holding the same rows, in any order, whichever copy of a duplicate row is where.

    A sum rather than an xor, so that two copies of a row do not cancel out. ``relation`` and ``by``
    are SQL (a quoted table name, a quoted column); DuckDB's ``hash`` is only compared within a
    version of DuckDB, so a fingerprint kept in a file also records :data:`duckdb.__version__`."""
    part = by if by is not None else "null"
    return {key: (rows, int(total)) for key, rows, total in con.execute(
        f"select {part}, count(*), sum(hash(r)) from {relation} as r group by 1").fetchall()}


def temp_directory(settings) -> Path:
    """Where DuckDB spills when a query needs more than ``memory_limit``: ``<warehouse>.tmp``.

    DuckDB's own default for a database file, used by every connection the platform opens
    (loader, gates, dbt, publish), on the same disk as the warehouse, so a 2-core,
    small-memory host spills instead of swapping.
    """
    return settings.paths.warehouse.with_name(settings.paths.warehouse.name + ".tmp")


def open_connection(
    path: Path,
    *,
    memory_limit: str = "2GB",
    threads: int = 2,
    read_only: bool = False,
    temp_dir: Path | None = None,
    lock_wait_seconds: float = 0.0,
) -> "duckdb.DuckDBPyConnection":
    """A DuckDB connection with the configured limits, set before any query runs.

    When another process holds the file, retry for up to ``lock_wait_seconds`` before
    raising :class:`WarehouseBusy`.
    """
    import duckdb

    if not read_only and str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": str(memory_limit), "threads": int(threads)}
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(temp_dir)
    deadline = time.monotonic() + lock_wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
            break
        except duckdb.IOException as exc:
            # DuckDB lets one process write a file; a second one is refused at once. The Airflow pool
            # serialises our tasks, but a manual rerun, a backfill outside the pool or a stuck
            # process can still overlap: wait for the writer to finish rather than fail.
            if not is_lock_conflict(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WarehouseBusy(
                    f"{path}: another process holds the DuckDB file ({_holder(exc)}); waited "
                    f"{lock_wait_seconds:g} s ([duckdb] lock_wait_seconds). Nothing was changed; "
                    "rerun the task when that process has finished."
                ) from exc
            if delay == 0.05:  # once per open, not once per retry
                log.info("%s is locked by another process (%s); waiting up to %g s", path, _holder(exc),
                         lock_wait_seconds)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 2.0)
    con.execute("set TimeZone = 'UTC'")
    return con


class WarehouseBusy(RuntimeError):
    """Another process held the DuckDB file for longer than ``[duckdb] lock_wait_seconds``."""


def is_lock_conflict(exc: BaseException) -> bool:
    return "Could not set lock on file" in str(exc)


def _holder(exc: BaseException) -> str:
    match = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", str(exc))
    return f"{match.group(1)} PID {match.group(2)}" if match else "a conflicting lock"


def connection_settings(settings) -> dict:
    """``open_connection`` keyword arguments from the platform settings ([duckdb] and the work dir)."""
    return {
        "memory_limit": settings.duckdb.memory_limit,
        "threads": settings.duckdb.threads,
        "temp_dir": temp_directory(settings),
        "lock_wait_seconds": settings.duckdb.lock_wait_seconds,
    }


@contextmanager
def connect(settings, *, read_only: bool = False) -> Iterator["duckdb.DuckDBPyConnection"]:
    """Open the warehouse named in ``settings`` and make sure the shared raw tables exist."""
    con = open_connection(settings.paths.warehouse, read_only=read_only, **connection_settings(settings))
    try:
        if not read_only:
            con.execute(SHARED_RAW_DDL)
        yield con
    finally:
        con.close()
