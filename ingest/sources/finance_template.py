"""The finance plan workbook: the template's contract (sheets, columns, lists) and its reader.

A finance team fills the template in Excel (``templates/finance/``); :func:`read_workbook` reads
it with openpyxl — values and formulas both, so a formula error such as ``#REF!`` is refused by
sheet and cell instead of being loaded as a gap — and checks every rule the template states.
:mod:`ingest.sources.finance` lands and loads what it returns.

Only the standard library is imported at module level (DAG files import source modules).
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingest import raw
from ingest.config import PROJECT_ROOT
from ingest.raw import Column, Contract

TEMPLATE_PATH = PROJECT_ROOT / "templates" / "finance" / "finance_plan_template.xlsx"
BUDGET_LINES_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "finance_budget_lines.csv"
FINANCIAL_YEAR = re.compile(r"^(?P<start>20\d{2})\s*[-/_]\s*(?P<end>\d{2})$")
PLAN_PARTITION = ("_force_id", "_plan_year")
MAX_PROBLEMS_SHOWN = 30
RESERVE_TOLERANCE_GBP = 1.0  # closing = opening + contribution - use, to the pound

# The 43 territorial forces as the Home Office settlement names them (the Plan sheet's list).
FORCE_NAMES: tuple[str, ...] = (
    "Avon and Somerset", "Bedfordshire", "Cambridgeshire", "Cheshire", "City of London", "Cleveland",
    "Cumbria", "Derbyshire", "Devon and Cornwall", "Dorset", "Durham", "Dyfed-Powys", "Essex",
    "Gloucestershire", "Greater Manchester", "Gwent", "Hampshire", "Hertfordshire", "Humberside", "Kent",
    "Lancashire", "Leicestershire", "Lincolnshire", "Merseyside", "Metropolitan Police", "Norfolk",
    "North Wales", "North Yorkshire", "Northamptonshire", "Northumbria", "Nottinghamshire", "South Wales",
    "South Yorkshire", "Staffordshire", "Suffolk", "Surrey", "Sussex", "Thames Valley", "Warwickshire",
    "West Mercia", "West Midlands", "West Yorkshire", "Wiltshire",
)
RESERVE_TYPES = ("General", "Earmarked")
RECIPIENT_TYPES = (
    "Community Safety Partnership", "Local authority", "Charity or voluntary organisation", "Health body",
    "Youth justice service", "Police force", "Other",
)
FINANCIAL_YEARS = tuple(f"{y}/{(y + 1) % 100:02d}" for y in range(2015, 2036))


class WorkbookRefused(raw.LoadError):
    """The workbook breaks the template; nothing was loaded from it and the previous plan is kept."""


# --------------------------------------------------------------------------- the template's contract


@dataclass(frozen=True)
class SheetColumn:
    name: str  # the header in row 1 of the sheet, and the raw column
    kind: str  # text | financial_year | money | number | date | choice
    required: bool = True
    choices: str | None = None  # a list on the Lists sheet (see LISTS)
    help: str = ""  # the header cell's comment in the template

    @property
    def duckdb_type(self) -> str:
        return {"money": "DOUBLE", "number": "DOUBLE", "date": "DATE"}.get(self.kind, "VARCHAR")


@dataclass(frozen=True)
class SheetSpec:
    sheet: str  # the sheet's name in the workbook
    dataset: str
    table: str  # raw table
    columns: tuple[SheetColumn, ...]
    description: str
    key: tuple[str, ...] = ()  # columns that identify a row (each key once per workbook)
    layout: str = "table"  # table: header in row 1, one record per row; fields: labels in A, values in B

    def contract(self) -> Contract:
        """The raw table: the sheet row the values came from, the columns, then the plan's lineage."""
        columns = (Column("source_row", duckdb_type="INTEGER"),) + tuple(
            Column(c.name, re.escape(c.name), c.duckdb_type, required=c.required) for c in self.columns
        )
        return Contract(dataset=self.dataset, table=self.table, description=self.description,
                        columns=columns, partition=PLAN_PARTITION)


def _money(name: str, help: str, required: bool = True) -> SheetColumn:
    return SheetColumn(name, "money", required, help=f"{help} In pounds, as a number (no £ sign, no 'm').")


