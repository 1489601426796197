"""The quarterly performance report to the Police and Crime Panel, from the published file.

    python -m ingest.report                       # the latest quarter the published data completes
    python -m ingest.report --quarter 2024Q2      # any past quarter, again
    python -m ingest.report --quarter 2025Q3 --force west-midlands --published path/to/evidence.duckdb

Reads ``published/evidence.duckdb`` read-only (the marts in its ``main`` schema, the plan's
measures in ``performance``), never the warehouse, and writes ``reports/<YYYY>Q<n>/``:

  performance_report.html          self-contained (charts inline as SVG, no network), prints on A4
  national_measures_statement.html the statutory statement on the National Crime and Policing
                                   Measures, on its own, ready to publish
  charts/*.svg                     every chart, as a file
  scorecard.csv, scorecard.xlsx    the quarter's scorecard (force and CSPs)

The folder is rendered beside the old one and swapped in only when complete and checked, so a
reader never sees half a report and a failed run leaves the last good report in place. Output is
deterministic given the published data (no clock, no random ids).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.config import Settings, load_settings

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_FILE = "performance_report.html"
STATEMENT_FILE = "national_measures_statement.html"
QUARTER = re.compile(r"^(?P<year>\d{4})\s*-?\s*Q(?P<quarter>[1-4])$", re.I)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
STATUSES = ("improving", "deteriorating", "no significant change", "not assessed", "data gap")
# Colours after NHS "Making Data Count": blue improvement, orange concern, purple neither.
IMPROVEMENT, CONCERN, NEITHER, COMMON = "#1f5fa8", "#d9661f", "#7b3294", "#6b6b6b"
NATIONAL_PRIORITY_ORDER = ("homicide", "serious_violence", "drugs_county_lines", "neighbourhood_crime",
                           "cyber_crime", "victim_satisfaction")


class ReportError(RuntimeError):
    """The report cannot be rendered; the message says what to look at."""


class ReportNotReady(ReportError):
    """The published data does not (yet) complete the quarter asked for; nothing was replaced."""


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = QUARTER.match(text.strip())
        if not match:
            raise ReportError(f"quarter {text!r} is not like 2024Q2 (a calendar quarter: Q1 = January to March)")
        return cls(int(match["year"]), int(match["quarter"]))

    @classmethod
    def containing(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_complete_before(cls, day: date) -> "Quarter":
        """The latest quarter that ended before ``day`` (a run on 2025-11-15 reports 2025Q3)."""
        current = cls.containing(day)
        return current.previous()

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        nxt = Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        return nxt.start - timedelta(days=1)

    @property
    def words(self) -> str:
        """July to September 2025."""
        return f"{MONTHS[3 * self.number - 3]} to {MONTHS[3 * self.number - 1]} {self.year}"

    def __str__(self) -> str:
        return self.label


def period_words(label: str | None, period_type: str | None, statistic: str | None = None) -> str:
    """How a sentence names an assessed period: 'July to September 2025', 'the twelve months to
    September 2025', '2025-26', 'the 2023 inspection'."""
    if not label:
        return "the period"
    if period_type == "quarter" and QUARTER.match(label):
        quarter = Quarter.parse(label)
        if statistic == "disproportionality":
            return f"the twelve months to {MONTHS[3 * quarter.number - 1]} {quarter.year}"
        return quarter.words
    if re.match(r"^\d{4}-\d{2}$", label):
        return f"financial year {label}"
    return label


# --------------------------------------------------------------------------- formatting


def format_value(value: float | None, unit: str | None, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "+" if signed and value > 0 else ""
    if unit == "percent":
        return f"{sign}{100 * value:.1f}%"
    if unit == "per_1000_residents":
        return f"{sign}{value:,.2f} per 1,000"
    if unit == "ratio":
        return f"{sign}{value:.2f}"
    if unit == "gbp":
        if abs(value) >= 1e6:
            return f"{sign}£{value / 1e6:,.1f}m"
        return f"{sign}£{value:,.0f}"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:,.1f}"


def format_change(change_ratio: float | None) -> str:
    if change_ratio is None or (isinstance(change_ratio, float) and math.isnan(change_ratio)):
        return "–"
    return f"{100 * change_ratio:+.1f}%"


