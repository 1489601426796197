"""Office templates (CSV files the office fills in or a system exports): their rows read with the
line numbers a person sees in a spreadsheet, and a refusal that lists every line at fault.

Sources whose file is a template (victim satisfaction, call handling) check the rows' meaning
here before ``load_file`` types and gates them: a person fixes a value out of range or a
truncated last row by line number, not by DuckDB's reject reason.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.raw.contract import Contract, LoadError, match_header, read_header

MAX_PROBLEMS_SHOWN = 20


class TemplateError(LoadError):
    """The file breaks its template's rules; nothing was loaded from it."""


@dataclass(frozen=True)
class TemplateRow:
    line: int  # 1-based, as a spreadsheet numbers it (the header is line 1 when there are no notes)
    values: dict[str, str]  # contract column -> stripped cell
    cell_count: int


def template_rows(csv_path: Path, contract: Contract, label: str) -> tuple[list[TemplateRow], int]:
    """The data rows (blank lines skipped) and the header's width. A renamed or missing column is
    refused by ``match_header`` naming it."""
    header, header_line = read_header(csv_path, contract, label)
    positions = match_header(header, contract, label, header_line).positions()
    rows: list[TemplateRow] = []
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for _ in range(header_line + 1):
            next(reader, None)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            values = {name: (cells[i].strip() if i < len(cells) else "") for name, i in positions.items()}
            rows.append(TemplateRow(line=reader.line_num, values=values, cell_count=len(cells)))
    return rows, len(header)


def row_width_problem(row: TemplateRow, width: int) -> str | None:
    """A row with fewer or more cells than the header: a truncated file or a stray comma."""
    if row.cell_count == width:
        return None
    if row.cell_count < width:
        return (f"line {row.line}: {row.cell_count} of {width} columns (a truncated file, or a row cut short); "
                "export the file again")
    return f"line {row.line}: {row.cell_count} cells for {width} columns (an unquoted comma in a value?)"


def number_problem(row: TemplateRow, column: str, low: float, high: float, *, integer: bool = False,
                   required: bool = True) -> str | None:
    """The cell as a number within [low, high], or what is wrong with it."""
    text = row.values[column].replace(",", "")
    if not text:
        return f"line {row.line}: {column} is empty" if required else None
    try:
        value = float(text)
    except ValueError:
        return f"line {row.line}: {column} {row.values[column]!r} is not a number"
    if integer and not value.is_integer():
        return f"line {row.line}: {column} {row.values[column]!r} is not a whole number"
    if not low <= value <= high:
        return f"line {row.line}: {column} {row.values[column]!r} is out of range ({low:g} to {high:g})"
    return None


MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def force_problem(row: TemplateRow, column: str = "force") -> str | None:
    """The cell names a force the platform knows (a name as forces and HMICFRS write it, or a
    data.police.uk id), or what is wrong with it."""
    from ingest.config import PROJECT_ROOT
    from ingest.force_names import FORCE_ALIASES_SEED, resolve_force

    value = row.values[column]
    if not value:
        return f"line {row.line}: {column} is empty"
    if resolve_force(value) is None:
        return (f"line {row.line}: {column} {value!r} is not a force the platform knows (write its name or its "
                f"data.police.uk id, or add an alias to {FORCE_ALIASES_SEED.relative_to(PROJECT_ROOT)})")
    return None


def month_problem(row: TemplateRow, column: str, first_year: int = 2000) -> str | None:
    """The cell is a calendar month written YYYY-MM, from ``first_year`` on, or what is wrong with it."""
    month = MONTH.fullmatch(row.values[column])
    if not month or int(month.group(1)) < first_year:
        return f"line {row.line}: {column} {row.values[column]!r} is not a month like 2025-09"
    return None


def refuse(label: str, problems: list[str], what: str, fix: str) -> None:
    """Raise TemplateError listing up to 20 problems, if there are any."""
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    raise TemplateError(
        f"{label}: {len(problems)} problem(s) with the {what}; nothing was loaded from this file and the "
        "previous rows are kept:\n  " + "\n  ".join(shown) + (f"\n  … and {more} more" if more else "")
        + f"\n{fix}")


def check_rows(csv_path: Path, contract: Contract, label: str, check: Callable[[TemplateRow], list[str]],
               what: str, fix: str, unique: Callable[[TemplateRow], tuple[object, str] | None] | None = None) -> int:
    """Every row of the file through ``check`` (problems as text); refuse the file if any. Returns the row count.

    ``unique`` gives a row's key and how to name it (or None for a row without one): a key seen on an
    earlier line is a problem naming both lines. A row with problems of its own claims no key, so a
    wrong row and its corrected copy below it are reported once."""
    rows, width = template_rows(csv_path, contract, label)
    problems: list[str] = []
    seen: dict[object, int] = {}
    for row in rows:
        width_problem = row_width_problem(row, width)
        if width_problem:
            problems.append(width_problem)
            continue
        row_problems = check(row)
        problems.extend(row_problems)
        keyed = unique(row) if unique and not row_problems else None  # a wrong row claims no key
        if keyed and keyed[0] in seen:
            problems.append(f"line {row.line}: {keyed[1]} is already on line {seen[keyed[0]]}")
        elif keyed:
            seen[keyed[0]] = row.line
    refuse(label, problems, what, fix)
    if not rows:
        raise TemplateError(f"{label}: the file has the {what}'s header but no rows; nothing to load")
    return len(rows)


def load_checked_template(con, contract: Contract, landed, unit, results_dir: Path, checked_rows: int):
    """Load a template file whose ``checked_rows`` rows :func:`check_rows` passed, as one partition
    per edition (the file's configured ``edition``, else its name); refused when DuckDB reads a
    different number of rows than the check did, since a row would otherwise be lost unseen."""
    from ingest.raw.matched_load import load_file

    edition = str(landed.file.options.get("edition") or Path(landed.file.name).stem)
    result = load_file(con, contract, Path(unit.csv_path), partition={"_edition": edition},
                       source_file=unit.source_file, file_sha256=landed.sha256, results_dir=results_dir)
    if result.rows_loaded + result.rows_rejected != checked_rows:
        raise LoadError(f"{unit.source_file}: {checked_rows} rows checked but {result.rows_loaded} loaded and "
                        f"{result.rows_rejected} rejected; rows would be lost (a stray quote?), so nothing was loaded")
    return result


def template_loader(contract: Contract, check: Callable[[Path, str], int]):
    """The load of one landed template file, for ``FileSource.load``: ``check(csv_path, label)``
    refuses the file naming its lines (or gives its row count), then :func:`load_checked_template`."""

    def load_unit(con, landed, unit, results_dir: Path):
        rows = check(Path(unit.csv_path), unit.source_file)
        return load_checked_template(con, contract, landed, unit, results_dir, rows)

    return load_unit
