"""data.police.uk API source: the contract, landing, the all-or-nothing load, and "is the month published?".

Landed files are written by hand here (a few API responses in the real shapes); the client
against a live (fake) server is in tests/integration/test_police_uk_api_faults.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from ingest.config import Settings, load_settings
from ingest.raw import LoadError
from ingest.http import JsonResponse
from ingest.sources import police_uk, police_uk_api
from ingest.sources.police_uk_api import (
    DATASETS,
    FORCES,
    LAST_UPDATED,
    NEIGHBOURHOOD_PRIORITIES,
    NEIGHBOURHOODS,
    SENIOR_OFFICERS,
    STREET_DATES,
    CRIME_CATEGORIES,
    PoliceUkApi,
    _land,
)
from tests.conftest import write_zip
from tests.helpers import query

REPO = Path(__file__).resolve().parents[2]
SOURCES_YML = REPO / "dbt_project" / "models" / "staging" / "police_uk_api" / "_police_uk_api__sources.yml"
API = "https://data.police.uk/api"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_POLICE_UK__FORCES": "lancashire"})


def response(path: str, body) -> JsonResponse:
    return JsonResponse(url=API + path, body=body, attempts=1)


def envelope(path: str, body, **keys) -> dict:
    return police_uk_api.envelope(response(path, body), keys)


PRIORITY = {"issue": "<p>Tackle anti-social behaviour on the Deepdale estate</p>", "issue-date": "2025-06-12T00:00:00",
            "action": "<p>Patrols &amp; visits</p>", "action-date": "2025-07-01T00:00:00"}
NEIGHBOURHOOD = {"id": "PR1", "name": "Preston Central", "description": "<p>City centre</p>", "population": "0",
                 "url_force": "https://www.lancashire.police.uk/pr1", "centre": {"latitude": "53.7", "longitude": "-2.7"},
                 "contact_details": {"email": "pr1@lancashire.police.uk"}, "links": [], "locations": [],
                 "unexpected": "the API adds a field"}


def land_everything(settings: Settings, neighbourhoods: list[dict] | None = None) -> None:
    """One small, complete landing: national datasets and Lancashire's, as the fetch writes them."""
    _land(settings, STREET_DATES, "all", [envelope("/crimes-street-dates", [
        {"date": "2025-09", "stop-and-search": ["lancashire"]}, {"date": "2025-08", "stop-and-search": []}])], API)
    _land(settings, LAST_UPDATED, "all", [envelope("/crime-last-updated", {"date": "2025-09-01"})], API)
    _land(settings, CRIME_CATEGORIES, "2025-09", [envelope("/crime-categories?date=2025-09", [
        {"url": "all-crime", "name": "All crime"}, {"url": "burglary", "name": "Burglary"}], month="2025-09")], API)
    _land(settings, FORCES, "all", [envelope("/forces/lancashire", {
        "id": "lancashire", "name": "Lancashire Constabulary", "description": "<p>Hi</p>", "url": "https://x",
        "telephone": "101", "engagement_methods": [{"type": "facebook", "title": "Facebook"}]})], API)
    _land(settings, SENIOR_OFFICERS, "lancashire", [envelope("/forces/lancashire/people", [
        {"name": "Sarah Hughes", "rank": "Chief Constable", "bio": None, "contact_details": {}}],
        force_id="lancashire")], API)
    _land(settings, NEIGHBOURHOODS, "lancashire", [
        envelope(f"/lancashire/{n['id']}", n, force_id="lancashire") for n in (neighbourhoods or [NEIGHBOURHOOD])], API)
    _land(settings, NEIGHBOURHOOD_PRIORITIES, "lancashire", [
        envelope("/lancashire/PR1/priorities", [PRIORITY, {**PRIORITY, "action": None, "action-date": None}],
                 force_id="lancashire", neighbourhood_id="PR1"),
        envelope("/lancashire/PR2/priorities", [], force_id="lancashire", neighbourhood_id="PR2"),
    ], API)


# --------------------------------------------------------------------------- contract


