"""The plan's measures, their statistics and the quarterly report, on a tiny warehouse built with dbt.

One force (Lancashire), 21 months of hand-made street records (January 2023 to September 2024):
burglary 10 a month in 2023 and 5 a month in 2024 (one charged each month), vehicle crime 3
(one cautioned) and violence 4 every month,
one anti-social behaviour incident in January 2023, a few stop and searches. The other sources'
raw tables exist but are empty (no geography, population or Home Office data), so the measures
that need them must come out as data gaps with their reasons. The raw tables are written as the
loaders write them (the fixture approach of test_dbt_project.py), then ``dbt build`` runs once for
the module on the performance models and everything upstream of them.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape

from ingest.sources.police_uk_contract import STOP_AND_SEARCH, STREET
from tests.integration.test_dbt_project import (
    DBT_PROJECT_DIR, LANCS, MDA, PRESTON, WHITE_BRITISH, BLACK_CARIBBEAN, _create_raw_tables, _insert, _search, _street,
)
from tests.helpers import dbt as _dbt
from tests.helpers import dbt_ok
from tests.helpers import query as _query

MONTHS = [f"2023-{m:02d}" for m in range(1, 13)] + [f"2024-{m:02d}" for m in range(1, 10)]
FORCE = "lancashire"


def _street_rows() -> dict[tuple[str, str], list[tuple]]:
    rows: dict[tuple[str, str], list[tuple]] = {}
    serial = 0

    def crime(month: str, crime_type: str, outcome: str) -> tuple:
        nonlocal serial
        serial += 1
        return _street(f"{serial:064x}", month, LANCS, -2.7, 53.76, "On or near High Street", PRESTON,
                       crime_type, outcome)

    for month in MONTHS:
        burglaries = 10 if month.startswith("2023") else 5
        month_rows = [crime(month, "Burglary", "Suspect charged")]
        month_rows += [crime(month, "Burglary", "Investigation complete; no suspect identified") for _ in range(burglaries - 1)]
        month_rows += [crime(month, "Vehicle crime", "Under investigation") for _ in range(2)]
        month_rows.append(crime(month, "Vehicle crime", "Offender given a caution"))
        month_rows += [crime(month, "Violence and sexual offences", "Unable to prosecute suspect") for _ in range(4)]
        rows[(FORCE, month)] = month_rows
    rows[(FORCE, "2023-01")].append(_street(None, "2023-01", LANCS, -2.7, 53.76, "On or near Park Road", PRESTON,
                                            "Anti-social behaviour", None))
    return rows


# One search of a White man a month, ending in arrest and finding what was searched for, and one of a
# Black man in August 2023 that found nothing.
STOP_SEARCH_ROWS = {
    (FORCE, month): [_search("Person search", f"{month}-05T10:00:00+00:00", WHITE_BRITISH, "White", MDA, "Arrest", True)]
    for month in MONTHS
}
STOP_SEARCH_ROWS[(FORCE, "2023-08")].append(
    _search("Person search", "2023-08-06T10:00:00+00:00", BLACK_CARIBBEAN, "Black", MDA, "A no further action disposal", False))


def _create_other_sources_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every other source's raw tables, empty, as its loader creates them (the staging views need them)."""
    import ingest.sources
    from ingest.raw.contract import ensure_tables

    for info in pkgutil.iter_modules(ingest.sources.__path__):
        module = importlib.import_module(f"ingest.sources.{info.name}")
        if hasattr(module, "CONTRACTS"):
            ensure_tables(con, module.CONTRACTS.values())
        if hasattr(module, "ensure_raw_tables"):
            module.ensure_raw_tables(con)


# The force's returns, as their loaders write them: per month, of 100 victims 25 repeat victims in
# 2023 and 24 in 2024; 40 domestic abuse crimes with 12 arrests; 30 domestic abuse outcomes, 6
# positive; rape 1 positive of 5 outcomes, other sexual offences 2 of 10. On the roads 1 killed and
# 19 seriously injured a month in 2023, 1 and 18 in 2024.
def _force_return_rows() -> dict[str, list[tuple]]:
    lineage = ("lancashire", "force_return_lancashire.csv", "0" * 64, datetime(2024, 10, 15, 7))
    return {
        "force_vulnerability_monthly": [
            ("lancashire", month, 40, 12, 30, 6, 100, 25 if month < "2024" else 24, 30, 12, 5, 1, 10, 2, *lineage)
            for month in MONTHS],
        "road_safety_monthly": [
            ("Lancashire Constabulary", month, 1, 19 if month < "2024" else 18, None, "DfT STATS19 final", *lineage)
            for month in MONTHS],
    }


