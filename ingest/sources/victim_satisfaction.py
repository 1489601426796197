"""Victim satisfaction: the force's victim survey export, one row per respondent.

Forces survey victims of crime a few weeks after they report it (the national measure: improve
satisfaction among victims, with a particular focus on victims of domestic abuse). The survey
system exports one row per completed interview in the template
``templates/victim_satisfaction/victim_survey_template.csv`` (instructions beside it):

    force, survey_month, respondent_id, crime_group, domestic_abuse, overall_satisfaction, weight
    [, age_band, sex, ethnic_group, disability]

The last four columns are optional, as in the survey systems forces use: the respondent's protected
characteristics as the survey asked them, in the Census 2021 categories the public consultation
uses (seed ``consultation_weighting_categories``), a cell left empty where the question was not
asked or not answered. An export without them loads as before; with them the build breaks
satisfaction down by each (``fct_victim_satisfaction_by_group``, the report's equality section).

``overall_satisfaction`` is the survey's seven-point question on the whole experience
("Completely satisfied" … "Completely dissatisfied"); ``weight`` the survey's design weight
(each crime group's victims over its interviews, so the force's share is not driven by the mix of
groups interviewed). Domestic abuse victims are marked in ``domestic_abuse`` whatever their crime
group, so they are reported separately. The build turns the rows into weighted shares with 95%
Wilson intervals on the effective sample size (``fct_victim_satisfaction``).

``load`` checks each row first (a known force, a month, a label on the scale, a weight in range, a
characteristic on its list or empty, a respondent once, no row cut short) and refuses the file naming every line at fault; then the
typed load, the GX suite and the load log, one transaction per file (partition ``_edition``: one
export per force, each replacing that force's rows). Rows in = rows loaded + rows rejected.

Only the standard library and ``ingest.raw`` are imported at module level (DAG files import it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.config import PROJECT_ROOT
from ingest.monthly_returns import force_and_month_problems
from ingest.raw import Column, Contract

if TYPE_CHECKING:
    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "victim_satisfaction"
TEMPLATE = PROJECT_ROOT / "templates" / "victim_satisfaction" / "victim_survey_template.csv"

SATISFACTION = ("Completely satisfied", "Very satisfied", "Fairly satisfied", "Neither satisfied nor dissatisfied",
                "Fairly dissatisfied", "Very dissatisfied", "Completely dissatisfied")
SATISFIED = SATISFACTION[:3]
CRIME_GROUPS = ("Burglary", "Violent crime", "Vehicle crime", "Hate crime", "Domestic abuse", "Other crime")
YES_NO = ("Yes", "No")
# The respondent's characteristics (optional columns): the answers as the survey asks them, the
# Census 2021 categories of seed consultation_weighting_categories (tests keep the two the same).
CHARACTERISTICS = {
    "age_band": ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75 or over", "Prefer not to say"),
    "sex": ("Female", "Male", "Prefer to self-describe", "Prefer not to say"),
    "ethnic_group": ("White", "Mixed or multiple ethnic groups", "Asian, Asian British or Asian Welsh",
                     "Black, Black British, Black Welsh, Caribbean or African", "Other ethnic group", "Prefer not to say"),
    "disability": ("Yes, limited a lot", "Yes, limited a little", "No", "Prefer not to say"),
}
MAX_WEIGHT = 100.0

RESPONSES = Contract(
    dataset="responses",
    table="victim_satisfaction_responses",
    description="The force's victim survey: one row per completed interview, as the survey system exports it.",
    columns=(
        Column("force", description="Force name or data.police.uk id"),
        Column("survey_month", r"survey[\s_]+month", description="Month of the interview, YYYY-MM"),
        Column("respondent_id", r"respondent[\s_]+id", description="The survey's reference for the interview (no personal data)"),
        Column("crime_group", r"crime[\s_]+group", description="Burglary, Violent crime, Vehicle crime, Hate crime, Domestic abuse, Other crime"),
        Column("domestic_abuse", r"domestic[\s_]+abuse", description="Yes when the crime was domestic abuse-related"),
        Column("overall_satisfaction", r"overall[\s_]+satisfaction", description="Seven-point satisfaction with the whole experience"),
        Column("weight", duckdb_type="DOUBLE", description="Design weight (> 0)"),
        Column("age_band", r"(?:respondent[\s_]+)?age(?:[\s_]+(?:band|group))?", required=False,
               description="Respondent's age band (optional column; empty when not asked or not answered)"),
        Column("sex", r"(?:respondent[\s_]+)?(?:sex|gender)", required=False, description="Respondent's sex (optional)"),
        Column("ethnic_group", r"(?:respondent[\s_]+)?ethnic(?:ity|[\s_]+group)", required=False,
               description="Respondent's ethnic group, the five Census 2021 high-level groups (optional)"),
        Column("disability", r"(?:respondent[\s_]+)?disab(?:ility|led)", required=False,
               description="Respondent's disability, the Census 2021 question (optional)"),
    ),
    partition=("_edition",),
    header_starts_with=("force",),
)

CONTRACTS: dict[str, Contract] = {RESPONSES.dataset: RESPONSES}
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


def _row_problems(row: raw.TemplateRow) -> list[str]:
    v, where = row.values, f"line {row.line}"
    problems = force_and_month_problems(row, "survey_month")
    if not v["respondent_id"]:
        problems.append(f"{where}: respondent_id is empty")
    for column, allowed in (("crime_group", CRIME_GROUPS), ("domestic_abuse", YES_NO),
                            ("overall_satisfaction", SATISFACTION)):
        if v[column] not in allowed:
            problems.append(f"{where}: {column} {v[column]!r} is not one of: {', '.join(allowed)}")
    for column, allowed in CHARACTERISTICS.items():
        answer = v.get(column, "")
        if answer and answer not in allowed:
            problems.append(f"{where}: {column} {answer!r} is not one of: {'; '.join(allowed)} (or empty)")
    weight = raw.number_problem(row, "weight", 0.0, MAX_WEIGHT)
    if weight:
        problems.append(weight)
    elif float(v["weight"]) == 0:
        problems.append(f"{where}: weight is 0; a respondent who should not count is left out of the export")
    return problems


def check_template(csv_path: Path, label: str) -> int:
    """Refuse the file, naming every line at fault (up to 20), unless each row keeps the template's
    rules and no respondent appears twice. Returns the number of rows."""

    def respondent(row: raw.TemplateRow) -> tuple[object, str] | None:
        key = row.values["respondent_id"]
        return (key, f"respondent_id {key!r}") if key else None

    return raw.check_rows(csv_path, RESPONSES, label, _row_problems, "victim survey template",
                          "Fix the export (see templates/victim_satisfaction/README.md) and rerun the load.", unique=respondent)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed survey export; each is one transaction (a refused file keeps the previous rows)."""
    return DECLARED.load(settings, raw.template_loader(RESPONSES, check_template), year, run_dir)
