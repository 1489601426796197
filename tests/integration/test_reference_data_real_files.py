"""The real ONS and Home Office files in ../shared/data through fetch → load → gate → dbt.

Every data row of every file is loaded or rejected with a reason (none is rejected), the
values a person can check in the files come out in the raw tables and the marts, a reload
gives the same rows, and a file whose columns changed is refused by name.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ingest import raw
from ingest.config import load_settings
from ingest.sources import home_office_prc, ons_geography, ons_population, police_uk
from tests.conftest import SHARED_DATA
from tests.helpers import dbt, dbt_ok, query

pytestmark = pytest.mark.real_data

GEOGRAPHY = SHARED_DATA / "geography"
POPULATION = SHARED_DATA / "population"
HOME_OFFICE = SHARED_DATA / "home_office_prc"
LAD16 = ("Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_Areas__December_2016__Lookup"
         "_in_England_and_Wales.csv")
GEOGRAPHY_FILES = [  # (dataset, year, file, raw table, data rows in the file)
    ("lad_csp_pfa_lookup", 2016, LAD16, "ons_lad_csp_pfa_lookup", 348),  # BOM, FID last
    ("lad_csp_pfa_lookup", 2017, "LAD17_CSP17_PFA17_EW_LU_v2.csv", "ons_lad_csp_pfa_lookup", 348),
    ("lad_csp_pfa_lookup", 2018, "LAD18_CSP18_PFA18_EW_LU.csv", "ons_lad_csp_pfa_lookup", 348),
    ("lad_csp_pfa_lookup", 2019, "LAD19_CSP19_PFA19_EW_LU.csv", "ons_lad_csp_pfa_lookup", 342),  # FID first
    ("lsoa_lad_lookup", 2019, "LSOA11_WD19_LAD19_EW_LU.csv", "ons_lsoa_lad_lookup", 34753),
    ("csp_names", 2019, "CSP19_EW_NC.csv", "ons_csp_names", 314),  # double-encoded Welsh
    ("pfa_names", 2019, "PFA19_UK_NC.csv", "ons_pfa_names", 47),
]
MYE = "mye2-persons_mid2022_csv_export.csv"
CENSUS = "census2011_qs201ew_ethnic_group_la.csv"
ROLLING_YEAR = "rec-crime-pfa.csv"
MARTS = ["+dim_geography", "+fct_population", "+fct_recorded_crime_quarterly", "+fct_crime_reconciliation_quarterly",
         "+dim_force", "+stg_home_office_prc__pfa_rolling_year"]


def _entry(dataset: str, name: str, path: Path, **extra: object) -> str:
    fields = {"dataset": dataset, "name": name, "url": f"file://{path}", **extra}
    return "{ " + ", ".join(f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in fields.items()) + " }"


def real_files_config(tmp_path: Path) -> Path:
    geography = ",\n  ".join(_entry(d, f, GEOGRAPHY / f, year=y) for d, y, f, _, _ in GEOGRAPHY_FILES)
    overlay = tmp_path / "real_files.toml"
    overlay.write_text(f"""
