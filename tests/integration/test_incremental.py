"""Incremental builds: a new month rebuilds that month (and the older cohorts its outcomes reach),
leaves every other row alone, and gives the same evidence as a full refresh.

Generated archives for two forces (small scale) go through the real fetch -> load -> gate path;
``dbt build`` runs in-process as the pipeline runs it. Untouched rows are recognised by DuckDB's
``rowid``: ``delete+insert`` gives rebuilt rows new row ids and leaves the others' alone.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from ingest.raw import LoadError
from devtools.sample.police_uk import generate_archive
from ingest.sources import police_uk
from ingest.transform import POLICE_UK_SELECTION, dbt_build
from tests.helpers import query as _rows

FORCES = ["lancashire", "west-midlands"]
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
NEW_MONTH = "2024-06"
MARTS = ["fct_crime_monthly", "fct_outcomes", "fct_stop_search_monthly", "dim_force", "dim_crime_type"]


def _settings(root: Path, warehouse: str = "warehouse.duckdb", work_dir: str = "work"):
    return load_settings(environ={
        "OPCC_ROOT": str(root),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{root}/publisher/archive/{{month}}.zip",
        "OPCC_POLICE_UK__FORCES": ",".join(FORCES),
        "OPCC_PATHS__WAREHOUSE": str(root / warehouse),
        "OPCC_PATHS__WORK_DIR": str(root / work_dir),
    })


def _load(settings, month: str) -> None:
    police_uk.fetch(settings, month)
    police_uk.load(settings, month)


def _mart(path: Path, table: str) -> list[tuple]:
    return _rows(path, f"select * from evidence.{table} order by all")


def _row_ids(path: Path, table: str, month_column: str) -> dict[str, set[int]]:
    ids: dict[str, set[int]] = {}
    for month, rowid in _rows(path, f"select {month_column}::varchar, rowid from {table}"):
        ids.setdefault(month, set()).add(rowid)
    return ids


def _rewrite_member(archive: Path, member: str, rewrite) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members[member] = rewrite(members[member])
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _repeat_an_old_crime_in_the_new_month(root: Path) -> str:
    """The publisher lists a crime of the first month again in the new month's street file."""
    with zipfile.ZipFile(root / "publisher" / "archive" / f"{MONTHS[0]}.zip") as zf:
        old_lines = zf.read(f"{MONTHS[0]}/{MONTHS[0]}-lancashire-street.csv").split(b"\n")
    crime = next(line for line in old_lines[1:] if line and not line.startswith(b",")
                 and b"Anti-social behaviour" not in line)
    crime_id, _, rest = crime.split(b",", 2)
    repeated = b",".join([crime_id, NEW_MONTH.encode(), rest])

    def add_row(data: bytes) -> bytes:
        return data.rstrip(b"\r\n") + (b"\r\n" if b"\r\n" in data else b"\n") + repeated + b"\n"

    new_archive = root / "publisher" / "archive" / f"{NEW_MONTH}.zip"
    _rewrite_member(new_archive, f"{NEW_MONTH}/{NEW_MONTH}-lancashire-street.csv", add_row)
    return crime_id.decode()


def _compiled(settings, path: str) -> str:
    """The SQL dbt last compiled for a node (model file or data test) of the project."""
    compiled = settings.paths.work_dir / "dbt" / "target" / "compiled" / "opcc_evidence" / "models"
    return "\n".join(p.read_text() for p in sorted(compiled.glob(path)))


