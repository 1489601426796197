"""HMICFRS grades, finance plans and CSP assessments through fetch → load → gate → dbt, on the real
police grant settlement (../shared/data/finance) and the generated samples, with values a person can
check by hand; and the load-level refusals (a damaged workbook, an encrypted PDF) keep the previous rows.

One module fixture lands and loads everything once and runs ``dbt build`` once (the annual
sources' marts and what they read), so the file costs one GX import and one dbt parse.
"""

from __future__ import annotations

import csv
import importlib
import io
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pytest

import ingest.sources
from ingest.config import Settings, load_settings
from ingest.raw import LoadError
from devtools.sample import csp_assessments as csp_sample
from devtools.sample import finance as finance_sample
from devtools.sample import hmicfrs as hmicfrs_sample
from ingest.sources import csp_assessments, finance, hmicfrs
from tests.conftest import SHARED_DATA
from tests.helpers import dbt, query as _query

pytestmark = pytest.mark.real_data

REPO = Path(__file__).resolve().parents[2]
REAL_GRANT = SHARED_DATA / "finance" / "police-grant-2025-26.csv"
MARTS = ["fct_inspection_grades", "fct_budget", "fct_funding", "fct_mtfp_savings", "fct_reserves",
         "fct_crime_reduction_grants", "fct_police_grant_settlement", "fct_finance_per_head",
         "fct_csp_priorities", "rpt_csp_priorities_matrix"]


def _overlay(root: Path, grant_url: str, plans: list[str], register: str) -> Path:
    """A configuration overlay pointing the three sources at files under ``root``."""
    lines = [
        "[paths]", 'work_dir = "var"', 'landing_dir = "var/landing"', 'warehouse = "var/warehouse.duckdb"',
        'published = "var/published.duckdb"', 'runs_dir = "var/runs"', "",
        "[[hmicfrs.files]]", 'dataset = "peel_grades"', 'name = "peel_grades.csv"',
        'url = "file://{root}/sample/hmicfrs/peel_grades.csv"', 'edition = "office"', "",
        "[[finance.files]]", 'dataset = "police_grant"', 'name = "police-grant-2025-26.csv"', f'url = "{grant_url}"',
        "year = 2025", 'settlement_year = "2025/26"', "",
    ]
    for name in plans:
        lines += ["[[finance.files]]", 'dataset = "finance_plan"', f'name = "{name}"',
                  f'url = "file://{{root}}/sample/finance/{name}"', "year = 2025", ""]
    lines += ["[csp_assessments]", f'register_url = "{register}"']
    path = root / "annual.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _settings(root: Path, overlay: Path) -> Settings:
    return load_settings(environ={"OPCC_ROOT": str(root), "OPCC_CONFIG": str(overlay)})


def _ensure_every_raw_table(warehouse: Path) -> None:
    """What the integrator wires before ``dbt build``: every source's raw tables, empty if never loaded."""
    with duckdb.connect(str(warehouse)) as con:
        for module in pkgutil.iter_modules(ingest.sources.__path__):
            source = importlib.import_module(f"ingest.sources.{module.name}")
            if hasattr(source, "ensure_raw_tables"):
                source.ensure_raw_tables(con)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[Settings, dict]:
    if not REAL_GRANT.is_file():
        pytest.skip(f"the real settlement file is not at {REAL_GRANT}")
    root = tmp_path_factory.mktemp("annual")
    plans = ["lancashire-finance-plan-2025-26.xlsx", "west-midlands-finance-plan-2025-26.xlsx"]
    settings = _settings(root, _overlay(root, REAL_GRANT.as_uri(), plans,
                                        "file://{root}/sample/csp_assessments/register.csv"))
    hmicfrs_sample.write(root / "sample" / "hmicfrs" / "peel_grades.csv", ["lancashire", "west-midlands"])
    finance_sample.generate(root / "sample" / "finance", ["lancashire", "west-midlands"])
    csp_sample.generate(root / "sample" / "csp_assessments")
    summaries = {}
    for source in (hmicfrs, finance, csp_assessments):
        summaries[source.SOURCE] = (source.fetch(settings, 2025), source.load(settings, 2025))
    return settings, summaries


