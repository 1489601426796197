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

# Warehouse schema -> schema in the published file. The published file is named
# evidence.duckdb, so DuckDB names its catalog "evidence"; a schema of the same name
# would make every `evidence.<table>` ambiguous. The marts therefore go in the file's
# main schema, where `evidence.<table>` resolves through the catalog name (and the bare
# table name works too).
PUBLISHED_SCHEMAS = {"evidence": "main", "performance": "performance"}
# Where each published number came from: landed files, loads and refused rows.
LINEAGE_TABLES = {
    "landing_manifest": ("raw.landing_manifest", "One row per landed source file: its URL, sha256, size and when it was fetched."),
    "load_log": ("raw.load_log", "One row per dataset, force and month: the file loaded, rows loaded and rows rejected, or 'absent'."),
    "load_rejects": ("raw.load_rejects", "One row per problem in a refused CSV row: the file, line, column and DuckDB's reason."),
}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish(settings: Settings) -> Path:
    target = settings.paths.published
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.building")
    tmp.unlink(missing_ok=True)
    # Read the warehouse through a read-only attach; write the new file beside the published one.
    con = open_connection(Path(":memory:"), memory_limit=settings.duckdb.memory_limit, threads=settings.duckdb.threads)
    try:
        con.execute("attach ? as wh (read_only)", [str(settings.paths.warehouse)])
        con.execute("attach ? as pub", [str(tmp)])
        tables = con.execute(
            """
            select schema_name, table_name, comment from duckdb_tables()
            where database_name = 'wh' and schema_name in (select unnest(?::varchar[]))
            order by 1, 2
            """,
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
        if not tables:
            raise RuntimeError(f"{settings.paths.warehouse}: no tables in {PUBLISHED_SCHEMAS}; run dbt build first")
        con.execute("create schema if not exists pub.meta")
        for published_schema in sorted(set(PUBLISHED_SCHEMAS.values()) - {"main"}):
            con.execute(f"create schema if not exists pub.{quote_identifier(published_schema)}")
        for schema, table, comment in tables:
            source = f"wh.{quote_identifier(schema)}.{quote_identifier(table)}"
            name = f"pub.{quote_identifier(PUBLISHED_SCHEMAS[schema])}.{quote_identifier(table)}"
            con.execute(f"create table {name} as select * from {source}")
            if comment:
                con.execute(f"comment on table {name} is {_sql_string(comment)}")
            for column, column_comment in con.execute(
                """
                select column_name, comment from duckdb_columns()
                where database_name = 'wh' and schema_name = ? and table_name = ? and comment is not null
                """,
                [schema, table],
            ).fetchall():
                con.execute(f"comment on column {name}.{quote_identifier(column)} is {_sql_string(column_comment)}")
        for published_name, (source, description) in LINEAGE_TABLES.items():
            con.execute(f"create table pub.meta.{published_name} as select * from wh.{source}")
            con.execute(f"comment on table pub.meta.{published_name} is {_sql_string(description)}")
        con.execute(
            "create table pub.meta.publication as select ?::timestamp as published_at, ? as warehouse, ? as table_count",
            [datetime.now(timezone.utc).replace(tzinfo=None), str(settings.paths.warehouse), len(tables)],
        )
        con.execute("comment on table pub.meta.publication is 'When this file was published, and from which warehouse.'")
        con.execute("checkpoint pub")
        con.execute("detach pub")
        con.execute("detach wh")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(tmp, target)
    log.info("published %d tables to %s", len(tables), target)
    return target
