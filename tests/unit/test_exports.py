"""Publication: every table and column described, the marts as Parquet, a scorecard workbook per
quarter, all swapped in with the DuckDB file (ingest/publish.py, ingest/exports.py).

The warehouse is made by hand (the raw tables as ``warehouse.connect`` creates them, a few marts
with dbt's comments) so these run in seconds; tests/integration/test_docs_site.py publishes marts
built by dbt."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from ingest import exports, publish
from ingest.config import load_settings
from ingest.raw.gate import GateReport, write_report
from ingest.warehouse import connect
from tests.helpers import query as _query

QUARTERS = ("2024Q1", "2024Q2")


def publication_settings(root: Path):
    return load_settings(environ={
        "OPCC_PATHS__WAREHOUSE": str(root / "warehouse.duckdb"),
        "OPCC_PATHS__PUBLISHED": str(root / "published" / "evidence.duckdb"),
        "OPCC_PATHS__WORK_DIR": str(root / "work"),
        "OPCC_PATHS__RUNS_DIR": str(root / "runs"),
    })


def hand_made_warehouse(settings) -> None:
    with connect(settings) as con:  # the shared raw tables every loader writes (manifest, load log, rejects)
        con.execute("""
            insert into raw.load_log (dataset, force_id, month, source_file, archive_sha256, status, rows_loaded,
                                      rows_rejected, loaded_at) values
              ('police_uk_street', 'lancashire', '2024-01', '2024-01/2024-01-lancashire-street.csv', 'ab', 'loaded', 3, 0, now()),
              ('police_uk_stop_search', 'lancashire', '2024-01', null, 'ab', 'absent', 0, 0, now())
        """)
        con.execute("""
            create schema evidence;
            create schema performance;
            create table evidence.fct_crime_monthly as
              select 'lancashire' as force_id, date '2024-01-01' + to_months(i % 6) as month_start, i as crime_count
              from range(40) t(i);
            comment on table evidence.fct_crime_monthly is 'Crimes per force and month.';
            comment on column evidence.fct_crime_monthly.force_id is 'data.police.uk force id.';
            comment on column evidence.fct_crime_monthly.month_start is 'First day of the month.';
            comment on column evidence.fct_crime_monthly.crime_count is 'Crimes recorded.';
            create table performance.dim_measure as
              select 'burglary' as measure_id, 'Burglary' as measure_name, true as is_national;
            comment on table performance.dim_measure is 'The plan''s measures.';
            comment on column performance.dim_measure.measure_id is 'Measure id.';
            comment on column performance.dim_measure.measure_name is 'Measure name.';
            comment on column performance.dim_measure.is_national is 'One of the national measures.';
            create table performance.fct_measure_assessment as
              select q as reporting_period, a as area_code, 'burglary' as measure_id, 10.5 + i as value,
                     'improving' as status
              from (values ('2024Q1'), ('2024Q2')) p(q), (values ('E01'), ('E02'), ('E03')) x(a), range(1) r(i);
            comment on table performance.fct_measure_assessment is 'Each quarter''s scorecard.';
            comment on column performance.fct_measure_assessment.reporting_period is 'Quarter, YYYYQn.';
            comment on column performance.fct_measure_assessment.area_code is 'Area.';
            comment on column performance.fct_measure_assessment.measure_id is 'Measure id.';
            comment on column performance.fct_measure_assessment.value is 'The measure''s value.';
            comment on column performance.fct_measure_assessment.status is 'improving, deteriorating, ...';
            create table performance.fct_stop_search_disproportionality as
              select '2024Q2' as period_label, 'Black' as ethnic_group, 3.2 as rate_ratio;
            comment on table performance.fct_stop_search_disproportionality is 'Rate ratios.';
            comment on column performance.fct_stop_search_disproportionality.period_label is 'Quarter.';
            comment on column performance.fct_stop_search_disproportionality.ethnic_group is 'Ethnic group.';
            comment on column performance.fct_stop_search_disproportionality.rate_ratio is 'Rate over the White rate.';
        """)
    # the gate result the load of lancashire 2024-01 kept (the in-database engine's file)
    write_report(settings.paths.runs_dir / "gates" / "police_uk" / "2024-01", GateReport(
        table="police_uk_street", partition={"_force_id": "lancashire", "_month": "2024-01"}, success=True,
        row_count=3, suite_name="raw_police_uk_street", expectations_evaluated=1))


@pytest.fixture
def published(tmp_path):
    settings = publication_settings(tmp_path)
    hand_made_warehouse(settings)
    publish.publish(settings)
    return settings


def test_every_published_table_and_column_is_described(published):
    path = published.paths.published
    tables = _query(path, "select schema_name, table_name, comment from duckdb_tables() where database_name = 'evidence'")
    assert {(s, t) for s, t, _ in tables} >= {("main", "fct_crime_monthly"), ("meta", "load_log"),
                                               ("meta", "landing_manifest"), ("meta", "load_rejects"), ("meta", "publication")}
    assert [(s, t) for s, t, comment in tables if not (comment or "").strip()] == []
    columns = _query(path, """
        select c.schema_name, c.table_name, c.column_name, c.comment from duckdb_columns() c
        join duckdb_tables() t using (database_name, schema_name, table_name) where c.database_name = 'evidence'""")
    assert len([c for c in columns if c[0] == "meta"]) >= 34  # 33 lineage columns at first, more since, and gate_report
    assert [c[:3] for c in columns if not (c[3] or "").strip()] == []
    with duckdb.connect(str(path), read_only=True) as con:
        assert publish.undocumented(con, "evidence") == []


def test_the_lineage_descriptions_name_exactly_the_raw_columns(tmp_path):
    # A column added to a shared raw table must be described here too (and a renamed one not left behind).
    settings = publication_settings(tmp_path)
    with connect(settings) as con:
        for name, (source, _, columns) in publish.META_TABLES.items():
            if source is None:
                continue
            schema, table = source.split(".")
            raw = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?", [schema, table]).fetchall()]
            extra = {"gate_report"} if name == "load_log" else set()
            assert set(columns) == set(raw) | extra, name


def test_an_undescribed_column_is_named_in_a_warning(tmp_path, caplog):
    settings = publication_settings(tmp_path)
    hand_made_warehouse(settings)
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute("alter table evidence.fct_crime_monthly add column victims integer")
    publish.publish(settings)
    assert "main.fct_crime_monthly.victims" in caplog.text


def parquet_rows(con, folder: Path, table: str) -> list:
    """A mart's rows as its Parquet export holds them: one file, or a folder of one file per year."""
    files = [folder / f"{table}.parquet"] if (folder / f"{table}.parquet").exists() else sorted((folder / table).glob("*.parquet"))
    assert files, table
    return con.execute("select * from read_parquet(?) order by all", [[str(f) for f in files]]).fetchall()