@pytest.fixture(scope="module")
def built(loaded) -> Iterator[Path]:
    settings, _ = loaded
    warehouse = settings.paths.warehouse
    _ensure_every_raw_table(warehouse)
    result = dbt([
        "build",
        # the marts, what they read, and their data tests; other sources' tests
        # that also read models outside this selection are left to the project's own build
        "--select", *(f"+{m}" for m in MARTS), "police_forces", "--indirect-selection", "cautious",
    ], settings, settings.paths.work_dir / "dbt")
    failed = [f"{r.node.name}: {r.status}: {(r.message or '')[:300]}" for r in (result.result or [])
              if str(r.status) in {"error", "fail", "runtime error"}]
    assert result.success and not failed, "\n".join(failed) or str(result.exception)
    yield warehouse


# --------------------------------------------------------------------------- the real settlement file


def test_every_row_of_the_real_settlement_is_loaded(loaded):
    settings, summaries = loaded
    with REAL_GRANT.open() as handle:
        lines = handle.read().splitlines()
    notes = [line for line in lines if line.startswith("#")]
    published = {row["force"]: int(row["budget_gbp"]) for row in csv.DictReader(lines[len(notes):])}
    assert len(notes) == 16 and len(published) == 43
    loaded_rows = dict(_query(settings.paths.warehouse, "select force, budget_gbp from raw.finance_police_grant"))
    assert loaded_rows == published  # every row, every value
    assert summaries["finance"][1]["police-grant-2025-26.csv"]["rows_rejected"] == 0
    assert _query(settings.paths.warehouse, "select count(*) from raw.load_rejects") == [(0,)]
    # The file's notes say the total reconciles to £9,806,553,489; its 43 rows add up to £2 less.
    assert sum(published.values()) == 9_806_553_487


def test_settlement_mart_has_every_force_and_the_national_total(built):
    rows = _query(built, """
        select count(*), sum(grant_gbp), max(national_total_gbp), count(*) filter (where is_main_grant_and_welsh_top_up_only),
               round(sum(share_of_national_total), 9)
        from evidence.fct_police_grant_settlement where financial_year = '2025/26'""")
    assert rows == [(43, 9_806_553_487, 9_806_553_487, 4, 1.0)]
    assert _query(built, """select force_id, grant_gbp from evidence.fct_police_grant_settlement
                            where force_id in ('lancashire', 'west-midlands', 'metropolitan', 'devon-and-cornwall')
                            order by force_id""") == [
        ("devon-and-cornwall", 238_109_971), ("lancashire", 253_239_560),
        ("metropolitan", 2_293_667_499), ("west-midlands", 598_077_146)]


# --------------------------------------------------------------------------- finance plans


def test_each_workbook_loads_every_sheet_under_its_plan(loaded):
    settings, summaries = loaded
    assert summaries["finance"][1]["lancashire-finance-plan-2025-26.xlsx"]["rows_loaded"] == 87  # 1+48+4+16+4+14
    counts = _query(settings.paths.warehouse, """
        select _force_id, _plan_year, count(*) from raw.finance_revenue_budget group by all order by 1""")
    assert counts == [("lancashire", "2025/26", 48), ("west-midlands", "2025/26", 48)]
    source = _query(settings.paths.warehouse, """select _source_file, source_row, amount_gbp from raw.finance_revenue_budget
                    where _force_id = 'lancashire' and financial_year = '2025/26' and budget_line = 'Income'""")
    assert source[0][:2] == ("lancashire-finance-plan-2025-26.xlsx!Revenue budget", 13)


def test_funding_balances_and_matches_the_settlement(built):
    rows = _query(built, """
        select force_id, police_grant_gbp, settlement_police_grant_gbp, police_grant_less_settlement_gbp,
               funding_less_net_budget_gbp, band_d_precept_gbp
        from evidence.fct_funding where financial_year = '2025/26' order by force_id""")
    assert [tuple(float(v) if not isinstance(v, str) else v for v in r) for r in rows] == [
        ("lancashire", 253_239_560.0, 253_239_560.0, 0.0, 0.0, 286.45),
        ("west-midlands", 598_077_146.0, 598_077_146.0, 0.0, 0.0, 254.62),
    ]
    # Band D rises 3% a year in the sample plan: 286.45 -> 295.04 (295.0435 rounded to pence)
    assert _query(built, """select band_d_precept_gbp::double, round(band_d_change_pct, 3) from evidence.fct_funding
                            where force_id = 'lancashire' and financial_year = '2026/27'""") == [(295.04, 0.03)]