def format_p(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


STATUS_BADGES = {
    # status: (symbol, css class, words for a screen reader and for print in black and white)
    "improving": ("✔", "improving", "Improving"),
    "deteriorating": ("✖", "deteriorating", "Deteriorating"),
    "no significant change": ("●", "steady", "No significant change"),
    "not assessed": ("○", "context", "Not assessed"),
    "data gap": ("?", "gap", "Data gap"),
}
# --------------------------------------------------------------------------- sentences


def _baseline_words(row: dict[str, Any], measure: dict[str, Any]) -> str:
    rule = measure.get("baseline_rule")
    if measure.get("statistic") == "disproportionality":
        return "the twelve months before"
    if rule == "mean_previous_3_years":
        kind = "year" if row.get("assessed_period_type") == "year" else "quarter"
        return f"the average of the same {kind} in the previous three years"
    if rule == "previous_period":
        return f"the previous period ({row.get('baseline_periods')})" if row.get("baseline_periods") else "the previous period"
    return "the same year before" if row.get("assessed_period_type") == "year" else "the same quarter last year"


def measure_sentences(row: dict[str, Any], measure: dict[str, Any], *, shift_points: int = 7,
                      area_name: str | None = None) -> list[str]:
    """Two or three plain-English sentences about one measure, from its scorecard row alone.

    e.g. "Burglary in July to September 2025 was 12.0% lower than the same quarter last year
    (2,179 against 2,476). The fall is statistically significant (p = 0.003). The last 7 months
    sit below the average."
    """
    name = measure["measure_name"]
    unit = measure.get("unit")
    where = f" in {area_name}" if area_name else ""
    if row.get("status") == "data gap" or row.get("value") is None:
        return [f"{name}{where}: data gap. {row.get('data_gap_reason') or 'No value for the period.'}".rstrip(".") + "."]
    when = period_words(row.get("assessed_period_label"), row.get("assessed_period_type"), measure.get("statistic"))
    value = format_value(row["value"], unit)
    sentences = []
    baseline = row.get("baseline_value")
    if baseline is None:
        sentences.append(f"{name}{where}: {value} in {when}. There is no baseline to compare it with yet "
                         f"({_baseline_words(row, measure)} is not in the data).")
    else:
        direction = row.get("direction")
        if direction == "unchanged":
            comparison = f"the same as {_baseline_words(row, measure)}"
        elif row.get("change_ratio") is None:
            comparison = f"{'higher' if direction == 'higher' else 'lower'} than {_baseline_words(row, measure)}"
        else:
            comparison = f"{abs(100 * row['change_ratio']):.1f}% {'higher' if direction == 'higher' else 'lower'} than {_baseline_words(row, measure)}"
        sentences.append(f"{name}{where}: {value} in {when}, {comparison} ({format_value(baseline, unit)}).")
        change = "rise" if direction == "higher" else "fall" if direction == "lower" else "difference"
        if row.get("test_name") and row.get("p_value") is not None:
            if row.get("is_significant"):
                sentences.append(f"The {change} is statistically significant ({format_p(row['p_value'])}).")
            else:
                sentences.append(f"The {change} is not statistically significant ({format_p(row['p_value'])}): "
                                 "it is within what chance alone would give.")
    spc = row.get("spc_variation")
    run, side = row.get("spc_side_run_length"), row.get("spc_side_of_centre_line")
    if spc in ("special_cause_improvement", "special_cause_concern", "special_cause_neither", "special_cause_mixed"):
        kind = {"special_cause_improvement": "an improvement", "special_cause_concern": "a concern"}.get(spc, "a change")
        rules = row.get("spc_rules") or "special cause"
        tail = f"; the last {run} months sit {side} the average" if run and run >= shift_points and side in ("above", "below") else ""
        sentences.append(f"The monthly chart shows special-cause variation ({rules}), {kind}{tail}.")
    elif spc == "common_cause":
        tail = f", though the last {run} months sit {side} the average" if run and run >= shift_points - 2 and side in ("above", "below") else ""
        sentences.append(f"Month to month the chart shows only common-cause variation{tail}.")
    extras = []
    if row.get("target_value") is not None and row.get("meets_target") is not None:
        extras.append(f"the target of {format_value(row['target_value'], unit)} is {'met' if row['meets_target'] else 'not met'}")
    if row.get("msg_rank") is not None and row.get("msg_forces_with_data"):
        extras.append(f"the force ranks {ordinal(int(row['msg_rank']))} of {int(row['msg_forces_with_data'])} forces "
                      f"with data in its most similar group")
    if extras:
        sentences.append(extras[0][0].upper() + "; ".join(extras)[1:] + ".")
    return sentences


# --------------------------------------------------------------------------- reading the published file


def _rows(con, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    from decimal import Decimal

    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [{name: float(value) if isinstance(value, Decimal) else value for name, value in zip(names, values)}
            for values in cursor.fetchall()]


def _optional(con, what: str, sql: str, params: list | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Rows for an optional section, or none and why (a table or column not in the published file)."""
    import duckdb

    try:
        return _rows(con, sql, params), None
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0]
        return [], f"{what} is not in the published file ({first_line})"


def _relation_exists(con, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and database_name = current_database()",
        [schema, table]).fetchone()[0])


@dataclass
class ReportData:
    quarter: Quarter
    force_id: str
    force_name: str
    published_at: Any
    measures: list[dict[str, Any]]
    scorecard: dict[str, dict[str, Any]]                       # measure_id -> force row
    csp_rows: list[dict[str, Any]]
    spc: dict[str, list[dict[str, Any]]]                       # measure_id -> points
    history: dict[str, list[dict[str, Any]]]                   # measure_id -> quarterly/annual values
    disproportionality: list[dict[str, Any]]
    peel: tuple[list[dict[str, Any]], str | None]
    finance: dict[str, tuple[list[dict[str, Any]], str | None]]
    csp_matrix: tuple[list[dict[str, Any]], str | None]
    reconciliation: tuple[list[dict[str, Any]], str | None]
    sources: tuple[list[dict[str, Any]], str | None]
    loads: tuple[list[dict[str, Any]], str | None]
    rejects: tuple[list[dict[str, Any]], str | None]
    parameters: dict[str, Any] = field(default_factory=dict)
    # the newest public consultation: name -> (rows, why missing); see load_consultation
    consultation: dict[str, tuple[list[dict[str, Any]], str | None]] = field(default_factory=dict)


def _check_published(con, path: Path) -> None:
    missing = [f"{schema}.{table}" for schema, table in (
        ("meta", "publication"), ("main", "dim_force"), ("performance", "dim_measure"),
        ("performance", "fct_measure_assessment"), ("performance", "fct_spc"))
        if not _relation_exists(con, schema, table)]
    if missing:
        raise ReportError(
            f"{path}: no {', '.join(missing)}. The report reads the plan's measures from the published file's "
            "`performance` schema: publish them (ingest/publish.py PUBLISHED_SCHEMAS must map "
            "performance -> performance) and run the evidence build.")


def reportable_quarters(con, force_id: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select distinct reporting_period from performance.fct_measure_assessment where force_id = ? order by 1",
        [force_id]).fetchall()]


def load_report_data(con, path: Path, force_id: str, quarter: Quarter | None) -> ReportData:
    _check_published(con, path)
    force = _rows(con, "select force_id, force_name from main.dim_force where force_id = ?", [force_id])
    if not force:
        raise ReportError(f"{path}: force {force_id!r} is not in dim_force (ids are data.police.uk's, e.g. 'lancashire')")
    quarters = reportable_quarters(con, force_id)
    if not quarters:
        raise ReportNotReady(f"{path}: no complete quarter of data for {force_id} yet")
    if quarter is None:
        quarter = Quarter.parse(quarters[-1])
    elif quarter.label not in quarters:
        raise ReportNotReady(
            f"{path}: {quarter} is not complete for {force_id} in the published data (it completes "
            f"{quarters[0]} to {quarters[-1]}). If the quarter has ended, its last month may not be published "
            "yet, or the evidence build stopped at a gate: the published file keeps the last good data.")
    published_at = con.execute("select max(published_at) from meta.publication").fetchone()[0]
    measures = _rows(con, "select * from performance.dim_measure order by objective_order, measure_order")
    assessment = _rows(con, """
        select * from performance.fct_measure_assessment
        where reporting_period = ? and force_id = ? order by objective_order, measure_order, area_name
    """, [quarter.label, force_id])
    scorecard = {r["measure_id"]: r for r in assessment if r["area_type"] == "force"}
    csp_rows = [r for r in assessment if r["area_type"] == "csp"]
    spc: dict[str, list[dict[str, Any]]] = {}
    for point in _rows(con, """
        select spc.* from performance.fct_spc as spc
        inner join performance.fct_measure_assessment as a
            on a.measure_id = spc.measure_id and a.area_type = spc.area_type and a.area_code = spc.area_code
            and a.assessed_period_label = spc.as_of_period
        where a.reporting_period = ? and a.force_id = ? and a.area_type = 'force'
        order by spc.measure_id, spc.month_start
    """, [quarter.label, force_id]):
        spc.setdefault(point["measure_id"], []).append(point)
    history: dict[str, list[dict[str, Any]]] = {}
    for row in _rows(con, """
        select v.measure_id, v.period_type, v.period_start, v.period_label, v.value, v.value_lower_95, v.value_upper_95
        from performance.fct_measure_values as v
        inner join performance.fct_measure_assessment as a
            on a.measure_id = v.measure_id and a.area_type = v.area_type and a.area_code = v.area_code
            and a.assessed_period_type = v.period_type and v.period_start <= a.assessed_period_start
        where a.reporting_period = ? and a.force_id = ? and a.area_type = 'force'
        order by v.measure_id, v.period_start
    """, [quarter.label, force_id]):
        history.setdefault(row["measure_id"], []).append(row)
    disproportionality, _ = _optional(con, "performance.fct_stop_search_disproportionality", """
        select d.* from performance.fct_stop_search_disproportionality as d
        inner join performance.fct_measure_assessment as a
            on a.measure_id = d.measure_id and a.area_code = d.force_id and a.assessed_period_label = d.period_label
        where a.reporting_period = ? and a.force_id = ? and a.area_type = 'force'
        order by d.measure_id, case d.ethnic_group when 'White' then 0 else 1 end, d.ethnic_group
    """, [quarter.label, force_id])
    quarter_end = quarter.end
    peel = _optional(con, "evidence.fct_inspection_grades", """
        select programme, coalesce(canonical_area, area) as area, grade, grade_rank, previous_grade,
               change_since_previous, msg_position, msg_forces_graded_count, cause_of_concern_count,
               area_for_improvement_count, published_date
        from main.fct_inspection_grades
        where force_id = ? and published_date <= ?
          and programme_start_year = (select max(programme_start_year) from main.fct_inspection_grades
                                      where force_id = ? and published_date <= ?)
        order by area
    """, [force_id, quarter_end, force_id, quarter_end])
    finance = {
        "budget": _optional(con, "evidence.fct_budget", """
            select financial_year, max(net_revenue_budget_gbp) as net_revenue_budget_gbp,
                   max(gross_expenditure_gbp) as gross_expenditure_gbp
            from main.fct_budget where force_id = ? and is_latest_plan group by financial_year order by financial_year
        """, [force_id]),
        "savings": _optional(con, "evidence.fct_mtfp_savings", """
            select financial_year, savings_required_gbp, savings_identified_gbp, savings_delivered_gbp, savings_gap_gbp
            from main.fct_mtfp_savings where force_id = ? and is_latest_plan order by financial_year
        """, [force_id]),
        "reserves": _optional(con, "evidence.fct_reserves", """
            select financial_year, max(total_closing_reserves_gbp) as total_closing_reserves_gbp,
                   max(general_reserves_share_of_net_budget) as general_reserves_share_of_net_budget
            from main.fct_reserves where force_id = ? and is_latest_plan group by financial_year order by financial_year
        """, [force_id]),
        "funding": _optional(con, "evidence.fct_funding", """
            select financial_year, police_grant_gbp, precept_gbp, total_funding_gbp, band_d_precept_gbp, band_d_change_pct
            from main.fct_funding where force_id = ? and is_latest_plan order by financial_year
        """, [force_id]),
    }
    csp_matrix = _optional(con, "evidence.rpt_csp_priorities_matrix", """
        select csp_name, theme, theme_label, theme_sort_order, is_priority, is_mentioned, assessment_year
        from main.rpt_csp_priorities_matrix where force_id = ? order by csp_name, theme_sort_order
    """, [force_id])
    reconciliation = _optional(con, "evidence.fct_crime_reconciliation_quarterly", """
        select financial_year, financial_quarter, quarter_start_date, comparison_group, home_office_count,
               police_uk_count, difference_pct, reconciliation_status
        from main.fct_crime_reconciliation_quarterly
        where force_id = ? and quarter_start_date <= ? and comparison_group like 'All recorded crime%'
        order by quarter_start_date desc limit 6
    """, [force_id, quarter.start])
    sources = _optional(con, "meta.landing_manifest", """
        select source, count(*) as files, min(partition) as first_partition, max(partition) as last_partition,
               max(fetched_at) as last_fetched, sum(bytes) as bytes
        from meta.landing_manifest group by source order by source
    """)
    loads = _optional(con, "meta.load_log", """
        select dataset, count(*) filter (where status = 'loaded') as partitions_loaded,
               count(*) filter (where status = 'absent') as partitions_absent,
               sum(rows_loaded) as rows_loaded, sum(rows_rejected) as rows_rejected,
               min(month) as first_month, max(month) as last_month
        from meta.load_log where force_id = ? or force_id is null group by dataset order by dataset
    """, [force_id])
    rejects = _optional(con, "meta.load_rejects", """
        select dataset, error_type, count(*) as problems from meta.load_rejects
        where force_id = ? or force_id is null group by all order by problems desc limit 10
    """, [force_id])
    return ReportData(
        quarter=quarter, force_id=force_id, force_name=force[0]["force_name"], published_at=published_at,
        measures=measures, scorecard=scorecard, csp_rows=csp_rows, spc=spc, history=history,
        disproportionality=disproportionality, peel=peel, finance=finance, csp_matrix=csp_matrix,
        reconciliation=reconciliation, sources=sources, loads=loads, rejects=rejects,
        consultation=load_consultation(con, force_id),
    )


def load_consultation(con, force_id: str) -> dict[str, tuple[list[dict[str, Any]], str | None]]:
    """The force's newest consultation (the survey id ending in the latest year) from the published marts."""
    survey, note = _optional(con, "evidence.fct_consultation_priorities", """
        select survey_id from main.fct_consultation_priorities where force_id = ?
        order by regexp_extract(survey_id, '(\d{4})$'), survey_id desc limit 1
    """, [force_id])
    if not survey:
        return {"survey": ([], note or "No public consultation is loaded for this force.")}
    survey_id = survey[0]["survey_id"]
    return {
        "survey": (survey, None),
        "priorities": _optional(con, "evidence.fct_consultation_priorities", """
            select area_type, area_code, area_name, csp_name, priority_id, priority_label, priority_sort_order,
                   csp_theme, plan_objective_id, respondent_count, weighted_share, ci_lower_95, ci_upper_95,
                   effective_sample_size, priority_rank, is_small_group, is_low_effective_sample
            from main.fct_consultation_priorities
            where survey_id = ? and group_variable = 'all'
            order by area_type desc, area_name, priority_rank
        """, [survey_id]),
        "groups": _optional(con, "evidence.fct_consultation_priorities", """
            select group_variable, group_value, priority_label, respondent_count, weighted_share, ci_lower_95,
                   ci_upper_95, is_small_group, is_low_effective_sample
            from main.fct_consultation_priorities
            where survey_id = ? and area_type = 'force_area' and group_variable <> 'all' and priority_rank = 1
            order by group_variable, group_value
        """, [survey_id]),
        "confidence": _optional(con, "evidence.fct_confidence_in_police", """
            select area_type, area_name, answered_count, weighted_share_confident, ci_lower_95, ci_upper_95,
                   effective_sample_size, is_small_group, is_low_effective_sample
            from main.fct_confidence_in_police
            where survey_id = ? and group_variable = 'all'
            order by area_type desc, area_name
        """, [survey_id]),
        "weighting": _optional(con, "evidence.fct_consultation_weighting", """
            select lad_name, respondent_count, telephone_respondent_count, online_respondent_count, design_effect,
                   effective_sample_size, max_weight, trim_cap, trimmed_respondent_count, max_margin_error,
                   is_small_group, is_low_effective_sample
            from main.fct_consultation_weighting where survey_id = ? order by lad_name
        """, [survey_id]),
        "objectives": _optional(con, "performance.dim_measure", """
            select distinct objective_id, objective from performance.dim_measure
        """),
    }


# --------------------------------------------------------------------------- charts


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.fonttype": "none",  # text stays text: small, sharp and searchable
        "font.family": "sans-serif",
        "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans", "Liberation Sans"],
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#999999",
        "axes.labelcolor": "#333333",
        "xtick.color": "#555555",
        "ytick.color": "#555555",
    })
    return plt