YEAR_COLUMN = SheetColumn("financial_year", "financial_year", choices="financial_years",
                          help="Financial year as 2025/26 (April to March).")
NOTES_COLUMN = SheetColumn("notes", "text", required=False, help="Optional: anything a reader should know.")

PLAN = SheetSpec(
    sheet="Plan", dataset="plans", table="finance_plans", layout="fields",
    description="One row per finance plan workbook: the force, the plan and where it is published.",
    columns=(
        SheetColumn("force", "choice", choices="forces", help="The force, as the Home Office settlement names it."),
        SheetColumn("plan_title", "text", help="e.g. Medium Term Financial Plan 2025/26 to 2028/29."),
        SheetColumn("first_financial_year", "financial_year", choices="financial_years",
                    help="The first year of the plan (the budget year), e.g. 2025/26."),
        SheetColumn("approved_on", "date", required=False, help="Date the PCC approved the budget and precept."),
        SheetColumn("prepared_by", "text", required=False, help="Who filled in this workbook (team or role)."),
        SheetColumn("source_url", "text", required=False, help="Where the budget report or MTFP is published."),
    ),
)
REVENUE_BUDGET = SheetSpec(
    sheet="Revenue budget", dataset="revenue_budget", table="finance_revenue_budget",
    description="The revenue budget by subjective line and financial year, one row per line and year.",
    key=("financial_year", "budget_line"),
    columns=(
        YEAR_COLUMN,
        SheetColumn("budget_line", "choice", choices="budget_lines",
                    help="Subjective line from the list (Lists sheet). Income is entered positive."),
        _money("amount_gbp", "Budget for the line and year."),
        NOTES_COLUMN,
    ),
)
FUNDING = SheetSpec(
    sheet="Funding", dataset="funding", table="finance_funding",
    description="How the net budget is funded, one row per financial year: grant, precept and Band D.",
    key=("financial_year",),
    columns=(
        YEAR_COLUMN,
        _money("police_grant_gbp", "Home Office core grant (police grant, ex-DCLG formula, legacy council tax grants)."),
        _money("precept_gbp", "Council tax precept income (incl. any collection fund surplus or deficit)."),
        _money("other_grants_gbp", "Other general grants (e.g. pension grant, uplift ringfenced grant).", required=False),
        _money("band_d_precept_gbp", "The police precept on a Band D property for the year."),
        SheetColumn("council_tax_base", "number", help="Tax base: Band D equivalent properties (a number)."),
        NOTES_COLUMN,
    ),
)
RESERVES = SheetSpec(
    sheet="Reserves", dataset="reserves", table="finance_reserves",
    description="Reserves by reserve and financial year: opening balance, contributions, use, closing balance.",
    key=("financial_year", "reserve_name"),
    columns=(
        YEAR_COLUMN,
        SheetColumn("reserve_name", "text", help="e.g. General reserve; Budget resilience reserve."),
        SheetColumn("reserve_type", "choice", choices="reserve_types", help="General or Earmarked."),
        _money("opening_balance_gbp", "Balance on 1 April."),
        _money("contribution_gbp", "Planned contributions into the reserve in the year.", required=False),
        _money("use_gbp", "Planned use (drawdown) of the reserve in the year, entered positive.", required=False),
        _money("closing_balance_gbp", "Balance on 31 March: opening + contribution - use."),
        NOTES_COLUMN,
    ),
)
SAVINGS = SheetSpec(
    sheet="Savings plan", dataset="savings_plan", table="finance_savings_plan",
    description="Savings required (the budget gap) and identified per year of the Medium Term Financial Plan.",
    key=("financial_year",),
    columns=(
        YEAR_COLUMN,
        _money("savings_required_gbp", "Savings needed to balance the year's budget (the gap before savings)."),
        _money("savings_identified_gbp", "Savings identified in approved plans for the year."),
        _money("savings_delivered_gbp", "Savings delivered (for a year that has ended).", required=False),
        NOTES_COLUMN,
    ),
)
GRANTS = SheetSpec(
    sheet="Crime reduction grants", dataset="crime_reduction_grants", table="finance_crime_reduction_grants",
    description="The PCC's crime and disorder reduction grants (Police Reform and Social Responsibility Act 2011 s.9).",
    columns=(
        YEAR_COLUMN,
        SheetColumn("recipient", "text", help="The organisation receiving the grant."),
        SheetColumn("recipient_type", "choice", choices="recipient_types", help="Kind of organisation (list)."),
        SheetColumn("csp_name", "text", required=False,
                    help="The Community Safety Partnership the grant is for or through, if any."),
        SheetColumn("purpose", "text", help="What the grant pays for."),
        _money("amount_gbp", "Amount awarded for the year."),
        SheetColumn("conditions", "text", help="Conditions attached (reporting, match funding, outcomes)."),
        SheetColumn("outcome", "text", required=False, help="Reported outcome, once known."),
        SheetColumn("awarded_on", "date", required=False, help="Date of the award decision."),
    ),
)
TABLE_SHEETS: tuple[SheetSpec, ...] = (REVENUE_BUDGET, FUNDING, RESERVES, SAVINGS, GRANTS)
SHEETS: tuple[SheetSpec, ...] = (PLAN, *TABLE_SHEETS)

