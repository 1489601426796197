"""Each source is declared once, in its module; what repeats it elsewhere is checked against it.

A source's module creates its raw tables (``ensure_raw_tables``). From those tables, as DuckDB
creates them, this test requires: a suite per table whose column list (if it states one) is
the table's, the table declared in ``staging/<source>/_<source>__sources.yml`` as dbt source ``<source>`` with
the same columns, a DAG with id ``<source>`` emitting the source's Asset ``raw_<source>`` and, for
a configured source, its config section. A schema
changed in the module and not in the suite or the dbt yml fails here, naming what differs.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import duckdb
import pytest
import yaml

import ingest.sources
from ingest import assets
from ingest.config import load_settings

REPO = Path(__file__).resolve().parents[2]
SOURCES = [m.name for m in pkgutil.iter_modules(ingest.sources.__path__)
           if hasattr(importlib.import_module(f"ingest.sources.{m.name}"), "ensure_raw_tables")]
SHARED = {"landing_manifest", "load_log", "load_rejects"}


def _raw_tables(module) -> dict[str, list[str]]:
    with duckdb.connect() as con:
        con.execute("create schema raw")
        module.ensure_raw_tables(con)
        return {table: [c for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'raw' "
                    "and table_name = ? order by ordinal_position", [table]).fetchall()]
                for (table,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'raw'").fetchall() if table not in SHARED}


def _dbt_sources() -> dict[str, tuple[str, str, list[str]]]:
    """raw table -> (staging folder, dbt source name, declared columns)."""
    tables = {}
    for path in (REPO / "dbt_project" / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source.get("tables", []):
                tables[table.get("identifier", table["name"])] = (
                    path.parent.name, source["name"], [c["name"] for c in table.get("columns", [])])
    return tables


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_every_source_module_is_found():
    assert {"police_uk", "police_uk_api", "ons_geography", "ons_population", "home_office_prc", "hmicfrs",
            "finance", "csp_assessments", "consultation"} <= set(SOURCES)


@pytest.mark.parametrize("source", SOURCES)
def test_the_source_name_is_the_same_in_module_dag_asset_and_config(source, dagbag):
    module = importlib.import_module(f"ingest.sources.{source}")
    assert module.SOURCE == source
    assert any(getattr(a, "name", None) == f"raw_{source}" for a in vars(assets).values()), f"no Asset raw_{source}"
    settings = load_settings()
    section = "police_uk" if source == "police_uk_api" else source  # the API shares [police_uk] (api_url)
    assert settings.source(section) is not None
    dag = dagbag.dags.get(source)
    assert dag is not None, f"no DAG with id {source!r} (a source's DAG is named after its module)"
    outlets = {getattr(o, "name", None) for task in dag.tasks for o in task.outlets}
    assert f"raw_{source}" in outlets, f"DAG {source} emits no Asset raw_{source}"


@pytest.mark.parametrize("source", SOURCES)
def test_suites_and_dbt_sources_agree_with_the_tables_the_module_creates(source):
    module = importlib.import_module(f"ingest.sources.{source}")
    dbt_tables = _dbt_sources()
    for table, columns in _raw_tables(module).items():
        suite_path = REPO / "expectations" / f"raw_{table}.json"
        assert suite_path.exists(), f"raw.{table} ({source}) has no suite {suite_path.name}"
        for expectation in json.loads(suite_path.read_text())["expectations"]:
            if expectation["type"] == "expect_table_columns_to_match_ordered_list":
                assert expectation["kwargs"]["column_list"] == columns, f"{suite_path.name}: column list"
        assert table in dbt_tables, f"raw.{table} ({source}) is not declared in a staging _<source>__sources.yml"
        folder, dbt_source, declared = dbt_tables[table]
        assert folder == source and dbt_source == source, (
            f"raw.{table} ({source}) is declared as source {dbt_source!r} in staging/{folder}/: "
            f"both must be named {source!r}")
        assert not set(declared) - set(columns), (
            f"raw.{table}: the dbt sources yml declares columns the table does not have: {set(declared) - set(columns)}")
