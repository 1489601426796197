"""The victim survey export: what it loads, what it refuses (naming the file and line), and that no row
is lost (rows in = loaded + rejected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.sample import victim_satisfaction as sample
from ingest.raw import HeaderError, TemplateError
from ingest.sources import victim_satisfaction
from ingest.sources.victim_satisfaction import check_template
from tests.helpers import TemplateFile, fetch_and_load
from tests.helpers import query as _query

REPO = Path(__file__).resolve().parents[2]
NAME = "victim_survey_lancashire.csv"
HEADER = "force,survey_month,respondent_id,crime_group,domestic_abuse,overall_satisfaction,weight"
GOOD_ROWS = (
    "Lancashire Constabulary,2025-07,A1,Burglary,No,Very satisfied,0.8",
    "lancashire,2025-07,A2,Domestic abuse,Yes,Fairly dissatisfied,1.25",
    "lancashire,2025-08,A3,Violent crime,Yes,Completely satisfied,1.1",
)

FILE = TemplateFile(victim_satisfaction, NAME, HEADER, GOOD_ROWS, dataset="responses")


def test_the_committed_template_and_example_are_valid():
    assert (REPO / "templates/victim_satisfaction/victim_survey_template.csv").read_text().strip() == (
        HEADER + ",age_band,sex,ethnic_group,disability")
    assert check_template(REPO / "templates/victim_satisfaction/victim_survey_example.csv", "example") == 3


def test_a_good_export_loads_every_row_and_a_bad_one_keeps_them(tmp_path):
    settings = FILE.load_good(tmp_path)
    assert _query(settings, "select count(*), sum(weight) from raw.victim_satisfaction_responses") == [(3, 3.15)]
    # the force's next export has a weight out of range: refused whole, naming the file and line; the rows stay
    message = FILE.refused_load(tmp_path, settings, *GOOD_ROWS, "lancashire,2025-09,A4,Burglary,No,Very satisfied,500")
    assert "line 5: weight '500' is out of range (0 to 100)" in message
    log = _query(settings, "select status, rows_loaded, rows_rejected from raw.load_log "
                           "where dataset = 'victim_satisfaction_responses' order by loaded_at")
    assert log[0] == ("loaded", 3, 0)


def test_rows_in_equal_rows_loaded_plus_rows_rejected(tmp_path):
    settings = FILE.settings(tmp_path)
    path = FILE.write(tmp_path / "inputs", *GOOD_ROWS)
    rows_in = sum(1 for line in path.read_text().splitlines()[1:] if line.strip())
    summary = fetch_and_load(victim_satisfaction, settings)[NAME]
    assert summary["rows_loaded"] + summary["rows_rejected"] == rows_in == 3


def test_a_renamed_column_is_refused_by_file_and_name(tmp_path):
    path = FILE.write(tmp_path, *GOOD_ROWS, header=HEADER.replace("overall_satisfaction", "satisfaction_score"))
    message = FILE.refusal(path, HeaderError)
    assert NAME in message and "satisfaction_score" in message
    assert "overall_satisfaction" in message or "overall" in message


@pytest.mark.parametrize("row, problem", [
    ("lancashire,2025-07,B1,Burglary,No,Quite happy,1", "overall_satisfaction 'Quite happy' is not one of"),
    ("lancashire,2025-13,B1,Burglary,No,Very satisfied,1", "survey_month '2025-13' is not a month"),
    ("lancashire,2025-07,B1,Burglary,Maybe,Very satisfied,1", "domestic_abuse 'Maybe' is not one of: Yes, No"),
    ("lancashire,2025-07,B1,Burglary,No,Very satisfied,-1", "weight '-1' is out of range"),
    ("lancashire,2025-07,B1,Burglary,No,Very satisfied,0", "weight is 0"),
    ("lancashire,2025-07,B1,Burglary,No,Very satisfied,heavy", "weight 'heavy' is not a number"),
    ("Lancs,2025-07,B1,Burglary,No,Very satisfied,1", "force 'Lancs' is not a force the platform knows"),
    ("lancashire,2025-07,A1,Burglary,No,Very satisfied,1", "respondent_id 'A1' is already on line 2"),
])
def test_a_value_out_of_range_is_refused_naming_the_line(tmp_path, row, problem):
    message = FILE.one_row_refusal(tmp_path, row)
    assert f"line 5: {problem}" in message and "nothing was loaded" in message


def test_a_truncated_file_is_refused_naming_the_last_line(tmp_path):
    path = FILE.write(tmp_path, *GOOD_ROWS, "lancashire,2025-08,A4,Burgl", end="")  # the export stopped mid-row
    assert "line 5: 4 of 7 columns (a truncated file" in FILE.refusal(path)


def test_an_empty_export_is_refused(tmp_path):
    with pytest.raises(TemplateError, match="header but no rows"):
        check_template(FILE.write(tmp_path), NAME)


def test_the_sample_is_deterministic_valid_and_reaches_back_to_the_baseline_year(tmp_path):
    first = sample.generate(tmp_path, ["lancashire"], "2025-09")
    path = tmp_path / NAME
    before = path.stat().st_mtime_ns
    assert sample.generate(tmp_path, ["lancashire"], "2025-09") == first
    assert path.stat().st_mtime_ns == before  # unchanged bytes are not rewritten
    assert check_template(path, "sample") == first[NAME]
    text = path.read_text()
    assert text.startswith("# SYNTHETIC SAMPLE")
    assert ",2018-07," in text and ",2019-06," in text  # the 12 months to June 2019
    assert ",Domestic abuse,Yes," in text and ",Violent crime,Yes," in text


# The export with the respondent's characteristics (the four optional columns), as survey systems add them.
WITH_CHARACTERISTICS = HEADER + ",age_band,sex,ethnic_group,disability"
CHARACTERISTIC_ROWS = [
    'lancashire,2025-07,C1,Burglary,No,Very satisfied,0.8,35-44,Female,White,No',
    'lancashire,2025-07,C2,Domestic abuse,Yes,Fairly dissatisfied,1.25,16-24,Female,'
    '"Black, Black British, Black Welsh, Caribbean or African","Yes, limited a little"',
    "lancashire,2025-08,C3,Violent crime,No,Completely satisfied,1.1,,Male,,",  # questions not answered: empty
]


def test_the_characteristic_columns_are_optional_and_checked_against_the_census_categories():
    import csv

    # the survey's lists are the consultation's (Census 2021) answers, so both break down alike
    with (REPO / "dbt_project/seeds/consultation_weighting_categories.csv").open(newline="") as handle:
        seed: dict[str, list[str]] = {}
        for row in csv.DictReader(handle):
            seed.setdefault(row["variable"], []).append(row["answer"])
    assert {k: list(v) for k, v in victim_satisfaction.CHARACTERISTICS.items()} == seed
    assert [c.name for c in victim_satisfaction.RESPONSES.columns if not c.required] == list(seed)


def test_an_export_with_characteristics_loads_them_and_one_without_still_loads(tmp_path):
    settings = FILE.settings(tmp_path)
    FILE.write(tmp_path / "inputs", *CHARACTERISTIC_ROWS, header=WITH_CHARACTERISTICS)
    summary = fetch_and_load(victim_satisfaction, settings)[NAME]
    assert summary["rows_loaded"] == 3 and summary["rows_rejected"] == 0
    assert _query(settings, """
        select respondent_id, age_band, sex, ethnic_group, disability
        from raw.victim_satisfaction_responses order by respondent_id
    """) == [("C1", "35-44", "Female", "White", "No"),
             ("C2", "16-24", "Female", "Black, Black British, Black Welsh, Caribbean or African", "Yes, limited a little"),
             ("C3", None, "Male", None, None)]
    # the force's next export comes from the older template, without the columns: it loads, characteristics empty
    FILE.write(tmp_path / "inputs", *GOOD_ROWS)
    assert fetch_and_load(victim_satisfaction, settings)[NAME]["rows_loaded"] == 3
    assert _query(settings, "select count(*), count(sex) from raw.victim_satisfaction_responses") == [(3, 0)]


@pytest.mark.parametrize("cells, problem", [
    ("35 to 44,Female,White,No", "age_band '35 to 44' is not one of: 16-24; 25-34"),
    ("35-44,F,White,No", "sex 'F' is not one of: Female; Male"),
    ("35-44,Female,Black,No", "ethnic_group 'Black' is not one of: White; Mixed or multiple ethnic groups"),
    ("35-44,Female,White,Yes", "disability 'Yes' is not one of: Yes, limited a lot; Yes, limited a little; No"),
])
def test_a_characteristic_off_its_list_is_refused_naming_the_line(tmp_path, cells, problem):
    path = FILE.write(tmp_path, *CHARACTERISTIC_ROWS, f"lancashire,2025-08,C4,Burglary,No,Very satisfied,1,{cells}",
                      header=WITH_CHARACTERISTICS)
    message = FILE.refusal(path)
    assert message.startswith("victim_survey_lancashire.csv: 1 problem(s)") and f"line 5: {problem}" in message


def test_a_raw_table_from_before_the_characteristics_is_rebuilt_keeping_its_rows(tmp_path):
    import duckdb

    from ingest.raw.contract import LINEAGE_TAIL

    path = tmp_path / "warehouse.duckdb"
    old = [c for c in victim_satisfaction.RESPONSES.raw_columns() if c[0] not in victim_satisfaction.CHARACTERISTICS]
    assert [name for name, _ in old][-len(LINEAGE_TAIL):] == [name for name, _ in LINEAGE_TAIL]
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(f"create table raw.victim_satisfaction_responses ({', '.join(f'{n} {t}' for n, t in old)})")
        con.execute("insert into raw.victim_satisfaction_responses (force, respondent_id, weight, _edition) "
                    "values ('lancashire', 'A1', 1.0, 'lancashire')")
        victim_satisfaction.ensure_raw_tables(con)
        victim_satisfaction.ensure_raw_tables(con)  # idempotent
        columns = [r[0] for r in con.execute("select column_name from duckdb_columns() where table_name = "
                                             "'victim_satisfaction_responses' order by column_index").fetchall()]
        assert columns == [name for name, _ in victim_satisfaction.RESPONSES.raw_columns()]
        assert con.execute("select respondent_id, sex from raw.victim_satisfaction_responses").fetchall() == [("A1", None)]
