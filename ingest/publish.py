"""Publish the evidence marts to the analysts' read-only file, atomically.

The file is built beside the published one and renamed over it, so an analyst who
has the old file open keeps a consistent view, and the next open sees the new data.
Only the marts (``evidence.*``) and the lineage tables (``meta.*``) are published;
table and column documentation travels with them as DuckDB comments.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from ingest.config import Settings
from ingest.warehouse import open_connection, quote_identifier

log = logging.getLogger(__name__)

PUBLISHED_SCHEMAS = ("evidence",)
# Where each published number came from: landed files, loads and refused rows.
LINEAGE_TABLES = {"landing_manifest": "raw.landing_manifest", "load_log": "raw.load_log", "load_rejects": "raw.load_rejects"}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish(settings: Settings) -> Path:
    target = settings.paths.published
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.building")
    tmp.unlink(missing_ok=True)
    con = open_connection(
        settings.paths.warehouse, memory_limit=settings.duckdb.memory_limit, threads=settings.duckdb.threads, read_only=True
    )
    try:
        con.execute("attach ? as pub", [str(tmp)])
        tables = con.execute(
            """
            select schema_name, table_name, comment from duckdb_tables()
            where database_name = current_database() and schema_name in (select unnest(?::varchar[]))
            order by 1, 2
            """,
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
        if not tables:
            raise RuntimeError(f"{settings.paths.warehouse}: no tables in {PUBLISHED_SCHEMAS}; run dbt build first")
        for schema in {s for s, _, _ in tables} | {"meta"}:
            con.execute(f"create schema if not exists pub.{quote_identifier(schema)}")
        for schema, table, comment in tables:
            name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            con.execute(f"create table pub.{name} as select * from {name}")
            if comment:
                con.execute(f"comment on table pub.{name} is {_sql_string(comment)}")
            for column, column_comment in con.execute(
                """
                select column_name, comment from duckdb_columns()
                where database_name = current_database() and schema_name = ? and table_name = ? and comment is not null
                """,
                [schema, table],
            ).fetchall():
                con.execute(f"comment on column pub.{name}.{quote_identifier(column)} is {_sql_string(column_comment)}")
        for published_name, source in LINEAGE_TABLES.items():
            con.execute(f"create table pub.meta.{published_name} as select * from {source}")
        con.execute(
            "create table pub.meta.publication as select ?::timestamp as published_at, ? as warehouse, ? as table_count",
            [datetime.now(timezone.utc).replace(tzinfo=None), str(settings.paths.warehouse), len(tables)],
        )
        con.execute("comment on table pub.meta.publication is 'When this file was published, and from which warehouse.'")
        con.execute("detach pub")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(tmp, target)
    log.info("published %d tables to %s", len(tables), target)
    return target