def test_raw_ddl_matches_the_dbt_source_definitions():
    """The dbt sources create the raw tables on-run-start from their data types: they must be the loader's."""
    tables = {t["identifier"]: t for t in yaml.safe_load(SOURCES_YML.read_text())["sources"][0]["tables"]}
    assert set(tables) == {d.table for d in DATASETS}
    for dataset in DATASETS:
        declared = [(c["name"], c["data_type"]) for c in tables[dataset.table]["columns"]]
        assert declared == dataset.raw_columns(), dataset.table
        assert all(c.get("description") for c in tables[dataset.table]["columns"])


def test_nested_fields_are_read_as_a_struct():
    assert NEIGHBOURHOODS.body_type().startswith('STRUCT("id" VARCHAR, "name" VARCHAR, ')
    assert '"centre" STRUCT("latitude" VARCHAR, "longitude" VARCHAR)' in NEIGHBOURHOODS.body_type()
    assert NEIGHBOURHOOD_PRIORITIES.body_type().endswith('"action-date" VARCHAR)[]')


def test_ids_from_the_api_cannot_change_the_path():
    assert police_uk_api.path_segment("55.CR3001") == "55.CR3001"
    assert police_uk_api.path_segment("a/../b") == "a%2F..%2Fb"
    with pytest.raises(ValueError):
        police_uk_api.path_segment("..")
    with pytest.raises(ValueError, match="not a data.police.uk force id"):
        PoliceUkApi(API, session=object()).neighbourhoods("../forces")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- landing and load


def test_landing_writes_once_and_skips_identical_content(settings: Settings):
    lines = [envelope("/crime-last-updated", {"date": "2025-09-01"})]
    first = _land(settings, LAST_UPDATED, "all", lines, API)
    second = _land(settings, LAST_UPDATED, "all", lines, API)
    assert (first.status, second.status) == ("fetched", "unchanged") and first.sha256 == second.sha256
    landed = Path(first.path)
    assert json.loads(landed.read_text()) == {"url": f"{API}/crime-last-updated", "body": {"date": "2025-09-01"}}
    assert json.loads((landed.parent / "all.ndjson.manifest.json").read_text())["sha256"] == first.sha256
    assert not list(landed.parent.glob(".*"))


def test_load_reads_every_dataset_with_lineage(settings: Settings):
    land_everything(settings)
    summary = police_uk_api.load(settings)
    assert summary == {"street_dates/all": 2, "last_updated/all": 1, "crime_categories/2025-09": 2, "forces/all": 1,
                       "senior_officers/lancashire": 1, "neighbourhoods/lancashire": 1,
                       "neighbourhood_priorities/lancashire": 2}
    assert query(settings, "select neighbourhood_id, issue, issue_date, action, _partition, _source_url, _source_file "
                           "from raw.police_uk_api_neighbourhood_priorities order by action nulls last") == [
        ("PR1", PRIORITY["issue"], "2025-06-12T00:00:00", "<p>Patrols &amp; visits</p>", "lancashire",
         f"{API}/lancashire/PR1/priorities", "lancashire.ndjson"),
        ("PR1", PRIORITY["issue"], "2025-06-12T00:00:00", None, "lancashire",
         f"{API}/lancashire/PR1/priorities", "lancashire.ndjson"),
    ]
    assert query(settings, "select neighbourhood_name, population, centre_latitude, contact_details ->> 'email' "
                           "from raw.police_uk_api_neighbourhoods") == [
        ("Preston Central", "0", "53.7", "pr1@lancashire.police.uk")]
    assert query(settings, "select month, stop_and_search_force_ids from raw.police_uk_api_street_dates order by 1") == [
        ("2025-08", []), ("2025-09", ["lancashire"])]
    assert query(settings, "select count(*) from raw.landing_manifest where source = 'police_uk_api'") == [(7,)]
    assert ("police_uk_api_neighbourhoods", "lancashire", "current", 1) in query(
        settings, "select dataset, force_id, month, rows_loaded from raw.load_log")


