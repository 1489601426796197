"""What the templates are given: the plan's measures grouped by objective with their sentences,
badges and charts, the statutory statement on the National Crime and Policing Measures, the consultation section, and
the scorecard's rows. Built from ReportData alone, so it needs no database."""

from __future__ import annotations

import re
from typing import Any

from ingest.report.charts import (bar_chart, confidence_chart, consultation_priorities_chart,
                                  disproportionality_chart, funnel_chart, heatmap_chart, spc_chart)
from ingest.report.data import ReportData
from ingest.report.equality import equality_context
from ingest.report.wording import (STATUS_BADGES, STATUSES, is_missing, is_significant, measure_sentences, peer_words, slug,
                                   summary_line, target_words)

def _dbt_var(name: str, default: Any) -> Any:
    # The statistical settings are dbt vars (dbt_project.yml), where the marts read them: the report
    # states the values its figures were computed with, not a copy that could differ.
    from ingest.measures import dbt_vars

    return dbt_vars().get(name, default)


def _measure_chart(data: ReportData, measure: dict[str, Any], row: dict[str, Any], *, chart_id: str,
                   title: str) -> str | None:
    """The measure's chart: its XmR chart by month where it has a monthly series, else its values by
    quarter or year, else (a disproportionality measure) each group against White; none for a gap."""
    if row.get("value") is None:
        return None
    measure_id = measure["measure_id"]
    if data.spc.get(measure_id):
        return spc_chart(data.spc[measure_id], unit=measure["unit"], target=measure.get("target_value"),
                         title=f"{title}: by month", chart_id=chart_id, assessed_start=row.get("assessed_period_start"))
    if data.history.get(measure_id):
        kind = "by year" if measure["period_grain"] == "year" else "by quarter"
        return bar_chart(data.history[measure_id], unit=measure["unit"], title=f"{title}: {kind}", chart_id=chart_id)
    groups = [r for r in data.disproportionality if r["measure_id"] == measure_id]
    if measure["statistic"] == "disproportionality" and groups:
        return disproportionality_chart(groups, chart_id=chart_id,
                                        title=f"{title}: twelve months to {data.quarter.last_month}")
    return None


def _funnel(data: ReportData, measure: dict[str, Any], comparison: str, *, chart_id: str,
            title: str) -> str | None:
    """A funnel plot of the measure's ``comparison`` (``msg``: the force among its most similar
    group; ``csp``: its CSPs), when at least two members have a value; else none."""
    rows = [r for r in data.peers.get(measure["measure_id"], []) if r["comparison"] == comparison]
    if sum(1 for r in rows if r.get("comparison_value") is not None) < 2:
        return None
    proportion = rows[0].get("comparison_statistic") == "proportion"
    size = "denominator (cases)" if proportion else "residents"
    return funnel_chart(rows, title=title, chart_id=chart_id, x_label=size, polarity=measure.get("polarity"))


def _peer_charts(data: ReportData, measure: dict[str, Any], charts: dict[str, str]) -> dict[str, Any]:
    """The measure's peer chart (a funnel plot among the most similar group) and its CSP funnel plot,
    added to ``charts``; with the period they show and what they compare."""
    measure_id = measure["measure_id"]
    rows = data.peers.get(measure_id, [])
    period = rows[0]["assessed_period_label"] if rows else None
    kind = "proportion" if rows and rows[0].get("comparison_statistic") == "proportion" else "rate per 1,000 residents"
    out: dict[str, Any] = {"peer_chart_id": None, "peer_chart": None, "csp_funnel_id": None, "csp_funnel": None,
                           "peer_period": period, "peer_kind": kind}
    peer_id, csp_id = f"chart-{slug(measure_id)}-peers", f"chart-{slug(measure_id)}-csps"
    peer = _funnel(data, measure, "msg", chart_id=peer_id,
                   title=f"Most similar group, {period} ({'%' if kind == 'proportion' else 'per 1,000'})")
    if peer:
        charts[peer_id] = out["peer_chart"] = peer
        out["peer_chart_id"] = peer_id
    csp = _funnel(data, measure, "csp", chart_id=csp_id,
                  title=f"CSPs within the force, {period} ({'%' if kind == 'proportion' else 'per 1,000'})")
    if csp:
        charts[csp_id] = out["csp_funnel"] = csp
        out["csp_funnel_id"] = csp_id
    return out