def test_parquet_holds_every_mart_with_the_same_rows(published):
    path = published.paths.published
    folder = path.parent / "parquet"
    marts = _query(path, "select table_name, estimated_size from duckdb_tables() "
                         "where database_name = 'evidence' and schema_name in ('main', 'performance') order by 1")
    assert sorted(p.stem for p in folder.glob("*.parquet")) == [t for t, _ in marts if t != "fct_crime_monthly"]
    # a mart of months: one file per year of month_start
    assert sorted(p.name for p in (folder / "fct_crime_monthly").iterdir()) == ["2024.parquet"]
    with duckdb.connect(str(path), read_only=True) as con:
        for table, in _query(path, "select table_name from duckdb_tables() where schema_name in ('main', 'performance')"):
            schema = con.execute("select schema_name from duckdb_tables() where table_name = ?", [table]).fetchone()[0]
            expected = con.execute(f'select * from {schema}."{table}" order by all').fetchall()
            assert parquet_rows(con, folder, table) == expected
    assert _query(path, "select count(*) from read_parquet(?)", [str(folder / "fct_crime_monthly" / "*.parquet")]) == [(40,)]


def test_a_mart_of_months_is_a_parquet_file_per_year_and_a_new_month_rewrites_its_year_alone(published):
    folder = published.paths.published.parent / "parquet" / "fct_crime_monthly"
    with duckdb.connect(str(published.paths.warehouse)) as con:
        con.execute("""
            insert into evidence.fct_crime_monthly
            select 'lancashire', date '2023-01-01' + to_months(i % 12), i from range(24) t(i);
            insert into evidence.fct_crime_monthly values ('lancashire', null, 5);
        """)
    publish.publish(published)
    assert sorted(p.name for p in folder.iterdir()) == ["2023.parquet", "2024.parquet", "undated.parquet"]
    inodes = {p.name: p.stat().st_ino for p in folder.iterdir()}
    with duckdb.connect(str(published.paths.warehouse)) as con:
        con.execute("insert into evidence.fct_crime_monthly values ('lancashire', date '2024-07-01', 7)")
    publish.publish(published)
    assert {p.name: p.stat().st_ino for p in folder.iterdir() if p.name != "2024.parquet"} == {
        name: inode for name, inode in inodes.items() if name != "2024.parquet"}
    assert (folder / "2024.parquet").stat().st_ino != inodes["2024.parquet"]
    with duckdb.connect(str(published.paths.published), read_only=True) as con:
        assert parquet_rows(con, folder.parent, "fct_crime_monthly") == con.execute(
            "select * from fct_crime_monthly order by all").fetchall()
        assert con.execute("select count(*) from read_parquet(?)", [str(folder / "2024.parquet")]).fetchone() == (41,)