def _svg(fig, chart_id: str) -> str:
    plt = _pyplot()
    plt.rcParams["svg.hashsalt"] = f"opcc-{chart_id}"  # unique, repeatable ids per chart
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    start = text.index("<svg")
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", text[start:], count=1, flags=re.S)
    # Scale with the page: keep the viewBox, let CSS set the size.
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1', svg, count=1)
    return svg.replace("<svg", f'<svg role="img" aria-labelledby="{chart_id}-title" class="chart"', 1)


def _value_axis(ax, unit: str | None) -> None:
    from matplotlib.ticker import FuncFormatter

    if unit == "percent":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.1f}%"))
    elif unit == "gbp":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"£{v / 1e6:,.0f}m" if abs(v) >= 1e6 else f"£{v:,.0f}"))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2g}"))


def spc_chart(points: list[dict[str, Any]], *, unit: str | None, target: float | None, title: str,
              chart_id: str, assessed_start: date | None = None) -> str:
    """An XmR chart people read at a glance: the series, the mean, the process limits (dashed),
    special-cause points coloured (blue improvement, orange concern, purple neither)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.6, 2.3))
    months = [p["month_start"] for p in points]
    values = [p["value"] for p in points]
    ax.plot(months, values, color="#8c8c8c", linewidth=1.2, marker="o", markersize=2.6, zorder=2)
    last = points[-1]
    if last.get("centre_line") is not None:
        ax.axhline(last["centre_line"], color="#333333", linewidth=1, zorder=1)
        for limit in (last["upper_process_limit"], last["lower_process_limit"]):
            ax.axhline(limit, color="#555555", linewidth=0.9, linestyle=(0, (4, 3)), zorder=1)
        x_label = months[-1]
        ax.annotate("mean", (x_label, last["centre_line"]), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=7, color="#333333", annotation_clip=False)
        ax.annotate("limits", (x_label, last["upper_process_limit"]), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=7, color="#555555", annotation_clip=False)
    colours = {"special_cause_improvement": IMPROVEMENT, "special_cause_concern": CONCERN,
               "special_cause_neither": NEITHER, "special_cause_mixed": NEITHER}
    for variation, colour in colours.items():
        flagged = [(p["month_start"], p["value"]) for p in points if p.get("variation") == variation]
        if flagged:
            xs, ys = zip(*flagged)
            ax.scatter(xs, ys, s=22, color=colour, zorder=3, edgecolors="white", linewidths=0.5)
    if target is not None:
        ax.axhline(target, color="#b2182b", linewidth=1, linestyle=":", zorder=1)
        ax.annotate("target", (months[0], target), xytext=(0, 3), textcoords="offset points", fontsize=7, color="#b2182b")
    if assessed_start is not None:
        ax.axvspan(assessed_start - timedelta(days=14), months[-1] + timedelta(days=14), color="#f0f0f0", zorder=0)
    _value_axis(ax, unit)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
    ax.margins(x=0.01)
    ax.set_title(title, loc="left", fontsize=8.5, color="#222222")
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
    return _svg(fig, chart_id)


def bar_chart(rows: list[dict[str, Any]], *, unit: str | None, title: str, chart_id: str) -> str:
    """Quarterly or annual values (the last eight), the assessed period darker, with 95% intervals."""
    plt = _pyplot()
    rows = rows[-8:]
    fig, ax = plt.subplots(figsize=(6.6, 2.0))
    labels = [r["period_label"] for r in rows]
    positions = list(range(len(rows)))
    values = [r["value"] if r["value"] is not None else 0 for r in rows]
    colours = ["#c7c7c7"] * (len(rows) - 1) + ["#4d4d4d"]
    ax.bar(positions, values, color=colours, width=0.6, zorder=2)
    ax.set_xticks(positions, labels)
    low = [r["value"] - r["value_lower_95"] if r.get("value_lower_95") is not None and r["value"] is not None else 0 for r in rows]
    high = [r["value_upper_95"] - r["value"] if r.get("value_upper_95") is not None and r["value"] is not None else 0 for r in rows]
    if any(low) or any(high):
        ax.errorbar(positions, values, yerr=[low, high], fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2, zorder=3)
    _value_axis(ax, unit)
    ax.set_title(title, loc="left", fontsize=8.5, color="#222222")
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6, zorder=0)
    return _svg(fig, chart_id)


def disproportionality_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str) -> str:
    """Rate ratios against White with 95% intervals, on a log scale (1 = the same rate)."""
    plt = _pyplot()
    shown = [r for r in rows if r["ethnic_group"] != "White" and r.get("rate_ratio")]
    fig, ax = plt.subplots(figsize=(6.6, 0.45 + 0.32 * max(len(shown), 1)))
    for i, r in enumerate(shown):
        colour = CONCERN if r.get("is_significant") and r["rate_ratio"] > 1 else COMMON
        if r.get("rate_ratio_lower_95") is not None:
            ax.plot([r["rate_ratio_lower_95"], r["rate_ratio_upper_95"]], [i, i], color=colour, linewidth=1.6)
        ax.plot([r["rate_ratio"]], [i], "o", color=colour, markersize=5)
        ax.annotate(f"{r['rate_ratio']:.2f}", (r["rate_ratio"], i), xytext=(0, 5), textcoords="offset points",
                    ha="center", fontsize=7)
    ax.axvline(1, color="#333333", linewidth=0.8)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.xaxis.set_major_locator(FixedLocator([0.25, 0.5, 1, 2, 3, 5, 10, 20]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    highs = [r.get("rate_ratio_upper_95") or r["rate_ratio"] for r in shown] or [2]
    lows = [r.get("rate_ratio_lower_95") or r["rate_ratio"] for r in shown] or [1]
    ax.set_xlim(min(0.8, min(lows) * 0.9), max(1.25, max(highs) * 1.1))
    ax.set_yticks(range(len(shown)), [r["ethnic_group"] for r in shown])
    ax.set_ylim(-0.6, max(len(shown), 1) - 0.4)
    ax.set_xlabel("search rate relative to White people (log scale; 1 = the same rate)")
    ax.set_title(title, loc="left", fontsize=8.5, color="#222222")
    return _svg(fig, chart_id)


def heatmap_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str) -> str:
    """CSP x theme: a priority (dark), mentioned (light), not mentioned (white)."""
    plt = _pyplot()
    from matplotlib.colors import ListedColormap

    csps = sorted({r["csp_name"] for r in rows})
    themes = sorted({(r["theme_sort_order"], r["theme_label"]) for r in rows})
    index = {(r["csp_name"], r["theme_label"]): 2 if r["is_priority"] else 1 if r["is_mentioned"] else 0 for r in rows}
    grid = [[index.get((csp, label), 0) for _, label in themes] for csp in csps]
    fig, ax = plt.subplots(figsize=(6.6, 0.9 + 0.24 * len(csps)))
    ax.imshow(grid, cmap=ListedColormap(["#ffffff", "#c6dbef", "#08519c"]), vmin=0, vmax=2, aspect="auto")
    ax.set_xticks(range(len(themes)), [label for _, label in themes], rotation=40, ha="right", fontsize=7)
    ax.set_yticks(range(len(csps)), csps, fontsize=7)
    ax.set_xticks([x - 0.5 for x in range(1, len(themes))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(csps))], minor=True)
    ax.grid(which="minor", color="#dddddd", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#bbbbbb")
    ax.set_title(title, loc="left", fontsize=8.5, color="#222222")
    return _svg(fig, chart_id)


def consultation_priorities_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str, top: int = 3) -> str:
    """Districts × priorities: the weighted share in each cell, each district's top ``top`` outlined;
    districts flagged for a small or low effective sample are marked (†) in their label."""
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    districts = sorted({r["area_name"] for r in rows if r["area_type"] == "district"})
    force = [r for r in rows if r["area_type"] == "force_area"]
    order = sorted({(r["priority_sort_order"], r["priority_id"], r["priority_label"]) for r in rows})
    # priorities in the force area's order, most chosen first
    force_rank = {r["priority_id"]: r["priority_rank"] for r in force}
    order.sort(key=lambda p: force_rank.get(p[1], p[0]))
    names = ([force[0]["area_name"] + " (all)"] if force else []) + districts
    cell = {(r["area_name"] if r["area_type"] == "district" else names[0], r["priority_id"]): r for r in rows}
    grid = [[(cell.get((name, p[1])) or {}).get("weighted_share") or 0.0 for p in order] for name in names]
    fig, ax = plt.subplots(figsize=(6.6, 1.3 + 0.23 * len(names)))
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=max(0.6, max(max(g) for g in grid)), aspect="auto")
    for y, name in enumerate(names):
        for x, p in enumerate(order):
            r = cell.get((name, p[1]))
            if not r:
                continue
            share = r["weighted_share"] or 0.0
            ax.text(x, y, f"{share * 100:.0f}", ha="center", va="center", fontsize=6.5,
                    color="#ffffff" if share > 0.35 else "#222222")
            if r["priority_rank"] <= top:
                ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor=CONCERN, linewidth=1.2))
    labels = []
    for name in names:
        flagged = any(r["is_small_group"] or r["is_low_effective_sample"] for (n, _), r in cell.items() if n == name)
        labels.append(f"{name} †" if flagged else name)
    ax.set_yticks(range(len(names)), labels, fontsize=7)
    ax.set_xticks(range(len(order)), [p[2] for p in order], rotation=40, ha="right", fontsize=6.5)
    ax.tick_params(length=0)
    ax.set_title(title, loc="left", fontsize=8.5, color="#222222")
    return _svg(fig, chart_id)


def confidence_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str) -> str:
    """Weighted share confident with 95% intervals per district, the force area first; small or
    low-effective-sample districts drawn hollow and marked †."""
    plt = _pyplot()
    shown = [r for r in rows if r.get("weighted_share_confident") is not None]
    fig, ax = plt.subplots(figsize=(6.6, 0.6 + 0.22 * max(len(shown), 1)))
    for i, r in enumerate(shown):
        flagged = r["is_small_group"] or r["is_low_effective_sample"]
        colour = NEITHER if r["area_type"] == "force_area" else COMMON
        ax.plot([r["ci_lower_95"] * 100, r["ci_upper_95"] * 100], [i, i], color=colour, linewidth=1.4)
        ax.plot([r["weighted_share_confident"] * 100], [i], "o", markersize=4.5, color=colour,
                markerfacecolor="white" if flagged else colour)
    if shown and shown[0]["area_type"] == "force_area":
        ax.axvline(shown[0]["weighted_share_confident"] * 100, color=NEITHER, linewidth=0.6, linestyle=":")
    ax.set_yticks(range(len(shown)), [f"{r['area_name']}{' †' if r['is_small_group'] or r['is_low_effective_sample'] else ''}"
                                      for r in shown], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% who agree they have confidence in the police in their area (weighted, 95% interval)")
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    ax.set_title(title, loc="left", fontsize=8.5, color="#222222")
    return _svg(fig, chart_id)


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


# --------------------------------------------------------------------------- the report


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _dbt_var(name: str, default: Any) -> Any:
    from ingest.measures import dbt_vars

    return dbt_vars().get(name, default)


def build_context(data: ReportData) -> tuple[dict[str, Any], dict[str, str]]:
    """The template's context, and the charts (file stem -> SVG)."""
    shift_points = int(_dbt_var("spc_shift_points", 7))
    charts: dict[str, str] = {}
    objectives: list[dict[str, Any]] = []
    by_id = {m["measure_id"]: m for m in data.measures}
    for measure in data.measures:
        row = data.scorecard.get(measure["measure_id"]) or {"status": "data gap", "value": None,
                                                            "data_gap_reason": "not assessed for this force"}
        if not objectives or objectives[-1]["objective_id"] != measure["objective_id"]:
            objectives.append({"objective_id": measure["objective_id"], "objective": measure["objective"], "items": []})
        chart_id = f"chart-{_slug(measure['measure_id'])}"
        chart = None
        points = data.spc.get(measure["measure_id"])
        title = f"{measure['measure_name']}, {data.force_name}"
        if points and row.get("value") is not None:
            assessed = row.get("assessed_period_start")
            chart = spc_chart(points, unit=measure["unit"], target=measure.get("target_value"),
                              title=f"{title}: by month", chart_id=chart_id, assessed_start=assessed)
        elif data.history.get(measure["measure_id"]) and row.get("value") is not None:
            kind = "by year" if measure["period_grain"] == "year" else "by quarter"
            chart = bar_chart(data.history[measure["measure_id"]], unit=measure["unit"], title=f"{title}: {kind}",
                              chart_id=chart_id)
        elif measure["statistic"] == "disproportionality" and row.get("value") is not None:
            groups = [r for r in data.disproportionality if r["measure_id"] == measure["measure_id"]]
            if groups:
                chart = disproportionality_chart(groups, chart_id=chart_id, title=f"{title}: twelve months to {data.quarter.words.split(' to ')[1]}")
        if chart:
            charts[chart_id] = chart
        csp = [r for r in data.csp_rows if r["measure_id"] == measure["measure_id"]]
        objectives[-1]["items"].append({
            "measure": measure, "row": row, "chart_id": chart_id if chart else None, "chart": chart,
            "chart_title": title, "sentences": measure_sentences(row, measure, shift_points=shift_points),
            "badge": STATUS_BADGES.get(row.get("status"), STATUS_BADGES["data gap"]),
            "csp_rows": csp,
        })
    counts = {status: sum(1 for o in objectives for i in o["items"] if i["row"].get("status") == status) for status in STATUSES}
    national = []
    for priority in NATIONAL_PRIORITY_ORDER:
        items = [i for o in objectives for i in o["items"] if i["measure"].get("national_priority") == priority]
        if not items:
            continue
        items.sort(key=lambda i: (not i["measure"]["is_national"], i["measure"]["measure_order"]))
        national.append({"priority": priority, "name": items[0]["measure"]["national_priority_name"], "items": items})
    csp_measures = [m for m in data.measures if any(r["measure_id"] == m["measure_id"] for r in data.csp_rows)]
    csp_table = {}
    for r in data.csp_rows:
        csp_table.setdefault(r["area_name"], {})[r["measure_id"]] = r
    if data.csp_matrix[0]:
        charts["chart-csp-priorities"] = heatmap_chart(data.csp_matrix[0], chart_id="chart-csp-priorities",
                                                      title=f"CSP strategic assessments: priorities by theme, {data.force_name}")
    consultation = consultation_context(data, charts)
    headline_ids = [m["measure_id"] for m in data.measures if m["is_national"]] + [m["measure_id"] for m in data.measures]
    tiles = []
    for measure_id in dict.fromkeys(headline_ids):
        row = data.scorecard.get(measure_id)
        if row and row.get("value") is not None and len(tiles) < 4:
            tiles.append({"measure": by_id[measure_id], "row": row, "badge": STATUS_BADGES[row["status"]]})
    parameters = {name: _dbt_var(name, default) for name, default in (
        ("spc_limit_multiplier", 2.66), ("spc_min_points", 15), ("spc_baseline_points", 0), ("spc_shift_points", 7),
        ("spc_trend_points", 7), ("spc_near_limit_sigma", 2), ("significance_level", 0.05),
        ("poisson_exact_max_total", 200))}
    context = {
        "data": data, "quarter": data.quarter, "objectives": objectives, "counts": counts, "national": national,
        "tiles": tiles, "csp_measures": csp_measures, "csp_table": csp_table, "parameters": parameters,
        "badges": STATUS_BADGES, "statuses": STATUSES, "charts": charts,
        "published_at": data.published_at, "title": f"Police and Crime Plan: performance report, {data.quarter.words}",
        "consultation": consultation,
    }
    return context, charts


