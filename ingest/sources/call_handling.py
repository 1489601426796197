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

``load`` checks each row first (``ingest.monthly_returns``: a known force, a month, whole numbers of calls that add up:
answered <= received, answered within 10 s <= answered, abandoned <= received; an average answer
time from 0 to 2 hours; the 101 cells all or none; a force-month once in the file; no row cut
short) and refuses the file naming every line at fault; then the typed load, the GX suite and the
load log, one transaction per file (partition ``_edition``: one file per edition, each replacing
that edition's rows). Rows in = rows loaded + rows rejected.

Only the standard library and ``ingest.raw`` are imported at module level (DAG files import it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.config import PROJECT_ROOT
from ingest.monthly_returns import MonthlyReturn, count_column, monthly_contract
from ingest.raw import Column, Contract

if TYPE_CHECKING:
    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "call_handling"
TEMPLATE = PROJECT_ROOT / "templates" / "call_handling" / "call_handling_template.csv"
MAX_CALLS = 5_000_000  # a month's calls to one force; the Metropolitan Police take about 500,000 999 calls
MAX_AVERAGE_SECONDS = 7_200
COUNTS_999 = ("calls_999_received", "calls_999_answered", "calls_999_answered_within_10s")
COUNTS_101 = ("calls_101_received", "calls_101_answered", "calls_101_abandoned")
COLUMNS_101 = (*COUNTS_101, "calls_101_average_answer_seconds")
# (part, whole): the part cannot exceed the whole
WITHIN = (("calls_999_answered", "calls_999_received"), ("calls_999_answered_within_10s", "calls_999_answered"),
          ("calls_101_answered", "calls_101_received"), ("calls_101_abandoned", "calls_101_received"))

MONTHLY = monthly_contract(
    SOURCE,
    "Monthly 999 and 101 call handling by force: the force's return, or police.uk's 999 data for every force.",
    count_column("calls_999_received", "999 calls presented to the force"),
    count_column("calls_999_answered", "999 calls answered"),
    # not a count_column: its header may write "10s" or "10 s"
    Column("calls_999_answered_within_10s", r"calls[\s_]+999[\s_]+answered[\s_]+within[\s_]+10[\s_]*s",
           "BIGINT", clean=raw.Clean.INTEGER_TEXT, description="999 calls answered within 10 seconds"),
    count_column("calls_101_received", "101 calls presented"),
    count_column("calls_101_answered", "101 calls answered"),
    count_column("calls_101_abandoned", "101 calls the caller abandoned before an answer"),
    Column("calls_101_average_answer_seconds", r"calls[\s_]+101[\s_]+average[\s_]+answer[\s_]+seconds", "DOUBLE",
           description="Mean time to answer a 101 call, seconds"),
)

CONTRACTS: dict[str, Contract] = {MONTHLY.dataset: MONTHLY}
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


def _101_problems(row: raw.TemplateRow) -> list[str]:
    """The 101 line is all or nothing (police.uk's 999 data has none), and its average answer time
    is from 0 to 2 hours."""
    filled = [column for column in COLUMNS_101 if row.values[column]]
    problems = []
    if filled and len(filled) < len(COLUMNS_101):
        empty = ", ".join(column for column in COLUMNS_101 if not row.values[column])
        problems.append(f"line {row.line}: {empty} empty but other 101 cells filled; a row has all four 101 cells "
                        "or none (a force-month without 101 data, as in police.uk's 999 file)")
    average = raw.number_problem(row, "calls_101_average_answer_seconds", 0, MAX_AVERAGE_SECONDS, required=False)
    return problems + ([average] if average else [])


RETURN = MonthlyReturn(
    contract=MONTHLY,
    counts=COUNTS_999,
    optional_counts=COUNTS_101,  # an empty 101 count is the all-or-none rule's to name
    max_count=MAX_CALLS,
    within=WITHIN,
    what="call handling template",
    readme="templates/call_handling/README.md",
    extra=_101_problems,
)


def check_template(csv_path: Path, label: str) -> int:
    """Refuse the file, naming every line at fault (up to 20), unless each row keeps the template's
    rules and no force-month appears twice. Returns the number of rows."""
    return RETURN.check_template(csv_path, label)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed return; each is one transaction (a refused file keeps the previous rows)."""
    return RETURN.load(DECLARED, settings, year, run_dir)
