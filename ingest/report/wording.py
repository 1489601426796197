"""Numbers and statuses in words: the formats the templates use as filters, and the plain-English
sentences under each measure, written from its scorecard row alone."""

from __future__ import annotations

import math
import re
from typing import Any

from ingest.report.quarter import QUARTER, Quarter

STATUSES = ("improving", "deteriorating", "no significant change", "not assessed", "data gap")
STATUS_BADGES = {
    # status: (symbol, css class, words for a screen reader and for print in black and white)
    "improving": ("✔", "improving", "Improving"),
    "deteriorating": ("✖", "deteriorating", "Deteriorating"),
    "no significant change": ("●", "steady", "No significant change"),
    "not assessed": ("○", "context", "Not assessed"),
    "data gap": ("?", "gap", "Data gap"),
}
NO_VALUE = "–"


def is_missing(value: float | None) -> bool:
    # NULL and NaN both mean the marts have no figure: shown as a dash, never as 'nan'.
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, unit: str | None, *, signed: bool = False) -> str:
    if is_missing(value):
        return NO_VALUE
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
    return NO_VALUE if is_missing(change_ratio) else f"{100 * change_ratio:+.1f}%"


def format_p(p: float | None) -> str:
    if is_missing(p):
        return NO_VALUE
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def slug(text: str) -> str:
    """A measure id as an HTML id ('stop_search_count' -> 'stop-search-count'): the template's
    anchors, the chart files and the report's gate all name a measure through this one function."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def period_words(label: str | None, period_type: str | None, statistic: str | None = None) -> str:
    """How a sentence names an assessed period: 'July to September 2025', 'the twelve months to
    September 2025', '2025-26', 'the 2023 inspection'."""
    if not label:
        return "the period"
    if period_type == "quarter" and QUARTER.match(label):
        quarter = Quarter.parse(label)
        if statistic == "disproportionality":
            return f"the twelve months to {quarter.last_month}"
        return quarter.words
    if re.match(r"^\d{4}-\d{2}$", label):
        return f"financial year {label}"
    return label


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


def _comparison_sentences(row: dict[str, Any], measure: dict[str, Any], opening: str) -> list[str]:
    """The value against its baseline, and whether the change is more than chance."""
    unit = measure.get("unit")
    baseline = row.get("baseline_value")
    if baseline is None:
        return [f"{opening}. There is no baseline to compare it with yet "
                f"({_baseline_words(row, measure)} is not in the data)."]
    direction = row.get("direction")
    than = "higher" if direction == "higher" else "lower"
    if direction == "unchanged":
        comparison = f"the same as {_baseline_words(row, measure)}"
    elif row.get("change_ratio") is None:
        comparison = f"{than} than {_baseline_words(row, measure)}"
    else:
        comparison = f"{abs(100 * row['change_ratio']):.1f}% {than} than {_baseline_words(row, measure)}"
    sentences = [f"{opening}, {comparison} ({format_value(baseline, unit)})."]
    change = "rise" if direction == "higher" else "fall" if direction == "lower" else "difference"
    if row.get("test_name") and row.get("p_value") is not None:
        if row.get("is_significant"):
            sentences.append(f"The {change} is statistically significant ({format_p(row['p_value'])}).")
        else:
            sentences.append(f"The {change} is not statistically significant ({format_p(row['p_value'])}): "
                             "it is within what chance alone would give.")
    return sentences


def _spc_sentence(row: dict[str, Any], shift_points: int) -> str | None:
    """What the monthly control chart shows; a run on one side of the mean is named a little
    before it is long enough to be a special cause, so the panel sees it coming."""
    spc = row.get("spc_variation")
    run, side = row.get("spc_side_run_length"), row.get("spc_side_of_centre_line")
    if spc in ("special_cause_improvement", "special_cause_concern", "special_cause_neither", "special_cause_mixed"):
        kind = {"special_cause_improvement": "an improvement", "special_cause_concern": "a concern"}.get(spc, "a change")
        rules = row.get("spc_rules") or "special cause"
        tail = f"; the last {run} months sit {side} the average" if run and run >= shift_points and side in ("above", "below") else ""
        return f"The monthly chart shows special-cause variation ({rules}), {kind}{tail}."
    if spc == "common_cause":
        tail = f", though the last {run} months sit {side} the average" if run and run >= shift_points - 2 and side in ("above", "below") else ""
        return f"Month to month the chart shows only common-cause variation{tail}."
    return None


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
    sentences = _comparison_sentences(row, measure, f"{name}{where}: {format_value(row['value'], unit)} in {when}")
    spc = _spc_sentence(row, shift_points)
    if spc:
        sentences.append(spc)
    extras = []
    if row.get("target_value") is not None and row.get("meets_target") is not None:
        extras.append(f"the target of {format_value(row['target_value'], unit)} is {'met' if row['meets_target'] else 'not met'}")
    if row.get("msg_rank") is not None and row.get("msg_forces_with_data"):
        extras.append(f"the force ranks {ordinal(int(row['msg_rank']))} of {int(row['msg_forces_with_data'])} forces "
                      f"with data in its most similar group")
    if extras:
        sentences.append(extras[0][0].upper() + "; ".join(extras)[1:] + ".")
    return sentences