def objective_sections(data: ReportData, charts: dict[str, str]) -> list[dict[str, Any]]:
    """The plan's objectives in order, each with its measures' rows, sentences, badges and charts
    (the charts also added to ``charts``). A measure the marts did not assess is a data gap."""
    shift_points = int(_dbt_var("spc_shift_points", 7))
    objectives: list[dict[str, Any]] = []
    for measure in data.measures:
        row = data.scorecard.get(measure["measure_id"]) or {"status": "data gap", "value": None,
                                                            "data_gap_reason": "not assessed for this force"}
        if not objectives or objectives[-1]["objective_id"] != measure["objective_id"]:
            objectives.append({"objective_id": measure["objective_id"], "objective": measure["objective"],
                               "statement": measure.get("objective_statement"), "items": []})
        chart_id = f"chart-{slug(measure['measure_id'])}"
        title = f"{measure['measure_name']}, {data.force_name}"
        chart = _measure_chart(data, measure, row, chart_id=chart_id, title=title)
        if chart:
            charts[chart_id] = chart
        objectives[-1]["items"].append({
            "measure": measure, "row": row, "chart_id": chart_id if chart else None, "chart": chart,
            "chart_title": title, "sentences": measure_sentences(row, measure, shift_points=shift_points),
            "badge": STATUS_BADGES.get(row.get("status"), STATUS_BADGES["data gap"]),
            "csp_rows": [r for r in data.csp_rows if r["measure_id"] == measure["measure_id"]],
            **_peer_charts(data, measure, charts),
        })
    return objectives


def _tiles(data: ReportData, count: int = 4) -> list[dict[str, Any]]:
    """The summary's headline figures: national measures first, then the plan's order."""
    by_id = {m["measure_id"]: m for m in data.measures}
    headline_ids = [m["measure_id"] for m in data.measures if m["is_national"]] + list(by_id)
    tiles = []
    for measure_id in dict.fromkeys(headline_ids):
        row = data.scorecard.get(measure_id)
        if row and row.get("value") is not None and len(tiles) < count:
            tiles.append({"measure": by_id[measure_id], "row": row, "badge": STATUS_BADGES[row["status"]]})
    return tiles


SUMMARY_LIST_MAX = 5  # lines of "worth watching" and of "compared with similar forces" on the one-page summary


def panel_summary(data: ReportData, objectives: list[dict[str, Any]]) -> dict[str, Any]:
    """The one-page summary for the panel: what changed for the better and for the worse by more
    than chance, what the monthly charts flag, the position among the most similar group of forces
    (or plainly why there is none), the targets, and the measures with no data yet."""
    items = [i for o in objectives for i in o["items"]]

    def entry(item: dict[str, Any], note: str | None = None) -> dict[str, Any]:
        line = summary_line(item["row"], item["measure"], data.quarter)
        peer = peer_words(item["row"])
        return {"measure": item["measure"], "row": item["row"], "badge": item["badge"], "note": note,
                "text": f"{line} Among similar forces: {peer}." if peer else line}

    def special(item: dict[str, Any]) -> bool:
        return (item["row"].get("spc_variation") or "").startswith("special_cause")

    improved = [entry(i) for i in items if i["row"].get("status") == "improving"]
    worsened = [entry(i) for i in items if i["row"].get("status") == "deteriorating"]
    # Not judged better or worse, but worth the panel's eye: a special cause on the monthly chart,
    # or a significant change in a context measure.
    watch = [entry(i, "context, not judged" if i["row"].get("status") == "not assessed" else None)
             for i in items if i["row"].get("status") in ("no significant change", "not assessed")
             and i["row"].get("value") is not None and (special(i) or is_significant(i["row"]))]
    # Every police.uk measure has a position among the peers (its card and the scorecard show it); the
    # one-page summary lists the measures the plan compares with the group (comparator msg).
    ranked_anywhere = any(peer_words(i["row"]) for i in items if i["row"].get("msg_forces_with_data") is not None)
    compared = [i for i in items if i["row"].get("msg_forces_with_data") is not None
                and i["measure"].get("comparator", "msg") == "msg"]
    peers = [{"measure": i["measure"], "words": peer_words(i["row"])} for i in compared if peer_words(i["row"])]
    unranked = [i["measure"]["measure_name"] for i in compared if not peer_words(i["row"])]
    if not compared:
        peer_note = ("No measure is compared with the force's most similar group of forces yet: no peer "
                     "figures are loaded.")
    elif not peers:
        peer_note = (f"No comparison with similar forces is possible yet: the plan compares {len(compared)} "
                     f"measure{'s' if len(compared) != 1 else ''} with {data.force_name}'s most similar group of "
                     "forces, but no other force in the group has figures for the period in the evidence base.")
    elif unranked:
        peer_note = f"No position yet for {', '.join(unranked)}: no other force in the group has figures for the period."
    else:
        peer_note = None
    targets = [{"measure": i["measure"], "words": target_words(i["row"], i["measure"])} for i in items
               if not is_missing(i["row"].get("target_value", i["measure"].get("target_value")))]
    counts = {status: sum(1 for i in items if i["row"].get("status") == status) for status in STATUSES}
    # The summary is one page: the lists that grow with the plan show their first few, in the plan's
    # order, and say how many more the scorecard holds. What improved and what worsened are never cut.
    return {
        "total": len(items), "counts": counts, "improved": improved, "worsened": worsened,
        "watch": watch[:SUMMARY_LIST_MAX], "watch_more": max(0, len(watch) - SUMMARY_LIST_MAX),
        "peers": peers[:SUMMARY_LIST_MAX], "peers_more": max(0, len(peers) - SUMMARY_LIST_MAX),
        "peer_note": peer_note, "has_peer_ranks": bool(peers) or ranked_anywhere, "targets": targets,
        "gaps": [i["measure"]["measure_name"] for i in items if i["row"].get("status") == "data gap"],
        "steady": [i["measure"]["measure_name"] for i in items if i["row"].get("status") == "no significant change"],
    }