def build_raw_warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        _create_raw_tables(con)
        _create_other_sources_raw_tables(con)
        for table, rows in _force_return_rows().items():
            con.executemany(f"insert into raw.{table} values ({', '.join(['?'] * len(rows[0]))})", rows)
        _insert(con, STREET, _street_rows())
        _insert(con, STOP_AND_SEARCH, STOP_SEARCH_ROWS)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp_path = tmp_path_factory.mktemp("performance")
    path = tmp_path / "warehouse.duckdb"
    build_raw_warehouse(path)
    # The performance models and everything upstream of them, dim_force (the report names the
    # force from it) and the equality section's evidence marts, with the tests of those nodes only.
    dbt_ok(["build", "--select", "+path:models/marts/performance", "+dim_force", "+fct_stop_search_by_group",
            "+fct_victim_satisfaction_by_group", "--indirect-selection", "cautious", "--fail-fast"], path, tmp_path,
           allow=("skipped",))
    yield path


def _exact_two_sided_p(x: int, n: int) -> float:
    """By hand: Binomial(n, 1/2) two-sided p, every split at most as likely as x."""
    probabilities = [math.comb(n, k) / 2 ** n for k in range(n + 1)]
    return sum(p for p in probabilities if p <= probabilities[x] * (1 + 1e-7))


def test_measure_values_count_and_fill_zeros(warehouse):
    rows = dict(_query(warehouse, """
        select period_label, value from performance.fct_measure_values
        where measure_id = 'burglary' and area_code = 'lancashire' and period_type = 'quarter'
    """))
    assert rows == {"2023Q1": 30, "2023Q2": 30, "2023Q3": 30, "2023Q4": 30, "2024Q1": 15, "2024Q2": 15, "2024Q3": 15}
    # One anti-social behaviour incident in January 2023; every other covered month counts zero.
    asb = _query(warehouse, """
        select count(*), sum(value), count(*) filter (where value = 0) from performance.fct_measure_values
        where measure_id = 'anti_social_behaviour' and period_type = 'month'
    """)
    assert asb == [(21, 1, 20)]
    # Total crime leaves anti-social behaviour out: 2024Q3 = 3 x (5 + 3 + 4).
    assert _query(warehouse, """
        select value from performance.fct_measure_values
        where measure_id = 'total_crime' and period_label = '2024Q3'
    """) == [(36,)]


def test_year_on_year_change_uses_the_exact_poisson_test(warehouse):
    rows = _query(warehouse, """
        select value, baseline_value, rate_ratio, test_name, p_value, is_significant, direction
        from performance.fct_measure_change
        where measure_id = 'burglary' and area_code = 'lancashire' and period_label = '2024Q3'
    """)
    value, baseline, ratio, test, p, significant, direction = rows[0]
    assert (value, baseline, ratio, test, direction) == (15, 30, 0.5, "conditional binomial (exact)", "lower")
    # 15 of 45 events in the later quarter, p0 = 1/2
    assert p == pytest.approx(_exact_two_sided_p(15, 45), abs=1e-6)
    assert significant is True


def test_the_spc_chart_as_of_the_quarter(warehouse):
    rows = _query(warehouse, """
        select count(*), max(point_count), any_value(centre_line), any_value(mean_moving_range),
               any_value(upper_process_limit)
        from performance.fct_spc
        where measure_id = 'burglary' and area_code = 'lancashire' and as_of_period = '2024Q3'
    """)
    count, points, centre, mean_mr, upper = rows[0]
    assert (count, points) == (21, 21)
    assert centre == pytest.approx(165 / 21) and mean_mr == pytest.approx(5 / 20)
    assert upper == pytest.approx(165 / 21 + 2.66 * 0.25)
    latest = _query(warehouse, """
        select variation, rule_beyond_limit, rule_shift, side_of_centre_line, side_run_length
        from performance.fct_spc
        where measure_id = 'burglary' and as_of_period = '2024Q3' and is_latest_point
    """)
    # Nine months at 5 after twelve at 10: below the lower limit and a shift, an improvement.
    assert latest == [("special_cause_improvement", "low", "low", "below", 9)]
    # As of 2024Q1 the chart has 15 points: it does not see the months after.
    assert _query(warehouse, """
        select max(point_count), max(month_start)::varchar from performance.fct_spc
        where measure_id = 'burglary' and as_of_period = '2024Q1'
    """) == [(15, "2024-03-01")]


