"""Publish the evidence marts to the analysts' read-only file, atomically.

The file is built beside the published one and renamed over it, so an analyst who
has the old file open keeps a consistent view, and the next open sees the new data.
Only the marts (``evidence.*``, ``performance.*``) and the lineage tables (``meta.*``) are
published; table and column documentation travels with them as DuckDB comments (the marts'
from dbt's yml, the lineage tables' from :data:`META_TABLES` here), so every published table
and column is described.

A new publication starts from a copy of the previous file and rewrites only what differs from
the warehouse: a mart's months (``month_start``) whose rows changed, a whole mart without that
column when any of its rows did, a mart whose columns changed. The two sides are compared by
fingerprint (rows and the sum of their hashes, per month): the warehouse's rows are read once, the
published side's fingerprints are those the previous publication kept beside its file, and only the
changed rows are written, so a new month's publication does not copy the history it carries.

The same step writes the exports beside the file (``parquet/``, ``exports/``; see
``ingest/exports.py``) from the new file, and swaps them in together with it: everything is
built first, and only when all of it succeeded are the folders and the file renamed into
place, so a failure leaves the previous publication whole.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import date, datetime, timezone
from pathlib import Path

from ingest import exports
from ingest.config import Settings
from ingest.gate_pages import gate_report_links
from ingest.raw.landing import swap_in, write_json_atomically
from ingest.warehouse import (column_types, open_connection, quote_identifier, row_fingerprints, sql_string,
                              sync_comments)

log = logging.getLogger(__name__)

# Warehouse schema -> schema in the published file. The published file is named
# evidence.duckdb, so DuckDB names its catalog "evidence"; a schema of the same name
# would make every `evidence.<table>` ambiguous. The marts therefore go in the file's
# main schema, where `evidence.<table>` resolves through the catalog name (and the bare
# table name works too).
PUBLISHED_SCHEMAS = {"evidence": "main", "performance": "performance"}

# Where each published number came from: landed files, loads and refused rows, and the publication
# itself. Published table -> (warehouse table or None, description, {column: description}). Every
# column is described here: tests/unit/test_exports.py compares this with the raw tables' DDL.
META_TABLES: dict[str, tuple[str | None, str, dict[str, str]]] = {
    "landing_manifest": ("raw.landing_manifest", "One row per landed source file: its URL, sha256, size and when it was fetched.", {
        "source": "The source the file belongs to (police_uk, ons_geography, finance, ...), as in ingest/sources/.",
        "partition": "The file's partition within its source: the month (YYYY-MM) for police.uk archives, else the vintage, year or survey.",
        "url": "Where the file was fetched from (user, password and secret-looking query parameters removed).",
        "path": "Where the landed file is kept on the pipeline's machine.",
        "sha256": "SHA-256 of the landed file's bytes, to tell a re-issued file from the one loaded before.",
        "bytes": "Size of the landed file in bytes.",
        "fetched_at": "When the file was fetched (ISO 8601, UTC), as written in its manifest.",
        "etag": "The publisher's ETag for the file, used to skip an unchanged download; empty when the publisher sends none.",
        "last_modified": "The publisher's Last-Modified header for the file; empty when the publisher sends none.",
        "status": "fetched (downloaded this time) or unchanged (the publisher said it had not changed, so the earlier copy was kept).",
        "recorded_at": "When the loader copied the manifest into the warehouse (UTC).",
    }),
    "load_log": ("raw.load_log", "One row per dataset, force and month: the file loaded, rows loaded and rows rejected, or 'absent'.", {
        "dataset": "The raw table loaded (police_uk_street, ons_lsoa_lad_lookup, finance_funding, ...).",
        "force_id": "data.police.uk force id of the partition, or 'all' for a source that is not split by force.",
        "month": "The partition: YYYY-MM for police.uk, else the partition's values joined by '/' (vintage, financial year, survey, ...).",
        "source_file": "The file (archive member, sheet or document) the rows came from.",
        "archive_sha256": "SHA-256 of the landed file the rows came from (see landing_manifest.sha256).",
        "status": "loaded; accepted (loaded although held, because [police_uk] accept_held names it); absent (the publisher's "
                  "archive had no such file); held (the rows do not add up: not loaded) or refused (a broken file or a "
                  "failed gate: not loaded). Unless loaded or accepted, the partition's earlier rows are kept.",
        "rows_loaded": "Rows the partition holds after this attempt (the earlier rows when it was absent, held or refused).",
        "rows_rejected": "Rows DuckDB refused while reading the file; each problem is in load_rejects.",
        "loaded_at": "When the partition was loaded or tried (UTC); the loaded rows' _loaded_at.",
        "rows_in": "Records in the file, counted from its bytes, so every row is accounted for as loaded or rejected; "
                   "empty where the loader does not count them.",
        "reason": "Why the partition was held, refused or accepted; empty when it loaded cleanly.",
        "gate_report": "The page showing this partition's data-quality gate, relative to the folder holding this file "
                       "(docs/gates/...html#...), written by `make docs`; empty when no gate result was kept.",
    }),
    "load_rejects": ("raw.load_rejects", "One row per problem in a refused CSV row: the file, line, column and DuckDB's reason.", {
        "dataset": "The raw table the row was meant for.",
        "force_id": "data.police.uk force id of the partition, or 'all'.",
        "month": "The partition, as in load_log.month.",
        "source_file": "The file holding the refused row.",
        "line": "Line number of the refused row in the file.",
        "column_name": "The column DuckDB could not read, where it names one.",
        "error_type": "DuckDB's kind of error (CAST, MISSING COLUMNS, TOO MANY COLUMNS, UNQUOTED VALUE, ...).",
        "error_message": "DuckDB's message for the problem.",
        "csv_line": "The refused line as it was in the file.",
        "_loaded_at": "When the load that refused the row ran (UTC).",
    }),
    "publication": (None, "When this file was published, from which warehouse, and whether its data are synthetic.", {
        "published_at": "When this file was published (UTC).",
        "warehouse": "The pipeline's warehouse file the tables were copied from.",
        "table_count": "Number of marts published (main and performance schemas).",
        "is_synthetic": "True when the data came from the demo's generated sample files (var/sample), not from any "
                        "publisher: no figure in the file is real. A report or export must say so wherever it shows one.",
        "synthetic_notice": "The sentence to show beside any figure when is_synthetic (NULL for real data).",
    }),
}

# Shown wherever data published from the bundled samples could be mistaken for real figures.
SYNTHETIC_NOTICE = ("Synthetic demonstration data: every figure here was generated from the platform's bundled "
                    "sample files, not published by the police, the Home Office, ONS or HMICFRS, and describes no "
                    "real force, area or person. Do not quote it.")

# The column a mart's rows are replaced by when only some of them changed: the month a row counts
# (the Parquet exports split by its year). A mart without it is replaced whole when any row changed.
PARTITION_COLUMN = exports.MONTH_COLUMN

PARQUET_DIR = "parquet"
EXPORTS_DIR = "exports"


def is_synthetic(settings: Settings) -> bool:
    """Whether the warehouse was filled from the demo's generated samples rather than any publisher.

    ``[publication] synthetic = true|false`` in the config decides when present; otherwise the data
    are synthetic when the police.uk archives are read from the sample folder (``[sample] out_dir``,
    ``var/sample/...``), as config/demo.toml does."""
    section = settings.sections.get("publication")
    if isinstance(section, dict) and "synthetic" in section:
        return bool(section["synthetic"])
    from urllib.parse import unquote, urlparse

    url = settings.police_uk.archive_url.replace("{root}", str(settings.root))
    parsed = urlparse(url)
    if parsed.scheme.lower() != "file":
        return False
    out_dir = Path(str(settings.sample.get("out_dir") or "var/sample/police_uk"))
    sample_root = (out_dir if out_dir.is_absolute() else settings.root / out_dir).parent
    archive = Path(unquote(parsed.path))
    try:
        return archive.resolve().is_relative_to(sample_root.resolve())
    except OSError:
        return False


def _comment_table(con, published_name: str, description: str, columns: dict[str, str]) -> None:
    """Describe pub.meta.<published_name> and those of its columns that ``columns`` names (a column the
    warehouse lacks is skipped rather than failing the publication; the tests keep the two in step)."""
    name = f"pub.meta.{published_name}"
    con.execute(f"comment on table {name} is {sql_string(description)}")
    present = {c for (c,) in con.execute(
        "select column_name from duckdb_columns() where database_name = 'pub' and schema_name = 'meta' and table_name = ?",
        [published_name]).fetchall()}
    for column, text in columns.items():
        if column in present:
            con.execute(f"comment on column {name}.{quote_identifier(column)} is {sql_string(text)}")


def gate_reports_table(con, settings: Settings) -> str | None:
    """A temporary table (dataset, force_id, month, gate_report) of the gate pages `make docs` writes,
    from the result files under the runs folder; None when there are none."""
    links = gate_report_links(settings.paths.runs_dir / "gates")
    if not links:
        return None
    # One statement over four lists: executemany costs a round trip a row (4.6 s for ten years'
    # 31,000 national partition keys, a third of publishing).
    rows = sorted(links.items())
    con.execute(
        """
        create or replace temp table gate_reports as
        select unnest(?::varchar[]) as dataset, unnest(?::varchar[]) as force_id, unnest(?::varchar[]) as month,
               unnest(?::varchar[]) as gate_report
        """,
        [[k[0] for k, _ in rows], [k[1] for k, _ in rows], [k[2] for k, _ in rows], [link for _, link in rows]],
    )
    return "gate_reports"


def _attach_new_file(con, tmp: Path, previous: Path) -> bool:
    """Attach ``tmp`` as ``pub``, a copy of the ``previous`` publication when there is a sound one.

    Returns whether it is a copy. A previous file DuckDB cannot open is left alone and a new one
    written; so is one more than half free blocks (deleted months whose space was not reused), so
    that the published file does not keep growing."""
    import duckdb

    if previous.exists():
        shutil.copyfile(previous, tmp)
        try:
            con.execute("attach ? as pub", [str(tmp)])
            free, total = con.execute(
                "select free_blocks, total_blocks from pragma_database_size() where database_name = 'pub'").fetchone()
            if not total or free * 2 <= total:
                return True
            log.info("%s is %d of %d blocks free: writing a new file", previous, free, total)
            con.execute("detach pub")
        except duckdb.Error as error:
            log.warning("%s could not be opened to start from (%s): writing a new file", previous, error)
            if con.execute("select count(*) from duckdb_databases() where database_name = 'pub'").fetchone()[0]:
                con.execute("detach pub")
        tmp.unlink(missing_ok=True)
    con.execute("attach ? as pub", [str(tmp)])
    return False


def publish_mart(con, schema: str, table: str, comment: str | None,
                 previous: dict | None = None) -> tuple[str, dict]:
    """Make the published copy of warehouse mart ``schema.table`` (``wh``) hold the same rows and
    comments in ``pub``, writing only what differs. ``previous``: the published copy's fingerprints
    as the last publication kept them (:func:`read_fingerprints`), used instead of reading its rows
    again when its columns are those they were taken of. Returns what it did (for the log) and the
    mart's fingerprints, per month when it has ``month_start`` (the Parquet export reuses them)."""
    published_schema = PUBLISHED_SCHEMAS[schema]
    source = f"wh.{quote_identifier(schema)}.{quote_identifier(table)}"
    target = f"pub.{quote_identifier(published_schema)}.{quote_identifier(table)}"
    columns = column_types(con, "wh", schema, table)
    by = quote_identifier(PARTITION_COLUMN) if any(name == PARTITION_COLUMN for name, _ in columns) else None
    new = row_fingerprints(con, source, by)
    published_columns = column_types(con, "pub", published_schema, table)
    if published_columns != columns:
        con.execute(f"create or replace table {target} as select * from {source}")
        done = "written"
    else:
        old = (previous["rows"] if previous and previous["columns"] == columns
               else row_fingerprints(con, target, by))
        changed = [key for key in new.keys() | old.keys() if new.get(key) != old.get(key)]
        if not changed:
            done = "unchanged"
        elif by is None or len(changed) == len(new.keys() | old.keys()):
            con.execute(f"create or replace table {target} as select * from {source}")
            done = "written"
        else:
            values = [key for key in changed if key is not None]
            where = " or ".join(
                ([f"{by} in ({', '.join('?' * len(values))})"] if values else [])
                + ([f"{by} is null"] if None in changed else []))
            con.execute(f"delete from {target} where {where}", values)
            con.execute(f"insert into {target} select * from {source} where {where}", values)
            done = f"{len(changed)} of {len(new)} months"
    sync_comments(con, ("wh", schema, table), ("pub", published_schema, table), comment)
    return done, {"columns": columns, "rows": new}


