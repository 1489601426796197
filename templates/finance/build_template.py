"""Build the finance plan template, ``finance_plan_template.xlsx``, from the loader's own contract.

The sheets, columns, lists and help texts all come from :mod:`ingest.sources.finance`
(``SHEETS``, ``lists()``), so the template and the loader cannot drift apart. The file is
written deterministically (fixed timestamps), so rebuilding an unchanged template gives the
same bytes and ``--check`` can tell whether the committed file is current.

    python templates/finance/build_template.py           # rewrite the committed template
    python templates/finance/build_template.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run as a script from anywhere

from devtools.sample.writing import write_xlsx_deterministically
from ingest.sources import finance  # noqa: E402

log = logging.getLogger("build_template")

OUTPUT = HERE / "finance_plan_template.xlsx"
LAST_ROW = 1000  # rows covered by the drop-downs and number checks
AUTHOR = "OPCC evidence platform"
MONEY_FORMAT = "#,##0;[Red]-#,##0"

INSTRUCTIONS = [
    "OPCC finance plan template",
    "",
    "One workbook per force and plan. The evidence platform reads it as it stands: keep the sheet names and",
    "the column headings exactly as they are, and put one record per row, starting in row 2.",
    "",
    "How to fill it in",
    "1. Plan: choose the force from the list, give the plan's title and its first financial year (the budget year).",
    "2. Revenue budget: one row per financial year and budget line (choose lines from the list).",
    "   Enter income as a positive amount on the 'Income' line; the platform subtracts it.",
    "3. Funding: one row per financial year: police grant, precept, other grants, Band D precept and tax base.",
    "4. Reserves: one row per financial year and reserve: opening balance, contributions, use, closing balance.",
    "   The closing balance must equal opening + contribution - use (to the pound).",
    "5. Savings plan: one row per year of the Medium Term Financial Plan: savings required and identified.",
    "6. Crime reduction grants: one row per grant: recipient, amount, conditions and (later) the outcome.",
    "",
    "Rules the platform checks (a workbook that breaks one is refused whole, naming the sheet and cell)",
    "- Every sheet listed above is present and no heading is renamed or moved.",
    "- Amounts are numbers of pounds: no '£' sign, no '1.2m', no text. Use the number format to show £.",
    "- Financial years are written 2025/26 (use the drop-down).",
    "- No formula errors (#REF!, #DIV/0!, #VALUE!...): formulas are allowed, but must calculate.",
    "- Values from a list (force, budget line, reserve type, recipient type) are spelled as in the list.",
    "- A row is not repeated (one row per year and line; per year and reserve; per year).",
    "Drop-downs and number checks in this workbook help while typing; pasted values bypass them,",
    "so the platform checks every cell again when it loads the file.",
    "",
    "What each column takes is in the comment on its heading and below.",
]


def _lists_sheet(wb, lists: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Write the drop-down lists; return each list's absolute range for data validation."""
    from openpyxl.styles import Font

    ws = wb.create_sheet("Lists")
    ranges = {}
    for col, (name, values) in enumerate(lists.items(), start=1):
        letter = finance.column_letter(col - 1)
        ws.cell(row=1, column=col, value=name).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            ws.cell(row=row, column=col, value=value)
        ws.column_dimensions[letter].width = max(14, max(len(v) for v in values) + 2)
        ranges[name] = f"Lists!${letter}$2:${letter}${len(values) + 1}"
    ws.cell(row=1, column=len(lists) + 2, value="Lists for the drop-downs: do not edit (the platform checks against "
                                                 "its own copy).").font = Font(italic=True)
    return ranges


def _validation(column: finance.SheetColumn, ranges: dict[str, str]):
    from openpyxl.worksheet.datavalidation import DataValidation

    if column.choices:
        dv = DataValidation(type="list", formula1=ranges[column.choices], allow_blank=not column.required)
        dv.error = f"Choose {column.name} from the list."
    elif column.kind in ("money", "number"):
        dv = DataValidation(type="decimal", operator="between", formula1="-1000000000000",
                            formula2="1000000000000", allow_blank=not column.required)
        dv.error = f"{column.name}: enter a number (pounds for amounts), without £ or text."
    elif column.kind == "date":
        dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
        dv.error = f"{column.name}: enter a date after 1 January 2000."
    else:
        return None
    dv.errorTitle = "Not what the platform expects"
    dv.showErrorMessage = True
    dv.prompt = column.help
    dv.showInputMessage = True
    return dv


def _comment(text: str):
    from openpyxl.comments import Comment

    comment = Comment(text, AUTHOR)
    comment.width, comment.height = 300, 120
    return comment


def build_template():
    """The blank template as an openpyxl Workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    header_fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    intro = wb.active
    intro.title = "Instructions"
    row = 1
    for line in INSTRUCTIONS:
        cell = intro.cell(row=row, column=1, value=line)
        if row == 1:
            cell.font = Font(bold=True, size=14)
        elif line and not line.startswith((" ", "-")) and not line[0].isdigit() and line[-1] not in ".:)":
            cell.font = Font(bold=True)
        row += 1
    row += 1
    intro.cell(row=row, column=1, value="Sheets and columns").font = Font(bold=True)
    row += 1
    for spec in finance.SHEETS:
        intro.cell(row=row, column=1, value=f"{spec.sheet}: {spec.description}").font = Font(italic=True)
        row += 1
        for column in spec.columns:
            need = "required" if column.required else "optional"
            intro.cell(row=row, column=1, value=f"    {column.name} ({column.kind.replace('_', ' ')}, {need}): {column.help}")
            row += 1
    intro.column_dimensions["A"].width = 120

    ranges = _lists_sheet(wb, finance.lists())
    for spec in finance.SHEETS:
        ws = wb.create_sheet(spec.sheet, index=len(wb.sheetnames) - 1)  # before Lists
        if spec.layout == "fields":
            ws["A1"], ws["B1"] = "field", "value"
            for cell in (ws["A1"], ws["B1"]):
                cell.font, cell.fill = Font(bold=True), header_fill
            for offset, column in enumerate(spec.columns):
                label = ws.cell(row=offset + 2, column=1, value=column.name)
                label.font = Font(bold=True)
                label.comment = _comment(column.help)
                dv = _validation(column, ranges)
                if dv is not None:
                    ws.add_data_validation(dv)
                    dv.add(f"B{offset + 2}")
                if column.kind == "date":
                    ws.cell(row=offset + 2, column=2).number_format = "yyyy-mm-dd"
            ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 24, 60
            continue
        for col, column in enumerate(spec.columns):
            letter = finance.column_letter(col)
            cell = ws.cell(row=1, column=col + 1, value=column.name)
            cell.font, cell.fill = Font(bold=True), header_fill
            cell.alignment = Alignment(wrap_text=False)
            cell.comment = _comment(column.help + ("" if column.required else " (optional)"))
            ws.column_dimensions[letter].width = max(16, len(column.name) + 4) if column.kind != "text" else 36
            dv = _validation(column, ranges)
            if dv is not None:
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.freeze_panes = "A2"
    return wb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed template is out of date")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / OUTPUT.name
            write_xlsx_deterministically(build_template(), fresh)
            current = args.out.exists() and args.out.read_bytes() == fresh.read_bytes()
        log.info("%s is %s", args.out, "current" if current else "OUT OF DATE: run build_template.py")
        return 0 if current else 1
    changed = write_xlsx_deterministically(build_template(), args.out)
    log.info("%s %s", args.out, "written" if changed else "unchanged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