def test_the_scorecard_has_every_measure_with_a_status_or_a_data_gap(warehouse):
    plan = {r[0] for r in _query(warehouse, "select measure_id from performance.dim_measure")}
    rows = {r[0]: r[1:] for r in _query(warehouse, """
        select measure_id, reporting_period, status, data_gap_reason from performance.fct_scorecard
        where area_type = 'force' and force_id = 'lancashire'
    """)}
    assert set(rows) == plan
    assert {r[0] for r in rows.values()} == {"2024Q3"}
    # Burglary 15 against 30 is significant on its own (p = 0.0357) but not among the quarter's
    # twenty tests: q = 0.035698 x 20 / 1 = 0.71396 (see test_the_status_allows_for_the_quarters_tests).
    assert rows["burglary"][1] == "no significant change"
    assert rows["vehicle_crime"][1] == "no significant change"  # 9 against 9
    assert rows["stop_search_count"][1] == "not assessed"  # context measure
    # a source with no rows loaded is a gap that says so
    assert rows["calls_999_answered_10s"][1:] == (
        "data gap", "no row of evidence.fct_call_handling_monthly matches the filter (none) yet")
    # No population loaded: rates and disproportionality are data gaps that say why.
    assert rows["total_crime_rate"][1] == "data gap" and "population" in rows["total_crime_rate"][2]
    assert rows["stop_search_disproportionality_black"][1] == "data gap"
    assert "population" in rows["stop_search_disproportionality_black"][2] or "twelve months" in rows["stop_search_disproportionality_black"][2]
    # The Home Office mart is built but empty here.
    assert rows["recorded_crime"][1] == "data gap" and "fct_recorded_crime_quarterly" in rows["recorded_crime"][2]
    # Charge rates are reported six months in arrears: 2024Q1 in the 2024Q3 report.
    assert _query(warehouse, """
        select assessed_period_label, round(value, 6) from performance.fct_scorecard
        where measure_id = 'charge_summons_rate' and area_type = 'force'
    """) == [("2024Q1", round(3 / 36, 6))]


def test_the_status_allows_for_the_quarters_tests(warehouse):
    """Benjamini-Hochberg across every test of Lancashire's 2024Q3: twenty rows have a p-value."""
    rows = _query(warehouse, """
        select measure_id, p_value, q_value, fdr_family_size, is_significant, is_significant_adjusted, status
        from performance.fct_scorecard where area_type = 'force' and p_value is not null order by p_value, measure_id
    """)
    m = len(rows)
    assert m == 20 and {r[3] for r in rows} == {m}
    p_values = [r[1] for r in rows]
    # by hand: q_(i) = min over j >= i of p_(j) x m / j, at most 1
    expected = [min(1.0, min(p_values[j] * m / (j + 1) for j in range(i, m))) for i in range(m)]
    assert [r[2] for r in rows] == pytest.approx(expected, abs=1e-9)
    burglary = next(r for r in rows if r[0] == "burglary")
    assert burglary[1:3] == (pytest.approx(_exact_two_sided_p(15, 45), abs=1e-6), pytest.approx(0.035698 * 20, abs=1e-9))
    assert burglary[4:] == (True, False, "no significant change")
    # The assessment's test is the same as fct_measure_change's; only the status reads the q-value.
    assert _query(warehouse, """
        select is_significant from performance.fct_measure_change
        where measure_id = 'burglary' and area_type = 'force' and period_label = '2024Q3'
    """) == [(True,)]


def test_the_quarters_spc_signal_reads_every_month_of_it(warehouse):
    """Burglary drops from 10 to 5 a month in January 2024: as of 2024Q3 every month of the
    quarter is below the lower limit; the quarter names them all."""
    assert _query(warehouse, """
        select spc_variation, spc_special_cause_months, spc_rules from performance.fct_scorecard
        where measure_id = 'burglary' and area_type = 'force'
    """) == [("special_cause_improvement", "2024-07, 2024-08, 2024-09", "beyond a limit, shift, two of three near a limit")]


