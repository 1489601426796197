"""The pipeline's DuckDB file: connections with the configured limits, and the raw-layer DDL.

Only one process may write the file at a time: every Airflow task that calls
``connect()`` runs in the ``duckdb_writer`` pool (1 slot).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TYPE_CHECKING

if TYPE_CHECKING:  # duckdb is imported lazily so DAG files parse fast
    import duckdb

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
    status varchar not null,            -- loaded | absent
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    loaded_at timestamp not null,
    primary key (dataset, force_id, month)
);
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


def quote_identifier(name: str) -> str:
    """Return ``name`` for use in SQL, refusing anything that is not a plain identifier."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain SQL identifier")
    return name


def open_connection(path: Path, *, memory_limit: str = "2GB", threads: int = 2, read_only: bool = False) -> "duckdb.DuckDBPyConnection":
    import duckdb

    if not read_only and str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("set memory_limit = ?", [memory_limit])
    con.execute("set threads = ?", [threads])
    con.execute("set TimeZone = 'UTC'")
    return con


@contextmanager
def connect(settings, *, read_only: bool = False) -> Iterator["duckdb.DuckDBPyConnection"]:
    """Open the warehouse named in ``settings`` and make sure the shared raw tables exist."""
    con = open_connection(
        settings.paths.warehouse,
        memory_limit=settings.duckdb.memory_limit,
        threads=settings.duckdb.threads,
        read_only=read_only,
    )
    try:
        if not read_only:
            con.execute(SHARED_RAW_DDL)
        yield con
    finally:
        con.close()