def build_context(data: ReportData, commentary: Any = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The template's context, and the charts (file stem -> SVG). ``commentary``: the office's words
    for the statement (ingest.report.commentary.Commentary), if any."""
    charts: dict[str, str] = {}
    objectives = objective_sections(data, charts)
    summary = panel_summary(data, objectives)
    csp_measures = [m for m in data.measures if any(r["measure_id"] == m["measure_id"] for r in data.csp_rows)]
    csp_table: dict[str, dict[str, dict[str, Any]]] = {}
    for r in data.csp_rows:
        csp_table.setdefault(r["area_name"], {})[r["measure_id"]] = r
    if data.csp_matrix[0]:
        charts["chart-csp-priorities"] = heatmap_chart(data.csp_matrix[0], chart_id="chart-csp-priorities",
                                                      title=f"CSP strategic assessments: priorities by theme, {data.force_name}")
    consultation = consultation_context(data, charts)
    parameters = {name: _dbt_var(name, default) for name, default in (
        ("spc_limit_multiplier", 2.66), ("spc_min_points", 15), ("spc_baseline_points", 0), ("spc_shift_points", 7),
        ("spc_trend_points", 7), ("spc_near_limit_sigma", 2), ("significance_level", 0.05),
        ("poisson_exact_max_total", 200))}
    context = {
        "data": data, "quarter": data.quarter, "objectives": objectives, "counts": summary["counts"], "summary": summary,
        "ncpm": ncpm_statement_context(data, commentary), "tiles": _tiles(data), "csp_measures": csp_measures,
        "csp_table": csp_table, "parameters": parameters, "badges": STATUS_BADGES, "statuses": STATUSES,
        "charts": charts, "published_at": data.published_at,
        "title": f"Police and Crime Plan: performance report, {data.quarter.words}", "consultation": consultation,
        "equality": equality_context(data, charts),
    }
    return context, charts


def consultation_context(data: ReportData, charts: dict[str, str]) -> dict[str, Any]:
    """The consultation section: its charts (added to ``charts``), the alignment table and the notes."""
    survey, note = data.consultation.get("survey", ([], "No public consultation is loaded for this force."))
    if not survey:
        return {"survey_id": None, "note": note}
    priorities, priorities_note = data.consultation.get("priorities", ([], None))
    confidence, weighting, groups, objectives = (data.consultation.get(name, ([], None))[0]
                                                 for name in ("confidence", "weighting", "groups", "objectives"))
    survey_id = survey[0]["survey_id"]
    if priorities:
        charts["chart-consultation-priorities"] = consultation_priorities_chart(
            priorities, chart_id="chart-consultation-priorities",
            title=f"Public consultation {survey_id}: % choosing each priority (weighted), top three outlined")
    if confidence:
        charts["chart-consultation-confidence"] = confidence_chart(
            confidence, chart_id="chart-consultation-confidence",
            title=f"Public consultation {survey_id}: confidence in the police by district")
    force_rows = [r for r in priorities if r["area_type"] == "force_area"]
    return {
        "survey_id": survey_id, "note": priorities_note,
        "force_top": [r for r in force_rows if r["priority_rank"] <= 5],
        "alignment": consultation_alignment(priorities, data.csp_matrix[0], objectives),
        "has_csp_matrix": bool(data.csp_matrix[0]),
        "theme_labels": {r["theme"]: r["theme_label"] for r in data.csp_matrix[0] if r.get("theme_label")},
        "groups": groups, "weighting": weighting,
        "respondents": sum(w["respondent_count"] for w in weighting),
        "flagged_districts": [w["lad_name"] for w in weighting if w["is_small_group"] or w["is_low_effective_sample"]],
        "min_group_respondents": _dbt_var("consultation_min_group_respondents", 30),
        "min_effective_sample_size": _dbt_var("consultation_min_effective_sample_size", 50),
        "trim_cap": weighting[0]["trim_cap"] if weighting else _dbt_var("consultation_trim_cap", 5),
    }


def _csp_key(name: str | None) -> str:
    """'Preston Community Safety Partnership', 'Preston CSP' and 'Preston' all give 'preston'."""
    text = (name or "").lower().replace("&", " and ")
    text = re.sub(r"\b(community safety partnership|csp)\b", " ", text)
    return re.sub(r"[^a-z0-9]+", "", text)


def consultation_alignment(priorities: list[dict[str, Any]], matrix: list[dict[str, Any]],
                           objectives: list[dict[str, Any]], top: int = 3) -> list[dict[str, Any]]:
    """Each district's top priorities beside its CSP's assessment and the plan's objective.

    ``csp`` is what the district's CSP strategic assessment says of the priority's theme:
    ``priority``, ``mentioned``, ``not mentioned``, ``no theme`` (the priority has no CSP theme,
    e.g. visible policing) or ``no assessment`` (none loaded for the CSP).
    """
    themes: dict[str, dict[str, dict[str, Any]]] = {}
    for row in matrix:
        themes.setdefault(_csp_key(row["csp_name"]), {})[row["theme"]] = row
    objective_names = {o["objective_id"]: o["objective"] for o in objectives}
    lines = []
    for r in priorities:
        if r["priority_rank"] > top:
            continue
        assessed = themes.get(_csp_key(r.get("csp_name"))) or themes.get(_csp_key(r["area_name"]))
        if r["area_type"] == "force_area":
            csp = "force area"
        elif not r.get("csp_theme"):
            csp = "no theme"
        elif assessed is None:
            csp = "no assessment"
        else:
            theme = assessed.get(r["csp_theme"])
            csp = ("priority" if theme and theme["is_priority"] else "mentioned" if theme and theme["is_mentioned"]
                   else "not mentioned")
        lines.append({**r, "csp": csp,
                      "objective": objective_names.get(r.get("plan_objective_id"), r.get("plan_objective_id") or "–")})
    return lines


def scorecard_rows(data: ReportData) -> list[dict[str, Any]]:
    columns = ("reporting_period", "area_type", "area_code", "area_name", "objective", "measure_id", "measure_name",
               "unit", "polarity", "is_national", "national_priority", "assessed_period_label", "value",
               "value_lower_95", "value_upper_95", "baseline_periods", "baseline_value", "change_value", "change_ratio",
               "test_name", "p_value", "is_significant", "q_value", "fdr_family_size", "is_significant_adjusted",
               "spc_variation", "spc_rules", "spc_special_cause_months", "target_value", "meets_target",
               "msg_rank", "msg_forces_with_data", "msg_funnel_position", "msg_missing_peers", "status",
               "data_gap_reason")
    rows = list(data.scorecard.values()) + data.csp_rows
    rows.sort(key=lambda r: (r["area_type"] != "force", r.get("area_name") or "", r["objective_order"], r["measure_order"]))
    return [{c: r.get(c) for c in columns} for r in rows]


def _ncpm_comparison(row: dict[str, Any], prefix: str, unit: str) -> dict[str, Any] | None:
    """One line of a measure's table (the force, its most similar group, England and Wales)."""
    value = row.get(f"{prefix}value")
    if is_missing(value):
        return None
    previous, baseline = row.get(f"{prefix}previous_value"), row.get(f"{prefix}baseline_value")
    percent = unit == "percent"

    def change(before: Any, pct: Any) -> str | None:
        if is_missing(before):
            return None
        if percent:  # a share changes in percentage points
            return f"{value - before:+.1f} points"
        if unit == "seconds":
            return "no change" if round(value) == round(before) else f"{value - before:+.0f} s"
        return "no change" if value == before else (f"{pct:+.1f}%" if not is_missing(pct) else None)

    return {"value": value, "previous": previous, "baseline": baseline,
            "change_previous": change(previous, row.get(f"{prefix}change_from_previous_percent")),
            "change_baseline": change(baseline, row.get(f"{prefix}change_from_baseline_percent"))}


def ncpm_comparison_note(measure: dict[str, Any], row: dict[str, Any] | None, lines: list[dict[str, Any]],
                         force_name: str) -> str | None:
    """Why a measure's table has no most similar group or England and Wales line, in words: the
    source is the force's own by nature (the seed's ``comparison_note``), the loaded file has only
    the force's rows, or it lacks some of the forces a pooled figure needs. None when both are shown."""
    if not row:
        return None
    shown = {line["label"] for line in lines}
    missing = [name for name in ("most similar group", "England and Wales") if name[0].upper() + name[1:] not in shown]
    if not missing:
        return None
    if measure.get("comparison_note"):
        return measure["comparison_note"]
    names = " or ".join(missing)
    forces = row.get("source_force_count")
    if not is_missing(forces) and forces <= 1:
        return (f"The source holds only {force_name}'s own rows for these 12 months, so there is no {names} "
                "figure beside the force's; none is estimated.")
    held = f"; the source holds {forces:.0f} forces for these 12 months" if not is_missing(forces) else ""
    return (f"No {names} figure: it needs every peer force (most similar group) or all "
            f"{_dbt_var('ncpm_england_and_wales_forces', 43)} territorial forces (England and Wales) to have "
            f"figures for the period{held}, and none is estimated.")


def ncpm_statement_context(data: ReportData, commentary: Any = None) -> dict[str, Any]:
    """The statement: each national priority in the Order's sequence, its measures with the force's
    latest 12 months against the previous 12 and the 2019 baseline year (and the most similar group
    and England and Wales where the source has every force), or the gap and the office's text."""
    priorities: list[dict[str, Any]] = []
    for measure in data.ncpm_measures:
        if not priorities or priorities[-1]["priority_id"] != measure["priority_id"]:
            priorities.append({"priority_id": measure["priority_id"], "name": measure["priority_name"], "items": []})
        row = data.ncpm.get(measure["measure_id"])
        unit = measure["unit"]
        lines = []
        if row:
            for label, prefix in ((data.force_name, ""), ("Most similar group", "msg_"),
                                  ("England and Wales", "england_wales_")):
                line = _ncpm_comparison(row, prefix, unit)
                if line:
                    lines.append({"label": label, **line,
                                  "note": f"{row['msg_force_count']} peer forces" if prefix == "msg_" else None})
        priorities[-1]["items"].append({"measure": measure, "row": row, "lines": lines,
                                        "comparison_note": ncpm_comparison_note(measure, row, lines, data.force_name)})
    for priority in priorities:
        priority["has_figures"] = any(i["row"] for i in priority["items"])
        priority["contribution"] = commentary.contribution.get(priority["priority_id"]) if commentary else None
        priority["gap_text"] = commentary.data_gaps.get(priority["priority_id"]) if commentary else None
    valued = sum(1 for p in priorities if p["has_figures"])
    return {"priorities": priorities, "valued": valued, "gaps": len(priorities) - valued,
            "commentary": commentary, "note": data.ncpm_note,
            "baseline_end": _dbt_var("ncpm_baseline_period_end", "2019-06-30")}
