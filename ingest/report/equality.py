"""The report's equality section: every measure the published marts allow, broken down by the
protected characteristics its source carries, for the office's equality impact assessment.

- Stop and search by ethnic group: the plan's disproportionality measure
  (``performance.fct_stop_search_disproportionality``, rate ratios against White with intervals).
- Stop and search by sex and age range: ``evidence.fct_stop_search_by_group`` (searches per 1,000
  residents of the group with Byar intervals, the share ending in arrest with Wilson intervals).
- Victim satisfaction by age, sex, ethnic group and disability: ``evidence.fct_victim_satisfaction_by_group``.
- Confidence in the police by the same four: ``evidence.fct_confidence_in_police`` (the consultation).

Small groups are flagged with the rule the marts apply (dbt vars ``consultation_min_group_respondents``
and ``consultation_min_effective_sample_size``), shown and never hidden. The section also says what
the data cannot show. Everything here comes from ReportData (the published file), nothing else.
"""

from __future__ import annotations

from typing import Any

from ingest.report.charts import disproportionality_chart, group_shares_chart
from ingest.report.data import ReportData

HEADINGS = {"age_band": "Age", "age_range": "Age", "sex": "Sex", "ethnic_group": "Ethnic group",
            "disability": "Disability"}
SURVEY_CHARACTERISTICS = ("age_band", "sex", "ethnic_group", "disability")
NOT_STATED = ("Not stated", "Other or not stated", "Not recorded")

CANNOT_SHOW = (
    "Stop and search records carry sex, age range and ethnicity only. Disability, religion or belief, sexual "
    "orientation, gender reassignment, marriage and civil partnership and pregnancy and maternity are not recorded, "
    "so searches cannot be examined by them.",
    "Search rates compare searches with the residents of each group, not with the people present in public places "
    "where searches happen (visitors, commuters, the night-time economy): a higher rate is a disparity to explain, "
    "not by itself evidence of unfair treatment.",
    "The victim survey and the public consultation ask about age, sex, ethnic group and disability only; the other "
    "protected characteristics are not asked, and respondents who did not answer are shown as Not stated but "
    "cannot be placed in a group.",
    "Published police recorded crime and outcomes carry no characteristics of victims or suspects, so crime, "
    "outcomes and charge rates cannot be broken down by protected characteristic here.",
)