def test_the_charge_rate_compares_cohorts_of_the_same_age(warehouse):
    """Charges count within six months of recording, in the current and the comparison period: 2024Q1
    (3 charged of 36) against 2023Q1 (3 of 51), both observed six months after each month. The
    months of 2024 not yet six months old (April onwards, data to September) have no value."""
    assert _query(warehouse, """
        select assessed_period_label, round(value, 6), baseline_periods, round(baseline_value, 6)
        from performance.fct_scorecard where measure_id = 'charge_summons_rate' and area_type = 'force'
    """) == [("2024Q1", round(3 / 36, 6), "2023Q1", round(3 / 51, 6))]
    months = _query(warehouse, """
        select period_label, value is null, denominator from performance.fct_measure_values
        where measure_id = 'charge_summons_rate' and period_type = 'month' and period_label >= '2024-03' order by 1
    """)
    assert months[0] == ("2024-03", False, 12) and all(r[1:] == (True, 12) for r in months[1:])


def test_the_positive_outcome_rate_counts_charges_and_out_of_court_disposals(warehouse):
    """By hand: each month one burglary is charged and one vehicle crime cautioned (its street file's
    last outcome). 2024Q1: 3 + 3 positive of 3 x (5 + 3 + 4) = 36 crimes; 2023Q1: 6 of 3 x (10 + 3 + 4)
    = 51. By crime group, burglary 3 of 15 against 3 of 30, vehicle crime 3 of 9 in both years,
    violence none; robbery and shoplifting have no crimes at all."""
    rows = {r[0]: r[1:] for r in _query(warehouse, """
        select measure_id, assessed_period_label, round(value, 6), baseline_periods, round(baseline_value, 6), status
        from performance.fct_scorecard where measure_id like 'positive_outcome_rate%' and area_type = 'force'
    """)}
    assert rows["positive_outcome_rate"][:4] == ("2024Q1", round(6 / 36, 6), "2023Q1", round(6 / 51, 6))
    assert rows["positive_outcome_rate_burglary"][:4] == ("2024Q1", round(3 / 15, 6), "2023Q1", round(3 / 30, 6))
    assert rows["positive_outcome_rate_vehicle_crime"][:4] == ("2024Q1", round(3 / 9, 6), "2023Q1", round(3 / 9, 6))
    assert rows["positive_outcome_rate_violence_and_sexual_offences"][1] == 0
    assert rows["positive_outcome_rate_robbery"][-1] == rows["positive_outcome_rate_shoplifting"][-1] == "data gap"
    # the charge rate still counts only the charges
    assert _query(warehouse, """
        select round(value, 6) from performance.fct_scorecard where measure_id = 'charge_summons_rate' and area_type = 'force'
    """) == [(round(3 / 36, 6),)]
    # fct_outcomes: the latest outcome of every crime, whatever its age
    assert _query(warehouse, """
        select sum(positive_outcome_count), sum(charge_summons_count), sum(out_of_court_count), sum(crime_count)
        from evidence.fct_outcomes where month_start < '2024-01-01'
    """) == [(24, 12, 12, 204)]


