"""The 999 and 101 call handling return: what it loads, what it refuses (naming the file and line), and
that no row is lost (rows in = loaded + rejected)."""

from __future__ import annotations

import pytest

from devtools.sample import call_handling as sample
from ingest.raw import HeaderError
from ingest.sources import call_handling
from ingest.sources.call_handling import check_template
from tests.helpers import TemplateFile, fetch_and_load
from tests.helpers import query as _query

NAME = "call_handling_lancashire.csv"
HEADER = ("force,month,calls_999_received,calls_999_answered,calls_999_answered_within_10s,calls_101_received,"
          "calls_101_answered,calls_101_abandoned,calls_101_average_answer_seconds")
GOOD_ROWS = (
    'Lancashire Constabulary,2025-07,"24,310","24,221","21,630",38950,33120,5830,215.5',
    "lancashire,2025-08,23890,23800,21905,37010,32400,4610,180",
    "lancashire,2025-09,22000,21950,20010,35000,31000,4000,150",
)

FILE = TemplateFile(call_handling, NAME, HEADER, GOOD_ROWS)


def test_the_committed_template_and_example_are_valid():
    assert FILE.committed_example_rows() == 2


def test_a_good_return_loads_every_row_and_a_bad_one_keeps_them(tmp_path):
    settings = FILE.load_good(tmp_path)
    # thousands separators are read as numbers
    assert _query(settings, "select sum(calls_999_received), sum(calls_999_answered_within_10s) "
                            "from raw.call_handling_monthly") == [(70200, 63545)]
    # next month's return says more 999 calls were answered within 10 s than were answered: refused whole
    message = FILE.refused_load(tmp_path, settings, *GOOD_ROWS,
                                "lancashire,2025-10,20000,19000,19500,30000,28000,2000,120")
    assert "line 5: calls_999_answered_within_10s (19500) is more than calls_999_answered (19000)" in message


def test_a_renamed_column_is_refused_by_file_and_name(tmp_path):
    path = FILE.write(tmp_path, *GOOD_ROWS, header=HEADER.replace("calls_101_abandoned", "calls_101_dropped"))
    message = FILE.refusal(path, HeaderError)
    assert NAME in message and "calls_101_dropped" in message


@pytest.mark.parametrize("row, problem", [
    ("lancashire,2025-10,-5,0,0,100,90,10,60", "calls_999_received '-5' is out of range"),
    ("lancashire,2025-10,100.5,90,80,100,90,10,60", "calls_999_received '100.5' is not a whole number"),
    ("lancashire,2025-10,100,90,80,100,90,10,9000", "calls_101_average_answer_seconds '9000' is out of range"),
    ("lancashire,2025-10,100,90,80,100,90,110,60", "calls_101_abandoned (110) is more than calls_101_received (100)"),
    ("lancashire,Oct-25,100,90,80,100,90,10,60", "month 'Oct-25' is not a month like 2025-09"),
    ("lancashire,2025-09,100,90,80,100,90,10,60", "lancashire 2025-09 is already on line 4"),
    ("Lancs,2025-10,100,90,80,100,90,10,60", "force 'Lancs' is not a force the platform knows"),
    ("lancashire,2025-10,100,90,80,100,,10,60", "calls_101_answered empty but other 101 cells filled"),
    ("lancashire,2025-10,100,90,80,,,,60", "calls_101_received, calls_101_answered, calls_101_abandoned empty but"),
    ("lancashire,2025-10,,90,80,,,,", "calls_999_received is empty"),
])
def test_a_value_out_of_range_is_refused_naming_the_line(tmp_path, row, problem):
    assert f"line 5: {problem}" in FILE.one_row_refusal(tmp_path, row)


def test_a_truncated_file_is_refused_naming_the_last_line(tmp_path):
    path = FILE.write(tmp_path, *GOOD_ROWS, "lancashire,2025-10,20000,19", end="")
    assert "line 5: 4 of 9 columns (a truncated file" in FILE.refusal(path)


def test_the_sample_is_deterministic_valid_and_reaches_back_to_the_baseline_year(tmp_path):
    first = sample.generate(tmp_path, ["lancashire"], "2025-09")
    path = tmp_path / NAME
    assert sample.generate(tmp_path, ["lancashire"], "2025-09") == first == {NAME: 90}
    assert check_template(path, "sample") == 90
    text = path.read_text()
    assert text.startswith("# SYNTHETIC SAMPLE") and ",2018-07," in text and ",2019-06," in text



NATIONAL_HEADER = HEADER  # police.uk's 999 figures put into the template: the 101 cells left empty
NATIONAL_ROWS = [
    "Lancashire Constabulary,2025-07,24300,24200,21600,,,,",
    "Cumbria Constabulary,2025-07,6100,6090,5950,,,,",
    "British Transport Police,2025-07,900,890,850,,,,",
]


def test_a_file_with_every_forces_999_calls_and_no_101_loads_beside_the_forces_return(tmp_path):
    """police.uk publishes 999 answering for every force: a file may carry any force's rows with its
    101 cells empty, loaded as its own edition beside the force's return (which keeps its rows)."""
    from ingest.config import load_settings

    inputs = tmp_path / "inputs"
    FILE.write(inputs, *GOOD_ROWS)
    (inputs / "police_uk_999.csv").write_text("\n".join([NATIONAL_HEADER, *NATIONAL_ROWS]) + "\n", encoding="utf-8")
    overlay = tmp_path / "overlay.toml"
    overlay.write_text("\n".join([
        "[paths]", 'work_dir = "var"', 'landing_dir = "var/landing"', 'warehouse = "var/warehouse.duckdb"',
        'published = "var/published.duckdb"', 'runs_dir = "var/runs"', "",
        *(line for name, edition in ((NAME, "lancashire"), ("police_uk_999.csv", "police-uk-999"))
          for line in ("[[call_handling.files]]", 'dataset = "monthly"', f'name = "{name}"',
                       f'url = "file://{{root}}/inputs/{name}"', f'edition = "{edition}"', "")),
    ]) + "\n")
    settings = load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_CONFIG": str(overlay)})
    summary = fetch_and_load(call_handling, settings)
    assert summary["police_uk_999.csv"]["rows_loaded"] == 3 and summary["police_uk_999.csv"]["rows_rejected"] == 0
    assert summary[NAME]["rows_loaded"] == 3
    assert _query(settings, """
        select _edition, count(*), count(calls_101_received), sum(calls_999_received)
        from raw.call_handling_monthly group by 1 order by 1
    """) == [("lancashire", 3, 3, 70200), ("police-uk-999", 3, 0, 31300)]
