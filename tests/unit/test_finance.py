"""Finance plan workbook: the committed template is current, a filled one reads back, and each kind
of damage is refused naming the sheet and the cell."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import openpyxl
import pytest

from devtools.sample import finance as sample
from devtools.sample.writing import write_xlsx_deterministically
from ingest.sources import finance
from ingest.sources.finance import WorkbookRefused, read_workbook

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / "templates" / "finance" / "build_template.py"


@pytest.fixture(scope="module")
def lancashire_workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("finance") / "lancashire-finance-plan-2025-26.xlsx"
    sample.write_plan(path, "lancashire")
    return path


def _damaged(source: Path, tmp_path: Path, change) -> Path:
    wb = openpyxl.load_workbook(source)
    change(wb)
    path = tmp_path / source.name
    wb.save(path)
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(WorkbookRefused) as refused:
        read_workbook(path)
    return str(refused.value)


def test_committed_template_is_what_the_builder_makes(tmp_path):
    spec = importlib.util.spec_from_file_location("build_template", BUILDER)
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    fresh = tmp_path / "template.xlsx"
    write_xlsx_deterministically(builder.build_template(), fresh)
    assert fresh.read_bytes() == finance.TEMPLATE_PATH.read_bytes(), "run templates/finance/build_template.py"


def test_template_has_every_sheet_validation_and_comments():
    wb = openpyxl.load_workbook(finance.TEMPLATE_PATH)
    assert wb.sheetnames == ["Instructions", *(s.sheet for s in finance.SHEETS), "Lists"]
    budget = wb["Revenue budget"]
    assert [c.value for c in budget[1]] == ["financial_year", "budget_line", "amount_gbp", "notes"]
    assert budget["C1"].comment is not None and "pounds" in budget["C1"].comment.text
    ranges = {str(dv.sqref): dv.type for dv in budget.data_validations.dataValidation}
    assert ranges == {"A2:A1000": "list", "B2:B1000": "list", "C2:C1000": "decimal"}
    assert [c.value for c in wb["Lists"]["C"][1:13]] == list(finance.budget_lines())
    # a blank template is refused for its empty Plan, not for its layout
    assert "sheet 'Plan', cell B2: force is empty" in _refusal(finance.TEMPLATE_PATH)


def test_filled_workbook_reads_back(lancashire_workbook):
    plan = read_workbook(lancashire_workbook)
    assert (plan.force, plan.force_id, plan.plan_year) == ("Lancashire", "lancashire", "2025/26")
    counts = {k: len(v) for k, v in plan.tables.items()}
    assert counts == {"plans": 1, "revenue_budget": 48, "funding": 4, "reserves": 16, "savings_plan": 4,
                      "crime_reduction_grants": 14}
    funding = plan.tables["funding"][0]
    # the 2025/26 police grant is Lancashire's real settlement
    assert funding["police_grant_gbp"] == 253_239_560 and funding["band_d_precept_gbp"] == 286.45
    first_year = [r for r in plan.tables["revenue_budget"] if r["financial_year"] == "2025/26"]
    net = sum(-r["amount_gbp"] if r["budget_line"] == "Income" else r["amount_gbp"] for r in first_year)
    assert net == funding["police_grant_gbp"] + funding["precept_gbp"] + funding["other_grants_gbp"]  # balanced
    assert plan.tables["revenue_budget"][0]["source_row"] == 2


def test_sample_is_deterministic(lancashire_workbook, tmp_path):
    again = tmp_path / lancashire_workbook.name
    sample.write_plan(again, "lancashire")
    assert again.read_bytes() == lancashire_workbook.read_bytes()
    assert sample.write_plan(again, "lancashire") is False


def test_missing_sheet_is_refused_naming_it(lancashire_workbook, tmp_path):
    path = _damaged(lancashire_workbook, tmp_path, lambda wb: wb.remove(wb["Reserves"]))
    message = _refusal(path)
    assert message.startswith("lancashire-finance-plan-2025-26.xlsx: refused")
    assert "sheet 'Reserves': the sheet is missing (the workbook has: Instructions, Plan, Revenue budget, Funding, " \
           "Savings plan, Crime reduction grants, Lists)" in message


def test_renamed_column_is_refused_naming_the_cell(lancashire_workbook, tmp_path):
    def rename(wb):
        wb["Revenue budget"]["C1"] = "amount"

    message = _refusal(_damaged(lancashire_workbook, tmp_path, rename))
    assert "sheet 'Revenue budget', cell C1: expected the column 'amount_gbp', found 'amount'" in message


def test_extra_column_is_refused_naming_the_cell(lancashire_workbook, tmp_path):
    def add(wb):
        wb["Savings plan"]["F1"] = "risk"

    assert "sheet 'Savings plan', cell F1: unexpected column 'risk'" in _refusal(_damaged(lancashire_workbook, tmp_path, add))


def test_text_in_a_money_cell_is_refused_naming_the_cell(lancashire_workbook, tmp_path):
    def text(wb):
        wb["Revenue budget"]["C7"] = "£1.2m"
        wb["Funding"]["C3"] = "127,530,404"

    message = _refusal(_damaged(lancashire_workbook, tmp_path, text))
    assert "sheet 'Revenue budget', cell C7: amount_gbp: expected an amount in pounds (a number), found the text '£1.2m'" in message
    assert "sheet 'Funding', cell C3: precept_gbp: expected an amount in pounds (a number), found the text " \
           "'127,530,404' - a number stored as text? retype it as a number" in message
    assert "2 problem(s)" in message


@pytest.mark.parametrize("error", ["#REF!", "#DIV/0!"])
def test_formula_error_is_refused_naming_the_cell(lancashire_workbook, tmp_path, error):
    def broken(wb):
        wb["Funding"]["B4"] = error  # openpyxl stores an error code as an error cell (t="e"), as Excel does

    message = _refusal(_damaged(lancashire_workbook, tmp_path, broken))
    assert f"sheet 'Funding', cell B4: the cell holds the formula error {error}" in message


def test_formula_without_a_saved_result_is_refused(lancashire_workbook, tmp_path):
    def formula(wb):
        wb["Savings plan"]["C2"] = "=B2*0.5"  # openpyxl writes formulas without calculating them

    message = _refusal(_damaged(lancashire_workbook, tmp_path, formula))
    assert "sheet 'Savings plan', cell C2: the formula =B2*0.5 has no saved result" in message


def test_list_values_years_and_reserve_arithmetic_are_checked(lancashire_workbook, tmp_path):
    def mistakes(wb):
        wb["Revenue budget"]["B3"] = "Catering"
        wb["Revenue budget"]["A4"] = "2025"
        wb["Reserves"]["G2"] = 1  # General reserve closing balance no longer opening + contribution - use
        wb["Plan"]["B2"] = "Lancs"

    message = _refusal(_damaged(lancashire_workbook, tmp_path, mistakes))
    assert "sheet 'Revenue budget', cell B3: budget_line: 'Catering' is not in the list" in message
    assert "sheet 'Revenue budget', cell A4: financial_year: expected a financial year like 2025/26, found '2025'" in message
    assert "sheet 'Reserves', cell G2: closing_balance_gbp 1.00 is not opening + contribution - use" in message
    assert "sheet 'Plan', cell B2: force: 'Lancs' is not in the list" in message


def test_repeated_row_is_refused(lancashire_workbook, tmp_path):
    def repeat(wb):
        ws = wb["Funding"]
        for col in "ABCDEF":
            ws[f"{col}6"] = ws[f"{col}2"].value

    assert "sheet 'Funding', row 6: 2025/26 is already on row 2" in _refusal(_damaged(lancashire_workbook, tmp_path, repeat))


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "plan.xlsx"
    path.write_text("force,amount\n")
    assert "plan.xlsx: not an Excel .xlsx workbook" in _refusal(path)


@pytest.mark.parametrize("text, label", [("2025/26", "2025/26"), ("2025-26", "2025/26"), (" 2030/31 ", "2030/31"),
                                         ("2025/27", None), ("2025", None), ("25/26", None)])
def test_financial_year_label(text, label):
    assert finance.financial_year_label(text) == label


def test_sample_settlement_is_the_real_table_in_its_layout(tmp_path):
    path = tmp_path / "police-grant-2025-26.csv"
    sample.write_settlement(path)
    lines = path.read_text().splitlines()
    header = lines.index("force,budget_gbp")
    assert all(line.startswith("#") for line in lines[:header])
    rows = [line.split(",") for line in lines[header + 1:]]
    assert len(rows) == 43 and sum(int(v) for _, v in rows) == 9_806_553_487
    assert ["Lancashire", "253239560"] in rows and ["West Midlands", "598077146"] in rows
    assert set(finance.FORCE_NAMES) == {f for f, _ in rows}