def test_budget_savings_reserves_and_grants(built):
    # net revenue budget = expenditure lines - income, one value per year
    assert _query(built, """select count(distinct net_revenue_budget_gbp), sum(net_amount_gbp) = max(net_revenue_budget_gbp)
                            from evidence.fct_budget where force_id = 'lancashire' and financial_year = '2025/26'""") \
        == [(1, True)]
    savings = _query(built, """select financial_year, savings_gap_gbp::double, round(savings_identified_share, 2)
                               from evidence.fct_mtfp_savings where force_id = 'lancashire' order by 1""")
    assert [s[2] for s in savings] == [1.0, 0.75, 0.55, 0.35]  # the sample identifies 100%, 75%, 55%, 35%
    assert savings[0][1] == 0.0
    reserves = _query(built, """select financial_year, closing_balance_gbp::double from evidence.fct_reserves
                                where force_id = 'lancashire' and reserve_name = 'Budget resilience reserve' order by 1""")
    drawdown = reserves[0][1] - reserves[1][1]
    assert drawdown > 0 and all(abs((a[1] - b[1]) - drawdown) < 1 for a, b in zip(reserves, reserves[1:]))
    grants = _query(built, """select count(*), count(*) filter (where has_outcome), sum(amount_gbp)::double,
                                     round(sum(share_of_year_total), 6)
                              from evidence.fct_crime_reduction_grants where force_id = 'west-midlands'
                                and financial_year = '2025/26'""")
    assert grants[0][0] == 7 and grants[0][1] == 0 and grants[0][3] == 1.0


def test_per_head_model_builds_for_every_settlement_force(built):
    rows = _query(built, """select count(*), count(*) filter (where has_plan) from evidence.fct_finance_per_head
                            where financial_year = '2025/26'""")
    assert rows == [(43, 2)]  # per-head values need evidence.fct_population; this fixture loads no population


# --------------------------------------------------------------------------- HMICFRS


def test_inspection_grades_change_and_group_position(loaded, built):
    settings, summaries = loaded
    assert summaries["hmicfrs"][1]["peel_grades.csv"]["rows_loaded"] == 390  # 15 forces x 26 rows
    path = settings.root / "sample" / "hmicfrs" / "peel_grades.csv"
    with path.open() as handle:
        grades = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    rank = {g: 5 - i for i, g in enumerate(hmicfrs.FIVE_POINT)}
    area, programme = "Investigating crime", "PEEL 2023-25"
    own = {r["force"]: rank[r["grade"]] for r in grades if r["area"] == area and r["programme"] == programme}
    with (REPO / "dbt_project" / "seeds" / "most_similar_groups.csv").open() as handle:
        peers = [r["peer_force_id"] for r in csv.DictReader(handle) if r["force_id"] == "lancashire"]
    names = {hmicfrs.resolve_force(name): name for name in own}
    lancs = own["Lancashire Constabulary"]
    expected_position = 1 + sum(own[names[p]] > lancs for p in peers)
    previous = next(r["grade"] for r in grades if r["force"] == "Lancashire Constabulary"
                    and r["programme"] == "PEEL 2021/22" and r["area"] == area)
    row = _query(built, """select grade, previous_grade, grade_change, msg_position, msg_forces_graded_count, msg_size
                           from evidence.fct_inspection_grades
                           where force_id = 'lancashire' and programme = ? and area = ?""", [programme, area])
    assert row == [(next(g for g, v in rank.items() if v == lancs), previous, lancs - rank[previous],
                    expected_position, 8, 8)]
    ungraded = _query(built, """select count(*), count(msg_position) from evidence.fct_inspection_grades
                                where area = 'Victim service assessment'""")
    assert ungraded == [(30, 0)]  # 15 forces x 2 programmes, never positioned


# --------------------------------------------------------------------------- CSP assessments


