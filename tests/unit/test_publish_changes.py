"""A publication starts from the previous file and rewrites only what changed (ingest/publish.py):
whatever changed in the warehouse, the file it leaves holds exactly what a publication written
from nothing holds, and the months, marts and Parquet files that did not change are not written."""

from __future__ import annotations

import logging
import shutil

import duckdb
import pytest

from ingest import publish
from tests.unit.test_exports import hand_made_warehouse, parquet_rows, publication_settings


def contents(path) -> dict:
    """Every table of a published file: its rows (sorted), columns with types and comments, and its comment."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name, comment from duckdb_tables() where database_name = 'evidence' "
            "and not (schema_name = 'meta' and table_name = 'publication') order by 1, 2").fetchall()
        return {(schema, table): (
            comment,
            con.execute("select column_name, data_type, comment from duckdb_columns() where database_name = 'evidence' "
                        "and schema_name = ? and table_name = ? order by column_index", [schema, table]).fetchall(),
            con.execute(f"select * from {schema}.{table} order by all").fetchall(),
        ) for schema, table, comment in tables}


def written_from_nothing(settings, tmp_path) -> dict:
    """What a publication of the same warehouse holds when there is no previous file."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    fresh_settings = publication_settings(fresh)
    shutil.copyfile(settings.paths.warehouse, fresh_settings.paths.warehouse)
    shutil.copytree(settings.paths.runs_dir, fresh_settings.paths.runs_dir)
    return contents(publish.publish(fresh_settings))


def row_ids(path, table="fct_crime_monthly") -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute(f"select rowid, month_start from main.{table}").fetchall())


@pytest.fixture
def settings(tmp_path):
    settings = publication_settings(tmp_path)
    hand_made_warehouse(settings)
    publish.publish(settings)
    return settings


def warehouse(settings, sql: str) -> None:
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute(sql)


def test_an_unchanged_warehouse_rewrites_nothing(settings, caplog):
    before = contents(settings.paths.published)
    ids = row_ids(settings.paths.published)
    parquet = settings.paths.published.parent / "parquet" / "fct_crime_monthly" / "2024.parquet"
    inode = parquet.stat().st_ino
    with caplog.at_level(logging.INFO, logger="ingest"):
        publish.publish(settings)
    assert "starting from the previous file: 4 marts unchanged, 0 written whole, months replaced in none" in caplog.text
    assert "Parquet files in" in caplog.text and "0 written, 4 unchanged" in caplog.text
    assert contents(settings.paths.published) == before
    assert row_ids(settings.paths.published) == ids
    assert parquet.stat().st_ino == inode  # the previous file, kept


def test_changed_months_alone_are_rewritten_and_the_file_equals_a_fresh_one(settings, tmp_path, caplog):
    warehouse(settings, """
        update evidence.fct_crime_monthly set crime_count = crime_count + 1 where month_start = date '2024-02-01';
        delete from evidence.fct_crime_monthly where month_start = date '2024-06-01';
        insert into evidence.fct_crime_monthly values ('lancashire', date '2024-07-01', 99), ('lancashire', null, 1);
        update performance.dim_measure set measure_name = 'Burglary (residential)';
        comment on column evidence.fct_crime_monthly.crime_count is 'Crimes recorded that month.';
    """)
    with caplog.at_level(logging.INFO, logger="ingest"):
        publish.publish(settings)
    assert "2 marts unchanged, 1 written whole, months replaced in fct_crime_monthly (4 of 7 months)" in caplog.text
    assert contents(settings.paths.published) == written_from_nothing(settings, tmp_path)
    with duckdb.connect() as con:  # the Parquet files follow the table
        rows = parquet_rows(con, settings.paths.published.parent / "parquet", "fct_crime_monthly")
    assert rows == contents(settings.paths.published)[("main", "fct_crime_monthly")][2]


def test_new_dropped_and_reshaped_marts(settings, tmp_path):
    warehouse(settings, """
        alter table evidence.fct_crime_monthly add column victims integer;
        comment on column evidence.fct_crime_monthly.victims is 'Victims.';
        drop table performance.fct_stop_search_disproportionality;
        create table evidence.dim_force as select 'lancashire' as force_id;
        comment on table evidence.dim_force is 'Forces.';
        comment on column evidence.dim_force.force_id is 'Force id.';
    """)
    publish.publish(settings)
    published = contents(settings.paths.published)
    assert ("main", "dim_force") in published and ("performance", "fct_stop_search_disproportionality") not in published
    assert [c[0] for c in published[("main", "fct_crime_monthly")][1]][-1] == "victims"
    assert published == written_from_nothing(settings, tmp_path)
    parquet = settings.paths.published.parent / "parquet"
    assert sorted(p.name for p in parquet.iterdir() if not p.name.startswith(".")) == [
        "dim_force.parquet", "dim_measure.parquet", "fct_crime_monthly", "fct_measure_assessment.parquet"]


def test_a_previous_file_duckdb_cannot_open_is_replaced(settings, tmp_path, caplog):
    settings.paths.published.write_bytes(b"not a database" * 1000)
    publish.publish(settings)
    assert "could not be opened to start from" in caplog.text
    assert contents(settings.paths.published) == written_from_nothing(settings, tmp_path)


def test_a_copy_mostly_free_space_is_written_anew(settings, caplog):
    # Every month changed, nine rows in ten gone: the mart is written whole and its old blocks freed.
    warehouse(settings, """
        create or replace table evidence.fct_crime_monthly as
        select 'lancashire' as force_id, date '2024-01-01' + to_months(i % 6) as month_start, i * 7 as crime_count
        from range(1000000) t(i);
    """)
    publish.publish(settings)
    warehouse(settings, "delete from evidence.fct_crime_monthly where crime_count % 10 <> 0")
    publish.publish(settings)
    with duckdb.connect(str(settings.paths.published), read_only=True) as con:
        free, total = con.execute("select free_blocks, total_blocks from pragma_database_size()").fetchone()
    assert free * 2 > total  # what the next publication finds
    with caplog.at_level(logging.INFO, logger="ingest"):
        publish.publish(settings)
    assert "blocks free: writing a new file" in caplog.text
    with duckdb.connect(str(settings.paths.published), read_only=True) as con:
        free, total = con.execute("select free_blocks, total_blocks from pragma_database_size()").fetchone()
    assert free * 2 <= total