def test_an_empty_mart_of_months_still_shows_its_columns(tmp_path):
    with duckdb.connect() as con:
        con.execute("create table main.fct_empty_monthly (force_id varchar, month_start date, n integer)")
        exports.write_parquet(con, "memory", tmp_path / "parquet")
        names = [d[0] for d in con.execute(
            "select * from read_parquet(?)", [str(tmp_path / "parquet" / "fct_empty_monthly" / "none.parquet")]).description]
    assert names == ["force_id", "month_start", "n"]


def test_a_workbook_per_quarter_holds_every_table_and_notes(published):
    folder = published.paths.published.parent / "exports"
    assert sorted(p.name for p in folder.glob("*.xlsx")) == [f"{q}-scorecard.xlsx" for q in QUARTERS]
    book = load_workbook(folder / "2024Q2-scorecard.xlsx", read_only=True)
    assert book.sheetnames == ["fct_measure_assessment", "stop_search_disproportionality", "dim_measure", "notes"]
    rows = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    assert rows["fct_measure_assessment"][0] == ("reporting_period", "area_code", "measure_id", "value", "status")
    assert [r[:2] for r in rows["fct_measure_assessment"][1:]] == [("2024Q2", "E01"), ("2024Q2", "E02"), ("2024Q2", "E03")]
    assert rows["stop_search_disproportionality"][1:] == [("2024Q2", "Black", 3.2)]
    assert rows["dim_measure"][1:] == [("burglary", "Burglary", True)]
    notes = rows["notes"]
    assert ("source", str(published.paths.published)) in [r[:2] for r in notes]
    published_at = _query(published.paths.published, "select published_at from meta.publication")[0][0]
    assert ("published_at (UTC)", published_at.replace(microsecond=0)) in [r[:2] for r in notes]
    assert ("stop_search_disproportionality", "performance.fct_stop_search_disproportionality", 1,
            "period_label = '2024Q2'", "Rate ratios.") in notes
    assert ("fct_measure_assessment", "value", "The measure's value.") in [r[:3] for r in notes]
    # Q1 has its own rows, and no disproportionality rows
    q1 = load_workbook(folder / "2024Q1-scorecard.xlsx", read_only=True)
    assert len(list(q1["fct_measure_assessment"].iter_rows(values_only=True))) == 4
    assert len(list(q1["stop_search_disproportionality"].iter_rows(values_only=True))) == 1


def test_a_quarter_is_written_again_only_when_its_rows_change(published):
    folder = published.paths.published.parent / "exports"
    before = {q: os.stat(folder / f"{q}-scorecard.xlsx").st_ino for q in QUARTERS}
    with duckdb.connect(str(published.paths.warehouse)) as con:
        con.execute("update performance.fct_measure_assessment set value = 99 where reporting_period = '2024Q2' and area_code = 'E02'")
    publish.publish(published)
    after = {q: os.stat(folder / f"{q}-scorecard.xlsx").st_ino for q in QUARTERS}
    assert after["2024Q1"] == before["2024Q1"]  # the same file, kept
    assert after["2024Q2"] != before["2024Q2"]
    book = load_workbook(folder / "2024Q2-scorecard.xlsx", read_only=True)
    assert ("2024Q2", "E02", "burglary", 99, "improving") in list(book["fct_measure_assessment"].iter_rows(values_only=True))
    assert json.loads((folder / exports.FINGERPRINTS).read_text()).keys() == set(QUARTERS)


