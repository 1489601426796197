"""The report's charts, drawn with matplotlib and returned as SVG text to inline in the HTML.

Each chart is deterministic for the same rows (ids salted by the chart's id, no dates in the
metadata), so the same published data renders the same bytes, and text stays text in the SVG
(small, sharp, searchable, read by a screen reader through the figure's title).
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

# Colours after NHS "Making Data Count": blue improvement, orange concern, purple neither.
IMPROVEMENT, CONCERN, NEITHER, COMMON = "#1f5fa8", "#d9661f", "#7b3294", "#6b6b6b"
# Inches: a little under the A4 page's text width (182 mm), so the 8 pt text prints near 8 pt.
WIDTH = 6.6


def _pyplot():
    # Imported on first use: the backend must be chosen before pyplot is imported, and the DAG's
    # gate, which imports this package, never draws.
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


def _figure(height: float):
    return _pyplot().subplots(figsize=(WIDTH, height))


def _svg(fig, ax, title: str, chart_id: str) -> str:
    """The finished chart as inline SVG, titled; the figure is closed."""
    ax.set_title(title, loc="left", fontsize=8.5, color="#222222")
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
    import matplotlib.dates as mdates

    fig, ax = _figure(2.3)
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
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
    ax.margins(x=0.01)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
    return _svg(fig, ax, title, chart_id)


def bar_chart(rows: list[dict[str, Any]], *, unit: str | None, title: str, chart_id: str) -> str:
    """Quarterly or annual values (the last eight), the assessed period darker, with 95% intervals."""
    rows = rows[-8:]
    fig, ax = _figure(2.0)
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
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6, zorder=0)
    return _svg(fig, ax, title, chart_id)


def disproportionality_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str) -> str:
    """Rate ratios against White with 95% intervals, on a log scale (1 = the same rate)."""
    shown = [r for r in rows if r["ethnic_group"] != "White" and r.get("rate_ratio")]
    fig, ax = _figure(0.45 + 0.32 * max(len(shown), 1))
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
    return _svg(fig, ax, title, chart_id)


def heatmap_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str) -> str:
    """CSP x theme: a priority (dark), mentioned (light), not mentioned (white)."""
    from matplotlib.colors import ListedColormap

    csps = sorted({r["csp_name"] for r in rows})
    themes = sorted({(r["theme_sort_order"], r["theme_label"]) for r in rows})
    index = {(r["csp_name"], r["theme_label"]): 2 if r["is_priority"] else 1 if r["is_mentioned"] else 0 for r in rows}
    grid = [[index.get((csp, label), 0) for _, label in themes] for csp in csps]
    fig, ax = _figure(0.9 + 0.24 * len(csps))
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
    return _svg(fig, ax, title, chart_id)


def consultation_priorities_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str, top: int = 3) -> str:
    """Districts × priorities: the weighted share in each cell, each district's top ``top`` outlined;
    districts flagged for a small or low effective sample are marked (†) in their label."""
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
    fig, ax = _figure(1.3 + 0.23 * len(names))
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
    return _svg(fig, ax, title, chart_id)


def confidence_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str) -> str:
    """Weighted share confident with 95% intervals per district, the force area first; small or
    low-effective-sample districts drawn hollow and marked †."""
    shown = [r for r in rows if r.get("weighted_share_confident") is not None]
    fig, ax = _figure(0.6 + 0.22 * max(len(shown), 1))
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
    return _svg(fig, ax, title, chart_id)


def group_shares_chart(rows: list[dict[str, Any]], *, chart_id: str, title: str, x_label: str,
                       reference: float | None = None) -> str:
    """Shares by group with 95% intervals, one line per group under its characteristic's heading
    (rows carry ``label``, ``heading``, ``share``, ``lower``, ``upper`` as 0-1 and ``flagged``); a
    flagged (small) group drawn hollow and marked †; ``reference`` (everyone) a dotted line."""
    shown = [r for r in rows if r.get("share") is not None]
    fig, ax = _figure(0.6 + 0.2 * max(len(shown), 1))
    labels = []
    for i, r in enumerate(shown):
        if r.get("lower") is not None:
            ax.plot([r["lower"] * 100, r["upper"] * 100], [i, i], color=COMMON, linewidth=1.4)
        ax.plot([r["share"] * 100], [i], "o", markersize=4.5, color=COMMON,
                markerfacecolor="white" if r["flagged"] else COMMON)
        labels.append(f"{r['heading']}: {r['label']}{' †' if r['flagged'] else ''}")
    if reference is not None:
        ax.axvline(reference * 100, color=NEITHER, linewidth=0.6, linestyle=":")
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(x_label)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    return _svg(fig, ax, title, chart_id)


def funnel_limits(group_value: float, exposure: float, z: float, *, proportion: bool) -> tuple[float, float]:
    """The funnel's limits at ``exposure`` around the pooled ``group_value`` (as the mart computes
    them, int_measure__peer_funnel): rates per 1,000 use p +/- z sqrt(p / n) with p per resident
    (Poisson), proportions p +/- z sqrt(p (1 - p) / n) (binomial); the lower limit is at least 0."""
    import math

    scale = 1.0 if proportion else 1000.0
    p = group_value / scale
    spread = math.sqrt(p * (1 - p) / exposure) if proportion else math.sqrt(p / exposure)
    return scale * max(p - z * spread, 0.0), scale * (p + z * spread)


def funnel_chart(rows: list[dict[str, Any]], *, title: str, chart_id: str, x_label: str,
                 polarity: str | None = None) -> str:
    """A funnel plot: each member's value against its size (residents, or the denominator), the
    group's pooled value, and its 95 % (dashed) and 99.8 % (dotted) limits; points beyond the 99.8 %
    limits are coloured, the compared force is the large dark point and every point is named."""
    shown = [r for r in rows if r.get("comparison_value") is not None and r.get("exposure")]
    proportion = any(r.get("comparison_statistic") == "proportion" for r in shown)
    # Half the text column: a measure's two funnel plots print side by side.
    fig, ax = _pyplot().subplots(figsize=(WIDTH / 2, 2.2))
    group = next((r["group_value"] for r in shown if r.get("group_value") is not None), None)
    if shown and group is not None:
        low, high = min(r["exposure"] for r in shown), max(r["exposure"] for r in shown)
        xs = [low * 0.8 + (high * 1.2 - low * 0.8) * i / 80 for i in range(81)]
        ax.axhline(group, color="#333333", linewidth=1, zorder=1)
        for z, style in ((1.959964, (0, (4, 3))), (3.090232, (0, (1, 2)))):
            limits = [funnel_limits(group, x, z, proportion=proportion) for x in xs]
            ax.plot(xs, [lo for lo, _ in limits], color="#555555", linewidth=0.9, linestyle=style, zorder=1)
            ax.plot(xs, [hi for _, hi in limits], color="#555555", linewidth=0.9, linestyle=style, zorder=1)
    # Beyond the 99.8 % limits: blue on the better side, orange on the worse (purple for a neutral measure).
    better, worse = {"lower_is_better": ("below_99_8", "above_99_8"),
                     "higher_is_better": ("above_99_8", "below_99_8")}.get(polarity or "", (None, None))
    colours = ({better: IMPROVEMENT, worse: CONCERN} if better else {"above_99_8": NEITHER, "below_99_8": NEITHER})
    for r in shown:
        colour = colours.get(r.get("funnel_position"), COMMON)
        own = r.get("is_compared_force")
        ax.scatter([r["exposure"]], [r["comparison_value"]], s=34 if own else 16, zorder=3,
                   color="#222222" if own else colour, edgecolors="white", linewidths=0.5)
        ax.annotate(r.get("member_area_name") or r["member_area_code"], (r["exposure"], r["comparison_value"]),
                    xytext=(3, 2), textcoords="offset points", fontsize=6,
                    color="#222222" if own else "#555555", fontweight="bold" if own else "normal")
    from matplotlib.ticker import FuncFormatter

    if proportion:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.1f}%"))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"))
        ax.set_ylabel("per 1,000 residents")

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:,.1f}m" if v >= 1e6 else f"{v:,.0f}"))
    ax.set_xlabel(x_label)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6, zorder=0)
    return _svg(fig, ax, title, chart_id)