@pytest.fixture(scope="module")
def incremental(tmp_path_factory):
    """Five months loaded and built, then a sixth month loaded and built incrementally."""
    root = tmp_path_factory.mktemp("incremental")
    generate_archive(root / "publisher", MONTHS[0], NEW_MONTH, FORCES, seed=11, scale=0.05)
    repeated_crime = _repeat_an_old_crime_in_the_new_month(root)
    settings = _settings(root)
    for month in MONTHS:
        _load(settings, month)
    dbt_build(settings, select=POLICE_UK_SELECTION)
    before = {
        "fct_crime_monthly": _row_ids(settings.paths.warehouse, "evidence.fct_crime_monthly", "month_start"),
        "fct_outcomes": _row_ids(settings.paths.warehouse, "evidence.fct_outcomes", "month_start"),
        "fct_stop_search_monthly": _row_ids(settings.paths.warehouse, "evidence.fct_stop_search_monthly", "month_start"),
        "repeated_crime": repeated_crime,
    }
    _load(settings, NEW_MONTH)
    summary = dbt_build(settings, select=POLICE_UK_SELECTION)
    summary["compiled"] = {
        "cohort": _compiled(settings, "intermediate/int_outcomes__crime_cohort.sql"),
        "events": _compiled(settings, "intermediate/int_outcomes__events_per_crime.sql"),
        "crime_monthly_grain_test": _compiled(settings, "marts/evidence/fct_crime_monthly.yml/unique_combination_of_columns_*.sql"),
        "outcomes_grain_test": _compiled(settings, "marts/evidence/fct_outcomes.yml/unique_combination_of_columns_*.sql"),
        "cohort_unique_test": _compiled(settings, "intermediate/int_outcomes__crime_cohort.yml/unique_int_outcomes__crime_cohort_crime_id.sql"),
    }
    summary["rewritten_cohort_months"] = {str(r[0]) for r in _rows(
        settings.paths.warehouse, "select distinct cohort_month_start from intermediate.int_outcomes__crime_cohort "
        "where built_at = (select max(built_at) from intermediate.int_outcomes__crime_cohort)")}
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


@pytest.fixture(scope="module")
def full_refresh(incremental):
    """The incremental warehouse after the new month, copied and rebuilt in full once (before any test
    changes its raw rows), with the SQL that full build compiled for the tests it ran."""
    root, settings, _, _ = incremental
    full = _full_refresh_copy(settings, root, "full.duckdb")
    compiled = {
        "crime_monthly_grain_test": _compiled(full, "marts/evidence/fct_crime_monthly.yml/unique_combination_of_columns_*.sql"),
        "cohort_unique_test": _compiled(full, "intermediate/int_outcomes__crime_cohort.yml/unique_*.sql"),
    }
    return full, compiled


def test_incremental_marts_equal_a_full_refresh(incremental, full_refresh):
    _, settings, _, _ = incremental
    full, _ = full_refresh
    for table in MARTS:
        assert _mart(settings.paths.warehouse, table) == _mart(full.paths.warehouse, table), table
    cohort = "select * exclude (built_at) from intermediate.int_outcomes__crime_cohort order by all"
    assert _rows(settings.paths.warehouse, cohort) == _rows(full.paths.warehouse, cohort)


def test_crimes_sharing_a_crime_key_bucket_equal_a_full_refresh(incremental, full_refresh):
    """Summaries are replaced by crime_key bucket and matched by crime id within one: with the keys
    folded into three buckets (every bucket shared by many crimes), the new month's merge carries each
    bucket's other crimes over and the evidence equals the full refresh's with 64-bit keys."""
    root, settings, _, _ = incremental
    full, _ = full_refresh
    # its own dbt folder: a build with other vars parses the project again, and would make the other
    # tests' builds parse it again too
    few = _settings(root, "few-buckets.duckdb", work_dir="work-few-buckets")
    shutil.copy(settings.paths.warehouse, few.paths.warehouse)
    three_buckets = ["--vars", "{police_uk_crime_key_buckets: 3}"]
    tables = ("police_uk_street", "police_uk_outcomes", "police_uk_stop_search")
    with duckdb.connect(str(few.paths.warehouse)) as con:  # history without the new month, built in full
        con.execute("drop schema meta cascade")
        for table in tables:
            con.execute(f"create table raw.{table}_new as select * from raw.{table} where _month = '{NEW_MONTH}'")
            con.execute(f"delete from raw.{table} where _month = '{NEW_MONTH}'")
    dbt_build(few, select=POLICE_UK_SELECTION, full_refresh=True, extra_args=three_buckets)
    with duckdb.connect(str(few.paths.warehouse)) as con:  # the new month arrives
        for table in tables:
            con.execute(f"insert into raw.{table} select * replace (now()::timestamp as _loaded_at) from raw.{table}_new")
            con.execute(f"drop table raw.{table}_new")
    dbt_build(few, select=POLICE_UK_SELECTION, extra_args=three_buckets)

    assert "street_summaries_merged" in _compiled(few, "intermediate/int_outcomes__crime_cohort.sql")
    for model in ("int_outcomes__crime_cohort", "int_outcomes__events_per_crime"):
        buckets = _rows(few.paths.warehouse, f"select count(distinct crime_key), count(*) from intermediate.{model}")
        assert buckets[0][0] == 3 and buckets[0][1] > 100, (model, buckets)
        summaries = f"select * exclude (crime_key, built_at) from intermediate.{model} order by all"
        assert _rows(few.paths.warehouse, summaries) == _rows(full.paths.warehouse, summaries), model
    for table in MARTS:
        assert _mart(few.paths.warehouse, table) == _mart(full.paths.warehouse, table), table