def test_the_force_returns_measure_repeat_victims_and_road_casualties(warehouse):
    """By hand from the returns above: 2024Q3 against 2023Q3."""
    rows = {r[0]: r[1:] for r in _query(warehouse, """
        select measure_id, assessed_period_label, round(value, 6), baseline_periods, round(baseline_value, 6), numerator, denominator
        from performance.fct_scorecard where area_type = 'force' and measure_id in (
            'repeat_victims', 'domestic_abuse_repeat_victims', 'domestic_abuse_arrests_per_crime',
            'domestic_abuse_positive_outcomes', 'rape_positive_outcomes', 'other_sexual_offences_positive_outcomes',
            'killed_or_seriously_injured', 'road_deaths', 'domestic_abuse_crimes')
    """)}
    assert rows["repeat_victims"] == ("2024Q3", 0.24, "2023Q3", 0.25, 72, 300)
    assert rows["domestic_abuse_repeat_victims"] == ("2024Q3", 0.4, "2023Q3", 0.4, 36, 90)
    assert rows["domestic_abuse_arrests_per_crime"][:2] == ("2024Q3", 0.3)
    assert rows["domestic_abuse_positive_outcomes"][:2] == ("2024Q3", 0.2)
    assert rows["rape_positive_outcomes"][:2] == ("2024Q3", 0.2)
    assert rows["other_sexual_offences_positive_outcomes"][:2] == ("2024Q3", 0.2)
    assert rows["killed_or_seriously_injured"][:4] == ("2024Q3", 57, "2023Q3", 60)
    assert rows["road_deaths"][:4] == ("2024Q3", 3, "2023Q3", 3)
    assert rows["domestic_abuse_crimes"][:2] == ("2024Q3", 120)
    assert _query(warehouse, """
        select count(*), sum(killed_or_seriously_injured_count), bool_or(is_provisional)
        from evidence.fct_road_casualties_monthly where force_id = 'lancashire'
    """) == [(21, 12 * 20 + 9 * 19, False)]


def test_the_scorecard_carries_the_plans_objectives_and_version(warehouse):
    import csv

    with (DBT_PROJECT_DIR / "seeds" / "plan_objectives.csv").open(newline="", encoding="utf-8") as handle:
        objectives = {r["objective_id"]: r for r in csv.DictReader(handle)}
    rows = _query(warehouse, """
        select distinct objective_id, objective_order, objective, objective_statement, plan_version,
               plan_period_start::varchar, plan_period_end::varchar
        from performance.dim_measure order by objective_order
    """)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (o["objective_id"], int(o["objective_order"]), o["objective"], o["statement"])
        for o in sorted(objectives.values(), key=lambda o: int(o["objective_order"]))]
    assert {r[4:] for r in rows} == {("2025.1", "2025-04-01", "2029-03-31")}
    assert _query(warehouse, """
        select count(*) filter (where objective_statement is null or plan_version <> '2025.1') from performance.fct_scorecard
    """) == [(0,)]


def test_a_past_quarter_can_be_assessed_again(warehouse):
    rows = _query(warehouse, """
        select reporting_period, count(*) from performance.fct_measure_assessment
        where area_type = 'force' group by 1 order by 1
    """)
    plan_size = _query(warehouse, "select count(*) from performance.dim_measure")[0][0]
    assert [r[0] for r in rows] == ["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3"]
    assert all(count == plan_size for _, count in rows)


def test_the_plans_line_numbers_survive_a_seed_reload(warehouse, tmp_path):
    """A reload inserts the seed's rows again (new row ids): the lines a problem names must not move."""
    import csv

    seed = DBT_PROJECT_DIR / "seeds" / "plan_measures.csv"
    with seed.open(newline="", encoding="utf-8") as handle:
        first_id, rows = None, 0
        for rows, row in enumerate(csv.DictReader(handle), 1):
            first_id = first_id or row["measure_id"]
    for _ in range(2):
        assert _dbt(["seed", "--select", "plan_measures"], warehouse, tmp_path).success
    assert _query(warehouse, "select min(source_line), max(source_line), count(*) from intermediate.int_measure__plan") == [
        (2, rows + 1, rows)]
    assert _query(warehouse, "select measure_id from intermediate.int_measure__plan where source_line = 2") == [(first_id,)]


