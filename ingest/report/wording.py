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


def format_ncpm_value(value: float | None, unit: str | None) -> str:
    """A statement figure: offences as a whole number, a share (already in per cent) to one decimal,
    a mean time in whole seconds."""
    if is_missing(value):
        return NO_VALUE
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f} s" if unit == "seconds" else f"{value:,.0f}"


def format_change(change_ratio: float | None) -> str:
    return NO_VALUE if is_missing(change_ratio) else f"{100 * change_ratio:+.1f}%"


def format_p(p: float | None) -> str:
    if is_missing(p):
        return NO_VALUE
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def is_significant(row: dict) -> bool:
    """Significant after the quarter's false-discovery-rate adjustment where the marts give it (the
    status is judged on it); the test's own result for a file published before the adjustment."""
    if row.get("is_significant_adjusted") is not None:
        return bool(row["is_significant_adjusted"])
    return bool(row.get("is_significant"))


def format_significance(row: dict) -> str:
    """``p = 0.036; 0.321 after allowing for the quarter's 9 tests`` (the raw p, then the adjusted one)."""
    text = format_p(row.get("p_value"))
    q, tests = row.get("q_value"), row.get("fdr_family_size")
    if not is_missing(q) and tests and tests > 1:
        text += f"; {'< 0.001' if q < 0.001 else f'{q:.3f}'} after allowing for the quarter's {tests} tests"
    return text


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
        if is_significant(row):
            sentences.append(f"The {change} is statistically significant ({format_significance(row)}).")
        else:
            sentences.append(f"The {change} is not statistically significant ({format_significance(row)}): "
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


# Codes the marts use for a state, in the words a reader sees; any other code reads with spaces.
CODE_WORDS = {
    "not_graded": "not graded",
    "first_graded_inspection": "first graded inspection",
    "asb": "anti-social behaviour",
    "vawg": "violence against women and girls",
    "fraud_and_cyber": "fraud and cyber crime",
    "acquisitive_crime": "acquisitive and neighbourhood crime",
    "lower": "lower is better",
    "higher": "higher is better",
    "none": "neither (context)",
    "same_period_last_year": "same period last year",
    "mean_previous_3_years": "average of the previous three years",
    "previous_period": "previous period",
}
_IDENTIFIER = re.compile(r"\b[A-Za-z][\w.]*_[\w.]*\w\b")


def plain(code: Any) -> str:
    """A code from the marts in words ('not_graded' -> 'not graded'); a dash for none."""
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return NO_VALUE
    text = str(code)
    return CODE_WORDS.get(text, text.replace("_", " "))


def mark_identifiers(text: str | None) -> str:
    """HTML for a reason the marts wrote: table and column names (``evidence.fct_budget``,
    ``savings_delivered_gbp``) set as code, the rest escaped, so no bare code reads as prose."""
    from markupsafe import Markup, escape

    if not text:
        return Markup("")
    parts, last = [], 0
    for match in _IDENTIFIER.finditer(text):
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup("<code>{}</code>").format(match.group()))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _change_clause(row: dict[str, Any], measure: dict[str, Any]) -> str:
    """'down 1.7% on the same quarter last year (35,471)'; a percentage against its baseline
    percentage ('down from 7.6% in the same quarter last year'); or why there is no comparison."""
    unit = measure.get("unit")
    baseline = row.get("baseline_value")
    against = _baseline_words(row, measure)
    if is_missing(baseline):
        return "no baseline yet to compare it with"
    direction = row.get("direction")
    if measure.get("baseline_rule") == "previous_period" and row.get("baseline_periods") and direction != "unchanged":
        return f"{'up' if direction == 'higher' else 'down'} from {format_value(baseline, unit)} in {row['baseline_periods']}"
    if direction == "unchanged" or row.get("change_ratio") == 0:
        return f"the same as {against} ({format_value(baseline, unit)})"
    word = "up" if direction == "higher" else "down"
    if unit == "percent":
        joiner = " in " if against.startswith("the same") else ", "
        return f"{word} from {format_value(baseline, unit)}{joiner}{against}"
    if is_missing(row.get("change_ratio")):
        return f"{word} on {against} ({format_value(baseline, unit)})"
    return f"{word} {abs(100 * row['change_ratio']):.1f}% on {against} ({format_value(baseline, unit)})"


def summary_line(row: dict[str, Any], measure: dict[str, Any], quarter: Quarter | None = None) -> str:
    """One plain sentence for the summary page: the figure, its change and whether the change is
    more than chance, and what the monthly chart shows when it flags a special cause.

    e.g. "34,851, down 1.7% on the same quarter last year (35,471): statistically significant
    (p = 0.020)." (the period is named when it is not the report's ``quarter``).
    """
    unit = measure.get("unit")
    when = period_words(row.get("assessed_period_label"), row.get("assessed_period_type"), measure.get("statistic"))
    # The page names the report's quarter once; a measure assessed over another period says which.
    same = quarter is not None and row.get("assessed_period_label") == quarter.label and row.get(
        "assessed_period_type") == "quarter" and measure.get("statistic") != "disproportionality"
    text = f"{format_value(row.get('value'), unit)}{'' if same else f' in {when}'}, {_change_clause(row, measure)}"
    if row.get("test_name") and not is_missing(row.get("p_value")):
        text += (f": statistically significant ({format_significance(row)})" if is_significant(row)
                 else f": within chance ({format_significance(row)})")
    spc = row.get("spc_variation")
    if spc and spc.startswith("special_cause"):
        kind = {"special_cause_improvement": " for the better", "special_cause_concern": " for the worse"}.get(spc, "")
        text += f". The monthly chart flags a change{kind} ({row.get('spc_rules') or 'special cause'})"
    return text + "."


def peer_words(row: dict[str, Any]) -> str | None:
    """'3rd of 8 forces with data (1st is best)', or None where the force is not ranked."""
    if is_missing(row.get("msg_rank")) or not row.get("msg_forces_with_data"):
        return None
    return f"{ordinal(int(row['msg_rank']))} of {int(row['msg_forces_with_data'])} forces with data (1st is best)"


def target_words(row: dict[str, Any], measure: dict[str, Any]) -> str:
    """'3.06 against a target of 1.00: not met'; 'target 90.0%: no data yet'."""
    unit = measure.get("unit")
    target = format_value(row.get("target_value", measure.get("target_value")), unit)
    if is_missing(row.get("value")):
        return f"target {target}: no data yet"
    verdict = {True: "met", False: "not met"}.get(row.get("meets_target"), "not judged")
    return f"{format_value(row['value'], unit)} against a target of {target}: {verdict}"


FUNNEL_POSITIONS = {
    "above_99_8": "significantly above the group (beyond its 99.8% limit)",
    "above_95": "above the group (beyond its 95% limit)",
    "within": "within the group's limits (no significant difference)",
    "below_95": "below the group (beyond its 95% limit)",
    "below_99_8": "significantly below the group (beyond its 99.8% limit)",
}


def funnel_words(position: Any) -> str | None:
    """Where a value stands on its funnel plot, in words (None when it has no position)."""
    return None if is_missing(position) else FUNNEL_POSITIONS.get(str(position), plain(position))
