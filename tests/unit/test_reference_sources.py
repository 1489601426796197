"""The reference sources' own parsing: configured files, financial years, discovered links, partitions, splits."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import raw
from ingest.config import ConfigError, load_settings
from ingest.sources import home_office_prc, ons_geography, ons_population


def settings_with(tmp_path: Path, overlay: str):
    (tmp_path / "overlay.toml").write_text(overlay)
    return load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_CONFIG": str(tmp_path / "overlay.toml")})


def test_the_defaults_point_at_the_real_publishers():
    settings = load_settings(environ={})
    urls = [f.url for f in ons_geography.files_for(settings)] + [f.url for f in ons_population.files_for(settings)]
    assert all(u.startswith(("https://geoportal.statistics.gov.uk/", "https://www.ons.gov.uk/",
                             "https://www.nomisweb.co.uk/")) for u in urls)
    section = settings.source("home_office_prc")
    assert section["page_url"] == "https://www.gov.uk/government/statistics/police-recorded-crime-open-data-tables"


def test_the_demo_points_at_generated_files_under_the_root(tmp_path):
    settings = load_settings(environ={"OPCC_ROOT": str(tmp_path),
                                      "OPCC_CONFIG": str(Path(__file__).parents[2] / "config" / "demo.toml")})
    urls = [f.url for m in (ons_geography, ons_population) for f in m.files_for(settings)]
    assert urls and all(u.startswith(f"file://{tmp_path}/var/sample/") for u in urls)


def test_a_missing_section_names_the_files_read(tmp_path):
    settings = load_settings(environ={"OPCC_ROOT": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"platform\.toml: no \[nonexistent\] section"):
        settings.source("nonexistent")


def test_a_yearly_run_sees_its_year_and_earlier(tmp_path):
    settings = settings_with(tmp_path, """
