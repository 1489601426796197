"""The plan's measure framework: the shipped plan is complete, and a bad line is refused by its number."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ingest import measures
from ingest.measures import COLUMNS, NATIONAL_PRIORITIES, PLAN_FILE, PlanError, load_plan, parse_filter

GOOD_ROW = {
    "objective_id": "tackle_crime", "objective": "Tackle crime and reoffending", "measure_id": "burglary",
    "measure_name": "Burglary", "mart": "fct_crime_monthly", "numerator": "crime_count", "denominator": "",
    "filter": "crime_type=Burglary", "statistic": "count", "unit": "count", "polarity": "lower_is_better",
    "geography": "force|csp", "frequency": "monthly", "baseline_rule": "same_period_last_year", "target": "",
    "comparator": "none", "maturity_months": "0", "national": "false", "national_priority": "",
    "data_gap_reason": "", "description": "Burglary (police.uk).",
}


def _plan_file(tmp_path: Path, *rows: dict[str, str], header: tuple[str, ...] = COLUMNS) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    path = tmp_path / "plan_measures.csv"
    path.write_text(buffer.getvalue())
    return path


def _problems(tmp_path: Path, *rows: dict[str, str]) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan(_plan_file(tmp_path, *rows))
    return caught.value.problems


def test_the_shipped_plan_has_the_shape_of_a_police_and_crime_plan():
    plan = load_plan()
    assert len(plan) >= 15
    assert [m.objective for m in plan if m.line == min(x.line for x in plan if x.objective_id == m.objective_id)] == [
        "Tackle crime and reoffending", "Protect vulnerable people", "Support victims and witnesses",
        "An efficient and effective police service",
    ]
    ids = {m.measure_id for m in plan}
    assert {"total_crime", "neighbourhood_crime", "burglary", "robbery", "theft_from_the_person", "vehicle_crime",
            "violence_and_sexual_offences", "anti_social_behaviour", "possession_of_weapons", "charge_summons_rate",
            "stop_search_count", "stop_search_find_rate", "stop_search_disproportionality_black",
            "peel_good_or_better", "budget_variance", "savings_delivered"} <= ids
    # All six National Crime and Policing Measures are tagged.
    assert {m.national_priority for m in plan if m.national} == set(NATIONAL_PRIORITIES)
    # Measures with no source are data gaps with a reason, not invented.
    gaps = {m.measure_id: m.data_gap_reason for m in plan if m.mart is None}
    assert {"county_lines_disrupted", "budget_variance"} <= set(gaps)
    # the victim survey and the call handling return are loaded now
    sourced = {m.measure_id: m.mart for m in plan if m.mart}
    assert sourced["victim_satisfaction"] == sourced["victim_satisfaction_domestic_abuse"] == "fct_victim_satisfaction_monthly"
    assert sourced["calls_999_answered_10s"] == "fct_call_handling_monthly"
    assert all(gaps.values())


def test_the_registry_matches_the_documented_marts():
    # A mart marked available must be a model whose yml documents every column a measure may use.
    assert measures.check_marts_against_models() == []


def test_an_unknown_mart_is_refused_naming_the_line(tmp_path):
    problems = _problems(tmp_path, GOOD_ROW, {**GOOD_ROW, "measure_id": "robbery", "mart": "fct_crimes"})
    assert len(problems) == 1
    assert "plan_measures.csv line 3: measure robbery: unknown mart 'fct_crimes'" in problems[0]
    assert "fct_crime_monthly" in problems[0]  # says what is known


def test_an_unknown_column_or_polarity_is_refused_naming_the_line(tmp_path):
    problems = _problems(
        tmp_path,
        {**GOOD_ROW, "numerator": "crimes"},
        {**GOOD_ROW, "measure_id": "robbery", "filter": "crime_type=Robbery", "polarity": "down"},
        {**GOOD_ROW, "measure_id": "asb", "filter": "is_asb=true"},
    )
    assert any("line 2: measure burglary: unknown numerator column 'crimes' in fct_crime_monthly" in p for p in problems)
    assert any("line 3: measure robbery: unknown polarity 'down'" in p for p in problems)
    assert any("line 4: measure asb: unknown filter column 'is_asb'" in p for p in problems)


def test_a_misspelt_filter_value_is_refused(tmp_path):
    # A typo would silently count zero crimes: checked against the crime_types seed.
    problems = _problems(tmp_path, {**GOOD_ROW, "filter": "crime_type=Burgalry"})
    assert "line 2: measure burglary: unknown value 'Burgalry' for crime_type" in problems[0]


def test_a_repeated_measure_id_names_the_first_line(tmp_path):
    problems = _problems(tmp_path, GOOD_ROW, {**GOOD_ROW, "measure_name": "Burglary again"})
    assert any("line 3: measure burglary: measure_id is already used on line 2" in p for p in problems)


def test_rules_that_keep_a_measure_honest(tmp_path):
    problems = _problems(
        tmp_path,
        {**GOOD_ROW, "comparator": "msg"},  # a count cannot be ranked across forces
        {**GOOD_ROW, "measure_id": "gap", "mart": "", "numerator": "", "filter": ""},  # a gap needs its reason
        {**GOOD_ROW, "measure_id": "disp", "statistic": "disproportionality", "unit": "ratio",
         "mart": "fct_stop_search_monthly", "numerator": "search_count", "filter": "ethnic_group=White",
         "geography": "force"},
        {**GOOD_ROW, "measure_id": "rate", "statistic": "proportion", "unit": "percent"},  # no denominator
        {**GOOD_ROW, "measure_id": "nat", "national": "true"},  # national without its priority
    )
    text = "\n".join(problems)
    assert "line 2: measure burglary: comparator msg ranks forces of different sizes" in text
    assert "line 3: measure gap: no mart: say why in data_gap_reason" in text
    assert "line 4: measure disp: a disproportionality measure filters on exactly one ethnic group other than White" in text
    assert "line 5: measure rate: a proportion needs a denominator column" in text
    assert "line 6: measure nat: a national measure (national=true) needs its national_priority" in text


def test_the_check_runs_the_rules_dbt_runs(tmp_path, monkeypatch):
    # One set of rules: the check runs dbt's macro, so a rule added there is applied here too,
    # and its problems name the file checked (a draft), not the shipped seed dbt names.
    macros = (measures.DBT_PROJECT_DIR / "macros" / "plan_measures.sql").read_text()
    rule = "{%- for row in rows -%}"
    assert rule in macros
    edited = tmp_path / "plan_measures.sql"
    edited.write_text(macros.replace(rule, rule + (
        "{%- if row.measure_name == 'Burglary' -%}{%- do problems.append('seeds/plan_measures.csv line ' ~ "
        "row.source_line ~ ': measure ' ~ row.measure_id ~ ': a new rule refuses it') -%}{%- endif -%}"), 1))
    monkeypatch.setattr(measures, "PLAN_MACROS", edited)
    draft = tmp_path / "draft"
    draft.mkdir()
    with pytest.raises(PlanError) as caught:
        load_plan(_plan_file(draft, GOOD_ROW))
    assert caught.value.problems == [f"{draft / 'plan_measures.csv'} line 2: measure burglary: a new rule refuses it"]


def test_a_bad_header_or_a_field_across_lines_is_refused(tmp_path):
    with pytest.raises(PlanError, match=r"line 1: header missing column\(s\) polarity"):
        load_plan(_plan_file(tmp_path, GOOD_ROW, header=tuple(c for c in COLUMNS if c != "polarity")))
    path = _plan_file(tmp_path, {**GOOD_ROW, "description": "two\nlines"})
    with pytest.raises(PlanError, match=r"line 2: a field spans lines 2-3"):
        load_plan(path)


def test_filters_parse_into_columns_and_values():
    assert parse_filter("crime_type=Burglary|Robbery; is_anti_social_behaviour!=true") == [
        ("crime_type", "=", ("Burglary", "Robbery")), ("is_anti_social_behaviour", "!=", ("true",)),
    ]
    assert parse_filter("") == []
    with pytest.raises(ValueError, match="not column=value"):
        parse_filter("Burglary")


def test_the_command_line_check(capsys):
    assert measures.main(["check", str(PLAN_FILE)]) == 0
    assert "6 of 6 national priorities" in capsys.readouterr().out


# --------------------------------------------------------------------------- objectives and version

OBJECTIVES = ("objective_id,objective_order,objective,statement\n"
              "tackle_crime,1,Tackle crime and reoffending,Fewer victims of crime.\n"
              "protect_vulnerable,2,Protect vulnerable people,\"Fewer victims of violence, fewer repeat victims.\"\n")


def _objectives_file(tmp_path: Path, text: str = OBJECTIVES) -> Path:
    path = tmp_path / "plan_objectives.csv"
    path.write_text(text)
    return path


def test_the_shipped_objectives_and_version_are_read_in_order():
    objectives = measures.load_objectives()
    assert [o.order for o in objectives] == list(range(1, len(objectives) + 1))
    assert all(o.statement for o in objectives)
    version = measures.load_version()
    assert version.version and version.period_start < version.period_end


def test_a_measure_under_an_unknown_objective_is_refused_naming_the_line(tmp_path):
    objectives = _objectives_file(tmp_path)
    rows = (GOOD_ROW, {**GOOD_ROW, "measure_id": "homicide", "objective_id": "protect_vulnerable"},
            {**GOOD_ROW, "measure_id": "robbery", "objective_id": "tackle_crimes"})
    with pytest.raises(PlanError) as caught:
        load_plan(_plan_file(tmp_path, *rows), objectives_path=objectives)
    assert len(caught.value.problems) == 1
    assert "plan_measures.csv line 4: measure robbery: unknown objective_id 'tackle_crimes'" in caught.value.problems[0]
    assert "tackle_crime, protect_vulnerable" in caught.value.problems[0]  # says what is known
    # the objective's title and order come from the objectives file
    plan = load_plan(_plan_file(tmp_path, *rows[:2]), objectives_path=objectives)
    assert [(m.objective_id, m.objective) for m in plan] == [
        ("tackle_crime", "Tackle crime and reoffending"), ("protect_vulnerable", "Protect vulnerable people")]


def test_an_objective_without_a_measure_is_refused(tmp_path):
    with pytest.raises(PlanError) as caught:
        load_plan(_plan_file(tmp_path, GOOD_ROW), objectives_path=_objectives_file(tmp_path))
    assert caught.value.problems == [
        f"{tmp_path / 'plan_objectives.csv'} line 3: objective protect_vulnerable has no measure in {tmp_path / 'plan_measures.csv'}"]


def test_a_bad_objectives_file_is_refused_naming_each_line(tmp_path):
    text = OBJECTIVES + "tackle_crime,2,Again,Twice.\nNew Objective,x,,\n"
    with pytest.raises(PlanError) as caught:
        measures.load_objectives(_objectives_file(tmp_path, text))
    problems = caught.value.problems
    assert any("line 4: objective tackle_crime: objective_id 'tackle_crime' is already used on line 2" in p for p in problems)
    assert any("line 4: objective tackle_crime: objective_order '2' is already used on line 3" in p for p in problems)
    assert any("line 5: objective New Objective: objective_id 'New Objective' must be lower_snake_case" in p for p in problems)
    assert any("line 5: objective New Objective: objective_order 'x' must be a whole number" in p for p in problems)
    assert any("line 5: objective New Objective: statement is empty" in p for p in problems)
    with pytest.raises(PlanError, match="line 1: header missing column.s. statement"):
        measures.load_objectives(_objectives_file(tmp_path, "objective_id,objective_order,objective\n"))


def test_the_plan_version_is_one_row_with_a_period(tmp_path):
    path = tmp_path / "plan_version.csv"
    header = "plan_title,version,period_start,period_end,published_on\n"
    path.write_text(header + "Police and Crime Plan,2,2025-04-01,2029-03-31,\n")
    version = measures.load_version(path)
    assert (version.version, str(version.period_start), version.published_on) == ("2", "2025-04-01", None)
    path.write_text(header + "Police and Crime Plan,2,2029-04-01,2025-03-31,\nPlan,3,2025-04-01,2029-03-31,\n")
    with pytest.raises(PlanError, match="2 rows, expected one"):
        measures.load_version(path)
    path.write_text(header + "Police and Crime Plan,,2029-04-01,31/03/2025,\n")
    with pytest.raises(PlanError) as caught:
        measures.load_version(path)
    assert any("line 2: period_end '31/03/2025' is not a date like 2025-04-01" in p for p in caught.value.problems)
    assert any("line 2: version is empty" in p for p in caught.value.problems)
    path.write_text(header + "Police and Crime Plan,2,2029-04-01,2025-03-31,\n")
    with pytest.raises(PlanError, match="period_start 2029-04-01 is not before period_end 2025-03-31"):
        measures.load_version(path)