def test_a_table_built_by_an_earlier_release_is_rebuilt_in_full_once(incremental):
    """A warehouse built before a model gained a column, and before a seed lost one: the next build
    rebuilds them and what is built from them, instead of failing on the columns, and the marts come
    out unchanged."""
    root, settings, _, _ = incremental
    older = _settings(root, "older-release.duckdb")
    shutil.copy(settings.paths.warehouse, older.paths.warehouse)
    with duckdb.connect(str(older.paths.warehouse)) as con:
        con.execute("alter table intermediate.int_outcomes__crime_cohort drop column street_copy_rank")
        # a column the seed's CSV no longer has (dbt would load the CSV into it and fail on the count)
        con.execute("alter table reference.crime_types add column retired_label varchar")
    summary = dbt_build(older, select=POLICE_UK_SELECTION)
    assert summary["rebuilt_in_full"] == ["crime_types", "int_outcomes__crime_cohort"]
    assert _rows(older.paths.warehouse, "select count(*) from information_schema.columns "
                 "where table_name = 'int_outcomes__crime_cohort' and column_name = 'street_copy_rank'") == [(1,)]
    assert _rows(older.paths.warehouse, "select count(*) from information_schema.columns "
                 "where table_name = 'crime_types' and column_name = 'retired_label'") == [(0,)]
    for table in MARTS:
        assert _mart(older.paths.warehouse, table) == _mart(settings.paths.warehouse, table), table
    # once rebuilt, the next build is incremental again
    assert dbt_build(older, select=POLICE_UK_SELECTION)["rebuilt_in_full"] == []


def test_a_reissued_month_that_drops_rows_matches_a_full_refresh(incremental):
    """The publisher re-issues an old month with a crime and an outcome event gone."""
    root, settings, _, _ = incremental
    month = MONTHS[1]
    archive = root / "publisher" / "archive" / f"{month}.zip"
    with zipfile.ZipFile(archive) as zf:
        street_lines = zf.read(f"{month}/{month}-lancashire-street.csv").split(b"\n")
    dropped = next(line for line in street_lines[1:] if line and not line.startswith(b","))
    _rewrite_member(archive, f"{month}/{month}-lancashire-street.csv",
                    lambda data: b"\n".join(line for line in data.split(b"\n") if line != dropped))
    _rewrite_member(archive, f"{month}/{month}-lancashire-outcomes.csv",
                    lambda data: b"\n".join(data.split(b"\n")[:1] + data.split(b"\n")[2:]))

    _load(settings, month)
    dbt_build(settings, select=POLICE_UK_SELECTION)
    # a month consumed before: its crimes are summarised again from every row, not merged
    assert "crimes_to_resummarise" in _compiled(settings, "intermediate/int_outcomes__crime_cohort.sql")
    assert "between existing_summaries.first_outcome_month_start" in _compiled(
        settings, "intermediate/int_outcomes__events_per_crime.sql")
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
    assert models == {"int_outcomes__events_per_crime", "int_outcomes__crime_cohort", "fct_outcomes",
                      "fct_crime_monthly", "fct_stop_search_monthly"}
    assert summary["full_refresh"] is False


def test_a_new_month_is_merged_into_the_crime_summaries(incremental):
    """A month never seen before is merged into the per-crime summaries; history is not re-read."""
    _, _, _, summary = incremental
    cohort, events = summary["compiled"]["cohort"], summary["compiled"]["events"]
    assert "street_summaries_merged" in cohort and "crimes_to_resummarise" not in cohort
    assert f"source_month in ('{NEW_MONTH}')" in cohort
    assert "merged as" in events and "between existing_summaries.first_outcome_month_start" not in events
    assert f"source_month in ('{NEW_MONTH}')" in events
    # earlier summaries are found by 64-bit key, never by comparing every crime id of history
    assert "where crime_key in (select" in cohort and "where crime_key in (select" in events
    # and fetched by row id, not by reading every column of history beside the keys
    assert cohort.count("where rowid in (") == 2 and events.count("where rowid in (") == 1