[ons_geography]
files = [
  { dataset = "lad_csp_pfa_lookup", year = 2019, name = "a.csv", url = "file:///a.csv" },
  { dataset = "lad_csp_pfa_lookup", year = 2023, name = "b.csv", url = "file:///b.csv" },
]""")
    assert [f.name for f in ons_geography.files_for(settings, 2020)] == ["a.csv"]
    assert [f.name for f in ons_geography.files_for(settings)] == ["a.csv", "b.csv"]


def test_an_unknown_dataset_or_unsafe_name_is_refused(tmp_path):
    settings = settings_with(tmp_path, '[ons_geography]\nfiles = [{ dataset = "lsoa", name = "a.csv", url = "x" }]')
    with pytest.raises(raw.LoadError, match=r"unknown dataset 'lsoa'; expected one of"):
        ons_geography.files_for(settings)
    settings = settings_with(tmp_path, '[ons_geography]\nfiles = [{ dataset = "csp_names", name = "../a.csv", url = "x" }]')
    with pytest.raises(raw.LoadError, match=r"must be a plain file name"):
        ons_geography.files_for(settings)


@pytest.mark.parametrize("text, label", [("2023_24", "2023/24"), ("2002-03", "2002/03"), ("2023/24", "2023/24"),
                                         ("1999-00", "1999/00")])
def test_financial_years_from_sheet_names(text, label):
    assert home_office_prc.financial_year_label(text) == label


@pytest.mark.parametrize("text", ["2023_25", "Notes", "2023"])
def test_not_financial_years(text):
    with pytest.raises(ValueError):
        home_office_prc.financial_year_label(text)


def test_the_newest_csp_tables_are_discovered_on_the_page():
    page = """<a href="https://assets.publishing.service.gov.uk/media/69/prc-csp-mar16-mar20-tables-290126.ods">CSP 2016-20</a>
              <a href="/media/70/prc-csp-mar21-sep25-tables-290126.ods">CSP 2021-25</a>
              <a href="https://assets.publishing.service.gov.uk/media/71/prc-pfa-mar2013-onwards-tables-290126.ods">PFA</a>"""
    links = home_office_prc.discover_links(page, "https://www.gov.uk/government/statistics/x", r"prc-csp-[A-Za-z0-9-]+\.ods")
    assert links == ["https://assets.publishing.service.gov.uk/media/69/prc-csp-mar16-mar20-tables-290126.ods",
                     "https://www.gov.uk/media/70/prc-csp-mar21-sep25-tables-290126.ods"]


def test_a_csv_edition_is_split_into_one_file_per_financial_year(tmp_path):
    header = ",".join(home_office_prc_header())
    path = tmp_path / "prc-csp-1112-1415-tables.csv"
    path.write_bytes((header + "\r\n"
                      + "2022/23,4,Lancashire,Preston,Shoplifting,Theft offences,Shoplifting,46,10\r\n"
                      + '2023/24,1,Lancashire,Preston,"Public fear, alarm or distress",Public order offences,'
                        "Public order offences,9A,7\r\n"
                      + "2023/24,2,Lancashire,Preston,Shoplifting,Theft offences,Shoplifting,46,12\r\n").encode())
    units = home_office_prc.split_by_financial_year(raw.Unit("csp_quarterly", str(path), path.name))
    assert [(u.sheet, u.source_file) for u in units] == [("2022/23", f"{path.name} [2022/23]"),
                                                         ("2023/24", f"{path.name} [2023/24]")]
    second = Path(units[1].csv_path).read_text().splitlines()
    assert second[0] == header
    assert second[1] == '2023/24,1,Lancashire,Preston,"Public fear, alarm or distress",Public order offences,' \
                        "Public order offences,9A,7"
    assert len(second) == 3


def home_office_prc_header() -> list[str]:
    from devtools.sample.home_office_prc import HEADER

    return HEADER


@pytest.mark.parametrize("title, sheet, year, expected", [
    ("MYE2: Persons by single year of age and sex for local authorities in England and Wales, mid-2022", None, 2022,
     {"_mid_year": "2022", "_sex": "persons"}),
    ("MYE2: Females by single year of age and sex for local authorities in England and Wales, mid-2023", None, None,
     {"_mid_year": "2023", "_sex": "female"}),
    ("Mid-year estimates", "MYE2 - Males", 2022, {"_mid_year": "2022", "_sex": "male"}),  # year from the configuration
])
def test_mid_year_and_sex_come_from_the_title(tmp_path, title, sheet, year, expected):
    path = tmp_path / "mye.csv"
    path.write_text(f'"{title}",,,\nCode,Name,Geography,All ages,0\n')
    file = raw.SourceFile("ons_population", "mid_year_estimates", "mye.csv", "", year=year)
    assert ons_population.mye_partition(path, sheet, file, "mye.csv") == expected


def test_a_title_that_disagrees_with_the_configuration_is_refused(tmp_path):
    path = tmp_path / "mye.csv"
    path.write_text('"MYE2: Persons by single year of age and sex, mid-2021",,,\nCode,Name,Geography,All ages,0\n')
    file = raw.SourceFile("ons_population", "mid_year_estimates", "mye.csv", "", year=2022)
    with pytest.raises(raw.LoadError, match=r"the title says mid-year 2021 but the configuration says 2022"):
        ons_population.mye_partition(path, None, file, "mye.csv")


def test_spreadsheets_without_their_reader_say_which_package_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_calamine(name, *args, **kwargs):
        if name == "python_calamine":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_calamine)
    with pytest.raises(raw.MissingDependency, match=r"python-calamine"):
        raw.spreadsheet_sheet_names(tmp_path / "x.ods")


def test_an_ods_sheet_converts_to_csv_when_python_calamine_is_installed(tmp_path):
    pytest.importorskip("python_calamine", reason="python-calamine is not installed (ODS/XLSX reader)")
    from devtools.sample.home_office_prc import HEADER, ods_bytes

    path = tmp_path / "prc-csp.ods"
    path.write_bytes(ods_bytes([("Notes", [["Updated: 29/01/2026"]]),
                                ("2023_24", [HEADER, ["2023/24", 1, "Lancashire", "Preston", "Shoplifting",
                                                      "Theft offences", "Shoplifting", "46", 1234]])]))
    assert raw.spreadsheet_sheet_names(path) == ["Notes", "2023_24"]
    out = raw.spreadsheet_sheet_to_csv(path, "2023_24", tmp_path / "2023_24.csv")
    assert out.read_text().splitlines()[1] == "2023/24,1,Lancashire,Preston,Shoplifting,Theft offences,Shoplifting,46,1234"