def consultation_context(data: ReportData, charts: dict[str, str]) -> dict[str, Any]:
    """The consultation section: its charts (added to ``charts``), the alignment table and the notes."""
    survey, note = data.consultation.get("survey", ([], "No public consultation is loaded for this force."))
    if not survey:
        return {"survey_id": None, "note": note}
    priorities, priorities_note = data.consultation.get("priorities", ([], None))
    confidence, _ = data.consultation.get("confidence", ([], None))
    weighting, _ = data.consultation.get("weighting", ([], None))
    groups, _ = data.consultation.get("groups", ([], None))
    objectives, _ = data.consultation.get("objectives", ([], None))
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
        "groups": groups, "weighting": weighting,
        "respondents": sum(w["respondent_count"] for w in weighting),
        "flagged_districts": [w["lad_name"] for w in weighting if w["is_small_group"] or w["is_low_effective_sample"]],
        "min_group_respondents": _dbt_var("consultation_min_group_respondents", 30),
        "min_effective_sample_size": _dbt_var("consultation_min_effective_sample_size", 50),
        "trim_cap": weighting[0]["trim_cap"] if weighting else _dbt_var("consultation_trim_cap", 5),
    }


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(value=format_value, change=format_change, p=format_p, ordinal=ordinal)
    env.globals.update(period_words=period_words, month_name=lambda d: f"{MONTHS[d.month - 1]} {d.year}")
    return env


