"""The office's commentary file for the NCPM statement: read, validated, and what is missing named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.report.commentary import load_commentary
from ingest.report.quarter import Quarter, ReportError

ROOT = Path(__file__).resolve().parents[2]
QUARTER = Quarter(2025, 3)
# priority -> whether the statement has figures for it
PRIORITIES = {"homicide": True, "serious_violence": True, "drugs_county_lines": False, "neighbourhood_crime": True,
              "cyber_crime": False, "victim_satisfaction": True, "calls_999": True}

GOOD = """---
sample: true
forces:
  lancashire:
    pcc_name: "A. Commissioner"
    published: 2025-11-14
    contribution:
      homicide: "Reviews every homicide."
      serious_violence: "Funds youth workers."
      neighbourhood_crime: "Patrols hotspots."
      victim_satisfaction: "Calls back."
    actions: ["Review the victim journey."]
    data_gaps:
      drugs_county_lines: "Uses the force's county lines return."
---
Notes that are not published.
"""


def write(tmp_path: Path, text: str, name: str = "2025Q3.md") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_good_file_is_read_and_each_missing_piece_is_named_with_the_file(tmp_path):
    c = load_commentary(write(tmp_path, GOOD), QUARTER, "lancashire", PRIORITIES, display_folder="config/commentary")
    assert c.pcc_name == "A. Commissioner" and c.published == dt.date(2025, 11, 14) and c.is_sample
    assert c.contribution["homicide"] == "Reviews every homicide." and c.actions == ["Review the victim journey."]
    assert c.data_gaps == {"drugs_county_lines": "Uses the force's county lines return."}
    assert c.warnings == [  # in the statement's order
        "commentary: config/commentary/2025Q3.md: no data-gap text for measure cyber_crime (lancashire): "
        "say what the office uses instead",
        "commentary: config/commentary/2025Q3.md: no contribution for measure calls_999 (lancashire)",
    ]


def test_no_file_or_no_entry_for_the_force_is_a_warning_not_a_blank(tmp_path):
    c = load_commentary(tmp_path, QUARTER, "lancashire", PRIORITIES, display_folder="config/commentary")
    assert c.path is None and c.pcc_name is None
    assert c.warnings[0].startswith("commentary: no file config/commentary/2025Q3.md")
    c = load_commentary(write(tmp_path, GOOD), QUARTER, "west-midlands", PRIORITIES)
    assert "has nothing for west-midlands (it has: lancashire)" in c.warnings[0]


@pytest.mark.parametrize("change, message", [
    (("homicide:", "homocide:"), "names homocide, not a priority of the statement"),
    (("published: 2025-11-14", "published: 14/11/2025"), "is not a date (YYYY-MM-DD)"),
    (("pcc_name:", "pcc_nmae:"), "unknown key(s) pcc_nmae"),
    (("actions: [\"Review the victim journey.\"]", "actions: 3"), "actions must be a list of text"),
    (("---\nNotes", "Notes"), "the front matter is not closed"),
])
def test_a_file_the_statement_would_misread_stops_it_naming_the_file_and_key(tmp_path, change, message):
    folder = write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(ReportError, match="2025Q3.md") as raised:
        load_commentary(folder, QUARTER, "lancashire", PRIORITIES)
    assert message in str(raised.value)


def test_yaml_works_too_but_not_two_files_for_one_quarter(tmp_path):
    body = GOOD.split("---\n")[1]
    c = load_commentary(write(tmp_path, body, "2025Q3.yaml"), QUARTER, "lancashire", PRIORITIES)
    assert c.pcc_name == "A. Commissioner"
    write(tmp_path, GOOD)
    with pytest.raises(ReportError, match="two commentary files for 2025Q3"):
        load_commentary(tmp_path, QUARTER, "lancashire", PRIORITIES)


def test_the_demo_ships_sample_commentary_for_both_demo_forces():
    for force_id in ("lancashire", "west-midlands"):
        c = load_commentary(ROOT / "config" / "commentary", QUARTER, force_id, PRIORITIES)
        assert c.is_sample and c.pcc_name and "Sample" in c.pcc_name and c.published
        assert all(text.startswith("Sample text.") for text in [*c.contribution.values(), *c.data_gaps.values()])
        assert c.warnings == [], c.warnings


def test_the_statement_shows_each_priority_valued_or_as_an_explained_gap(tmp_path):
    import dataclasses

    from ingest.report.context import ncpm_statement_context
    from ingest.report.output import environment
    from tests.integration.test_report_browser import hard_quarter

    measures = [
        {"priority_id": "homicide", "priority_name": "Reduce murder and other homicide", "measure_id": "homicide",
         "measure_name": "Homicide", "unit": "count", "definition": "Murder.", "source_name": "Home Office",
         "data_gap_reason": None},
        {"priority_id": "cyber_crime", "priority_name": "Tackle cyber crime", "measure_id": "cyber_crime",
         "measure_name": "Cyber crime", "unit": "count", "definition": "Computer misuse.", "source_name": None,
         "data_gap_reason": "Recorded nationally by Action Fraud."},
        {"priority_id": "victim_satisfaction", "priority_name": "Improve satisfaction among victims",
         "measure_id": "victim_satisfaction", "measure_name": "Victims satisfied", "unit": "percent",
         "definition": "Satisfied.", "source_name": "Victim survey", "data_gap_reason": None},
    ]
    end = dt.date(2025, 9, 30)
    rows = {
        "homicide": {"period_end_date": end, "value": 30.0, "previous_value": 40.0, "baseline_value": 35.0,
                     "change_from_previous_percent": -25.0, "change_from_baseline_percent": -14.3,
                     "england_wales_value": 500.0, "england_wales_previous_value": 500.0,
                     "england_wales_baseline_value": 600.0, "england_wales_change_from_previous_percent": 0.0,
                     "england_wales_change_from_baseline_percent": -16.7, "msg_value": None, "msg_force_count": None,
                     "value_lower_95": None, "value_upper_95": None, "respondent_count": None},
        "victim_satisfaction": {"period_end_date": end, "value": 72.9, "previous_value": 70.8, "baseline_value": None,
                                "change_from_previous_percent": 3.0, "change_from_baseline_percent": None,
                                "msg_value": None, "england_wales_value": None, "msg_force_count": None,
                                "value_lower_95": 70.2, "value_upper_95": 75.5, "respondent_count": 1440.0},
    }
    data = dataclasses.replace(hard_quarter(), ncpm_measures=measures, ncpm=rows)
    commentary = load_commentary(write(tmp_path, GOOD), QUARTER, "lancashire", PRIORITIES)
    ncpm = ncpm_statement_context(data, commentary)
    assert (ncpm["valued"], ncpm["gaps"]) == (2, 1)
    homicide = ncpm["priorities"][0]["items"][0]["lines"]
    assert [line["label"] for line in homicide] == [data.force_name, "England and Wales"]  # no peer figure: no line
    assert homicide[0]["change_previous"] == "-25.0%" and homicide[1]["change_previous"] == "no change"
    satisfaction = ncpm["priorities"][2]["items"][0]["lines"][0]
    assert satisfaction["change_previous"] == "+2.1 points" and satisfaction["change_baseline"] is None
    html = environment().from_string("{% import '_macros.html.j2' as ui %}{{ ui.statement(ncpm, data, quarter) }}"
                                     ).render(ncpm=ncpm, data=data, quarter=QUARTER)
    assert "A. Commissioner publishes this statement" in html and "14 November 2025" in html
    assert "Reviews every homicide." in html and "sample text written for a demonstration" in html
    assert "Recorded nationally by Action Fraud." in html
    assert "commentary file." in html.split('Tackle cyber crime')[1]  # cyber: no data-gap text written
    assert "No figure for the baseline year" in html and "95% interval 70.2–75.5%" in html
    # homicide has England and Wales but no peer figure: said, with what it needs
    assert ncpm["priorities"][0]["items"][0]["comparison_note"].startswith("No most similar group figure: it needs every peer")


def test_the_statement_shows_the_101_answer_time_and_says_why_a_comparison_is_missing():
    import dataclasses

    from ingest.report.context import ncpm_statement_context
    from ingest.report.output import environment
    from tests.integration.test_report_browser import hard_quarter

    survey_note = "Each force surveys its own victims: there is no national figure."
    measures = [
        {"priority_id": "victim_satisfaction", "priority_name": "Improve satisfaction among victims",
         "measure_id": "victim_satisfaction", "measure_name": "Victims satisfied", "unit": "percent",
         "definition": "Satisfied.", "source_name": "Victim survey", "data_gap_reason": None,
         "comparison_note": survey_note},
        *({"priority_id": "calls_999", "priority_name": "Answer calls", "measure_id": measure_id, "measure_name": name,
           "unit": unit, "definition": "Calls.", "source_name": "Call handling", "data_gap_reason": None,
           "comparison_note": None}
          for measure_id, name, unit in (("calls_999_answered_10s", "999 within 10 s", "percent"),
                                         ("calls_101_average_answer_seconds", "101 average answer time", "seconds"))),
    ]
    end = dt.date(2025, 9, 30)
    blank = {"value_lower_95": None, "value_upper_95": None, "respondent_count": None, "baseline_value": None,
             "change_from_baseline_percent": None, "msg_value": None, "msg_force_count": None,
             "england_wales_value": None}
    rows = {
        "victim_satisfaction": {**blank, "period_end_date": end, "value": 72.9, "previous_value": 70.8,
                                "change_from_previous_percent": 3.0, "source_force_count": 1},
        # 999: police.uk's file for every force is loaded, so the group and England and Wales are pooled
        "calls_999_answered_10s": {**blank, "period_end_date": end, "value": 88.4, "previous_value": 90.1,
                                   "change_from_previous_percent": -1.9, "msg_value": 91.2, "msg_previous_value": 90.0,
                                   "msg_force_count": 7, "england_wales_value": 89.5,
                                   "england_wales_previous_value": 88.0, "source_force_count": 43},
        # 101: only the force's own return has 101 figures
        "calls_101_average_answer_seconds": {**blank, "period_end_date": end, "value": 215.4, "previous_value": 180.0,
                                             "change_from_previous_percent": 19.7, "source_force_count": 1},
    }
    data = dataclasses.replace(hard_quarter(), ncpm_measures=measures, ncpm=rows)
    ncpm = ncpm_statement_context(data)
    survey, calls = ncpm["priorities"]
    assert survey["items"][0]["comparison_note"] == survey_note  # force-only by nature, whatever the file
    answered, answer_time = calls["items"]
    assert [line["label"] for line in answered["lines"]] == [data.force_name, "Most similar group", "England and Wales"]
    assert answered["comparison_note"] is None and answered["lines"][1]["change_previous"] == "+1.2 points"
    assert answer_time["lines"][0]["change_previous"] == "+35 s"
    assert answer_time["comparison_note"] == (
        "The source holds only Lancashire Constabulary's own rows for these 12 months, so there is no most similar "
        "group or England and Wales figure beside the force's; none is estimated.")
    html = " ".join(environment().from_string(
        "{% import '_macros.html.j2' as ui %}{{ ui.statement(ncpm, data, quarter) }}"
    ).render(ncpm=ncpm, data=data, quarter=QUARTER).split())
    assert '<td class="num">215 s</td><td class="num">180 s</td><td class="num">+35 s</td>' in html
    assert "91.2%" in html and "7 peer forces" in html and survey_note in html
