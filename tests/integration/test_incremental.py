"""Incremental builds: a new month rebuilds that month (and the older cohorts its outcomes reach),
leaves every other row alone, and gives the same evidence as a full refresh.

Generated archives for two forces (small scale) go through the real fetch -> load -> gate path;
``dbt build`` runs in-process as the pipeline runs it. Untouched rows are recognised by DuckDB's
``rowid``: ``delete+insert`` gives rebuilt rows new row ids and leaves the others' alone.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from ingest.sample.police_uk import generate_archive
from ingest.sources import police_uk
from ingest.transform import POLICE_UK_SELECTION, dbt_build

FORCES = ["lancashire", "west-midlands"]
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
NEW_MONTH = "2024-06"
MARTS = ["fct_crime_monthly", "fct_outcomes", "fct_stop_search_monthly", "dim_force", "dim_crime_type"]


def _settings(root: Path, warehouse: str = "warehouse.duckdb"):
    return load_settings(environ={
        "OPCC_ROOT": str(root),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{root}/publisher/archive/{{month}}.zip",
        "OPCC_POLICE_UK__FORCES": ",".join(FORCES),
        "OPCC_PATHS__WAREHOUSE": str(root / warehouse),
        "OPCC_PATHS__WORK_DIR": str(root / "work"),
    })


def _load(settings, month: str) -> None:
    police_uk.fetch(settings, month)
    police_uk.load(settings, month)


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _mart(path: Path, table: str) -> list[tuple]:
    return _rows(path, f"select * from evidence.{table} order by all")


def _row_ids(path: Path, table: str, month_column: str) -> dict[str, set[int]]:
    ids: dict[str, set[int]] = {}
    for month, rowid in _rows(path, f"select {month_column}::varchar, rowid from {table}"):
        ids.setdefault(month, set()).add(rowid)
    return ids


@pytest.fixture(scope="module")
def incremental(tmp_path_factory):
    """Five months loaded and built, then a sixth month loaded and built incrementally."""
    root = tmp_path_factory.mktemp("incremental")
    generate_archive(root / "publisher", MONTHS[0], NEW_MONTH, FORCES, seed=11, scale=0.05)
    settings = _settings(root)
    for month in MONTHS:
        _load(settings, month)
    dbt_build(settings, select=POLICE_UK_SELECTION)
    before = {
        "fct_crime_monthly": _row_ids(settings.paths.warehouse, "evidence.fct_crime_monthly", "month_start"),
        "fct_outcomes": _row_ids(settings.paths.warehouse, "evidence.fct_outcomes", "month_start"),
        "fct_stop_search_monthly": _row_ids(settings.paths.warehouse, "evidence.fct_stop_search_monthly", "month_start"),
    }
    _load(settings, NEW_MONTH)
    summary = dbt_build(settings, select=POLICE_UK_SELECTION)
    return root, settings, before, summary


def test_a_new_month_rebuilds_only_that_month(incremental):
    _, settings, before, _ = incremental
    wh = settings.paths.warehouse
    for table in ("fct_crime_monthly", "fct_stop_search_monthly"):
        after = _row_ids(wh, f"evidence.{table}", "month_start")
        assert set(after) == set(before[table]) | {f"{NEW_MONTH}-01"}, table
        for month, ids in before[table].items():
            assert after[month] == ids, f"{table} {month} was rebuilt"


def test_the_new_outcomes_reach_back_only_to_the_crimes_they_name(incremental):
    _, settings, before, _ = incremental
    wh = settings.paths.warehouse
    (last_run,) = _rows(wh, "select max(built_at) from intermediate.int_outcomes__crime_cohort")[0]
    rebuilt = {r[0] for r in _rows(
        wh, f"select crime_id from intermediate.int_outcomes__crime_cohort where built_at = '{last_run}'")}
    new_crimes = {r[0] for r in _rows(
        wh, f"select crime_id from raw.police_uk_street where _month = '{NEW_MONTH}' and crime_id is not null "
            "and crime_type <> 'Anti-social behaviour'")}
    named_by_new_outcomes = {r[0] for r in _rows(
        wh, f"select crime_id from raw.police_uk_outcomes where _month = '{NEW_MONTH}'")}
    cohort = {r[0] for r in _rows(wh, "select crime_id from intermediate.int_outcomes__crime_cohort")}
    assert rebuilt == (new_crimes | named_by_new_outcomes) & cohort
    assert len(rebuilt) < len(cohort) / 2
    # fct_outcomes re-counted the cohort months those crimes belong to, and no other
    touched = {str(r[0]) for r in _rows(
        wh, f"select distinct cohort_month_start from intermediate.int_outcomes__crime_cohort where built_at = '{last_run}'")}
    outcomes_after = _row_ids(wh, "evidence.fct_outcomes", "month_start")
    for month, ids in before["fct_outcomes"].items():
        assert (outcomes_after[month] == ids) == (month not in touched), month
    assert any(month < f"{NEW_MONTH}-01" for month in touched)  # outcomes do update older cohorts


def _full_refresh_copy(settings, root: Path, name: str):
    """The same raw data in a second warehouse, every model rebuilt from scratch."""
    copy = _settings(root, name)
    shutil.copy(settings.paths.warehouse, copy.paths.warehouse)
    dbt_build(copy, select=POLICE_UK_SELECTION, full_refresh=True)
    return copy


def test_incremental_marts_equal_a_full_refresh(incremental):
    root, settings, _, _ = incremental
    full = _full_refresh_copy(settings, root, "full.duckdb")
    for table in MARTS:
        assert _mart(settings.paths.warehouse, table) == _mart(full.paths.warehouse, table), table
    cohort = "select * exclude (built_at) from intermediate.int_outcomes__crime_cohort order by all"
    assert _rows(settings.paths.warehouse, cohort) == _rows(full.paths.warehouse, cohort)


def test_a_reissued_month_that_drops_rows_matches_a_full_refresh(incremental):
    """The publisher re-issues an old month with a crime and an outcome event gone."""
    root, settings, _, _ = incremental
    month = MONTHS[1]
    archive = root / "publisher" / "archive" / f"{month}.zip"
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    street = f"{month}/{month}-lancashire-street.csv"
    outcomes = f"{month}/{month}-lancashire-outcomes.csv"
    street_lines = members[street].split(b"\n")
    dropped = next(line for line in street_lines[1:] if line and not line.startswith(b","))
    members[street] = b"\n".join(line for line in street_lines if line != dropped)
    outcome_lines = members[outcomes].split(b"\n")
    members[outcomes] = b"\n".join(outcome_lines[:1] + outcome_lines[2:])
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)

    _load(settings, month)
    dbt_build(settings, select=POLICE_UK_SELECTION)
    dropped_id = dropped.split(b",")[0].decode()
    assert _rows(settings.paths.warehouse,
                 f"select count(*) from intermediate.int_outcomes__crime_cohort where crime_id = '{dropped_id}'") == [(0,)]
    full = _full_refresh_copy(settings, root, "full-reissued.duckdb")
    for table in MARTS:
        assert _mart(settings.paths.warehouse, table) == _mart(full.paths.warehouse, table), table


def test_each_model_keeps_its_own_watermark(incremental):
    _, settings, _, summary = incremental
    rows = _rows(settings.paths.warehouse,
                 "select model, count(*), bool_or(is_full_refresh) from meta.police_uk_build_log group by all order by 1")
    models = {r[0] for r in rows}
    assert models == {"int_outcomes__crime_cohort", "fct_outcomes", "fct_crime_monthly", "fct_stop_search_monthly"}
    assert summary["full_refresh"] is False