def test_csp_priorities_are_the_ones_each_document_was_written_with(built):
    found = {(c, y, t): (p, page) for c, y, t, p, page in _query(built, """
        select csp_key, assessment_year, theme, is_priority, evidence_page_number from evidence.fct_csp_priorities""")}
    expected = {}
    for a in csp_sample.ASSESSMENTS:
        key = csp_assessments.csp_key(a.csp_name)
        for theme in a.priorities:
            expected[(key, a.year, theme)] = (True, 1 if a.fmt == "html" else 2)
        for theme in a.mentions:
            expected[(key, a.year, theme)] = (False, 1 if a.fmt == "html" else 3)
    assert found == expected


def test_priorities_matrix_has_every_csp_and_theme(built):
    rows = _query(built, """select count(*), count(distinct csp_key), count(*) filter (where is_priority),
                                   min(assessment_year) filter (where csp_key like 'preston%')
                            from evidence.rpt_csp_priorities_matrix""")
    latest = [a for a in csp_sample.ASSESSMENTS if a.year == 2025]
    assert rows == [(6 * 12, 6, sum(len(a.priorities) for a in latest), 2025)]
    shared = _query(built, """select force_priority_csp_count, force_csp_count from evidence.rpt_csp_priorities_matrix
                              where csp_key like 'preston%' and theme = 'asb'""")
    assert shared == [(3, 3)]  # Preston, Blackpool and Burnley all make ASB a priority


# --------------------------------------------------------------------------- refusals at load time


def test_a_damaged_workbook_is_refused_and_the_plan_keeps_its_rows(tmp_path):
    name = "lancashire-finance-plan-2025-26.xlsx"
    settings = _settings(tmp_path, _overlay(tmp_path, (tmp_path / "no-settlement.csv").as_uri(), [name],
                                            "file://{root}/none.csv"))
    workbook = tmp_path / "sample" / "finance" / name
    finance_sample.write_plan(workbook, "lancashire")
    finance.fetch(settings, 2025)
    finance.load(settings, 2025)
    before = _query(settings.paths.warehouse, "select count(*), sum(amount_gbp) from raw.finance_revenue_budget")

    wb = openpyxl.load_workbook(workbook)
    wb["Revenue budget"]["C7"] = "£1.2m"
    wb.save(workbook)
    finance.fetch(settings, 2025)
    with pytest.raises(LoadError) as refused:
        finance.load(settings, 2025)
    message = str(refused.value)
    assert "finance: 1 file(s) not loaded (their previous rows are kept)" in message
    assert f"{name}: refused" in message and "sheet 'Revenue budget', cell C7" in message
    assert _query(settings.paths.warehouse, "select count(*), sum(amount_gbp) from raw.finance_revenue_budget") == before


def test_an_encrypted_assessment_is_refused_by_name_and_the_others_load(tmp_path):
    from pypdf import PdfReader, PdfWriter

    docs = tmp_path / "docs"
    csp_sample.generate(docs, ["lancashire"])
    writer = PdfWriter()
    preston_2025 = next(a for a in csp_sample.ASSESSMENTS if a.district == "Preston" and a.year == 2025)
    for page in PdfReader(io.BytesIO(csp_sample.document_bytes(preston_2025))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", algorithm="AES-128")
    writer.write(docs / "burnley-protected.pdf")
    register = docs / "register.csv"
    register.write_text(
        "csp_name,force,assessment_year,file_name,url,publisher,licence,notes\n"
        "Preston Community Safety Partnership,Lancashire Constabulary,2025,,preston-csp-strategic-assessment-2025.pdf,,,\n"
        "Burnley Community Safety Partnership,lancashire,2025,,burnley-protected.pdf,,,\n")
    settings = _settings(tmp_path, _overlay(tmp_path, (tmp_path / "none.csv").as_uri(), [], register.as_uri()))
    fetched = {f["csp"]: f["refused"] for f in csp_assessments.fetch(settings, 2025)}
    assert fetched["Preston Community Safety Partnership"] is None
    assert fetched["Burnley Community Safety Partnership"].startswith(
        "burnley-protected.pdf: the PDF is encrypted and needs a password to open")
    with pytest.raises(LoadError) as refused:
        csp_assessments.load(settings, 2025)
    assert "1 CSP assessment(s) not loaded" in str(refused.value)
    assert "burnley-protected.pdf: the PDF is encrypted" in str(refused.value)
    assert "register line 3" in str(refused.value)
    assert _query(settings.paths.warehouse, "select _csp, count(*) from raw.csp_assessment_pages group by 1") == [
        ("preston-community-safety-partnership", 4)]