@lru_cache(maxsize=1)
def budget_lines() -> tuple[str, ...]:
    """The subjective lines (seed ``finance_budget_lines``), in their order."""
    with BUDGET_LINES_SEED.open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: int(r["sort_order"]))
    return tuple(r["budget_line"] for r in rows)


def lists() -> dict[str, tuple[str, ...]]:
    """The template's drop-down lists (its Lists sheet), by name."""
    return {
        "forces": FORCE_NAMES,
        "financial_years": FINANCIAL_YEARS,
        "budget_lines": budget_lines(),
        "reserve_types": RESERVE_TYPES,
        "recipient_types": RECIPIENT_TYPES,
    }


def financial_year_label(text: str) -> str | None:
    """``2025/26``, ``2025-26`` → ``2025/26``; None when it is not a financial year."""
    m = FINANCIAL_YEAR.match(text.strip())
    if m is None or (int(m.group("start")) + 1) % 100 != int(m.group("end")):
        return None
    return f"{m.group('start')}/{m.group('end')}"


# --------------------------------------------------------------------------- reading a workbook


@dataclass
class ParsedPlan:
    """A workbook that kept every rule: the plan's key and each table's rows (with their sheet row)."""

    force: str
    force_id: str
    plan_year: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # dataset -> rows

    @property
    def partition(self) -> dict[str, str]:
        return {"_force_id": self.force_id, "_plan_year": self.plan_year}


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:59] + "…'"


class _Problems:
    """Problems found in one workbook, each naming its sheet and cell."""

    def __init__(self, label: str):
        self.label = label
        self.items: list[str] = []

    def add(self, sheet: str, cell: str | None, text: str) -> None:
        where = f"sheet '{sheet}'" + ("" if not cell else f", {cell}" if cell.startswith("row") else f", cell {cell}")
        self.items.append(f"{where}: {text}")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS_SHOWN]
        more = len(self.items) - len(shown)
        raise WorkbookRefused(
            f"{self.label}: refused, {len(self.items)} problem(s); nothing was loaded from this workbook and the "
            "plan's previous figures are kept:\n  " + "\n  ".join(shown)
            + (f"\n  … and {more} more" if more else "")
            + "\nFix the cells named (templates/finance/README.md says what each column takes), save the "
            "workbook and rerun the load."
        )


def _cell_value(values_ws, formulas_ws, row: int, col: int, sheet: str, problems: _Problems) -> tuple[Any, bool]:
    """(value, ok): a formula error or a formula without a saved result is a problem."""
    cell = values_ws.cell(row=row, column=col + 1)
    ref = f"{column_letter(col)}{row}"
    if cell.data_type == "e":
        problems.add(sheet, ref, f"the cell holds the formula error {cell.value}; correct the formula (did it "
                                 "refer to a deleted row, column or sheet, or divide by zero?) and save again")
        return None, False
    value = cell.value
    if value is None and formulas_ws is not None:
        formula = formulas_ws.cell(row=row, column=col + 1).value
        if isinstance(formula, str) and formula.startswith("="):
            problems.add(sheet, ref, f"the formula {formula[:40]} has no saved result (the workbook was written by "
                                     "a program that does not calculate); open it in Excel or LibreOffice and save")
            return None, False
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            value = None
    return value, True