@pytest.fixture(scope="module")
def compiled_checks(warehouse, tmp_path_factory) -> tuple[str, str]:
    """One `dbt compile --inline` (parsing costs seconds): the plan check on two bad hand-written
    rows, and the registry's planned-source lookup, with a registry given on the command line."""
    registry = ("{plan_measure_marts: {fct_not_built: {status: planned, schema: evidence, grain: month, "
                "period: month_start, force: force_id, columns: [crime_count]}, "
                "fct_crime_monthly: {status: planned, schema: evidence, grain: month, period: month_start, "
                "force: force_id, columns: [crime_count, crime_type, victim_count]}}}")
    rows = ("[{'source_line': 7, 'objective_id': 'tackle_crime', 'measure_id': 'burglary', 'mart': 'fct_crimes', 'polarity': 'lower_is_better', "
            "'statistic': 'count', 'unit': 'count', 'frequency': 'monthly', 'baseline_rule': 'same_period_last_year', "
            "'comparator': 'none', 'geography': 'force', 'numerator': 'crime_count', 'filter': none, 'denominator': none},"
            " {'source_line': 8, 'objective_id': 'tackle_crimes', 'measure_id': 'robbery', 'mart': 'fct_crime_monthly', "
            "'polarity': 'down', "
            "'statistic': 'count', 'unit': 'count', 'frequency': 'monthly', 'baseline_rule': 'same_period_last_year', "
            "'comparator': 'none', 'geography': 'force', 'numerator': 'crimes', 'filter': 'crime_type=Robbery', 'denominator': none}]")
    inline = ("{{ plan_measure_problems(" + rows + ", ['tackle_crime', 'protect_vulnerable']) | join('\\n') }}\n=====\n"
              "{% set a = plan_relation('fct_not_built') %}{% set b = plan_relation('fct_crime_monthly') %}"
              "{{ a.relation }} | {{ a.reason }} | {{ b.relation }} | {{ b.reason }}")
    tmp_path = tmp_path_factory.mktemp("compile")
    result = _dbt(["compile", "--vars", registry, "--inline", inline], warehouse, tmp_path)
    assert result.success, result.exception
    problems, lookups = result.result.results[0].node.compiled_code.split("\n=====\n")
    return problems, lookups


def test_dbt_refuses_a_bad_plan_naming_the_line(compiled_checks):
    problems = compiled_checks[0]
    assert "seeds/plan_measures.csv line 7: measure burglary: unknown mart 'fct_crimes'" in problems
    assert "seeds/plan_measures.csv line 8: measure robbery: unknown polarity 'down'" in problems
    assert "seeds/plan_measures.csv line 8: measure robbery: unknown numerator column 'crimes' in fct_crime_monthly" in problems
    assert ("seeds/plan_measures.csv line 8: measure robbery: unknown objective_id 'tackle_crimes' "
            "(seeds/plan_objectives.csv has: tackle_crime, protect_vulnerable)") in problems
    assert "line 7: measure burglary: unknown objective_id" not in problems


def test_a_planned_source_is_read_only_when_it_exists_with_its_columns(compiled_checks):
    assert compiled_checks[1] == ("None | evidence.fct_not_built is not built yet (a planned source) | "
                                  "None | evidence.fct_crime_monthly has no column(s) victim_count yet")


# --------------------------------------------------------------------------- the report


def _publish(warehouse: Path, target: Path) -> Path:
    """The published file as ingest/publish.py lays it out: evidence in main, performance in performance."""
    import ingest.publish as publish
    from ingest.config import load_settings

    if publish.PUBLISHED_SCHEMAS.get("performance") == "performance":
        settings = load_settings(environ={"OPCC_PATHS__WAREHOUSE": str(warehouse), "OPCC_PATHS__PUBLISHED": str(target),
                                          "OPCC_PATHS__WORK_DIR": str(target.parent / "work")})
        return publish.publish(settings)
    # Until publish.py maps the performance schema: the same layout, made here.
    with duckdb.connect() as con:
        con.execute("attach ? as wh (read_only)", [str(warehouse)])
        con.execute("attach ? as pub", [str(target)])
        con.execute("create schema pub.performance")
        con.execute("create schema pub.meta")
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'wh' "
            "and schema_name in ('evidence', 'performance')").fetchall():
            published_schema = "main" if schema == "evidence" else "performance"
            con.execute(f'create table pub.{published_schema}."{table}" as select * from wh.{schema}."{table}"')
        for table in ("landing_manifest", "load_log", "load_rejects"):
            if con.execute("select count(*) from duckdb_tables() where database_name = 'wh' and schema_name = 'raw' "
                           "and table_name = ?", [table]).fetchone()[0]:
                con.execute(f"create table pub.meta.{table} as select * from wh.raw.{table}")
        con.execute("create table pub.meta.publication as select timestamp '2024-11-15 06:00:00' as published_at")
    return target


@pytest.fixture(scope="module")
def published(warehouse, tmp_path_factory) -> Path:
    return _publish(warehouse, tmp_path_factory.mktemp("published") / "evidence.duckdb")