def test_a_crime_repeated_in_a_later_month_keeps_its_first_month(incremental):
    _, settings, before, _ = incremental
    crime = before["repeated_crime"]
    rows = _rows(settings.paths.warehouse,
                 "select cohort_month_start::varchar, last_street_month_start::varchar, street_record_count "
                 f"from intermediate.int_outcomes__crime_cohort where crime_id = '{crime}'")
    assert rows == [(f"{MONTHS[0]}-01", f"{NEW_MONTH}-01", 2)]


def test_an_incremental_build_tests_only_what_it_rebuilt(incremental):
    """Data tests of the incremental models look at the months (or crimes) just written."""
    _, _, _, summary = incremental
    compiled = summary["compiled"]
    assert f"month_start in (date '{NEW_MONTH}-01')" in compiled["crime_monthly_grain_test"]
    # fct_outcomes: exactly the cohort months of the crimes the cohort rewrote
    tested_months = set(re.findall(r"date '(\d{4}-\d{2}-\d{2})'", compiled["outcomes_grain_test"]))
    assert tested_months == summary["rewritten_cohort_months"]
    assert "built_at >= cast(" in compiled["cohort_unique_test"]


def test_a_full_refresh_tests_everything(full_refresh):
    _, compiled = full_refresh
    grain_test = compiled["crime_monthly_grain_test"]
    assert grain_test and "month_start in (" not in grain_test
    cohort_test = compiled["cohort_unique_test"]
    assert cohort_test and "built_at >=" not in cohort_test


# --------------------------------------------------------------------------- backfill (load_months)


def _raw_contents(path: Path) -> dict[str, list[tuple]]:
    tables = {}
    for table in ("police_uk_street", "police_uk_outcomes", "police_uk_stop_search"):
        tables[table] = _rows(path, f"select * exclude (_loaded_at) from raw.{table} order by all")
    tables["load_log"] = _rows(path, "select * exclude (loaded_at) from raw.load_log order by all")
    return tables


def _gate_results(folder: Path) -> dict[str, dict]:
    import json

    results = {}
    for path in sorted(folder.rglob("*.json")):
        report = json.loads(path.read_text())["opcc_gate"]
        results[path.relative_to(folder).as_posix()] = {
            k: report[k] for k in ("success", "row_count", "failures", "warnings", "expectations_evaluated")}
    return results


def test_a_backfill_loads_and_gates_as_month_by_month(tmp_path):
    """load_months (several months per transaction) leaves raw, the load log and the gate results
    exactly as loading each month on its own does; a force-month that fails its gate is left out
    of its batch alone, with its previous rows kept."""
    months = ["2024-01", "2024-02", "2024-03"]
    generate_archive(tmp_path / "publisher", months[0], months[-1], FORCES, seed=5, scale=0.02)
    # West Midlands' February street file states another month on one row: an error gate.
    _rewrite_member(tmp_path / "publisher" / "archive" / "2024-02.zip", "2024-02/2024-02-west-midlands-street.csv",
                    lambda data: data.replace(b",2024-02,", b",2024-01,", 1))
    one_by_one, backfill = _settings(tmp_path, "one-by-one.duckdb"), _settings(tmp_path, "backfill.duckdb")
    for month in months:
        police_uk.fetch(one_by_one, month)
    for month in months:
        if month == "2024-02":
            with pytest.raises(LoadError, match="west-midlands 2024-02"):
                police_uk.load(one_by_one, month, run_dir=tmp_path / "gates-one-by-one")
        else:
            police_uk.load(one_by_one, month, run_dir=tmp_path / "gates-one-by-one")
    with pytest.raises(LoadError) as raised:
        police_uk.load_months(backfill, months, run_dir=tmp_path / "gates-backfill", months_per_transaction=2)
    assert "west-midlands 2024-02" in str(raised.value) and "lancashire" not in str(raised.value)

    assert _raw_contents(backfill.paths.warehouse) == _raw_contents(one_by_one.paths.warehouse)
    loaded = _rows(backfill.paths.warehouse, "select distinct _force_id, _month from raw.police_uk_street order by all")
    assert ("west-midlands", "2024-02") not in loaded and ("lancashire", "2024-02") in loaded and len(loaded) == 5
    gates_backfill = _gate_results(tmp_path / "gates-backfill")
    assert gates_backfill == _gate_results(tmp_path / "gates-one-by-one")
    assert len(gates_backfill) >= 3 * 2 * 2
