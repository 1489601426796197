"""999 and 101 call handling: the force's monthly contact-management return.

The national standard is that 90% of 999 calls are answered within 10 seconds (the measure the
Home Office publishes from BT's data); forces also report their 101 non-emergency line. The
office receives the force's monthly return in the template
``templates/call_handling/call_handling_template.csv`` (instructions beside it), one row per
force and month:

    force, month, calls_999_received, calls_999_answered, calls_999_answered_within_10s,
    calls_101_received, calls_101_answered, calls_101_abandoned, calls_101_average_answer_seconds

A file may carry rows for any number of forces: police.uk publishes 999 call answering data for
every force each month, so the office can load the national file beside its own return, and the
statement then shows the force's most similar group and England and Wales. That national data has
no 101 line: the four ``calls_101_*`` cells are either all filled or all empty on a row. Where
a force-month is in more than one file, the force's own return (edition = its force id) wins,
else the newest load (``stg_call_handling__monthly``).

``load`` checks each row first (a known force, a month, whole numbers of calls that add up:
answered <= received, answered within 10 s <= answered, abandoned <= received; an average answer
time from 0 to 2 hours; the 101 cells all or none; a force-month once in the file; no row cut
short) and refuses the file naming every line at fault; then the typed load, the GX suite and the
load log, one transaction per file (partition ``_edition``: one file per edition, each replacing
that edition's rows). Rows in = rows loaded + rows rejected.

Only the standard library and ``ingest.raw`` are imported at module level (DAG files import it).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.config import PROJECT_ROOT
from ingest.force_names import FORCE_ALIASES_SEED, resolve_force
from ingest.raw import Column, Contract

if TYPE_CHECKING:
    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "call_handling"
TEMPLATE = PROJECT_ROOT / "templates" / "call_handling" / "call_handling_template.csv"
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
MAX_CALLS = 5_000_000  # a month's calls to one force; the Metropolitan Police take about 500,000 999 calls
MAX_AVERAGE_SECONDS = 7_200
COUNTS_999 = ("calls_999_received", "calls_999_answered", "calls_999_answered_within_10s")
COUNTS_101 = ("calls_101_received", "calls_101_answered", "calls_101_abandoned")
COLUMNS_101 = (*COUNTS_101, "calls_101_average_answer_seconds")
# (part, whole): the part cannot exceed the whole
WITHIN = (("calls_999_answered", "calls_999_received"), ("calls_999_answered_within_10s", "calls_999_answered"),
          ("calls_101_answered", "calls_101_received"), ("calls_101_abandoned", "calls_101_received"))

MONTHLY = Contract(
    dataset="monthly",
    table="call_handling_monthly",
    description="Monthly 999 and 101 call handling by force: the force's return, or police.uk's 999 data for every force.",
    columns=(
        Column("force", r"force", description="Force name or data.police.uk id"),
        Column("month", r"month", description="Calendar month, YYYY-MM"),
        Column("calls_999_received", r"calls[\s_]+999[\s_]+received", "BIGINT", clean=raw.Clean.INTEGER_TEXT,
               description="999 calls presented to the force"),
        Column("calls_999_answered", r"calls[\s_]+999[\s_]+answered", "BIGINT", clean=raw.Clean.INTEGER_TEXT,
               description="999 calls answered"),
        Column("calls_999_answered_within_10s", r"calls[\s_]+999[\s_]+answered[\s_]+within[\s_]+10[\s_]*s",
               "BIGINT", clean=raw.Clean.INTEGER_TEXT, description="999 calls answered within 10 seconds"),
        Column("calls_101_received", r"calls[\s_]+101[\s_]+received", "BIGINT", clean=raw.Clean.INTEGER_TEXT,
               description="101 calls presented"),
        Column("calls_101_answered", r"calls[\s_]+101[\s_]+answered", "BIGINT", clean=raw.Clean.INTEGER_TEXT,
               description="101 calls answered"),
        Column("calls_101_abandoned", r"calls[\s_]+101[\s_]+abandoned", "BIGINT", clean=raw.Clean.INTEGER_TEXT,
               description="101 calls the caller abandoned before an answer"),
        Column("calls_101_average_answer_seconds", r"calls[\s_]+101[\s_]+average[\s_]+answer[\s_]+seconds", "DOUBLE",
               description="Mean time to answer a 101 call, seconds"),
    ),
    partition=("_edition",),
    header_starts_with=("force",),
)

CONTRACTS: dict[str, Contract] = {MONTHLY.dataset: MONTHLY}
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


def _row_problems(row: raw.TemplateRow) -> list[str]:
    v, where = row.values, f"line {row.line}"
    problems = []
    if not v["force"]:
        problems.append(f"{where}: force is empty")
    elif resolve_force(v["force"]) is None:
        problems.append(f"{where}: force {v['force']!r} is not a force the platform knows (add an alias to "
                        f"{FORCE_ALIASES_SEED.relative_to(PROJECT_ROOT)})")
    month = MONTH.fullmatch(v["month"])
    if not month or int(month.group(1)) < 2000:
        problems.append(f"{where}: month {v['month']!r} is not a month like 2025-09")
    filled_101 = [column for column in COLUMNS_101 if v[column]]
    if filled_101 and len(filled_101) < len(COLUMNS_101):
        empty = ", ".join(column for column in COLUMNS_101 if not v[column])
        problems.append(f"{where}: {empty} empty but other 101 cells filled; a row has all four 101 cells "
                        "or none (a force-month without 101 data, as in police.uk's 999 file)")
    bad = set()
    for column in COUNTS_999 + COUNTS_101:  # an empty 101 cell is the all-or-none rule's to name
        problem = raw.number_problem(row, column, 0, MAX_CALLS, integer=True, required=column in COUNTS_999)
        if problem:
            problems.append(problem)
            bad.add(column)
    average = raw.number_problem(row, "calls_101_average_answer_seconds", 0, MAX_AVERAGE_SECONDS, required=False)
    if average:
        problems.append(average)
    for part, whole in WITHIN:
        if part in bad or whole in bad or not (v[part] and v[whole]):
            continue
        if float(v[part].replace(",", "")) > float(v[whole].replace(",", "")):
            problems.append(f"{where}: {part} ({v[part]}) is more than {whole} ({v[whole]})")
    return problems


def check_template(csv_path: Path, label: str) -> int:
    """Refuse the file, naming every line at fault (up to 20), unless each row keeps the template's
    rules and no force-month appears twice. Returns the number of rows."""

    def force_month(row: raw.TemplateRow) -> tuple[object, str] | None:
        force_id = resolve_force(row.values["force"]) if row.values["force"] else None
        return ((force_id, row.values["month"]), f"{row.values['force']} {row.values['month']}") if force_id else None

    return raw.check_rows(csv_path, MONTHLY, label, _row_problems, "call handling template",
                          "Fix the return (see templates/call_handling/README.md) and rerun the load.", unique=force_month)


def _load_unit(con, landed: raw.Landed, unit: raw.Unit, results_dir: Path) -> raw.LoadResult:
    rows = check_template(Path(unit.csv_path), unit.source_file)
    return raw.load_checked_template(con, MONTHLY, landed, unit, results_dir, rows)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed return; each is one transaction (a refused file keeps the previous rows)."""
    return DECLARED.load(settings, _load_unit, year, run_dir)