def _typed(value: Any, column: SheetColumn, sheet: str, ref: str, problems: _Problems) -> Any:
    """The cell's value as the column's kind, or a problem naming the cell, what was expected and what was found."""
    if value is None:
        if column.required:
            problems.add(sheet, ref, f"{column.name} is empty; it is required")
        return None
    kind = column.kind
    if kind in ("money", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            what = "an amount in pounds (a number)" if kind == "money" else "a number"
            hint = " - a number stored as text? retype it as a number" if re.fullmatch(r"[£\s\d,.-]+", str(value)) else ""
            problems.add(sheet, ref, f"{column.name}: expected {what}, found the text {_show(value)}{hint}")
            return None
        return value
    if kind == "financial_year":
        label = financial_year_label(str(value)) if isinstance(value, str) else None
        if label is None:
            problems.add(sheet, ref, f"{column.name}: expected a financial year like 2025/26, found {_show(value)}")
        return label
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
            try:
                return datetime.strptime(str(value), fmt).date()
            except ValueError:
                pass
        problems.add(sheet, ref, f"{column.name}: expected a date (e.g. 2025-02-06), found {_show(value)}")
        return None
    text = str(value)
    if kind == "choice":
        options = lists()[column.choices or ""]
        canonical = {o.lower(): o for o in options}.get(" ".join(text.split()).lower())
        if canonical is None:
            problems.add(sheet, ref, f"{column.name}: {_show(value)} is not in the list; choose one of "
                                     f"{', '.join(options[:12])}{', …' if len(options) > 12 else ''}")
        return canonical
    return text


def _read_fields(spec: SheetSpec, values_ws, formulas_ws, problems: _Problems) -> dict[str, Any]:
    """A fields sheet: labels in column A from row 2, values in column B."""
    record: dict[str, Any] = {"source_row": None}
    for offset, column in enumerate(spec.columns):
        row = offset + 2
        label = values_ws.cell(row=row, column=1).value
        if str(label or "").strip().lower() != column.name:
            problems.add(spec.sheet, f"A{row}", f"expected the label '{column.name}', found {_show(label)}; "
                                                "keep the template's labels and order")
            continue
        value, ok = _cell_value(values_ws, formulas_ws, row, 1, spec.sheet, problems)
        if ok:
            record[column.name] = _typed(value, column, spec.sheet, f"B{row}", problems)
    return record


def _read_table(spec: SheetSpec, values_ws, formulas_ws, problems: _Problems) -> list[dict[str, Any]]:
    """A table sheet: the template's headers in row 1, one record per non-empty row below."""
    width = len(spec.columns)
    header_ok = True
    for col, column in enumerate(spec.columns):
        found = values_ws.cell(row=1, column=col + 1).value
        if str(found or "").strip().lower() != column.name:
            header_ok = False
            problems.add(spec.sheet, f"{column_letter(col)}1",
                         f"expected the column '{column.name}', found {_show(found) if found is not None else 'nothing'}; "
                         "column headings must stay as in the template (rename it back, or move the column back)")
    extra_col = width
    while extra_col < values_ws.max_column:
        found = values_ws.cell(row=1, column=extra_col + 1).value
        if found not in (None, ""):
            header_ok = False
            problems.add(spec.sheet, f"{column_letter(extra_col)}1",
                         f"unexpected column {_show(found)}; the sheet has exactly the columns "
                         f"{', '.join(c.name for c in spec.columns)} (put other notes in the notes column)")
        extra_col += 1
    if not header_ok:
        return []  # the values cannot be trusted to be in the right columns
    records = []
    seen: dict[tuple, int] = {}
    for row in range(2, values_ws.max_row + 1):
        cells = [values_ws.cell(row=row, column=c + 1).value for c in range(width)]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells) and not any(
            values_ws.cell(row=row, column=c + 1).data_type == "e" for c in range(width)
        ):
            continue
        record: dict[str, Any] = {"source_row": row}
        for col, column in enumerate(spec.columns):
            value, ok = _cell_value(values_ws, formulas_ws, row, col, spec.sheet, problems)
            record[column.name] = _typed(value, column, spec.sheet, f"{column_letter(col)}{row}", problems) if ok else None
        if spec.key and all(record.get(k) is not None for k in spec.key):
            key = tuple(str(record[k]).lower() for k in spec.key)
            if key in seen:
                problems.add(spec.sheet, f"row {row}", f"{' / '.join(str(record[k]) for k in spec.key)} is already on "
                                                       f"row {seen[key]}; keep one row per {' and '.join(spec.key)}")
            else:
                seen[key] = row
        records.append(record)
    return records


