"""The road safety (STATS19) return: what it loads, what it refuses (naming the file and line), and
that no row is lost (rows in = loaded + rejected)."""

from __future__ import annotations

import pytest

from devtools.sample import road_safety as sample
from ingest.raw import HeaderError
from ingest.sources import road_safety
from ingest.sources.road_safety import check_template
from tests.helpers import TemplateFile
from tests.helpers import query as _query

NAME = "road_safety_lancashire.csv"
HEADER = "force,month,killed,seriously_injured,seriously_injured_adjusted,stats19_release"
GOOD_ROWS = (
    "Lancashire Constabulary,2025-07,4,61,66.4,DfT STATS19 2025 provisional (force validated)",
    "lancashire,2025-08,3,58,,DfT STATS19 2025 provisional (force validated)",
    'lancashire,2025-09,5,"1,002",,"DfT STATS19 2025 provisional, force validated"',
)

FILE = TemplateFile(road_safety, NAME, HEADER, GOOD_ROWS)


def test_the_committed_template_and_example_are_valid():
    assert FILE.committed_example_rows() == 2


def test_a_good_return_loads_every_row_and_a_bad_one_keeps_them(tmp_path):
    settings = FILE.load_good(tmp_path)
    # 4 + 3 + 5 killed, 61 + 58 + 1,002 seriously injured; the adjusted estimate only where given
    assert _query(settings, "select sum(killed), sum(seriously_injured), count(seriously_injured_adjusted), "
                            "sum(seriously_injured_adjusted) from raw.road_safety_monthly") == [(12, 1121, 1, 66.4)]
    # the next return names no release: refused whole, the rows kept
    message = FILE.refused_load(tmp_path, settings, *GOOD_ROWS, "lancashire,2025-10,2,40,,")
    assert "line 5: stats19_release is empty" in message


def test_a_renamed_column_is_refused_by_file_and_name(tmp_path):
    path = FILE.write(tmp_path, *GOOD_ROWS, header=HEADER.replace("seriously_injured,", "serious,"))
    message = FILE.refusal(path, HeaderError)
    assert NAME in message and "serious" in message


@pytest.mark.parametrize("row, problem", [
    ("lancashire,2025-10,-1,40,,DfT STATS19 2025 provisional", "killed '-1' is out of range"),
    ("lancashire,2025-10,2,40.5,,DfT STATS19 2025 provisional", "seriously_injured '40.5' is not a whole number"),
    ("lancashire,2025-10,2,9000,,DfT STATS19 2025 provisional", "seriously_injured '9000' is out of range"),
    ("lancashire,2025-10,2,40,many,DfT STATS19 2025 provisional", "seriously_injured_adjusted 'many' is not a number"),
    ("lancashire,2025-10,2,40,," + "x" * 201, "stats19_release is 201 characters"),
    ("lancashire,2025/10,2,40,,DfT STATS19 2025 provisional", "month '2025/10' is not a month like 2025-09"),
    ("lancashire,2025-08,2,40,,DfT STATS19 2025 provisional", "lancashire 2025-08 is already on line 3"),
    ("Lancs,2025-10,2,40,,DfT STATS19 2025 provisional", "force 'Lancs' is not a force the platform knows"),
])
def test_a_value_out_of_range_is_refused_naming_the_line(tmp_path, row, problem):
    assert f"line 5: {problem}" in FILE.one_row_refusal(tmp_path, row)


def test_a_truncated_file_is_refused_naming_the_last_line(tmp_path):
    path = FILE.write(tmp_path, *GOOD_ROWS, "lancashire,2025-10,2", end="")
    assert "line 5: 3 of 6 columns (a truncated file" in FILE.refusal(path)


def test_the_sample_is_deterministic_valid_and_marks_the_last_year_provisional(tmp_path):
    first = sample.generate(tmp_path, ["lancashire"], "2025-09")
    assert sample.generate(tmp_path, ["lancashire"], "2025-09") == first == {NAME: 81}
    path = tmp_path / NAME
    assert check_template(path, "sample") == 81
    text = path.read_text()
    assert text.startswith("# SYNTHETIC SAMPLE")
    assert ",DfT STATS19 2024 final" in text and "2025-09" in text.splitlines()[-1]
    assert text.splitlines()[-1].endswith("DfT STATS19 2025 provisional")