@pytest.fixture(scope="module")
def rendered(published, tmp_path_factory) -> Path:
    from ingest.config import load_settings
    from ingest.report import render

    out = tmp_path_factory.mktemp("reports")
    started = time.perf_counter()
    report = render(load_settings(), None, force_id=FORCE, published=published, out_dir=out)
    print(f"report rendered in {time.perf_counter() - started:.1f} s: {report.stat().st_size / 1024:.0f} kB")
    return report


def test_the_report_renders_the_latest_quarter_with_every_measure(rendered, warehouse):
    folder = rendered.parent
    assert folder.name == "2024Q3"
    from ingest.report.output import chromium_path

    pdf = ["national_measures_statement.pdf"] if chromium_path() else []  # printed where Chromium is installed
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "charts", "national_measures_statement.html", *pdf, "performance_report.html", "scorecard.csv", "scorecard.xlsx"])
    html = rendered.read_text()
    for (measure_id,) in _query(warehouse, "select measure_id from performance.dim_measure"):
        assert f'id="measure-{measure_id.replace("_", "-")}"' in html
    assert "Burglary: 15 in July to September 2024, 50.0% lower than the same quarter last year (30)." in html
    assert "the last 9 months sit below the average" in html
    assert "Statement on the National Crime and Policing Measures" in html
    # the plan's version and period, and each objective's statement under its heading
    assert "Police and Crime Plan's objectives and measures (version 2025.1, April 2025 to March 2029) for 2024Q3" in html
    for (statement,) in _query(warehouse, "select distinct objective_statement from performance.dim_measure"):
        assert f'<p class="objective-statement">{escape(statement)}</p>' in html
    # no consultation in this warehouse: the section is there and says why it is empty
    consultation = html[html.index('<section id="consultation"'):html.index('<section id="appendix"')]
    assert "What local people say" in consultation and "Data gap." in consultation
    assert "fct_consultation_priorities is not in the published file" in consultation
    # Self-contained: nothing to fetch (namespace URIs in the SVGs are names, not links).
    assert not re.findall(r'(?:src|href)\s*=\s*"(?:https?:)?//|url\(\s*["\']?(?:https?:)?//|@import', html)
    charts = sorted(p.stem for p in (folder / "charts").glob("*.svg"))
    assert "chart-burglary" in charts and html.count("<svg") == len(charts)
    statement = (folder / "national_measures_statement.html").read_text()
    assert "Reduce murder and other homicide" in statement and "data gap" in statement


def test_stop_search_by_group_counts_twelve_months_as_worked_by_hand(warehouse):
    """2023: one search a month of a White man of 18-24 ending in arrest, and in August one of a Black
    man of 18-24 that did not: 13 searches in the 12 months to December 2023, 12 arrests."""
    z = 1.959963984540054

    def wilson(x: int, n: int) -> tuple[float, float]:
        p, centre, spread = x / n, x / n + z * z / (2 * n), z * math.sqrt(x / n * (1 - x / n) / n + z * z / (4 * n * n))
        scale = 1 + z * z / n
        return max(0.0, (centre - spread) / scale), min(1.0, max(p, (centre + spread) / scale))

    rows = {(c, g): r for c, g, *r in _query(warehouse, """
        select characteristic, group_value, search_count, share_of_searches, arrest_count, arrest_share,
               arrest_share_lower_95, arrest_share_upper_95, searches_per_1000, is_small_group
        from evidence.fct_stop_search_by_group where force_id = 'lancashire' and period_label = '2023Q4'
    """)}
    assert set(rows) == {("all", "All searches"), ("sex", "Male"), ("age_range", "18-24"),
                         ("ethnic_group", "White"), ("ethnic_group", "Black")}
    count, share, arrests, arrest_share, lower, upper, per_1000, small = rows[("sex", "Male")]
    assert (count, share, arrests, per_1000, small) == (13, 1.0, 12, None, True)  # no population loaded: no rate
    assert arrest_share == pytest.approx(12 / 13)
    assert (lower, upper) == pytest.approx(wilson(12, 13))
    assert rows[("ethnic_group", "Black")][:3] == [1, pytest.approx(1 / 13), 0]
    # the quarters before have fewer than 12 months of searches: no rows
    assert _query(warehouse, "select min(period_label) from evidence.fct_stop_search_by_group") == [("2023Q4",)]


