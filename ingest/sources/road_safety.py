"""Road safety: the force's monthly totals of people killed or seriously injured (STATS19).

Road casualties reported to the police are recorded in STATS19 and published by the Department for
Transport once a year (provisional mid-year, final each September), by police force. The plan's
road safety measure is the number of people killed or seriously injured (KSI) on the force area's
roads. The force's road safety unit returns its monthly STATS19 totals in the template
``templates/road_safety/road_safety_template.csv`` (instructions beside it), one row per force and
month:

    force, month, killed, seriously_injured, seriously_injured_adjusted, stats19_release

``killed`` and ``seriously_injured`` are casualties as recorded. Forces moved to injury-based
severity reporting (CRASH) in different years, which records more serious injuries than officers'
judgement did; the DfT publishes a severity-adjusted series that makes years comparable, and where
the force gives it, ``seriously_injured_adjusted`` carries it (a decimal: an estimate). Every row
says which release its figures come from (``stats19_release``, e.g. ``DfT STATS19 2024 final``), so
a provisional month replaced by the final one shows in the data.

``load`` checks each row first (``ingest.monthly_returns``: a known force, a month, whole numbers, a
force-month once, no row cut short; and here an adjusted estimate in range when given and a
release named) and refuses the file naming every line at fault; then the typed load, the GX suite
and the load log, one transaction per file (partition ``_edition``: one return per force, each
replacing that force's rows). Rows in = rows loaded + rows rejected.

Only the standard library and ``ingest.raw`` are imported at module level (DAG files import it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.config import PROJECT_ROOT
from ingest.monthly_returns import MonthlyReturn, count_column, monthly_contract
from ingest.raw import Column, Contract

if TYPE_CHECKING:
    from ingest.config import Settings

SOURCE = "road_safety"
TEMPLATE = PROJECT_ROOT / "templates" / "road_safety" / "road_safety_template.csv"
MAX_CASUALTIES = 5_000  # a month's killed or seriously injured in one force area; Great Britain has about 2,500
MAX_RELEASE_CHARS = 200

MONTHLY = monthly_contract(
    SOURCE,
    "The force's monthly STATS19 road casualty totals (killed, seriously injured), with their DfT release.",
    count_column("killed", "People killed in reported road collisions (died within 30 days)"),
    count_column("seriously_injured", "People seriously injured in reported road collisions, as recorded"),
    Column("seriously_injured_adjusted", r"seriously[\s_]+injured[\s_]+adjusted", "DOUBLE",
           description="The DfT severity-adjusted estimate of the seriously injured (empty when not given)"),
    Column("stats19_release", r"stats19[\s_]+release",
           description="The STATS19 release the figures come from, e.g. 'DfT STATS19 2024 final'"),
    month_description="Calendar month of the collisions, YYYY-MM",
)

CONTRACTS: dict[str, Contract] = {MONTHLY.dataset: MONTHLY}
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


def _estimate_and_release(row: raw.TemplateRow) -> list[str]:
    problems = []
    adjusted = raw.number_problem(row, "seriously_injured_adjusted", 0, MAX_CASUALTIES, required=False)
    if adjusted:
        problems.append(adjusted)
    release = row.values["stats19_release"]
    if not release:
        problems.append(f"line {row.line}: stats19_release is empty (say which STATS19 release the figures come from)")
    elif len(release) > MAX_RELEASE_CHARS:
        problems.append(f"line {row.line}: stats19_release is {len(release)} characters (at most {MAX_RELEASE_CHARS})")
    return problems


RETURN = MonthlyReturn(
    contract=MONTHLY,
    counts=("killed", "seriously_injured"),
    max_count=MAX_CASUALTIES,
    within=(),
    what="road safety return",
    readme="templates/road_safety/README.md",
    extra=_estimate_and_release,
)


def check_template(csv_path: Path, label: str) -> int:
    """Refuse the file, naming every line at fault (up to 20); returns the number of rows."""
    return RETURN.check_template(csv_path, label)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed return; each is one transaction (a refused file keeps the previous rows)."""
    return RETURN.load(DECLARED, settings, year, run_dir)