def test_reloading_replaces_the_partition(settings: Settings):
    land_everything(settings)
    police_uk_api.load(settings)
    police_uk_api.load(settings)
    assert query(settings, "select count(*), count(distinct _loaded_at) from raw.police_uk_api_neighbourhood_priorities") \
        == [(2, 1)]


def test_a_failed_check_rolls_back_every_table(settings: Settings):
    land_everything(settings)
    police_uk_api.load(settings)
    before = query(settings, "select count(*), min(_loaded_at) from raw.police_uk_api_street_dates")
    land_everything(settings, neighbourhoods=[NEIGHBOURHOOD, NEIGHBOURHOOD])  # the same id twice
    with pytest.raises(LoadError, match=r"neighbourhoods/lancashire\.ndjson .*\(force_id, neighbourhood_id\) repeated"):
        police_uk_api.load(settings)
    # Tables loaded before the failing one in the same run keep their previous rows too.
    assert query(settings, "select count(*), min(_loaded_at) from raw.police_uk_api_street_dates") == before
    assert query(settings, "select count(*) from raw.police_uk_api_neighbourhoods") == [(1,)]


def test_a_file_in_the_wrong_shape_is_refused_by_name(settings: Settings):
    land_everything(settings)
    _land(settings, NEIGHBOURHOODS, "lancashire",
          [envelope("/lancashire/PR1", {**NEIGHBOURHOOD, "centre": "53.7,-2.7"}, force_id="lancashire")], API)
    with pytest.raises(LoadError, match=r"neighbourhoods/lancashire\.ndjson: cannot be read as /\{force\}/\{neighbourhood\}"):
        police_uk_api.load(settings)
    assert query(settings, "select count(*) from raw.police_uk_api_forces") == [(0,)]


def test_an_empty_answer_where_the_api_always_has_rows_is_refused(settings: Settings):
    land_everything(settings)
    _land(settings, STREET_DATES, "all", [envelope("/crimes-street-dates", [])], API)
    with pytest.raises(LoadError, match=r"street_dates/all\.ndjson .*0 rows; the API always has at least 1"):
        police_uk_api.load(settings)


def test_load_without_a_fetch_says_what_is_missing(settings: Settings):
    with pytest.raises(LoadError, match=r"nothing landed for street_dates \(any partition\).*run the fetch"):
        police_uk_api.load(settings)


def test_ensure_raw_tables_creates_empty_tables():
    with duckdb.connect() as con:
        police_uk_api.ensure_raw_tables(con)
        police_uk_api.ensure_raw_tables(con)  # idempotent
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
    assert tables == {d.table for d in DATASETS}


# --------------------------------------------------------------------------- is the month published?


def test_offline_publication_is_the_archive_existing(tmp_path: Path):
    write_zip(tmp_path / "archive" / "2024-03.zip", {"2024-03/x.csv": "a\n"})
    settings = load_settings(environ={
        "OPCC_ROOT": str(tmp_path), "OPCC_POLICE_UK__API_URL": "",
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{tmp_path}/archive/{{month}}.zip"})
    assert police_uk.is_month_published(settings, "2024-03")
    assert not police_uk.is_month_published(settings, "2024-04")
    assert police_uk.stop_and_search_forces(settings, "2024-03") is None


def test_the_demo_configuration_works_offline():
    settings = load_settings(environ={"OPCC_CONFIG": "config/demo.toml"})
    assert settings.police_uk.api_url == ""
    assert load_settings(environ={}).police_uk.api_url == "https://data.police.uk/api"


@pytest.mark.parametrize("dataset", police_uk_api.DATASETS, ids=lambda d: d.name)
def test_each_api_table_has_the_suite_its_declaration_implies(dataset):
    # One declaration: the suite file is generated from it (police_uk_api.suite) and must not drift.
    path = Path(__file__).resolve().parents[2] / "expectations" / f"raw_{dataset.table}.json"
    assert json.loads(path.read_text()) == police_uk_api.suite(dataset), (
        f"{path.name} differs from its declaration: regenerate it with "
        "police_uk_api.suite() (see the module docstring)")