def _check_reserves(records: list[dict[str, Any]], problems: _Problems) -> None:
    letter = column_letter([c.name for c in RESERVES.columns].index("closing_balance_gbp"))
    for r in records:
        if r.get("opening_balance_gbp") is None or r.get("closing_balance_gbp") is None:
            continue
        expected = r["opening_balance_gbp"] + (r.get("contribution_gbp") or 0) - (r.get("use_gbp") or 0)
        if abs(expected - r["closing_balance_gbp"]) > RESERVE_TOLERANCE_GBP:
            problems.add(RESERVES.sheet, f"{letter}{r['source_row']}",
                         f"closing_balance_gbp {r['closing_balance_gbp']:,.2f} is not opening + contribution - use "
                         f"= {expected:,.2f}; correct the balance or the movements")


def read_workbook(path: Path, label: str | None = None) -> ParsedPlan:
    """Check a filled-in finance template and return its rows, or raise :class:`WorkbookRefused`.

    Every problem is collected before refusing, each naming its sheet and cell: a missing
    sheet, a renamed or moved column, text in a money or number cell, a formula error
    (``#REF!``, ``#DIV/0!``…) or a formula without a saved result, a value not in a list, a
    repeated row, reserves that do not add up.
    """
    import openpyxl  # heavy-ish: only when a workbook is read

    label = label or path.name
    try:
        values_wb = openpyxl.load_workbook(path, data_only=True)
        formulas_wb = openpyxl.load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise WorkbookRefused(
            f"{label}: not an Excel .xlsx workbook ({exc.__class__.__name__}: {exc}); save the finance plan as "
            "'Excel Workbook (*.xlsx)' from templates/finance/finance_plan_template.xlsx and reload"
        ) from exc
    problems = _Problems(label)
    missing = [s.sheet for s in SHEETS if s.sheet not in values_wb.sheetnames]
    for sheet in missing:
        problems.add(sheet, None, f"the sheet is missing (the workbook has: {', '.join(values_wb.sheetnames)}); "
                                  "start from the template, which has every sheet, or restore the sheet's name")
    plan_record: dict[str, Any] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    for spec in SHEETS:
        if spec.sheet in missing:
            continue
        values_ws, formulas_ws = values_wb[spec.sheet], formulas_wb[spec.sheet]
        if spec.layout == "fields":
            plan_record = _read_fields(spec, values_ws, formulas_ws, problems)
            tables[spec.dataset] = [plan_record]
        else:
            tables[spec.dataset] = _read_table(spec, values_ws, formulas_ws, problems)
    _check_reserves(tables.get(RESERVES.dataset, []), problems)
    force_id = None
    if plan_record.get("force"):
        from ingest.force_names import resolve_force

        force_id = resolve_force(plan_record["force"])
        if force_id is None:
            problems.add(PLAN.sheet, "B2", f"force {plan_record['force']!r} has no data.police.uk id; "
                                           "add it to dbt_project/seeds/force_name_aliases.csv")
    problems.raise_if_any()
    if force_id is None or not plan_record.get("first_financial_year"):
        raise WorkbookRefused(f"{label}: sheet 'Plan': the force (B2) and first_financial_year (B4) are required")
    return ParsedPlan(force=plan_record["force"], force_id=force_id,
                      plan_year=plan_record["first_financial_year"], tables=tables)
