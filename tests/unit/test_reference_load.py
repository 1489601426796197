"""The reference-data loader on tiny files in the publishers' layouts: columns by pattern, cleaning, rejects, replace."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest import raw
from ingest.raw.landing import LandingError
from ingest.raw import Clean, Column, Contract, HeaderError, Measures
from ingest.sources import home_office_prc, ons_geography, ons_population

LAD_CSP_PFA = ons_geography.LAD_CSP_PFA_LOOKUP
SHA = "0" * 64


@pytest.fixture
def con():
    connection = duckdb.connect()
    ons_geography.ensure_raw_tables(connection)
    ons_population.ensure_raw_tables(connection)
    home_office_prc.ensure_raw_tables(connection)
    yield connection
    connection.close()


def write(path: Path, text: str, *, bom: bool = False, newline: str = "\n") -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.replace("\n", newline).encode("utf-8"))
    return path


def load(con, contract: Contract, path: Path, partition: dict | None = None) -> raw.LoadResult:
    return raw.load_file(con, contract, path, partition=partition or {}, source_file=path.name, file_sha256=SHA)


# --------------------------------------------------------------------------- header matching


@pytest.mark.parametrize("header", [
    "FID,LAD19CD,LAD19NM,CSP19CD,CSP19NM,PFA19CD,PFA19NM",  # Dec 2019: FID first
    "LAD19CD,LAD19NM,CSP19CD,CSP19NM,PFA19CD,PFA19NM,FID",  # 2016-2018: FID last
    "LAD19CD,LAD19NM,CSP19CD,CSP19NM,PFA19CD,PFA19NM,ObjectId",  # newer exports
    "lad19cd,LAD19NM,PFA19CD,PFA19NM,CSP19CD,CSP19NM",  # another order, other case
])
def test_columns_are_found_by_pattern_wherever_they_stand(header):
    match = raw.match_header(header.split(","), LAD_CSP_PFA, "f.csv")
    assert set(match.positions()) == {"lad_code", "lad_name", "csp_code", "csp_name", "pfa_code", "pfa_name"}
    assert match.captured == {"vintage": "2019"}


def test_a_changed_column_set_is_refused_naming_the_file_and_the_columns():
    with pytest.raises(HeaderError) as err:
        raw.match_header("LAD19CD,LAD19NM,PFA19CD,PFA19NM,RGN19CD".split(","), LAD_CSP_PFA, "LAD19_CSP19_PFA19_EW_LU.csv")
    message = str(err.value)
    assert message.startswith("LAD19_CSP19_PFA19_EW_LU.csv:")
    assert "missing: csp_code (like CSPnnCD), csp_name (like CSPnnNM)" in message
    assert "unexpected columns: RGN19CD" in message
    assert "Nothing was loaded" in message


def test_columns_of_different_vintages_are_refused():
    with pytest.raises(HeaderError, match=r"'LAD18NM' says vintage 2018, another column says 2019"):
        raw.match_header("LAD19CD,LAD18NM,CSP19CD,CSP19NM,PFA19CD,PFA19NM".split(","), LAD_CSP_PFA, "f.csv")


def test_the_lsoa_change_lookup_is_refused_by_name():
    header = "LSOA11CD,LSOA11NM,LSOA21CD,LSOA21NM,CHGIND,LAD22CD,LAD22NM,LAD22NMW,ObjectId".split(",")
    with pytest.raises(HeaderError, match="the LSOA 2011 → 2021 change lookup"):
        raw.match_header(header, ons_geography.LSOA_LAD_LOOKUP, "f.csv")


def test_notes_lines_before_the_header_are_skipped(tmp_path):
    path = write(tmp_path / "mye.csv", '"MYE2: Persons by single year of age and sex, mid-2022",,,,\n'
                                        "This worksheet contains one table. ,,,,\n"
                                        "Code,Name,Geography,All ages,0,90+\n"
                                        'E06000001,Hartlepool,Unitary Authority," \t92,571 ", \t992 , \t-   \n',
                 newline="\r\n")
    header, line = raw.read_header(path, ons_population.MID_YEAR_ESTIMATES, "mye.csv")
    assert line == 2 and header[:3] == ["Code", "Name", "Geography"]


# --------------------------------------------------------------------------- cleaning


@pytest.mark.parametrize("text, clean, expected", [
    (" \t60,238,038 ", Clean.INTEGER_TEXT, 60238038),
    (" \t992 ", Clean.INTEGER_TEXT, 992),
    ("", Clean.INTEGER_TEXT, None),
    (" \t-   ", Clean.ACCOUNTING_INTEGER, 0),  # the workbook's accounting format writes zero as '-'
    ("31-03-2003", Clean.DATE_TEXT, "2003-03-31"),
    ("31/03/2003", Clean.DATE_TEXT, "2003-03-31"),
    ("2003-03-31", Clean.DATE_TEXT, "2003-03-31"),
    ("Ynys MÃ´n", Clean.REPAIR_TEXT, "Ynys Môn"),
    ("Ynys Môn", Clean.REPAIR_TEXT, "Ynys Môn"),  # already right: untouched
    ("Kingston upon Hull, City of", Clean.REPAIR_TEXT, "Kingston upon Hull, City of"),
    ("ÅµÅ·", Clean.REPAIR_TEXT, "ŵŷ"),
])
def test_text_cleans_to_its_type(text, clean, expected):
    kind = {Clean.DATE_TEXT: "DATE", Clean.REPAIR_TEXT: "VARCHAR"}.get(clean, "BIGINT")
    value, failure = raw.clean_sql("x", clean, kind)
    (row,) = duckdb.execute(f"select ({value})::varchar, {failure or 'false'} from (select ?::varchar as x)", [text]).fetchall()
    assert row[0] == (None if expected is None else str(expected))
    assert row[1] is False


def test_a_value_that_does_not_clean_is_a_failure():
    _, failure = raw.clean_sql("x", Clean.INTEGER_TEXT, "BIGINT")
    assert duckdb.execute(f"select {failure} from (select ' \tn/a ' as x)").fetchall() == [(True,)]


# --------------------------------------------------------------------------- loading


LOOKUP = """\
LAD19CD,LAD19NM,CSP19CD,CSP19NM,PFA19CD,PFA19NM,FID
E07000123,Preston,E22000158,Preston,E23000003,Lancashire,1
E06000010,"Kingston upon Hull, City of",E22000134,"Kingston upon Hull, City of",E23000012,Humberside,2
"""


def test_a_lookup_loads_with_lineage_and_its_vintage_as_partition(con, tmp_path):
    path = write(tmp_path / "LAD19_CSP19_PFA19_EW_LU.csv", LOOKUP, bom=True)
    result = load(con, LAD_CSP_PFA, path)
    assert (result.rows_loaded, result.rows_rejected, result.partition) == (2, 0, {"_vintage": "2019"})
    rows = con.execute("select lad_code, lad_name, pfa_name, _vintage, _source_file from raw.ons_lad_csp_pfa_lookup "
                       "order by 1").fetchall()
    assert rows == [("E06000010", "Kingston upon Hull, City of", "Humberside", "2019", "LAD19_CSP19_PFA19_EW_LU.csv"),
                    ("E07000123", "Preston", "Lancashire", "2019", "LAD19_CSP19_PFA19_EW_LU.csv")]
    assert con.execute("select dataset, force_id, month, rows_loaded from raw.load_log").fetchall() == [
        ("ons_lad_csp_pfa_lookup", "all", "2019", 2)]


def test_reloading_replaces_the_partition_and_keeps_other_vintages(con, tmp_path):
    load(con, LAD_CSP_PFA, write(tmp_path / "a.csv", LOOKUP))
    load(con, LAD_CSP_PFA, write(tmp_path / "b.csv", LOOKUP.replace("19", "18")))
    load(con, LAD_CSP_PFA, write(tmp_path / "a.csv", LOOKUP))  # again: same rows, not twice
    counts = con.execute("select _vintage, count(*) from raw.ons_lad_csp_pfa_lookup group by 1 order by 1").fetchall()
    assert counts == [("2018", 2), ("2019", 2)]


def test_malformed_rows_go_to_rejects_with_the_reason_and_the_rest_load(con, tmp_path):
    text = LOOKUP + "E07000124,Ribble Valley,E22000159,Ribble Valley,E23000003,Lancashire,3,extra\n"
    path = write(tmp_path / "LAD19.csv", text)
    result = load(con, LAD_CSP_PFA, path)
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    (line, error_type, csv_line) = con.execute(
        "select line, error_type, csv_line from raw.load_rejects where dataset = 'ons_lad_csp_pfa_lookup'").fetchone()
    assert (line, error_type) == (4, "TOO MANY COLUMNS") and csv_line.startswith("E07000124")


@pytest.mark.parametrize("damage, named", [
    (lambda text: text.replace("Preston", "Pres\x00ton").encode("utf-8"), "NUL byte.*line 2"),
    (lambda text: text.replace("Preston", "Prest\u00f3n").encode("cp1252"), "not UTF-8.*line 2"),
    (lambda text: text.encode("utf-16"), "UTF-16.*line 1"),
], ids=["nul-byte", "cp1252", "utf-16"])
def test_a_file_that_is_not_utf8_text_is_refused_whole_and_the_previous_rows_stay(con, tmp_path, damage, named):
    load(con, LAD_CSP_PFA, write(tmp_path / "LAD19_CSP19_PFA19_EW_LU.csv", LOOKUP))
    damaged = tmp_path / "damaged" / "LAD19_CSP19_PFA19_EW_LU.csv"
    damaged.parent.mkdir()
    damaged.write_bytes(damage(LOOKUP))
    with pytest.raises(LandingError, match=rf"LAD19_CSP19_PFA19_EW_LU.csv: .*{named}"):
        load(con, LAD_CSP_PFA, damaged)
    assert con.execute("select count(*) from raw.ons_lad_csp_pfa_lookup").fetchone()[0] == 2


def test_a_value_that_does_not_clean_rejects_its_whole_row_naming_the_column(con, tmp_path):
    path = write(tmp_path / "mye2.csv", '"MYE2: Persons by single year of age and sex, mid-2022",,,,,\n'
                                         "Code,Name,Geography,All ages,0,90+\n"
                                         'E06000001,Hartlepool,Unitary Authority," \t1,100 "," \t1,000 ", \t100 \n'
                                         "E06000002,Middlesbrough,Unitary Authority, \t12 , \tn/a , \t2 \n"
                                         "E06000053,Isles of Scilly,Unitary Authority, \t5 , \t5 , \t-   \n")
    partition = ons_population.mye_partition(path, None, raw.SourceFile("s", "d", "mye2.csv", ""), "mye2.csv")
    assert partition == {"_mid_year": "2022", "_sex": "persons"}
    result = load(con, ons_population.MID_YEAR_ESTIMATES, path, partition)
    assert (result.rows_loaded, result.rows_rejected, result.raw_rows, result.notes_lines) == (2, 1, 6, 1)
    rows = con.execute("select area_code, age, population from raw.ons_mid_year_population order by 1, 2").fetchall()
    assert ("E06000001", "All ages", 1100) in rows and ("E06000053", "90+", 0) in rows
    assert all(r[0] != "E06000002" for r in rows)
    (message,) = con.execute("select error_message from raw.load_rejects where error_type = 'CLEAN'").fetchone()
    assert "E06000002" in message and "0 = ' \tn/a ' is not a bigint" in message


def test_a_failed_gate_rolls_back_and_keeps_the_previous_rows(con, tmp_path):
    load(con, LAD_CSP_PFA, write(tmp_path / "LAD19.csv", LOOKUP))
    bad = LOOKUP.replace("E23000012", "X23000012")  # not a force area code: an error-severity expectation
    with pytest.raises(raw.ReferenceGateFailed, match=r"pfa_code"):
        load(con, LAD_CSP_PFA, write(tmp_path / "LAD19.csv", bad))
    assert con.execute("select count(*) from raw.ons_lad_csp_pfa_lookup where pfa_code = 'E23000012'").fetchone() == (1,)


def test_double_encoded_welsh_is_repaired_as_it_loads(con, tmp_path):
    path = write(tmp_path / "CSP19_EW_NC.csv", "FID,CSP19CD,CSP19NM,CSP19NMW\n1,W14000001,Isle of Anglesey,Ynys MÃ´n\n"
                                                 "2,E22000158,Preston,\n")
    result = load(con, ons_geography.CSP_NAMES, path)
    assert result.values_repaired == 1
    assert con.execute("select csp_name_welsh from raw.ons_csp_names where csp_code = 'W14000001'").fetchone() == ("Ynys Môn",)


def test_census_columns_become_rows_whatever_the_census(con, tmp_path):
    path = write(tmp_path / "ts021.csv", 'date,geography,geography code,Ethnic group: Total: All usual residents,'
                                         '"Ethnic group: Asian, Asian British or Asian Welsh",Ethnic group: White\n'
                                         "2021,Hartlepool,E06000001,92338,1500,88000\n")
    load(con, ons_population.CENSUS_ETHNIC_GROUP, path, {"_census_year": "2021"})
    rows = con.execute("select ethnic_group_label, population from raw.ons_census_ethnic_group order by 2").fetchall()
    assert rows == [("Ethnic group: Asian, Asian British or Asian Welsh", 1500), ("Ethnic group: White", 88000),
                    ("Ethnic group: Total: All usual residents", 92338)]


def test_a_measures_contract_needs_its_family_of_columns():
    contract = Contract("d", "t", "", (Column("code", "Code"),), ("_p",),
                        measures=Measures(r"\d+", "age", "n", min_columns=2))
    with pytest.raises(HeaderError, match=r"at least 2 columns matching"):
        raw.match_header(["Code", "0"], contract, "f.csv")


def test_every_contract_has_a_suite_with_severity_and_why_on_every_expectation():
    import json

    for module in (ons_geography, ons_population, home_office_prc):
        for contract in module.CONTRACTS.values():
            suite = json.loads((Path(raw.__file__).parents[2] / "expectations" / f"raw_{contract.table}.json").read_text())
            columns = suite["expectations"][0]["kwargs"]["column_list"]
            assert columns == [name for name, _ in contract.raw_columns()], contract.table
            for expectation in suite["expectations"]:
                assert expectation["meta"]["severity"] in {"error", "warning"}
                assert expectation["meta"]["why"]