def test_the_report_has_the_equality_section_with_the_small_groups_flagged(rendered):
    html = re.sub(r"\s+", " ", rendered.read_text())
    section = html[html.index('<section id="equality"'):html.index('<section id="appendix"')]
    # the 12 months to September 2024: 12 searches, every one of a man of 18-24, a small group
    assert "12 months October 2023 to September 2024: 12 searches." in section
    assert '<tr class="flagged"><td>Male †</td><td class="num">12</td>' in section
    assert "Stop and search, sex Male (12 searches)" in section
    # no survey or consultation in this warehouse, and no population for the ratios: each says so
    assert "No victim satisfaction by group for the quarter" in section
    assert "No consultation is loaded for this force" in section
    assert "Stop and search by ethnic group" in section and "No rate or ratio to White can be formed" in section
    assert "What the data cannot show" in section


def test_the_report_is_deterministic_and_replaced_whole(published, rendered, tmp_path):
    from ingest.config import load_settings
    from ingest.report import ReportNotReady, render

    out = rendered.parent.parent
    before = rendered.read_bytes()
    again = render(load_settings(), "2024Q3", force_id=FORCE, published=published, out_dir=out)
    assert again == rendered and again.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["2024Q3"]  # no temporary folders left
    # A quarter the published data does not complete is refused, and nothing is touched.
    with pytest.raises(ReportNotReady, match="2024Q4 is not complete for lancashire"):
        render(load_settings(), "2024Q4", force_id=FORCE, published=published, out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["2024Q3"] and rendered.read_bytes() == before


def test_a_past_quarter_renders_again(published, tmp_path):
    from ingest.config import load_settings
    from ingest.report import render

    report = render(load_settings(), "2024Q1", force_id=FORCE, published=published, out_dir=tmp_path)
    html = report.read_text()
    assert report.parent.name == "2024Q1" and "January to March 2024" in html
    assert "Burglary: 15 in January to March 2024, 50.0% lower than the same quarter last year (30)." in html


def test_publish_puts_the_measures_in_the_performance_schema(warehouse, tmp_path):
    import ingest.publish as publish

    if publish.PUBLISHED_SCHEMAS.get("performance") != "performance":
        pytest.skip("ingest/publish.py does not publish the performance schema yet (PUBLISHED_SCHEMAS)")
    target = _publish(warehouse, tmp_path / "evidence.duckdb")
    tables = {r[0] for r in _query(target, "select table_name from duckdb_tables() where schema_name = 'performance'")}
    assert {"dim_measure", "fct_measure_values", "fct_spc", "fct_scorecard", "fct_measure_assessment"} <= tables


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_report_opens_in_chromium_and_fits_a4(rendered, tmp_path):
    """Headless Chromium: every chart has a size on the page, nothing is wider than A4, and the
    print is A4 portrait. Writes a screenshot beside the report."""
    from pypdf import PdfReader

    probe = tmp_path / "probe.html"
    html = rendered.read_text()
    script = """<script>addEventListener('load', () => {
      const charts = [...document.querySelectorAll('figure svg')];
      const drawn = charts.filter(s => { const r = s.getBoundingClientRect(); return r.width > 100 && r.height > 40; });
      document.body.setAttribute('data-charts', drawn.length + '/' + charts.length);
      document.body.setAttribute('data-overflow', String(document.documentElement.scrollWidth > window.innerWidth + 1));
    });</script>"""
    probe.write_text(html.replace("</body>", script + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}"]
    dom = subprocess.run(["chromium", *flags, "--window-size=794,1123", "--virtual-time-budget=5000", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    charts = len(list((rendered.parent / "charts").glob("*.svg")))
    assert f'data-charts="{charts}/{charts}"' in dom
    assert 'data-overflow="false"' in dom
    screenshot = rendered.parent / "performance_report.png"
    subprocess.run(["chromium", *flags, f"--screenshot={screenshot}", "--window-size=1240,1754", rendered.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000
    pdf = tmp_path / "report.pdf"
    subprocess.run(["chromium", *flags, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", rendered.as_uri()],
                   capture_output=True, timeout=120, check=True)
    pages = PdfReader(str(pdf)).pages
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 portrait, points
    print(f"screenshot {screenshot}; {len(pages)} A4 pages; report {rendered.stat().st_size / 1024:.0f} kB")