def _grouped(rows: list[dict[str, Any]], key: str, order: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows per characteristic in ``order``, each as {characteristic, heading, rows}; a characteristic
    whose every answer is Not stated is kept with ``all_not_stated`` (the source lacks it)."""
    tables = []
    for characteristic in order:
        rows_of = [r for r in rows if r[key] == characteristic]
        if rows_of:
            tables.append({"characteristic": characteristic, "heading": HEADINGS[characteristic], "rows": rows_of,
                           "all_not_stated": all(r["group_value"] in NOT_STATED for r in rows_of)})
    return tables


def _flagged_names(section: str, tables: list[dict[str, Any]], count_key: str, noun: str) -> list[str]:
    return [f"{section}, {t['heading'].lower()} {r['group_value']} ({r[count_key]:,} {noun})"
            for t in tables for r in t["rows"] if r.get("flagged")]


def _chart_rows(tables: list[dict[str, Any]], share: str) -> list[dict[str, Any]]:
    return [{"heading": t["heading"], "label": r["group_value"], "share": r[share], "lower": r["ci_lower_95"],
             "upper": r["ci_upper_95"], "flagged": r["flagged"]}
            for t in tables if not t["all_not_stated"] for r in t["rows"]]


def equality_context(data: ReportData, charts: dict[str, str]) -> dict[str, Any]:
    """The equality section: tables per characteristic, the charts (added to ``charts``), the
    small-group rule, the groups it flags, and what the data cannot show."""
    from ingest.measures import dbt_vars  # the marts' own settings, so the rule stated is the rule applied

    settings = dbt_vars()
    min_group = int(settings.get("consultation_min_group_respondents", 30))
    min_effective = int(settings.get("consultation_min_effective_sample_size", 50))
    eq = data.equality
    flagged: list[str] = []

    # stop and search by ethnic group: the plan's disproportionality rows (first measure, e.g. all searches)
    ethnicity = [dict(r, flagged=0 < r["event_count"] < min_group) for r in data.disproportionality
                 if data.disproportionality and r["measure_id"] == data.disproportionality[0]["measure_id"]]
    flagged += [f"Stop and search, ethnic group {r['ethnic_group']} ({r['event_count']:,.0f} searches)"
                for r in ethnicity if r["flagged"]]
    ethnicity_has_ratios = any(r.get("rate_ratio") and r["ethnic_group"] != "White" for r in ethnicity)
    if ethnicity_has_ratios:
        charts["chart-equality-stop-search-ethnicity"] = disproportionality_chart(
            ethnicity, chart_id="chart-equality-stop-search-ethnicity",
            title=f"Stop and search rate by ethnic group relative to White, {data.force_name}")

    search_rows, search_note = eq.get("stop_search", ([], None))
    search_rows = [dict(r, flagged=r["is_small_group"]) for r in search_rows]
    search_all = next((r for r in search_rows if r["characteristic"] == "all"), None)
    search_tables = _grouped(search_rows, "characteristic", ("sex", "age_range"))
    flagged += _flagged_names("Stop and search", search_tables, "search_count", "searches")

    victim_rows, victim_note = eq.get("victim_satisfaction", ([], None))
    victim_rows = [dict(r, flagged=r["is_small_group"] or r["is_low_effective_sample"]) for r in victim_rows]
    victim_all = next((r for r in victim_rows if r["characteristic"] == "all"), None)
    victim_tables = _grouped(victim_rows, "characteristic", SURVEY_CHARACTERISTICS)
    flagged += _flagged_names("Victim satisfaction", victim_tables, "respondent_count", "respondents")
    if any(not t["all_not_stated"] for t in victim_tables):
        charts["chart-equality-victims"] = group_shares_chart(
            _chart_rows(victim_tables, "weighted_share_satisfied"), chart_id="chart-equality-victims",
            title=f"Victims satisfied with the overall service by group, {data.force_name}",
            x_label="% satisfied (weighted, 95% interval); dotted: all victims",
            reference=victim_all["weighted_share_satisfied"] if victim_all else None)

    confidence_rows, confidence_note = eq.get("confidence", ([], None))
    confidence_rows = [dict(r, flagged=r["is_small_group"] or r["is_low_effective_sample"]) for r in confidence_rows]
    confidence_all = next((r for r in confidence_rows if r["group_variable"] == "all"), None)
    confidence_tables = _grouped(confidence_rows, "group_variable", SURVEY_CHARACTERISTICS)
    flagged += _flagged_names("Confidence", confidence_tables, "answered_count", "answers")
    if confidence_tables:
        charts["chart-equality-confidence"] = group_shares_chart(
            _chart_rows(confidence_tables, "weighted_share_confident"), chart_id="chart-equality-confidence",
            title=f"Confidence in the police by group, {data.force_name}",
            x_label="% who agree they have confidence in the police (weighted, 95% interval); dotted: everyone",
            reference=confidence_all["weighted_share_confident"] if confidence_all else None)

    return {
        "min_group": min_group, "min_effective": min_effective, "flagged": flagged,
        "ethnicity": ethnicity, "ethnicity_has_ratios": ethnicity_has_ratios,
        "stop_search": {"all": search_all, "tables": search_tables, "note": search_note},
        "victims": {"all": victim_all, "tables": victim_tables, "note": victim_note},
        "confidence": {"all": confidence_all, "tables": confidence_tables, "note": confidence_note,
                       "survey_id": confidence_rows[0]["survey_id"] if confidence_rows else None},
        "cannot_show": CANNOT_SHOW,
    }