[ons_geography]
files = [
  {geography},
]
[ons_population]
files = [
  {_entry("mid_year_estimates", MYE, POPULATION / MYE, year=2022)},
  {_entry("census_ethnic_group", CENSUS, POPULATION / CENSUS, year=2011)},
]
[home_office_prc]
discover = []
files = [
  {_entry("pfa_rolling_year", ROLLING_YEAR, HOME_OFFICE / ROLLING_YEAR, edition="2018-12")},
]
""")
    return overlay


def data_rows(path: Path, header_line: int = 0) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _ in csv.reader(handle)) - header_line - 1


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    if not GEOGRAPHY.is_dir():
        pytest.skip(f"real reference files not found at {SHARED_DATA}")
    root = tmp_path_factory.mktemp("reference")
    environ = {"OPCC_ROOT": str(root), "OPCC_CONFIG": str(real_files_config(root))}
    return load_settings(environ=environ)


@pytest.fixture(scope="module")
def loaded(settings) -> dict[str, dict]:
    started = time.perf_counter()
    summary: dict[str, dict] = {}
    for source in (ons_geography, ons_population):
        assert all(f["status"] == "fetched" for f in source.fetch(settings))
        summary |= source.load(settings)
    assert all(f["status"] == "fetched" for f in home_office_prc.fetch(settings))
    summary |= home_office_prc.load(settings)
    print(f"real reference files fetched and loaded in {time.perf_counter() - started:.1f}s")
    return summary


def test_every_data_row_of_every_file_is_loaded_or_rejected(settings, loaded):
    expected = {name: (table, rows) for _, _, name, table, rows in GEOGRAPHY_FILES}
    # the MYE export has 7 notes lines above its header and 357 areas (the file has no final line end)
    expected[MYE] = ("ons_mid_year_population", 357)
    expected[CENSUS] = ("ons_census_ethnic_group", 348)
    expected[ROLLING_YEAR] = ("home_office_prc_pfa_rolling_year", 46469)
    for name, (table, rows) in expected.items():
        folder = {MYE: POPULATION, CENSUS: POPULATION, ROLLING_YEAR: HOME_OFFICE}.get(name, GEOGRAPHY)
        assert data_rows(folder / name, 7 if name == MYE else 0) == rows, name
        result = loaded[name]
        assert (result["status"], result["table"], result["rows_loaded"], result["rows_rejected"]) == \
            ("loaded", table, rows, 0), name
        (logged,) = query(settings, "select rows_loaded + rows_rejected from raw.load_log where source_file = ?", [name])
        assert logged == (rows,)
    assert query(settings, "select count(*) from raw.load_rejects") == [(0,)]
    # one raw row per file row, or per file row and measure column for the unpivoted tables
    assert query(settings, "select count(*) from raw.ons_lsoa_lad_lookup") == [(34753,)]
    assert query(settings, "select _vintage, count(*) from raw.ons_lad_csp_pfa_lookup group by 1 order by 1") == \
        [("2016", 348), ("2017", 348), ("2018", 348), ("2019", 342)]
    assert query(settings, "select count(*) from raw.ons_mid_year_population") == [(357 * 92,)]  # All ages, 0-89, 90+
    assert query(settings, "select count(*) from raw.ons_census_ethnic_group") == [(348 * 24,)]
    assert query(settings, "select count(*) from raw.home_office_prc_pfa_rolling_year") == [(46469,)]


def test_lookups_read_by_pattern_with_bom_fid_anywhere_and_quoted_commas(settings, loaded):
    rows = query(settings, "select _vintage, csp_name, pfa_name from raw.ons_lad_csp_pfa_lookup "
                           "where lad_code = 'E07000123' order by 1")
    assert rows == [(v, "Preston", "Lancashire") for v in ("2016", "2017", "2018", "2019")]
    assert query(settings, "select lad_name, pfa_code from raw.ons_lad_csp_pfa_lookup "
                           "where lad_code = 'E06000010' and _vintage = '2019'") == \
        [("Kingston upon Hull, City of", "E23000012")]
    assert query(settings, "select lad_name from raw.ons_lad_csp_pfa_lookup where _vintage = '2016' "
                           "and lad_code = 'E07000144'") == [("Broadland",)]  # the BOM file's first row
    assert query(settings, "select lsoa_name, ward_name, lad_name, _lsoa_vintage, _lad_vintage from raw.ons_lsoa_lad_lookup "
                           "where lsoa_code = 'E01012057'") == [("Middlesbrough 009E", "Linthorpe", "Middlesbrough", "2011", "2019")]


def test_double_encoded_welsh_is_repaired(settings, loaded):
    assert loaded["CSP19_EW_NC.csv"]["values_repaired"] == 1
    assert query(settings, "select csp_name, csp_name_welsh from raw.ons_csp_names where csp_code = 'W14000001'") == \
        [("Isle of Anglesey", "Ynys Môn")]


def test_mid_year_estimates_and_census_values_as_published(settings, loaded):
    assert loaded[MYE]["partition"] == "2022/persons"
    mye = dict(((code, age), n) for code, age, n in query(
        settings, "select area_code, age, population from raw.ons_mid_year_population "
                  "where area_code in ('K04000001', 'E07000123', 'E06000053') and age in ('All ages', '0', '17', '90+')"))
    assert mye[("K04000001", "All ages")] == 60_238_038  # " \t60,238,038 " in the file
    assert mye[("K04000001", "0")] == 625_535
    assert mye[("E07000123", "All ages")] == 151_582  # Preston
    assert mye[("E06000053", "17")] == 0  # Isles of Scilly, age 17: the export's accounting '-'
    census = dict(query(settings, "select ethnic_group_label, population from raw.ons_census_ethnic_group "
                                  "where area_code = 'E06000005'"))  # Darlington
    assert census["Ethnic Group: All categories: Ethnic group; measures: Value"] == 105_564
    assert census["Ethnic Group: White; measures: Value"] == 101_595


def test_force_level_rolling_year_table(settings, loaded):
    assert query(settings, "select min(period_end_date)::varchar, max(period_end_date)::varchar "
                           "from raw.home_office_prc_pfa_rolling_year") == [("2003-03-31", "2018-12-31")]
    assert query(settings, "select offence_count from raw.home_office_prc_pfa_rolling_year where pfa_name = 'Lancashire' "
                           "and offence = 'Homicide' and period_end_date = date '2018-12-31'") == [(21,)]
    # 25 small negative totals are real adjustments: a warning, not a refusal
    assert loaded[ROLLING_YEAR]["gate_warnings"] == 1


def test_the_publishers_slashed_dates_give_the_same_rows(settings, loaded, tmp_path):
    # This copy writes 12 months ending as 31-03-2003 (re-saved); the publisher's own is 31/03/2003.
    real = (HOME_OFFICE / ROLLING_YEAR).read_bytes()
    slashed, changed = re.subn(rb"(?m)^(\d\d)-(\d\d)-(\d{4}),", rb"\1/\2/\3,", real)
    assert changed == 46469
    path = tmp_path / ROLLING_YEAR
    path.write_bytes(slashed)
    with duckdb.connect() as con:  # a scratch database: the module's warehouse keeps its one edition
        home_office_prc.ensure_raw_tables(con)
        result = raw.load_file(con, home_office_prc.PFA_ROLLING_YEAR, path, partition={"_edition": "2018-12"},
                              source_file=ROLLING_YEAR, file_sha256="0" * 64)
        assert (result.rows_loaded, result.rows_rejected) == (46469, 0)
        con.execute("attach ? as loaded (read_only)", [str(settings.paths.warehouse)])
        columns = "period_end_date, pfa_name, region, offence, offence_count"
        for a, b in (("raw", "loaded.raw"), ("loaded.raw", "raw")):
            assert con.execute(f"select count(*) from (select {columns} from {a}.home_office_prc_pfa_rolling_year "
                               f"except all select {columns} from {b}.home_office_prc_pfa_rolling_year)").fetchall() == [(0,)]


def test_reloading_gives_the_same_rows_and_an_unchanged_file_is_not_fetched_again(settings, loaded):
    before = query(settings, "select count(*), sum(population) from raw.ons_mid_year_population")
    fetched = ons_population.fetch(settings)
    assert {f["status"] for f in fetched} == {"unchanged"}
    ons_population.load(settings)
    assert query(settings, "select count(*), sum(population) from raw.ons_mid_year_population") == before


def test_a_changed_column_set_is_refused_naming_the_file_and_the_previous_rows_stay(settings, loaded, tmp_path):
    changed = tmp_path / "LAD19_CSP19_PFA19_EW_LU.csv"
    text = (GEOGRAPHY / "LAD19_CSP19_PFA19_EW_LU.csv").read_text().replace("CSP19NM", "CSPNAME", 1)
    changed.write_text(text)
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        with pytest.raises(raw.HeaderError, match=r"LAD19_CSP19_PFA19_EW_LU\.csv: the columns are not raw\.ons_lad_csp_pfa_"
                                                  r"lookup's \(missing: csp_name \(like CSPnnNM\); unexpected columns: CSPNAME\)"):
            raw.load_file(con, ons_geography.LAD_CSP_PFA_LOOKUP, changed, partition={},
                         source_file=changed.name, file_sha256="0" * 64)
    assert query(settings, "select count(*) from raw.ons_lad_csp_pfa_lookup where _vintage = '2019'") == [(342,)]


# --------------------------------------------------------------------------- marts on the real files


@pytest.fixture(scope="module")
def built(settings, loaded, tmp_path_factory) -> Iterator[Path]:
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        police_uk.ensure_raw_tables(con)  # no police.uk rows: the marts must still build
    work = tmp_path_factory.mktemp("dbt")
    dbt_ok(["build", "--indirect-selection", "cautious", "--select", *MARTS], settings.paths.warehouse, work,
           allow=("warn",))
    yield settings.paths.warehouse


def test_dim_geography_maps_every_real_lsoa_to_its_force(settings, built):
    assert query(settings, "select count(*), count(distinct force_id), count(pfa_code) from evidence.dim_geography") == \
        [(34753, 43, 34753)]
    assert query(settings, "select lsoa_name, lad_name, csp_name, pfa_name, force_id from evidence.dim_geography "
                           "where lsoa_code = 'E01025321'") == \
        [("Ribble Valley 005A", "Ribble Valley", "Ribble Valley", "Lancashire", "lancashire")]
    assert query(settings, "select csp_name, pfa_name, force_id from evidence.dim_geography where lsoa_code = 'E01000001'") \
        == [("City of London", "London, City of", "city-of-london")]
    # districts a merger split across CSPs have a force but no single CSP
    assert query(settings, "select lad_name, count(*), count(csp_code), min(csp_candidate_count) from evidence.dim_geography "
                           "where csp_code is null group by 1 order by 1") == \
        [("Bournemouth, Christchurch and Poole", 233, 0, 3), ("East Suffolk", 146, 0, 2)]


def test_fct_population_districts_add_up_to_england_and_wales(settings, built):
    def total(area_type: str, source: str) -> int:
        return query(settings, "select sum(population_count) from evidence.fct_population where area_type = ? "
                               "and population_source = ? and is_total_population", [area_type, source])[0][0]

    assert total("local_authority", "mid_year_estimate") == 60_238_038
    assert total("local_authority", "census") == 56_075_912  # Census 2011, England and Wales
    assert total("police_force_area", "census") == 56_075_912  # every 2011 district is in a loaded lookup
    rows = dict(query(settings, "select area_code, population_count from evidence.fct_population where is_total_population "
                                "and population_source = 'mid_year_estimate' and area_code in ('E07000123', 'E22000158', "
                                "'E23000003')"))
    assert rows == {"E07000123": 151_582, "E22000158": 151_582, "E23000003": 1_550_490}
    # Mid-2022 is on 2023 districts; the newest real lookup is 2019: these seven new unitaries have no force yet
    unmapped = query(settings, "select area_name from evidence.fct_population where area_type = 'local_authority' and "
                               "force_id is null and population_source = 'mid_year_estimate' and is_total_population order by 1")
    assert [r[0] for r in unmapped] == ["Buckinghamshire", "Cumberland", "North Northamptonshire", "North Yorkshire",
                                        "Somerset", "West Northamptonshire", "Westmorland and Furness"]
    by_group = dict(query(settings, "select ethnic_group, population_count from evidence.fct_population where "
                                    "area_code = 'E23000014' and population_source = 'census'"))  # West Midlands, 2011
    assert by_group["all"] == sum(v for k, v in by_group.items() if k != "all")


def test_rolling_year_staging_keeps_national_bodies_apart(settings, built):
    assert query(settings, "select pfa_name, bool_or(is_territorial) from staging.stg_home_office_prc__pfa_rolling_year "
                           "where not is_territorial group by 1 order by 1") == \
        [("Action Fraud", False), ("British Transport Police", False), ("CIFAS", False), ("UK Finance", False)]
    assert query(settings, "select count(*) from evidence.fct_recorded_crime_quarterly") == [(0,)]  # no CSP table here


def test_real_crimes_are_counted_by_ward_district_and_csp_in_one_table(settings, built, tmp_path):
    """Real Lancashire street crimes of January 2019 (2011 LSOAs) with the real 2019 lookups: the
    common questions — crimes by CSP, by district, hotspots in a ward — read fct_crime_monthly alone."""
    import zipfile
    from dataclasses import replace

    real = SHARED_DATA / "police_uk" / "2019-01" / "2019-01-lancashire-street.csv"
    if not real.exists():
        pytest.skip(f"{real} not found")
    archive = tmp_path / "publisher" / "2019-01.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(real, f"2019-01/{real.name}")
    police = replace(settings.police_uk, forces=("lancashire",), archive_url=f"file://{archive.parent}/{{month}}.zip",
                     api_url="")
    lancashire = replace(settings, police_uk=police)
    police_uk.fetch(lancashire, "2019-01")
    police_uk.load(lancashire, "2019-01")
    work = tmp_path / "dbt"
    result = dbt(["build", "--indirect-selection", "cautious", "--select", "fct_crime_monthly"],
                 settings.paths.warehouse, work)
    assert result.success, result.exception

    (total, located, with_csp), = query(settings, "select sum(crime_count), sum(crime_count) filter (where has_lsoa), "
                                                  "sum(crime_count) filter (where csp_code is not null) "
                                                  "from evidence.fct_crime_monthly")
    assert total == 15_402 and located == 15_402 - 1_004  # the file's rows; No Location rows have no LSOA
    assert with_csp == located  # every located Lancashire crime has its CSP, district and ward
    assert query(settings, "select distinct ward_name, district_name, csp_name from evidence.fct_crime_monthly "
                           "where lsoa_code = 'E01025321'") == [(query(settings, "select ward_name from "
                                                                "evidence.dim_geography where lsoa_code = 'E01025321'")[0][0],
                                                                "Ribble Valley", "Ribble Valley")]
    by_csp = dict(query(settings, "select csp_name, sum(crime_count) from evidence.fct_crime_monthly "
                                  "where has_lsoa group by 1"))
    assert sum(by_csp.values()) == located
    # Lancashire's fourteen CSPs (twelve districts, Blackburn with Darwen, Blackpool) hold all but a
    # handful: the real file places a few crimes just over the force boundary, and they are kept.
    lancashire_csps = {c for c, n in by_csp.items() if n >= 100}
    assert len(lancashire_csps) == 14 and {"Blackburn with Darwen", "Blackpool", "Preston"} <= lancashire_csps
    assert sum(n for c, n in by_csp.items() if c not in lancashire_csps) < 0.01 * located
