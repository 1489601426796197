"""HMICFRS PEEL inspection grades, from the office's CSV template.

HMICFRS publishes PEEL grades inside each force's report (web page and PDF), not as a table
or an API, so the office keeps them in one CSV in the documented template
(``templates/hmicfrs/peel_grades_template.csv``, instructions beside it): one row per force,
programme and graded area, with the causes of concern and areas for improvement.

The same small surface as every source:
  * ``files_for`` / ``is_published`` — what there is to fetch (the configured CSV);
  * ``fetch``  — land it, skipped when unchanged;
  * ``load``   — check the template's rules (known force, a grade on its programme's scale,
    one row per force, programme and area), then replace the edition's partition of
    ``raw.hmicfrs_peel_grades``, gate it with its GX suite and commit, in one transaction.

Scales: PEEL 2014–2019 graded four ways (Outstanding, Good, Requires improvement,
Inadequate); PEEL 2021/22 onwards five ways (Adequate added). HMICFRS held no graded PEEL
round in 2020, so a row's ``year`` decides its scale: before 2021 four-point, else five-point.
An ungraded area (the victim service assessment) leaves ``grade`` empty or says ``Not graded``.

Only the standard library is imported at module level (DAG files import source modules).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.force_names import resolve_force
from ingest.config import PROJECT_ROOT
from ingest.raw import Clean, Column, Contract

if TYPE_CHECKING:
    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "hmicfrs"
TEMPLATE = PROJECT_ROOT / "templates" / "hmicfrs" / "peel_grades_template.csv"

FIVE_POINT = ("Outstanding", "Good", "Adequate", "Requires improvement", "Inadequate")
FOUR_POINT = ("Outstanding", "Good", "Requires improvement", "Inadequate")
UNGRADED = ("", "not graded", "ungraded")
FIRST_FIVE_POINT_YEAR = 2021
FIRST_PEEL_YEAR = 2014

# The template's columns, in order. Headers match case-insensitively, with spaces or
# underscores ("Causes of concern" or causes_of_concern): people edit the file in Excel.
PEEL_GRADES = Contract(
    dataset="peel_grades",
    table="hmicfrs_peel_grades",
    description="HMICFRS PEEL graded judgements per force, programme and area, as typed into the template.",
    columns=(
        Column("force", description="Force name or data.police.uk id"),
        Column("programme", description="e.g. PEEL 2023-25"),
        Column("year", duckdb_type="INTEGER", clean=Clean.INTEGER_TEXT, description="Year the programme started"),
        Column("area", description="Graded area (question), as the report names it"),
        Column("grade", description="Outstanding … Inadequate; empty when ungraded"),
        Column("causes_of_concern", r"causes?[\s_]+of[\s_]+concern", description="Items, one per line or |-separated, or a count"),
        Column("areas_for_improvement", r"areas?[\s_]+for[\s_]+improvement", description="Items or a count"),
        Column("report_url", r"report[\s_]+url"),
        Column("published_date", r"published[\s_]+date", "DATE", clean=Clean.DATE_TEXT),
    ),
    partition=("_edition",),
    header_starts_with=("force",),
)

CONTRACTS: dict[str, Contract] = {PEEL_GRADES.dataset: PEEL_GRADES}

# The surface every file source exposes to its DAG (what is there, fetch, the raw tables), from the
# declaration; this module writes only what is its own: how a landed file is loaded.
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


TemplateError = raw.TemplateError  # the CSV breaks the template's rules; nothing was loaded from it


# --------------------------------------------------------------------------- the template's rules


def grade_scale(year: int) -> tuple[str, tuple[str, ...]]:
    """(scale name, grades) for a programme starting in ``year``."""
    if year < FIRST_FIVE_POINT_YEAR:
        return "four_point", FOUR_POINT
    return "five_point", FIVE_POINT


def _row_problems(row: raw.TemplateRow) -> list[str]:
    """A known force, a programme and an area, a year, and a grade on the scale of the programme's year."""
    v, where = row.values, f"line {row.line}"
    problems = [p for p in [raw.force_problem(row)] if p]
    for column in ("programme", "area"):
        if not v[column]:
            problems.append(f"{where}: {column} is empty")
    try:
        year = int(v["year"])
    except ValueError:
        return problems + [f"{where}: year {v['year']!r} is not a year like 2023 (the year the programme started)"]
    if not FIRST_PEEL_YEAR <= year <= 2100:
        return problems + [f"{where}: year {year} is outside PEEL ({FIRST_PEEL_YEAR} onwards)"]
    scale, grades = grade_scale(year)
    grade = " ".join(v["grade"].split())
    if grade.lower() not in UNGRADED and grade.lower() not in {g.lower() for g in grades}:
        hint = (" (the 2014-2019 programmes had no Adequate grade)" if scale == "four_point"
                and grade.lower() == "adequate" else "")
        problems.append(
            f"{where}: grade {v['grade']!r} is not on the {scale.replace('_', '-')} scale of a {year} "
            f"programme{hint}; expected one of {', '.join(grades)}, or empty / 'Not graded' for an ungraded area"
        )
    return problems


def _graded_area(row: raw.TemplateRow) -> tuple[object, str] | None:
    """The row's (force, programme, area): graded once per file."""
    v = row.values
    force_id = resolve_force(v["force"]) if v["force"] else None
    if not (force_id and v["programme"] and v["area"]):
        return None
    key = (force_id, v["programme"].lower(), " ".join(v["area"].split()).lower())
    return key, f"{v['force']} / {v['programme']} / {v['area']} (graded once per force, programme and area)"


def check_template(csv_path: Path, label: str) -> int:
    """Refuse the file (naming every line at fault, up to 20) unless each row keeps the template's rules.

    Returns the number of data rows. The columns are checked first (a renamed or missing
    column is refused by name), then each row: a known force, a year, a grade on the
    scale of the programme's year, and no force, programme and area graded twice.
    """
    return raw.check_rows(csv_path, PEEL_GRADES, label, _row_problems, "PEEL grades template",
                          "Fix the rows (see templates/hmicfrs/README.md) and rerun the load.", unique=_graded_area)


# --------------------------------------------------------------------------- what is there, fetch, load


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed grades file; each is one transaction (a refused file keeps the previous grades)."""
    return DECLARED.load(settings, raw.template_loader(PEEL_GRADES, check_template), year, run_dir)