def scorecard_rows(data: ReportData) -> list[dict[str, Any]]:
    columns = ("reporting_period", "area_type", "area_code", "area_name", "objective", "measure_id", "measure_name",
               "unit", "polarity", "is_national", "national_priority", "assessed_period_label", "value",
               "value_lower_95", "value_upper_95", "baseline_periods", "baseline_value", "change_value", "change_ratio",
               "test_name", "p_value", "is_significant", "spc_variation", "spc_rules", "target_value", "meets_target",
               "msg_rank", "msg_forces_with_data", "status", "data_gap_reason")
    rows = list(data.scorecard.values()) + data.csp_rows
    rows.sort(key=lambda r: (r["area_type"] != "force", r.get("area_name") or "", r["objective_order"], r["measure_order"]))
    return [{c: r.get(c) for c in columns} for r in rows]


def _write_scorecard(folder: Path, rows: list[dict[str, Any]], published_at: Any) -> None:
    with (folder / "scorecard.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["measure_id"])
        writer.writeheader()
        writer.writerows(rows)
    try:
        from openpyxl import Workbook
    except ImportError:  # pragma: no cover - openpyxl is in the lock
        return
    book = Workbook()
    sheet = book.active
    sheet.title = "scorecard"
    if rows:
        sheet.append(list(rows[0]))
        for row in rows:
            sheet.append([v if not isinstance(v, float) or not math.isnan(v) else None for v in row.values()])
        sheet.freeze_panes = "A2"
    if isinstance(published_at, datetime):
        book.properties.created = book.properties.modified = published_at
    book.save(folder / "scorecard.xlsx")


def check_rendered(folder: Path, data: ReportData) -> None:
    """The report gate: every measure of the plan is in the report, with a value or a data gap,
    and every chart the report names is there. Raises ReportError (the old report stays)."""
    html = (folder / REPORT_FILE).read_text(encoding="utf-8")
    missing = [m["measure_id"] for m in data.measures if f'id="measure-{_slug(m["measure_id"])}"' not in html]
    if missing:
        raise ReportError(f"the rendered report lacks measure(s) {', '.join(missing)}")
    for chart in re.findall(r'data-chart="([^"]+)"', html):
        if not (folder / "charts" / f"{chart}.svg").exists():
            raise ReportError(f"chart {chart} was not written")
    if "{{" in html or "{%" in html:
        raise ReportError("template syntax left in the rendered report")


def replace_directory(source: Path, target: Path) -> None:
    """Put ``source`` at ``target``, replacing any old folder in one step where the OS allows
    (Linux renameat2 RENAME_EXCHANGE), else by two renames a moment apart."""
    if not target.exists():
        os.rename(source, target)
        return
    if _exchange(source, target):
        shutil.rmtree(source)  # now holds the old report
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(target, old)
    try:
        os.rename(source, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def reports_dir(settings: Settings) -> Path:
    configured = (settings.sections.get("report") or {}).get("out_dir", "reports")
    path = Path(str(configured).replace("{root}", str(settings.root)))
    return path if path.is_absolute() else settings.root / path


def default_force(settings: Settings) -> str:
    return (settings.sections.get("report") or {}).get("force_id") or settings.police_uk.forces[0]


def render(settings: Settings, period: str | None = None, *, force_id: str | None = None,
           published: Path | None = None, out_dir: Path | None = None) -> Path:
    """Render the report for ``period`` (``2025Q3``; default the latest complete quarter) into
    ``reports/<period>/`` and return the path of ``performance_report.html``."""
    import duckdb

    published = Path(published or settings.paths.published)
    if not published.exists():
        raise ReportError(f"{published} does not exist: run the evidence build (make demo) first")
    force_id = force_id or default_force(settings)
    quarter = Quarter.parse(period) if period else None
    with duckdb.connect(str(published), read_only=True) as con:
        data = load_report_data(con, published, force_id, quarter)
    context, charts = build_context(data)
    env = _environment()
    root = Path(out_dir or reports_dir(settings))
    root.mkdir(parents=True, exist_ok=True)
    target = root / data.quarter.label
    building = Path(tempfile.mkdtemp(prefix=f".{data.quarter.label}.", dir=root))
    try:
        (building / "charts").mkdir()
        for name, svg in charts.items():
            (building / "charts" / f"{name}.svg").write_text(
                '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg, encoding="utf-8")
        (building / REPORT_FILE).write_text(env.get_template("performance_report.html.j2").render(**context), encoding="utf-8")
        (building / STATEMENT_FILE).write_text(env.get_template("national_statement.html.j2").render(**context), encoding="utf-8")
        _write_scorecard(building, scorecard_rows(data), data.published_at)
        check_rendered(building, data)
        building.chmod(0o755)
        replace_directory(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    report = target / REPORT_FILE
    log.info("rendered %s (%d measures, %d charts, %.0f kB)", report, len(data.measures), len(charts),
             report.stat().st_size / 1024)
    return report


def check_quarter_published(settings: Settings, period: str, *, force_id: str | None = None,
                            published: Path | None = None) -> str:
    """The DAG's gate: the published file holds the plan's measures and completes ``period`` for
    the force. Returns the period; raises ReportNotReady (or ReportError) naming what is missing."""
    import duckdb

    published = Path(published or settings.paths.published)
    if not published.exists():
        raise ReportNotReady(f"{published} does not exist yet: the evidence build has not published")
    quarter = Quarter.parse(period)
    force_id = force_id or default_force(settings)
    with duckdb.connect(str(published), read_only=True) as con:
        _check_published(con, published)
        quarters = reportable_quarters(con, force_id)
    if quarter.label not in quarters:
        raise ReportNotReady(
            f"{published}: {quarter} is not complete for {force_id} (the published data completes "
            f"{quarters[-1] if quarters else 'no quarter'}). Its last month may not be published yet, or the "
            "evidence build stopped at a gate; the previous report stays in place.")
    return quarter.label


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quarter", help="e.g. 2024Q2 (calendar quarter); default: the latest complete one")
    parser.add_argument("--force", help="data.police.uk force id; default [report] force_id, else the first configured force")
    parser.add_argument("--published", type=Path, help="published DuckDB file (default: [paths] published)")
    parser.add_argument("--out", type=Path, help="reports folder (default: reports/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        path = render(load_settings(), args.quarter, force_id=args.force, published=args.published, out_dir=args.out)
    except ReportError as exc:
        print(f"report not rendered: {exc}", file=__import__("sys").stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
