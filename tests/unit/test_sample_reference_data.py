"""The reference-data samples are written in the publishers' real formats and cover the sample police.uk LSOAs."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from devtools.sample import geography, home_office_prc, population
from devtools.sample.police_uk import lsoa_lookup

FORCES = ["lancashire", "west-midlands", "north-wales"]


@pytest.fixture(scope="module")
def geo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("geo")
    geography.generate(out, FORCES)
    return out


def rows(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


def test_the_lsoa_lookup_covers_every_sample_police_uk_lsoa(geo_dir):
    lookup = rows(geo_dir / geography.LSOA_LOOKUP_FILE)
    assert lookup[0] == ["FID", "LSOA21CD", "LSOA21NM", "WD23CD", "WD23NM", "LAD23CD", "LAD23NM"]
    assert {r[1] for r in lookup[1:]} == {l.code for l in lsoa_lookup(FORCES)}
    assert all(r[1].startswith(("E019", "W019")) for r in lookup[1:])


def test_district_to_csp_to_force_area_has_a_bom_and_real_force_area_codes(geo_dir):
    body = (geo_dir / geography.LAD_CSP_PFA_FILE).read_bytes()
    assert body.startswith(b"\xef\xbb\xbfLAD23CD,LAD23NM,CSP23CD,CSP23NM,PFA23CD,PFA23NM,ObjectId\n")
    table = rows(geo_dir / geography.LAD_CSP_PFA_FILE, "utf-8-sig")
    preston = next(r for r in table if r[1] == "Preston")
    assert preston[4:6] == ["E23000003", "Lancashire"]
    assert {r[5] for r in table[1:]} == {"Lancashire", "West Midlands", "North Wales"}


def test_names_with_commas_are_quoted_and_welsh_is_double_encoded_as_in_the_real_file(geo_dir):
    assert b'E23000034,"London, City of",' in (geo_dir / geography.PFA_NAMES_FILE).read_bytes()
    anglesey = next(r for r in rows(geo_dir / geography.CSP_NAMES_FILE) if r[2] == "Isle of Anglesey")
    assert anglesey[3] == "Ynys MÃ´n"
    assert next(r for r in rows(geo_dir / geography.CSP_NAMES_FILE) if r[2] == "Wrexham")[3] == "Wrecsam"


def test_district_codes_do_not_depend_on_the_forces_chosen(tmp_path):
    geography.generate(tmp_path, ["lancashire"])
    alone = {r[1]: r[0] for r in rows(tmp_path / geography.LAD_CSP_PFA_FILE, "utf-8-sig")[1:]}
    assert alone["Preston"] == geography.all_districts()["Preston"].lad_code


@pytest.fixture(scope="module")
def population_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pop")
    population.generate(out, ["lancashire", "west-midlands"], mid_years=[2022])
    return out


def test_mye2_export_keeps_its_notes_formatted_numbers_and_crlf(population_dir):
    body = (population_dir / "mye2-persons_mid2022_csv_export.csv").read_bytes()
    lines = body.split(b"\r\n")
    assert lines[0].startswith(b'"MYE2: Persons by single year of age and sex for local authorities in England and Wales, mid-2022",,')
    assert lines[7].startswith(b"Code,Name,Geography,All ages,0,1,2,") and lines[7].endswith(b",89,90+")
    assert lines[8].startswith(b'K04000001,ENGLAND AND WALES,Country," \t')  # quoted, leading space and tab
    assert b',' in lines[8].split(b'"')[1]  # thousands separators inside the quotes
    assert not body.endswith(b"\r\n") and not body.startswith(b"\xef\xbb\xbf")


def test_mye2_mixes_levels_and_aggregates_add_up(population_dir):
    table = rows(population_dir / "mye2-persons_mid2022_csv_export.csv")[8:]
    number = lambda text: int(text.strip().replace(",", "").replace("-", "0") or 0)  # noqa: E731
    levels = {r[2] for r in table}
    assert {"Country", "Region", "County", "Metropolitan County", "Unitary Authority", "Non-metropolitan District",
            "Metropolitan District"} <= levels
    districts = [r for r in table if r[2] in geography._LAD_PREFIX]
    total = next(r for r in table if r[1] == "ENGLAND AND WALES")
    assert number(total[3]) == sum(number(r[3]) for r in districts)
    assert all(number(r[3]) == sum(number(v) for v in r[4:]) for r in districts)


def test_persons_are_females_plus_males(population_dir):
    district = geography.all_districts()["Preston"]
    ages = population.district_ages(district, 2022, ["lancashire", "west-midlands"])
    assert [f + m for f, m in zip(ages["female"], ages["male"])] == ages["persons"]


def test_census_is_the_nomis_bulk_layout_in_a_zip(population_dir):
    with zipfile.ZipFile(population_dir / population.CENSUS_ZIP) as archive:
        table = list(csv.reader(io.StringIO(archive.read(population.CENSUS_MEMBER).decode())))
    assert table[0][:4] == ["date", "geography", "geography code", "Ethnic group: Total: All usual residents"]
    assert "Ethnic group: Asian, Asian British or Asian Welsh" in table[0]
    header = table[0]
    for row in table[1:]:
        counts = dict(zip(header, row))
        broad = [h for h in header if h.count(":") == 1 and "Total" not in h]
        assert sum(int(counts[h]) for h in broad) == int(counts["Ethnic group: Total: All usual residents"])


def test_census_sex_and_disability_are_nomis_bulk_layouts_that_add_up(population_dir):
    def table(zip_name: str, member: str) -> list[list[str]]:
        with zipfile.ZipFile(population_dir / zip_name) as archive:
            return list(csv.reader(io.StringIO(archive.read(member).decode())))

    sex = table(population.CENSUS_SEX_ZIP, population.CENSUS_SEX_MEMBER)
    assert sex[0] == ["date", "geography", "geography code", "Sex: All persons; measures: Value",
                      "Sex: Female; measures: Value", "Sex: Male; measures: Value"]
    disability = table(population.CENSUS_DISABILITY_ZIP, population.CENSUS_DISABILITY_MEMBER)
    assert disability[0][3:5] == ["Disability: Total: All usual residents", "Disability: Disabled under the Equality Act"]
    assert len(sex) == len(disability) > 1
    for s, d in zip(sex[1:], disability[1:]):
        assert s[2] == d[2] and int(s[3]) == int(s[4]) + int(s[5]) == int(d[3])  # the same residents
        total, disabled, a_lot, a_little, not_disabled, condition, none = map(int, d[3:])
        assert disabled == a_lot + a_little and not_disabled == condition + none and total == disabled + not_disabled
        assert 0.15 < disabled / total < 0.23


def test_home_office_tables_match_the_police_uk_sample_and_keep_their_quirks(tmp_path):
    summary = home_office_prc.generate(tmp_path, ["lancashire"], "2023-01", "2023-12", scale=0.05)
    assert summary["csv"] == "prc-csp-mar23-dec23-tables.csv"
    assert summary["ods"].startswith("prc-csp-mar23-dec23-tables-")
    table = rows(tmp_path / summary["csv"])
    assert table[0] == home_office_prc.HEADER
    years = {r[0] for r in table[1:]}
    assert years == {"2022/23", "2023/24"}
    assert any(r[5] == "Theft Offences" for r in table[1:] if r[0] == "2022/23")  # older label
    assert all(r[5] != "Theft Offences" for r in table[1:] if r[0] == "2023/24")
    assert any(r[3] == "Blackburn With Darwen" for r in table[1:])  # the Home Office's spelling
    assert any(r[3] == "Unassigned Lancashire" for r in table[1:])
    with zipfile.ZipFile(tmp_path / summary["ods"]) as ods:
        assert ods.namelist()[0] == "mimetype" and ods.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        content = ods.read("content.xml").decode()
    assert 'table:name="Notes"' in content and 'table:name="2022_23"' in content and 'table:name="2023_24"' in content
    rolling = (tmp_path / "rec-crime-pfa.csv").read_bytes().split(b"\r\n")
    assert rolling[0] == b"12 months ending,PFA,Region,Offence,Rolling year total number of offences"
    assert rolling[1].startswith(b"31-03-2017,Avon and Somerset,South West,")  # every force area, from 2017
    assert any(line.startswith(b"31-12-2023,Lancashire,North West,") for line in rolling)  # computed from the quarters
    # the national baseline year (12 months to June 2019) is there, homicide included
    assert any(line.startswith(b"30-06-2019,Lancashire,North West,Homicide,") for line in rolling)


def test_the_pfa_table_sums_the_csps_and_adds_the_non_territorial_rows(tmp_path):
    from collections import Counter

    from ingest.raw import spreadsheet_sheet_names, spreadsheet_sheet_to_csv

    pytest.importorskip("python_calamine", reason="python-calamine is not installed (ODS/XLSX reader)")
    summary = home_office_prc.generate(tmp_path, ["lancashire"], "2023-01", "2023-12", scale=0.05)
    assert summary["pfa_ods"] == "prc-pfa-mar2023-onwards-tables-290424.ods"  # the real name's shape
    path = tmp_path / summary["pfa_ods"]
    assert spreadsheet_sheet_names(path) == ["Notes", "2022_23", "2023_24"]
    pfa = [r for sheet in ("2022_23", "2023_24")
           for r in rows(spreadsheet_sheet_to_csv(path, sheet, tmp_path / f"{sheet}.csv"))[1:]]
    assert rows(tmp_path / "2023_24.csv")[0] == home_office_prc.PFA_HEADER
    assert len(pfa) == summary["pfa_rows"]
    quarters = {(r[0], r[1]) for r in pfa}
    assert quarters == {("2022/23", "4"), ("2023/24", "1"), ("2023/24", "2"), ("2023/24", "3")}
    for quarter in quarters:  # every quarter has the bodies that are not force areas
        names = {r[2] for r in pfa if (r[0], r[1]) == quarter}
        assert names == {"Lancashire", "British Transport Police", "Action Fraud", "CIFAS", "UK Finance"}
    assert all(r[4] == "Fraud offences" and r[5] == f"Fraud: {r[2]}" for r in pfa if r[2] in {"Action Fraud", "CIFAS",
                                                                                                "UK Finance"})
    # a force's row is the sum of its CSPs' rows (Unassigned included), code by code
    csp = Counter()
    for r in rows(tmp_path / summary["csv"])[1:]:
        csp[(r[0], r[1], r[2], r[7])] += int(r[8])
    assert Counter({(r[0], r[1], r[2], r[6]): int(r[7]) for r in pfa if r[2] == "Lancashire"}) == csp
    assert any(r[4] == "Theft Offences" for r in pfa if r[0] == "2022/23")  # the older labels, as in the CSP table


def test_recorded_crime_is_police_uk_crime_plus_a_little(tmp_path):
    from devtools.sample.police_uk import generate_crimes, month_range
    from ingest.sources.police_uk_contract import CRIME_TYPES

    def police_uk(first: str, last: str) -> int:
        asb = CRIME_TYPES.index("Anti-social behaviour")
        return sum(int((generate_crimes("lancashire", m, 2011, 0.05).crime_type != asb).sum())
                   for m in month_range(first, last))

    # Two quarters: the second (the middle one of the window) carries the deliberate violence gap.
    recorded = home_office_prc.recorded_rows(["lancashire"], "2023-04", "2023-09", scale=0.05)
    q1 = sum(int(r[8]) for r in recorded if r[1] == 1)
    q2 = sum(int(r[8]) for r in recorded if r[1] == 2)
    assert police_uk("2023-04", "2023-06") <= q1 <= police_uk("2023-04", "2023-06") * 1.026
    assert q2 > police_uk("2023-07", "2023-09") * 1.05