# The published marts' fingerprints, kept beside the file by each publication: the next one compares
# the warehouse with them instead of reading every published row again (at ten years of national
# data, ``fct_crime_monthly``'s 12.6 M rows were read three times a publication: the warehouse's,
# the published copy's and, by year, the Parquet export's). They describe the file of that size and
# modification time only, and DuckDB's ``hash`` of one version only: otherwise they are not used.
FINGERPRINTS_FILE = ".{name}.fingerprints.json"


def _fingerprints_path(target: Path) -> Path:
    return target.with_name(FINGERPRINTS_FILE.format(name=target.stem))


def read_fingerprints(target: Path) -> dict[str, dict]:
    """``schema.table`` -> {"columns", "rows"} of the published file ``target`` as the publication
    that wrote it kept them; {} when there are none, or they do not describe this file."""
    import duckdb

    try:
        kept = json.loads(_fingerprints_path(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return {}
    if kept.get("file") != [stat.st_size, stat.st_mtime_ns] or kept.get("duckdb") != duckdb.__version__:
        return {}
    return {name: {"columns": [tuple(column) for column in mart["columns"]],  # as warehouse.column_types
                   "rows": {_key_from_json(key): (rows, int(total)) for key, rows, total in mart["rows"]}}
            for name, mart in kept.get("marts", {}).items()}


# A month key as DuckDB returns it (a date, a timestamp, or NULL), kept in JSON with its type.
def _key_to_json(key) -> list | None:
    if key is None:
        return None
    return ["datetime" if isinstance(key, datetime) else "date", key.isoformat()]


def _key_from_json(value: list | None):
    if value is None:
        return None
    kind, text = value
    return datetime.fromisoformat(text) if kind == "datetime" else date.fromisoformat(text)


def _write_fingerprints(target: Path, marts: dict[str, dict]) -> None:
    import duckdb

    stat = target.stat()
    payload = {"duckdb": duckdb.__version__, "file": [stat.st_size, stat.st_mtime_ns], "marts": {
        name: {"columns": mart["columns"],
               "rows": [[_key_to_json(key), rows, str(total)]
                        for key, (rows, total) in sorted(mart["rows"].items(), key=lambda kv: str(kv[0]))]}
        for name, mart in marts.items()
        if all(key is None or isinstance(key, date) for key in mart["rows"])}}  # date: datetime too
    path = _fingerprints_path(target)
    try:
        write_json_atomically(path, payload)
    except OSError as error:  # the publication is complete; kept fingerprints only save reading it again
        log.warning("%s: could not keep the marts' fingerprints (%s); the next publication reads the published rows",
                    path, error)


def undocumented(con, database: str) -> list[str]:
    """Tables and columns of ``database`` without a comment (the published file promises one on each)."""
    return [row[0] for row in con.execute(
        """
        select schema_name || '.' || table_name from duckdb_tables()
        where database_name = ? and coalesce(trim(comment), '') = ''
        union all
        select c.schema_name || '.' || c.table_name || '.' || c.column_name
        from duckdb_columns() c
        join duckdb_tables() t using (database_name, schema_name, table_name)
        where c.database_name = ? and coalesce(trim(c.comment), '') = ''
        order by 1
        """,
        [database, database],
    ).fetchall()]


def publish(settings: Settings) -> Path:
    target = settings.paths.published
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.building")
    building = {name: folder / f".{name}.building" for name in (PARQUET_DIR, EXPORTS_DIR)}
    tmp.unlink(missing_ok=True)
    for path in building.values():
        shutil.rmtree(path, ignore_errors=True)
    started = time.perf_counter()
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    # Read the warehouse through a read-only attach; write the new file beside the published one.
    con = open_connection(Path(":memory:"), memory_limit=settings.duckdb.memory_limit, threads=settings.duckdb.threads)
    try:
        con.execute("attach ? as wh (read_only)", [str(settings.paths.warehouse)])
        from_previous = _attach_new_file(con, tmp, target)
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
        previous = read_fingerprints(target) if from_previous else {}
        done, fingerprints = {}, {}
        for schema, table, comment in tables:
            name = f"{PUBLISHED_SCHEMAS[schema]}.{table}"
            done[(PUBLISHED_SCHEMAS[schema], table)], fingerprints[name] = publish_mart(
                con, schema, table, comment, previous.get(name))
        for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'pub' "
                "and schema_name in (select unnest(?::varchar[]))", [list(PUBLISHED_SCHEMAS.values())]).fetchall():
            if (schema, table) not in done:  # a mart the warehouse no longer has
                con.execute(f"drop table pub.{quote_identifier(schema)}.{quote_identifier(table)}")
        changes = [f"{table} ({what})" for (_, table), what in sorted(done.items()) if what not in ("unchanged", "written")]
        log.info("%s: %d marts unchanged, %d written whole, months replaced in %s",
                 "starting from the previous file" if from_previous else "new file",
                 sum(what == "unchanged" for what in done.values()), sum(what == "written" for what in done.values()),
                 ", ".join(changes) or "none")
        gate_reports = gate_reports_table(con, settings)
        for published_name, (source, description, columns) in META_TABLES.items():
            name = f"pub.meta.{published_name}"
            if published_name == "publication":
                synthetic = is_synthetic(settings)
                con.execute(
                    f"create or replace table {name} as select ?::timestamp as published_at, ? as warehouse, ? as table_count, "
                    "?::boolean as is_synthetic, ?::varchar as synthetic_notice",
                    [published_at, str(settings.paths.warehouse), len(tables), synthetic,
                     SYNTHETIC_NOTICE if synthetic else None],
                )
                if synthetic:
                    log.warning("publishing synthetic data (the demo's samples): meta.publication.is_synthetic = true")
            elif published_name == "load_log":
                # The load log points at each partition's gate page (see docs/gates/ beside this file).
                join = (f"left join {gate_reports} g using (dataset, force_id, month)" if gate_reports
                        else "left join (select null::varchar as gate_report) g on false")
                con.execute(f"create or replace table {name} as select l.*, g.gate_report from wh.{source} l {join}")
            else:
                con.execute(f"create or replace table {name} as select * from wh.{source}")
            _comment_table(con, published_name, description, columns)
        missing = undocumented(con, "pub")
        if missing:
            # Documentation gaps do not hold back the data analysts are waiting for; the tests keep them at 0.
            log.warning("published without a description: %s", ", ".join(missing))
        con.execute("checkpoint pub")
        # Complete: attached again read-only, so that the workbooks' worker processes can open it too.
        con.execute("detach pub")
        con.execute("attach ? as pub (read_only)", [str(tmp)])
        exports.write_parquet(con, "pub", building[PARQUET_DIR], previous_dir=folder / PARQUET_DIR,
                              mart_fingerprints=fingerprints)
        exports.write_workbooks(con, "pub", building[EXPORTS_DIR], published_at, str(target),
                                previous_dir=folder / EXPORTS_DIR, database_file=tmp)
        con.execute("detach pub")
        con.execute("detach wh")
    except BaseException:
        tmp.unlink(missing_ok=True)
        for path in building.values():
            shutil.rmtree(path, ignore_errors=True)
        raise
    finally:
        con.close()
    # Everything is built: swap the exports in, then the file (each rename is atomic on its own).
    for name, path in building.items():
        swap_in(path, folder / name)
    os.replace(tmp, target)
    _write_fingerprints(target, fingerprints)
    log.info("published %d tables to %s, with %s/ and %s/, in %.1fs", len(tables), target, PARQUET_DIR, EXPORTS_DIR,
             time.perf_counter() - started)
    return target
