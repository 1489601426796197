"""The Home Office tables in every layout they have been published in, each built byte for byte in that layout.

Header spellings across vintages (``Force Name``/``Police Force``/``PFA Name``, ``Number of
Offences``/``Offence Count``, ``Offence Subgroup``/``Offence Sub-group``, ``CSP Name``/``Community
Safety Partnership``), financial years written ``2023/24``, ``2002-03`` or ``2015_16``, sheets named
per financial year (``2002-03`` in older workbooks, ``2015_16`` in newer), the 2024-25 xlsx release,
the current ODS with its Notes sheet, the PFA-level table with its non-territorial rows, and the
rolling-year table's two date spellings. Every file goes through fetch and load as the DAG runs
them, and every row is accounted for: rows in the file = rows loaded + rows rejected.
"""

from __future__ import annotations

import csv
import dataclasses
import http.server
import io
import re
import threading
from pathlib import Path

import duckdb
import pytest

from ingest import raw
from ingest.config import load_settings
from devtools.sample.home_office_prc import ods_bytes
from ingest.sources import home_office_prc
from ingest.sources.home_office_prc import CSP_QUARTERLY, HEADER_VARIANTS, PFA_QUARTERLY, PFA_ROLLING_YEAR
from tests.helpers import query

SOURCE = "home_office_prc"
CURRENT = ["Financial Year", "Financial Quarter", "Force Name", "CSP Name", "Offence Description", "Offence Group",
           "Offence Subgroup", "Offence Code", "Number of Offences"]
# prc-csp-mar16-dec24-tables-240425.xlsx, the 2024-25 release (shared/data-contracts.md)
RELEASE_2024_25 = ["Financial Year", "Financial Quarter", "Police Force", "CSP Name", "Offence Description",
                   "Offence Group", "Offence Subgroup", "Offence Code", "Offence Count"]
PFA = [h for h in CURRENT if h != "CSP Name"]


def csp_row(year: str, quarter: int, force: str, csp: str, code: str, n: int | str) -> list[object]:
    offences = {"1": ("Murder", "Violence against the person", "Homicide"),
                "46": ("Shoplifting", "Theft offences", "Shoplifting"),
                "9A": ("Public fear, alarm or distress", "Public order offences", "Public order offences")}
    description, group, subgroup = offences[code]
    return [year, quarter, force, csp, description, group, subgroup, code, n]


def pfa_row(year: str, quarter: int, force: str, code: str, n: int | str) -> list[object]:
    row = csp_row(year, quarter, force, "", code, n)
    return row[:3] + row[4:]


NATIONAL = [  # the PFA table's rows that are not force areas
    ["2024/25", 1, "British Transport Police", "Shoplifting", "Theft offences", "Shoplifting", "46", 12],
    ["2024/25", 1, "Action Fraud", "Action Fraud", "Fraud offences", "Fraud: Action Fraud", "53A", 81234],
    ["2024/25", 1, "CIFAS", "CIFAS", "Fraud offences", "Fraud: CIFAS", "53B", 70111],
    ["2024/25", 1, "UK Finance", "UK Finance", "Fraud offences", "Fraud: UK Finance", "53C", 19876],
]


# --------------------------------------------------------------------------- writing files in the layouts


def csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # the Home Office CSV editions end lines in CRLF
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def xlsx_bytes(sheets: list[tuple[str, list[list[object]]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets:
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


@pytest.fixture
def settings(tmp_path: Path):
    overlay = tmp_path / "overlay.toml"
    overlay.write_text("[home_office_prc]\ndiscover = []\nfiles = []\n")
    return load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_CONFIG": str(overlay)})


def fetch_and_load(settings, dataset: str, path: Path) -> dict[str, dict]:
    """As the DAG does: fetch (spreadsheets become one CSV per year sheet, CSVs are split by year), load by name."""
    file = raw.SourceFile(SOURCE, dataset, path.name, f"file://{path}")
    fetched = home_office_prc.fetch(settings, files=[file])
    return home_office_prc.load(settings, names=[f["file"] for f in fetched])


def accounted(summary: dict[str, dict]) -> int:
    assert all(v["status"] == "loaded" for v in summary.values()), summary
    return sum(v["rows_loaded"] + v["rows_rejected"] for v in summary.values())


# --------------------------------------------------------------------------- header spellings


@pytest.mark.parametrize("contract", [CSP_QUARTERLY, PFA_QUARTERLY], ids=lambda c: c.dataset)
def test_every_documented_spelling_is_taken_by_its_own_column_and_no_other(contract):
    for column in contract.columns:
        for spelling in HEADER_VARIANTS[column.name]:
            for cell in (spelling, spelling.upper(), spelling.replace(" ", "")):
                takers = [c.name for c in contract.columns if re.fullmatch(c.pattern, cell, flags=re.IGNORECASE)]
                assert takers == [column.name], (cell, takers)
    assert {c.name for c in contract.columns} <= set(HEADER_VARIANTS)  # every column has its spellings listed


def test_a_header_with_two_spellings_of_one_column_is_refused_naming_both():
    header = ["Financial Year", "Financial Quarter", "Force Name", "Police Force", "CSP Name", "Offence Description",
              "Offence Group", "Offence Subgroup", "Offence Code", "Number of Offences"]
    with pytest.raises(raw.HeaderError, match=r"prc\.csv: the columns are not raw\.home_office_prc_csp's \("
                                              r"'Force Name' and 'Police Force' both look like force_name"):
        raw.match_header(header, CSP_QUARTERLY, "prc.csv")
    header = [*PFA, "Offence Count"]
    with pytest.raises(raw.HeaderError, match=r"'Number of Offences' and 'Offence Count' both look like offence_count"):
        raw.match_header(header, PFA_QUARTERLY, "prc.csv")


def test_a_cell_two_columns_would_take_is_refused_naming_both():
    # A contract whose subgroup pattern is loosened so that it also takes "Offence Group".
    loose = dataclasses.replace(CSP_QUARTERLY, columns=tuple(
        dataclasses.replace(c, pattern=r"Offence\s*(?:Sub)?\s*-?\s*group") if c.name == "offence_subgroup" else c
        for c in CSP_QUARTERLY.columns))
    with pytest.raises(raw.HeaderError, match=r"f\.csv: ambiguous header for raw\.home_office_prc_csp: 'Offence Group' would "
                                              r"be both offence_group \(like Offence Group\) and offence_subgroup"):
        home_office_prc.refuse_ambiguous_header(CURRENT, loose, "f.csv")
    home_office_prc.refuse_ambiguous_header(CURRENT, CSP_QUARTERLY, "f.csv")  # the real contract: no clash


def test_an_ambiguous_file_is_refused_at_load_and_nothing_is_loaded(settings, tmp_path, monkeypatch):
    loose = dataclasses.replace(CSP_QUARTERLY, columns=tuple(
        dataclasses.replace(c, pattern=r"Offence\s*(?:Sub)?\s*-?\s*group") if c.name == "offence_subgroup" else c
        for c in CSP_QUARTERLY.columns))
    monkeypatch.setitem(home_office_prc.CONTRACTS, "csp_quarterly", loose)
    path = tmp_path / "prc-csp-1112-1415-tables.csv"  # refused at fetch, where a CSV edition is split by year
    path.write_bytes(csv_bytes(CURRENT, [csp_row("2011/12", 1, "Lancashire", "Preston", "46", 10)]))
    with pytest.raises(raw.HeaderError, match=r"ambiguous header .*'Offence Group' would be both offence_group"):
        fetch_and_load(settings, "csp_quarterly", path)
    path = tmp_path / "prc-csp-mar21-sep25-tables-290126.ods"  # refused at load, sheet by sheet
    path.write_bytes(ods_bytes([("2024_25", [CURRENT, csp_row("2024/25", 1, "Lancashire", "Preston", "46", 10)])]))
    with pytest.raises(raw.LoadError, match=r"ods!2024_25: ambiguous header .*'Offence Group' would be both offence_group"):
        fetch_and_load(settings, "csp_quarterly", path)
    assert query(settings, "select count(*) from raw.home_office_prc_csp") == [(0,)]


# --------------------------------------------------------------------------- the CSP tables, vintage by vintage


def test_the_2002_03_workbook_with_hyphenated_sheets_and_years(settings, tmp_path):
    # prc-csp-0203-to-0607-tabs.xlsx: one sheet per year named 2002-03, years written 2002-03
    sheets = [(year, [CURRENT, csp_row(year, 1, "Lancashire", "Preston", "46", 1200),
                      csp_row(year, 2, "Lancashire", "Preston", "46", 1150),
                      csp_row(year, 2, "West Midlands", "Birmingham", "1", 3)])
              for year in ("2002-03", "2003-04")]
    path = tmp_path / "prc-csp-0203-to-0607-tabs.xlsx"
    path.write_bytes(xlsx_bytes(sheets))
    summary = fetch_and_load(settings, "csp_quarterly", path)
    assert sorted(v["partition"] for v in summary.values()) == ["2002/03", "2003/04"]
    assert accounted(summary) == 6
    assert query(settings, "select distinct financial_year, _financial_year, _source_file from raw.home_office_prc_csp "
                           "order by 1") == [("2002/03", "2002/03", f"{path.name}!2002-03"),
                                            ("2003/04", "2003/04", f"{path.name}!2003-04")]


def test_the_2011_12_csv_edition(settings, tmp_path):
    # prc-csp-1112-1415-tables.csv: every year in one CSV, CRLF, quoted commas; split by year at fetch
    rows = [csp_row("2011/12", 1, "Lancashire", "Preston", "9A", 70), csp_row("2011/12", 4, "Lancashire", "Preston", "46", 9),
            csp_row("2012/13", 1, "Devon & Cornwall", "Northern Devon", "46", 30),
            csp_row("2014/15", 3, "London, City of", "City of London", "1", 0)]
    path = tmp_path / "prc-csp-1112-1415-tables.csv"
    path.write_bytes(csv_bytes(CURRENT, rows))
    summary = fetch_and_load(settings, "csp_quarterly", path)
    assert sorted(v["partition"] for v in summary.values()) == ["2011/12", "2012/13", "2014/15"]
    assert accounted(summary) == len(rows)
    assert query(settings, "select offence_description, offence_count from raw.home_office_prc_csp "
                           "where offence_code = '9A'") == [("Public fear, alarm or distress", 70)]


def test_the_2024_25_release_says_police_force_and_offence_count(settings, tmp_path):
    # prc-csp-mar16-dec24-tables-240425.xlsx: sheets 2015_16 … 2024_25 and the renamed columns
    sheets = [("Notes", [["Police recorded crime by Community Safety Partnership"], ["Updated: 24/04/2025"]]),
              ("2015_16", [RELEASE_2024_25, csp_row("2015_16", 1, "Avon and Somerset", "Bath and North East Somerset", "46", 149),
                           csp_row("2015/16", 2, "Avon and Somerset", "Bath and North East Somerset", "46", 151)]),
              ("2024_25", [RELEASE_2024_25, csp_row("2024/25", 3, "Lancashire", "Unassigned Lancashire", "46", 5),
                           csp_row("2024/25", 3, "Lancashire", "Preston", "46", 412)])]
    path = tmp_path / "prc-csp-mar16-dec24-tables-240425.xlsx"
    path.write_bytes(xlsx_bytes(sheets))
    summary = fetch_and_load(settings, "csp_quarterly", path)
    assert sorted(v["partition"] for v in summary.values()) == ["2015/16", "2024/25"]  # the Notes sheet is not data
    assert accounted(summary) == 4
    assert query(settings, "select financial_year, force_name, csp_name, offence_count from raw.home_office_prc_csp "
                           "order by all") == [
        ("2015/16", "Avon and Somerset", "Bath and North East Somerset", 149),
        ("2015/16", "Avon and Somerset", "Bath and North East Somerset", 151),
        ("2024/25", "Lancashire", "Preston", 412), ("2024/25", "Lancashire", "Unassigned Lancashire", 5)]


def test_the_current_ods_with_its_notes_sheet(settings, tmp_path):
    # prc-csp-mar21-sep25-tables-290126.ods
    sheets = [("Notes", [["Updated: 29/01/2026"], ["Kent: some crimes are shown against 'Unassigned Kent'."]]),
              ("2024_25", [CURRENT, csp_row("2024/25", 4, "Kent", "Unassigned Kent", "46", 17),
                           csp_row("2024/25", 4, "Kent", "Maidstone", "46", "1,234")]),  # a count formatted as text
              ("2025_26", [CURRENT, csp_row("2025/26", 2, "Kent", "Maidstone", "1", 1)])]
    path = tmp_path / "prc-csp-mar21-sep25-tables-290126.ods"
    path.write_bytes(ods_bytes(sheets))
    summary = fetch_and_load(settings, "csp_quarterly", path)
    assert accounted(summary) == 3
    assert query(settings, "select sum(offence_count) from raw.home_office_prc_csp") == [(1252,)]


@pytest.mark.parametrize("force, csp, subgroup", [
    ("PFA Name", "CSP Name", "Offence Subgroup"),
    ("Force Name", "Community Safety Partnership", "Offence Sub-group"),
    ("Police Force", "Community Safety Partnership", "Offence Sub-group"),
])
def test_the_other_spellings(settings, tmp_path, force, csp, subgroup):
    header = ["Financial Year", "Financial Quarter", force, csp, "Offence Description", "Offence Group", subgroup,
              "Offence Code", "Number of Offences"]
    path = tmp_path / "prc-csp-tables.csv"
    path.write_bytes(csv_bytes(header, [csp_row("2016/17", 1, "Lancashire", "Preston", "46", 7)]))
    assert accounted(fetch_and_load(settings, "csp_quarterly", path)) == 1
    assert query(settings, "select force_name, csp_name, offence_subgroup from raw.home_office_prc_csp") == \
        [("Lancashire", "Preston", "Shoplifting")]


def test_a_row_whose_financial_year_is_not_one_is_rejected_with_its_reason_and_counted(settings, tmp_path):
    sheets = [("2024_25", [CURRENT, csp_row("2024/25", 1, "Lancashire", "Preston", "46", 1),
                           csp_row("2024/26", 1, "Lancashire", "Chorley", "46", 2)])]
    path = tmp_path / "prc-csp-mar21-sep25-tables-290126.ods"
    path.write_bytes(ods_bytes(sheets))
    summary = fetch_and_load(settings, "csp_quarterly", path)
    assert [(v["rows_loaded"], v["rows_rejected"]) for v in summary.values()] == [(1, 1)]
    assert query(settings, "select column_name, error_message from raw.load_rejects") == [(
        "Financial Year", "data row 2 (2024/26): Financial Year = '2024/26' is not a varchar (financial_year); "
                          "the whole row was refused")]


def test_a_csv_edition_with_a_year_that_is_not_one_is_refused_by_name(settings, tmp_path):
    path = tmp_path / "prc-csp-1112-1415-tables.csv"
    path.write_bytes(csv_bytes(CURRENT, [csp_row("2011/13", 1, "Lancashire", "Preston", "46", 10)]))
    with pytest.raises(raw.LoadError, match=r"prc-csp-1112-1415-tables\.csv: Financial Year '2011/13' is not a financial "
                                           r"year like 2023/24; nothing was loaded"):
        fetch_and_load(settings, "csp_quarterly", path)


def test_one_year_spelt_two_ways_in_a_csv_edition_stays_one_partition(tmp_path):
    path = tmp_path / "prc-csp-0203-to-0607-tabs.csv"
    path.write_bytes(csv_bytes(CURRENT, [csp_row("2002-03", 1, "Lancashire", "Preston", "46", 1),
                                         csp_row("2002/03", 2, "Lancashire", "Preston", "46", 2),
                                         csp_row("2003-04", 1, "Lancashire", "Preston", "46", 3)]))
    units = home_office_prc.split_by_financial_year(raw.Unit("csp_quarterly", str(path), path.name))
    assert [u.sheet for u in units] == ["2002/03", "2003/04"]
    assert [len(Path(u.csv_path).read_text().splitlines()) - 1 for u in units] == [2, 1]


# --------------------------------------------------------------------------- the PFA table


def test_the_pfa_table_loads_its_non_territorial_rows_as_published(settings, tmp_path):
    # prc-pfa-mar2013-onwards-tables-290126.ods: the CSP layout without CSP Name, plus BTP and the fraud bodies
    rows_2024 = [pfa_row("2024/25", 1, "Lancashire", "1", 4), pfa_row("2024/25", 1, "Lancashire", "46", 2210), *NATIONAL]
    sheets = [("Notes", [["Updated: 29/01/2026"]]),
              ("2012_13", [PFA, pfa_row("2012/13", 1, "Lancashire", "1", 3)]),
              ("2024_25", [PFA, *rows_2024])]
    path = tmp_path / "prc-pfa-mar2013-onwards-tables-290126.ods"
    path.write_bytes(ods_bytes(sheets))
    summary = fetch_and_load(settings, "pfa_quarterly", path)
    assert {v["table"] for v in summary.values()} == {"home_office_prc_pfa_quarterly"}
    assert sorted(v["partition"] for v in summary.values()) == ["2012/13", "2024/25"]
    assert accounted(summary) == 1 + len(rows_2024)
    assert query(settings, "select force_name, offence_count from raw.home_office_prc_pfa_quarterly "
                           "where force_name not in ('Lancashire') order by 1") == \
        [("Action Fraud", 81234), ("British Transport Police", 12), ("CIFAS", 70111), ("UK Finance", 19876)]
    assert query(settings, "select rows_loaded + rows_rejected from raw.load_log "
                           "where dataset = 'home_office_prc_pfa_quarterly' order by month") == [(1,), (len(rows_2024),)]


def test_an_older_pfa_workbook_with_hyphenated_sheets_and_the_renamed_columns(settings, tmp_path):
    header = ["Financial Year", "Financial Quarter", "Police Force", "Offence Description", "Offence Group",
              "Offence Sub-group", "Offence Code", "Offence Count"]
    path = tmp_path / "prc-pfa-mar2013-onwards-tables.xlsx"
    path.write_bytes(xlsx_bytes([("2019-20", [header, pfa_row("2019-20", 4, "West Midlands", "1", 6),
                                              ["2019-20", 4, "Action Fraud", "Action Fraud", "Fraud offences",
                                               "Fraud: Action Fraud", "53A", 70000]])]))
    summary = fetch_and_load(settings, "pfa_quarterly", path)
    assert accounted(summary) == 2
    assert query(settings, "select financial_year, force_name, offence_subgroup, offence_count "
                           "from raw.home_office_prc_pfa_quarterly order by 2") == \
        [("2019/20", "Action Fraud", "Fraud: Action Fraud", 70000), ("2019/20", "West Midlands", "Homicide", 6)]


def test_the_tables_configured_the_wrong_way_round_are_refused_by_name(settings, tmp_path):
    csp = tmp_path / "prc-csp-mar21-sep25-tables-290126.ods"
    csp.write_bytes(ods_bytes([("2024_25", [CURRENT, csp_row("2024/25", 1, "Lancashire", "Preston", "46", 1)])]))
    with pytest.raises(raw.LoadError, match=r"prc-csp-mar21-sep25-tables-290126\.ods!2024_25: this file is the CSP-level "
                                           r"table \(it has a CSP Name column; configure it as dataset csp_quarterly\), "
                                           r"which raw\.home_office_prc_pfa_quarterly does not take"):
        fetch_and_load(settings, "pfa_quarterly", csp)
    pfa = tmp_path / "prc-pfa-mar2013-onwards-tables-290126.ods"
    pfa.write_bytes(ods_bytes([("2024_25", [PFA, pfa_row("2024/25", 1, "Lancashire", "46", 1)])]))
    with pytest.raises(raw.LoadError, match=r"prc-pfa-mar2013-onwards-tables-290126\.ods!2024_25: the columns are not "
                                           r"raw\.home_office_prc_csp's \(missing: csp_name"):
        fetch_and_load(settings, "csp_quarterly", pfa)
    assert query(settings, "select count(*) from raw.home_office_prc_pfa_quarterly") == [(0,)]
    assert query(settings, "select count(*) from raw.home_office_prc_csp") == [(0,)]


# --------------------------------------------------------------------------- discovery on the gov.uk page


PAGE = b"""<html><body>
<a href="/media/69/prc-csp-mar16-mar20-tables-290126.ods">CSP 2016-20</a>
<a href="/media/70/prc-csp-mar21-sep25-tables-290126.ods">CSP 2021-25</a>
<a href="/media/71/prc-pfa-mar2013-onwards-tables-290126.ods">Police recorded crime open data Police Force Area tables</a>
<a href="/media/72/prc-outcomes-open-data-mar2025-tables-290126.ods">Outcomes</a>
</body></html>"""


@pytest.fixture
def page_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_platform_discovers_the_csp_and_pfa_tables_on_the_page(tmp_path, page_server):
    overlay = tmp_path / "overlay.toml"  # the platform's own discover rules; only the page is local
    overlay.write_text(f'[home_office_prc]\npage_url = "{page_server}/government/statistics/x"\nfiles = []\n')
    settings = load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_CONFIG": str(overlay)})
    files = home_office_prc.files_for(settings)
    assert [(f.dataset, f.name, f.url, f.sheet_pattern) for f in files] == [
        ("csp_quarterly", "prc-csp-mar16-mar20-tables-290126.ods", f"{page_server}/media/69/prc-csp-mar16-mar20-tables-290126.ods",
         home_office_prc.DEFAULT_SHEET_PATTERN),
        ("csp_quarterly", "prc-csp-mar21-sep25-tables-290126.ods", f"{page_server}/media/70/prc-csp-mar21-sep25-tables-290126.ods",
         home_office_prc.DEFAULT_SHEET_PATTERN),
        ("pfa_quarterly", "prc-pfa-mar2013-onwards-tables-290126.ods",
         f"{page_server}/media/71/prc-pfa-mar2013-onwards-tables-290126.ods", home_office_prc.DEFAULT_SHEET_PATTERN),
    ]


# --------------------------------------------------------------------------- the rolling-year table's dates


@pytest.mark.parametrize("written", ["31/03/2003", "31-03-2003", "2003-03-31"])
def test_rolling_year_dates_as_the_publisher_and_re_saved_copies_write_them(tmp_path, written):
    path = tmp_path / "rec-crime-pfa.csv"
    path.write_bytes(b"12 months ending,PFA,Region,Offence,Rolling year total number of offences\r\n"
                     + f"{written},Lancashire,North West,Homicide,19\r\n".encode()
                     + f"{written},Action Fraud,Fraud: Action Fraud,Action Fraud,211\r\n".encode())
    with duckdb.connect() as con:
        home_office_prc.ensure_raw_tables(con)
        result = raw.load_file(con, PFA_ROLLING_YEAR, path, partition={"_edition": "x"}, source_file=path.name,
                              file_sha256="0" * 64)
        assert (result.rows_loaded, result.rows_rejected) == (2, 0)
        assert con.execute("select distinct period_end_date::varchar from raw.home_office_prc_pfa_rolling_year").fetchall() \
            == [("2003-03-31",)]


def test_a_rolling_year_date_that_is_not_one_is_rejected_and_counted(tmp_path):
    path = tmp_path / "rec-crime-pfa.csv"
    path.write_bytes(b"12 months ending,PFA,Region,Offence,Rolling year total number of offences\r\n"
                     b"31/03/2003,Lancashire,North West,Homicide,19\r\n"
                     b"31/13/2003,Lancashire,North West,Robbery,400\r\n")
    with duckdb.connect() as con:
        home_office_prc.ensure_raw_tables(con)
        result = raw.load_file(con, PFA_ROLLING_YEAR, path, partition={"_edition": "x"}, source_file=path.name,
                              file_sha256="0" * 64)
        assert (result.rows_loaded, result.rows_rejected) == (1, 1)
        assert con.execute("select error_message from raw.load_rejects").fetchall() == [
            ("data row 2 (31/13/2003): 12 months ending = '31/13/2003' is not a date (date_text); the whole row was refused",)]
