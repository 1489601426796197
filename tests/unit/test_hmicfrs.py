"""HMICFRS PEEL grades template: what it accepts, what it refuses (naming the line), and the sample."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingest.raw import HeaderError
from devtools.sample import hmicfrs as sample
from ingest.sources import hmicfrs
from ingest.sources.hmicfrs import TemplateError, check_template

REPO = Path(__file__).resolve().parents[2]
HEADER = "force,programme,year,area,grade,causes_of_concern,areas_for_improvement,report_url,published_date"
URL = "https://hmicfrs.justiceinspectorates.gov.uk/peel-reports/lancashire-2023-25/"


def _csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "peel_grades.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["Lancashire Constabulary", "lancashire", "Lancashire", "  West  Midlands Police ",
                                  "Devon & Cornwall Police", "Metropolitan Police", "Hampshire and Isle of Wight Constabulary"])
def test_force_names_resolve_to_police_uk_ids(name):
    assert hmicfrs.resolve_force(name) is not None


def test_unknown_force_is_none():
    assert hmicfrs.resolve_force("Lancs") is None


def test_the_committed_template_and_example_are_valid():
    assert (REPO / "templates/hmicfrs/peel_grades_template.csv").read_text().strip() == HEADER
    assert check_template(REPO / "templates/hmicfrs/peel_grades_example.csv", "example") == 3


def test_grades_on_both_scales_and_ungraded_areas_are_accepted(tmp_path):
    path = _csv(
        tmp_path,
        f"Lancashire Constabulary,PEEL 2016,2016,Effectiveness,Good,,,{URL},2017-03-02",
        f"lancashire,PEEL 2023-25,2023,Investigating crime,requires improvement,\"one\ntwo\",3,{URL},13/06/2024",
        f"Lancashire,PEEL 2023-25,2023,Victim service assessment,,,,{URL},2024-06-13",
        f"Lancashire,PEEL 2023-25,2023,Responding to the public,Not graded,,,{URL},2024-06-13",
    )
    assert check_template(path, "peel_grades.csv") == 4


def test_adequate_on_the_four_point_scale_is_refused_naming_the_line(tmp_path):
    path = _csv(tmp_path, f"Lancashire Constabulary,PEEL 2017,2017,Efficiency,Adequate,,,{URL},2018-03-22")
    with pytest.raises(TemplateError) as refused:
        check_template(path, "peel_grades.csv")
    message = str(refused.value)
    assert "peel_grades.csv" in message and "line 2" in message
    assert "four-point scale of a 2017 programme" in message and "no Adequate" in message


def test_unknown_force_bad_year_and_repeats_are_all_listed(tmp_path):
    path = _csv(
        tmp_path,
        f"Lancs,PEEL 2023-25,2023,Investigating crime,Good,,,{URL},2024-06-13",
        f"Lancashire,PEEL 2023-25,23,Investigating crime,Good,,,{URL},2024-06-13",
        f"Lancashire,PEEL 2023-25,2023,Investigating crime,Good,,,{URL},2024-06-13",
        f"lancashire,PEEL 2023-25,2023,Investigating  crime,Outstanding,,,{URL},2024-06-13",
        f"Lancashire,PEEL 2023-25,2023,Responding to the public,Great,,,{URL},2024-06-13",
    )
    with pytest.raises(TemplateError) as refused:
        check_template(path, "peel_grades.csv")
    message = str(refused.value)
    assert "line 2: force 'Lancs' is not a force the platform knows" in message
    assert "line 3: year 23 is outside PEEL" in message
    assert "line 5:" in message and "(graded once per force, programme and area) is already on line 4" in message
    assert "line 6: grade 'Great' is not on the five-point scale" in message
    assert "4 problem(s)" in message


def test_a_renamed_column_is_refused_by_name(tmp_path):
    path = _csv(tmp_path, f"Lancashire,PEEL 2023-25,2023,Investigating crime,Good,,,{URL},2024-06-13",
                header=HEADER.replace("grade,", "rating,"))
    with pytest.raises(HeaderError) as refused:
        check_template(path, "peel_grades.csv")
    message = str(refused.value)
    assert "peel_grades.csv" in message and "rating" in message and "missing" in message and "grade" in message


def test_header_words_may_be_spaced_and_capitalised(tmp_path):
    header = "Force,Programme,Year,Area,Grade,Causes of concern,Areas for improvement,Report URL,Published date"
    path = _csv(tmp_path, f"Lancashire,PEEL 2023-25,2023,Investigating crime,Good,,,{URL},2024-06-13", header=header)
    assert check_template(path, "peel_grades.csv") == 1


def test_sample_covers_each_force_and_its_most_similar_group(tmp_path):
    path = tmp_path / "peel_grades.csv"
    assert sample.write(path, ["lancashire"]) is True
    assert sample.write(path, ["lancashire"]) is False  # deterministic: unchanged bytes, not rewritten
    rows = check_template(path, "sample")
    with path.open() as handle:
        records = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    assert len(records) == rows
    forces = {r["force"] for r in records}
    # Lancashire and its seven peers (seed most_similar_groups)
    assert forces == {"Lancashire Constabulary", "Cheshire Constabulary", "Derbyshire Constabulary", "Humberside Police",
                      "Kent Police", "Nottinghamshire Police", "South Wales Police", "Staffordshire Police"}
    lancs = [r for r in records if r["force"] == "Lancashire Constabulary"]
    # 3 + 3 pillars, 10 + 1 areas in 2021/22, 8 + 1 in 2023-25
    assert len(lancs) == 26
    assert {r["grade"] for r in lancs if r["year"] < "2021"} <= set(hmicfrs.FOUR_POINT)
