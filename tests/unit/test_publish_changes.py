"""A publication starts from the previous file and rewrites only what changed (ingest/publish.py):
whatever changed in the warehouse, the file it leaves holds exactly what a publication written
from nothing holds, and the months, marts and Parquet files that did not change are not written."""

from __future__ import annotations

import logging
import shutil

import duckdb

from ingest import publish
from tests.unit.test_exports import parquet_rows, publication_settings, published  # noqa: F401 (a fixture)


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


def warehouse(settings, sql: str) -> None:
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute(sql)


def test_an_unchanged_warehouse_rewrites_nothing(published, caplog):
    before = contents(published.paths.published)
    ids = row_ids(published.paths.published)
    parquet = published.paths.published.parent / "parquet" / "fct_crime_monthly" / "2024.parquet"
    inode = parquet.stat().st_ino
    with caplog.at_level(logging.INFO, logger="ingest"):
        publish.publish(published)
    assert "starting from the previous file: 4 marts unchanged, 0 written whole, months replaced in none" in caplog.text
    assert "Parquet files in" in caplog.text and "0 written, 4 unchanged" in caplog.text
    assert contents(published.paths.published) == before
    assert row_ids(published.paths.published) == ids
    assert parquet.stat().st_ino == inode  # the previous file, kept


def test_changed_months_alone_are_rewritten_and_the_file_equals_a_fresh_one(published, tmp_path, caplog):
    warehouse(published, """
        update evidence.fct_crime_monthly set crime_count = crime_count + 1 where month_start = date '2024-02-01';
        delete from evidence.fct_crime_monthly where month_start = date '2024-06-01';
        insert into evidence.fct_crime_monthly values ('lancashire', date '2024-07-01', 99), ('lancashire', null, 1);
        update performance.dim_measure set measure_name = 'Burglary (residential)';
        comment on column evidence.fct_crime_monthly.crime_count is 'Crimes recorded that month.';
        comment on column evidence.fct_crime_monthly.force_id is null;
    """)
    with caplog.at_level(logging.INFO, logger="ingest"):
        publish.publish(published)
    assert "2 marts unchanged, 1 written whole, months replaced in fct_crime_monthly (4 of 7 months)" in caplog.text
    assert contents(published.paths.published) == written_from_nothing(published, tmp_path)
    with duckdb.connect() as con:  # the Parquet files follow the table
        rows = parquet_rows(con, published.paths.published.parent / "parquet", "fct_crime_monthly")
    assert rows == contents(published.paths.published)[("main", "fct_crime_monthly")][2]


def test_new_dropped_and_reshaped_marts(published, tmp_path):
    warehouse(published, """
        alter table evidence.fct_crime_monthly add column victims integer;
        comment on column evidence.fct_crime_monthly.victims is 'Victims.';
        drop table performance.fct_stop_search_disproportionality;
        create table evidence.dim_force as select 'lancashire' as force_id;
        comment on table evidence.dim_force is 'Forces.';
        comment on column evidence.dim_force.force_id is 'Force id.';
    """)
    publish.publish(published)
    now = contents(published.paths.published)
    assert ("main", "dim_force") in now and ("performance", "fct_stop_search_disproportionality") not in now
    assert [c[0] for c in now[("main", "fct_crime_monthly")][1]][-1] == "victims"
    assert now == written_from_nothing(published, tmp_path)
    parquet = published.paths.published.parent / "parquet"
    assert sorted(p.name for p in parquet.iterdir() if not p.name.startswith(".")) == [
        "dim_force.parquet", "dim_measure.parquet", "fct_crime_monthly", "fct_measure_assessment.parquet"]


def test_a_previous_file_duckdb_cannot_open_is_replaced(published, tmp_path, caplog):
    published.paths.published.write_bytes(b"not a database" * 1000)
    publish.publish(published)
    assert "could not be opened to start from" in caplog.text
    assert contents(published.paths.published) == written_from_nothing(published, tmp_path)


def test_a_copy_mostly_free_space_is_written_anew(published, caplog):
    # Every month changed, nine rows in ten gone: the mart is written whole and its old blocks freed.
    warehouse(published, """
        create or replace table evidence.fct_crime_monthly as
        select 'lancashire' as force_id, date '2024-01-01' + to_months(i % 6) as month_start, i * 7 as crime_count
        from range(1000000) t(i);
    """)
    publish.publish(published)
    warehouse(published, "delete from evidence.fct_crime_monthly where crime_count % 10 <> 0")
    publish.publish(published)
    with duckdb.connect(str(published.paths.published), read_only=True) as con:
        free, total = con.execute("select free_blocks, total_blocks from pragma_database_size()").fetchone()
    assert free * 2 > total  # what the next publication finds
    with caplog.at_level(logging.INFO, logger="ingest"):
        publish.publish(published)
    assert "blocks free: writing a new file" in caplog.text
    with duckdb.connect(str(published.paths.published), read_only=True) as con:
        free, total = con.execute("select free_blocks, total_blocks from pragma_database_size()").fetchone()
    assert free * 2 <= total


def test_the_published_rows_are_not_read_again_for_their_fingerprints(published, monkeypatch):
    """The publication keeps its marts' fingerprints beside the file: the next one compares the
    warehouse with them, and the Parquet export sums them per year, instead of reading the rows."""
    read: dict[str, list[str]] = {"publish": [], "exports": []}

    def recording(module, name):
        original = module.row_fingerprints
        return lambda con, relation, by=None: read[name].append(relation) or original(con, relation, by)

    monkeypatch.setattr(publish, "row_fingerprints", recording(publish, "publish"))
    monkeypatch.setattr(publish.exports, "row_fingerprints", recording(publish.exports, "exports"))
    warehouse(published, "update evidence.fct_crime_monthly set crime_count = crime_count + 1 "
                         "where month_start = date '2024-02-01'")
    publish.publish(published)
    assert read["publish"] and all(relation.startswith("wh.") for relation in read["publish"])  # the warehouse's, once
    assert sorted(set(read["publish"])) == sorted(read["publish"])
    # the Parquet export reads none; the scorecard workbooks fingerprint their quarters' tables themselves
    assert not [relation for relation in read["exports"] if "fct_crime_monthly" in relation]


def test_kept_fingerprints_that_do_not_describe_the_published_file_are_not_used(published, tmp_path):
    """Someone changed the published file after it was published (its size and time changed): the kept
    fingerprints are ignored, its rows are compared, and the next publication puts the rows back."""
    with duckdb.connect(str(published.paths.published)) as con:
        con.execute("delete from main.fct_crime_monthly where month_start = date '2024-03-01'")
    publish.publish(published)
    assert contents(published.paths.published) == written_from_nothing(published, tmp_path)


def test_a_publication_whose_fingerprints_cannot_be_kept_still_publishes(published, tmp_path, caplog):
    kept = published.paths.published.with_name(".evidence.fingerprints.json")
    kept.unlink()
    kept.mkdir()  # cannot be read or replaced
    warehouse(published, "delete from evidence.fct_crime_monthly where month_start = date '2024-01-01'")
    publish.publish(published)
    assert "could not keep the marts' fingerprints" in caplog.text
    assert contents(published.paths.published) == written_from_nothing(published, tmp_path)