def test_workbooks_written_by_worker_processes_match_those_written_in_process(published, tmp_path, caplog):
    """Several quarters to write: worker processes (one a core) open the file read-only and share them."""
    def values(folder: Path) -> dict:
        books = {path.name: load_workbook(path, read_only=True) for path in sorted(folder.glob("*.xlsx"))}
        return {name: {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
                for name, book in books.items()}

    at = datetime(2025, 1, 1, 12, 0)
    with duckdb.connect() as con:
        con.execute("attach ? as pub (read_only)", [str(published.paths.published)])
        with caplog.at_level("INFO", logger="ingest.exports"):
            exports.write_workbooks(con, "pub", tmp_path / "workers", at, "source", database_file=published.paths.published)
        exports.write_workbooks(con, "pub", tmp_path / "in_process", at, "source")
    if (os.cpu_count() or 1) > 1:
        assert f"{len(QUARTERS)} written (2 processes)" in caplog.text
    assert values(tmp_path / "workers") == values(tmp_path / "in_process")
    assert len(values(tmp_path / "workers")) == len(QUARTERS)
    if (os.cpu_count() or 1) > 1:  # a worker that fails fails the call, naming the file and its error
        with duckdb.connect() as con, pytest.raises(RuntimeError, match=r"(?s)missing\.duckdb failed \(exit 1\): .*database does not exist"):
            con.execute("attach ? as pub (read_only)", [str(published.paths.published)])
            exports.write_workbooks(con, "pub", tmp_path / "failed", at, "source", database_file=tmp_path / "missing.duckdb")


def test_a_failed_export_publishes_nothing(published, monkeypatch):
    folder = published.paths.published.parent
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with duckdb.connect(str(published.paths.warehouse)) as con:
        con.execute("update evidence.fct_crime_monthly set crime_count = crime_count + 1")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write_workbooks", broken)
    with pytest.raises(OSError, match="disk full"):
        publish.publish(published)
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before  # the file, its Parquet and its workbooks as they were; nothing half-built left


def test_the_load_log_points_to_the_partitions_gate_page(published):
    rows = dict(_query(published.paths.published, "select dataset, gate_report from meta.load_log"))
    assert rows == {"police_uk_street": "docs/gates/police_uk/2024-01.html#police_uk_street__lancashire__2024-01",
                    "police_uk_stop_search": None}  # absent: nothing was gated


def test_parquet_names_a_table_in_two_schemas_rather_than_overwrite(tmp_path):
    with duckdb.connect() as con:
        con.execute("create schema performance; create table main.t as select 1 as x; create table performance.t as select 2 as x")
        with pytest.raises(RuntimeError, match="mart t is in two published schemas"):
            exports.write_parquet(con, "memory", tmp_path / "parquet")


def test_cells_keep_numbers_and_dates_and_stringify_the_rest():
    from decimal import Decimal

    assert exports.excel_value(Decimal("1.25")) == 1.25
    assert exports.excel_value(datetime(2024, 1, 1)) == datetime(2024, 1, 1)
    assert exports.excel_value(["a", "b"]) == "['a', 'b']"


def test_every_mart_and_its_columns_are_described_in_the_dbt_project():
    # The marts' comments in the published file come from these descriptions (persist_docs), and their
    # contracts make the yml's columns the table's columns: together, no mart column goes undescribed.
    import yaml

    marts = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts"
    missing, models = [], 0
    for path in sorted(marts.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            models += 1
            config = model.get("config") or {}
            assert (config.get("contract") or {}).get("enforced", True), f"{model['name']}: contract not enforced"
            if not (model.get("description") or "").strip():
                missing.append(model["name"])
            missing += [f"{model['name']}.{c['name']}" for c in model.get("columns", []) if not (c.get("description") or "").strip()]
            assert model.get("columns"), f"{model['name']}: no columns documented"
    assert models >= 30
    assert missing == []
