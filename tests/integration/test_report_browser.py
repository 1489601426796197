"""The quarterly report as a reader gets it: headless Chromium opens ``reports/<quarter>/`` from disk
(the folder ``render()`` writes), with name resolution switched off so no request can leave the
machine, and prints it on A4.

Two reports: a hand-made quarter built to be hard to lay out (long names, ranks among similar forces,
five financial years, ten CSPs, a PEEL area not graded), always; and the demo's published file
(``make demo``), copied first, when there is one. For each: nothing is fetched from outside the
folder (a canary page proves the check would see it), every chart the context lists is drawn, nothing
is wider than the A4 text column, the summary is page 1 alone, the print is A4 within a page range,
and no code from the marts reaches the reader. Screenshots and PDFs are kept in the test's temporary
folder (paths printed with ``-s``).

Chromium comes from Debian (``make services-deps``); without it the browser tests skip, saying so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest

from ingest.report import STATEMENT_FILE, ReportData, build_context, render
from ingest.report.quarter import Quarter

ROOT = Path(__file__).resolve().parents[2]
DEMO_PUBLISHED = ROOT / "published" / "evidence.duckdb"
DBT_DOCS = ROOT / "published" / "docs" / "dbt" / "index.html"
CHROMIUM = next((path for name in ("chromium", "chromium-browser") if (path := shutil.which(name))), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH: `make services-deps` installs Debian's chromium")

# A4 at 96 CSS pixels to the inch: 210 mm wide, the print's text column 182 mm (14 mm margins).
A4_WINDOW = "--window-size=794,1123"
A4_POINTS = (595, 842)
# Printed pages the reports may take: the hand-made quarter's size is known; the demo's depends on the
# plan and the sample (47 measures, most with a page of detail: the monthly chart and the peer and CSP
# funnels; 12 CSPs, a consultation, the equality section: 69 pages when this was written).
PAGES = {"hand-made": (14, 24), "demo": (50, 85)}
STATEMENT_PAGES = (1, 4)

# Runs before anything loads: records every resource fetched or failed, then, on load, what a reader
# would meet. Chromium's --dump-dom prints the page with the result in <pre id="report-probe">.
PROBE = """<script>
window.__failed = [];
addEventListener('error', function (e) {
  if (e.target && e.target !== window) { window.__failed.push(e.target.src || e.target.href || e.target.tagName); }
}, true);
addEventListener('load', function () {
  var root = document.documentElement, body = document.body, style = getComputedStyle(body);
  var right = body.getBoundingClientRect().right - parseFloat(style.paddingRight);
  var wide = [];
  document.querySelectorAll('body *').forEach(function (el) {
    var box = el.getBoundingClientRect(), up = el.parentElement;
    var parentWide = up && up !== body && up.getBoundingClientRect().right > right + 1;
    if (box.width > 0 && box.right > right + 1 && !parentWide) {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.getAttribute('aria-label') ? '[' + el.getAttribute('aria-label') + ']' : '') +
                ' +' + Math.round(box.right - right) + 'px');
    }
  });
  var charts = Array.prototype.slice.call(document.querySelectorAll('figure svg'));
  var drawn = charts.filter(function (s) { var b = s.getBoundingClientRect(); return b.width > 100 && b.height > 40; });
  var summary = document.getElementById('summary');
  var result = {
    title: document.title, scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, overflowing: wide,
    svgs: document.querySelectorAll('svg').length, charts: charts.length, chartsDrawn: drawn.length,
    resources: performance.getEntriesByType('resource').map(function (r) { return r.name; }),
    failed: window.__failed, summaryHeight: summary ? summary.getBoundingClientRect().height : null,
    text: body.innerText.length
  };
  var out = document.createElement('pre');
  out.id = 'report-probe';
  out.textContent = JSON.stringify(result);
  body.appendChild(out);
});
</script>"""


# --------------------------------------------------------------------------- a quarter hard to lay out

QUARTER = Quarter(2025, 3)
ASSESSMENT_COLUMNS = (
    "reporting_period", "area_type", "area_code", "area_name", "objective", "objective_order", "measure_id",
    "measure_name", "measure_order", "statistic", "unit", "polarity", "is_national", "national_priority",
    "assessed_period_type", "assessed_period_start", "assessed_period_label", "value", "value_lower_95",
    "value_upper_95", "numerator", "denominator", "baseline_periods", "baseline_value", "change_value", "change_ratio",
    "rate_ratio", "rate_ratio_lower_95", "rate_ratio_upper_95", "test_name", "p_value", "is_significant", "direction",
    "spc_variation", "spc_rules", "spc_side_of_centre_line", "spc_side_run_length", "spc_centre_line",
    "spc_assurance", "target_value", "meets_target", "msg_rank", "msg_forces_with_data", "msg_group_size", "status",
    "data_gap_reason")

# (id, name, objective, unit, statistic, polarity, national priority, status, value, baseline, p, spc, target, rank)
PLAN = [
    ("total_crime", "Total recorded crime excluding fraud and computer misuse (police.uk street-level records)",
     "tackle", "count", "count", "lower_is_better", None, "improving", 56943, 57869, 0.0063, "common_cause", None, None),
    ("total_crime_rate", "Total crime per 1,000 residents of the force area (mid-year population estimate)",
     "tackle", "per_1000_residents", "rate_per_1000_population", "lower_is_better", None, "improving", 22.6965,
     23.0656, 0.0063, "common_cause", None, (3, 8)),
    ("neighbourhood_crime", "Neighbourhood crime: burglary, robbery, theft from the person and vehicle crime",
     "tackle", "count", "count", "lower_is_better", "neighbourhood_crime", "no significant change", 8677, 8887,
     0.1148, "special_cause_improvement", None, None),
    ("homicide", "Homicide", "protect", "count", "count", "lower_is_better", "homicide", "not assessed", 14, None,
     None, None, None, None),
    ("serious_violence", "Violence with injury recorded by the Home Office", "protect", "count", "count",
     "lower_is_better", "serious_violence", "deteriorating", 8941, 8596, 0.0094, "special_cause_concern", None, None),
    ("stop_search_count", "Stop and searches", "protect", "count", "count", "neutral", None, "not assessed", 2738,
     2556, 0.0129, "special_cause_neither", None, None),
    ("charge_summons_rate", "Crimes resulting in a charge or summons, all offences, as a share of crimes recorded",
     "victims", "percent", "proportion", "higher_is_better", None, "deteriorating", 0.0712, 0.0762, 0.0155,
     "common_cause", None, (7, 8)),
    ("calls_999_answered_10s", "999 calls answered within 10 seconds", "victims", "percent", "proportion",
     "higher_is_better", None, "data gap", None, None, None, None, 0.9, None),
    ("victim_satisfaction", "Victims satisfied with the overall service", "victims", "percent", "proportion",
     "higher_is_better", "victim_satisfaction", "data gap", None, None, None, None, None, None),
    ("stop_search_disproportionality_black", "Black people searched relative to White people", "service", "ratio",
     "disproportionality", "lower_is_better", None, "no significant change", 3.0589, 2.7955, 0.4682, None, 1.0,
     (5, 8)),
    ("net_revenue_budget", "Net revenue budget", "service", "gbp", "value", "neutral", None, "not assessed",
     838956847.0, None, None, None, None, None),
    ("savings_delivered", "Savings delivered against plan", "service", "percent", "proportion", "higher_is_better",
     None, "data gap", None, None, None, None, 1.0, None),
]
OBJECTIVES = {"tackle": (1, "Tackle crime and reoffending in every community of the force area"),
              "protect": (2, "Protect vulnerable people and reduce serious violence"),
              "victims": (3, "Support victims and witnesses through the criminal justice system"),
              "service": (4, "An efficient and effective police service")}
NATIONAL_NAMES = {"neighbourhood_crime": "Reduce neighbourhood crime", "homicide": "Reduce murder and other homicide",
                  "serious_violence": "Reduce serious violence", "victim_satisfaction": "Improve satisfaction among victims"}
GAP_REASONS = {"calls_999_answered_10s": "999 call answer times are not loaded by the platform.",
               "victim_satisfaction": "The force's victim satisfaction survey is not loaded by the platform.",
               "savings_delivered": "no year with savings_delivered_gbp reported in evidence.fct_mtfp_savings yet"}
CSPS = ["Blackburn with Darwen Community Safety Partnership", "Burnley", "Chorley", "Fylde", "Hyndburn", "Lancaster",
        "Pendle", "Preston", "Ribble Valley", "Rossendale", "South Ribble", "West Lancashire and Wyre"]


def _months(count: int) -> list[date]:
    """The first days of the ``count`` months to September 2025."""
    ends = QUARTER.end.year * 12 + QUARTER.end.month - 1
    return [date(m // 12, m % 12 + 1, 1) for m in range(ends - count + 1, ends + 1)]


def _measure(spec: tuple, order: int) -> dict:
    measure_id, name, objective, unit, statistic, polarity, national, *_rest, target, _rank = spec
    objective_order, objective_name = OBJECTIVES[objective]
    return {
        "measure_id": measure_id, "measure_name": name, "measure_order": order, "objective_id": objective,
        "objective": objective_name, "objective_order": objective_order,
        "description": f"{name}, from the published marts.", "mart": "evidence.fct_crime_monthly",
        "numerator": "crime_count", "denominator": None, "filter": None, "statistic": statistic, "unit": unit,
        "polarity": polarity, "direction_of_improvement": {"lower_is_better": "lower", "higher_is_better": "higher"}.get(
            polarity, "none"), "geography": "force", "frequency": "quarterly",
        "period_grain": "year" if unit == "gbp" else "quarter", "baseline_rule": "same_period_last_year",
        "target": None if target is None else (100 * target if unit == "percent" else target), "target_value": target,
        "comparator": "msg" if _rank else "none", "is_national": national is not None, "national_priority": national,
        "national_priority_name": NATIONAL_NAMES.get(national), "source_line": order,
    }


def _row(spec: tuple, measure: dict, *, area_type: str = "force", area_name: str = "Lancashire Constabulary",
         scale: float = 1.0) -> dict:
    _id, _name, _objective, unit, _statistic, _polarity, _national, status, value, baseline, p, spc, target, rank = spec
    row = dict.fromkeys(ASSESSMENT_COLUMNS)
    row.update({key: measure[key] for key in ("objective", "objective_order", "measure_id", "measure_name",
                                              "measure_order", "statistic", "unit", "polarity", "is_national",
                                              "national_priority")})
    value = None if value is None else (value * scale if unit in ("count", "gbp") else value)
    baseline = None if baseline is None else (baseline * scale if unit in ("count", "gbp") else baseline)
    row.update({
        "reporting_period": QUARTER.label, "area_type": area_type, "area_code": area_name.lower(),
        "area_name": area_name, "status": status, "value": value, "baseline_value": baseline,
        "assessed_period_type": "year" if unit == "gbp" else "quarter",
        "assessed_period_label": "2025-26" if unit == "gbp" else QUARTER.label,
        "assessed_period_start": date(2025, 4, 1) if unit == "gbp" else QUARTER.start,
        "target_value": target, "spc_variation": spc, "data_gap_reason": GAP_REASONS.get(_id),
    })
    if value is not None and baseline is not None:
        row.update({"change_ratio": value / baseline - 1, "change_value": value - baseline,
                    "direction": "higher" if value > baseline else "lower", "baseline_periods": "2024Q3"})
    if p is not None:
        row.update({"test_name": "conditional binomial (normal approximation)", "p_value": p,
                    "is_significant": p < 0.05})
    if spc and spc.startswith("special_cause"):
        row.update({"spc_rules": "trend, two of three near a limit", "spc_side_of_centre_line": "below",
                    "spc_side_run_length": 8})
    if target is not None and value is not None:
        row["meets_target"] = value <= target if _polarity == "lower_is_better" else value >= target
    if rank and area_type == "force":
        row.update({"msg_rank": rank[0], "msg_forces_with_data": rank[1], "msg_group_size": rank[1]})
    return row


def hard_equality() -> dict:
    """What load_equality reads for a quarter: stop and search by sex and age, victim satisfaction and
    confidence by group; the victim survey's Other ethnic group has 12 respondents (a small group)."""
    end = date(2024, 12, 31)
    searches = [("all", "All searches", 1200, 0.21), ("sex", "Male", 1000, 0.22), ("sex", "Female", 190, 0.15),
                ("sex", "Not recorded", 10, 0.1), ("age_range", "18-24", 400, 0.25), ("age_range", "over 34", 800, 0.19)]
    stop_search = [{"characteristic": c, "group_value": g, "period_start_date": date(2024, 1, 1), "period_end_date": end,
                    "search_count": n, "share_of_searches": n / 1200, "searches_per_1000": None if g == "Not recorded" else n / 600,
                    "searches_per_1000_lower_95": None if g == "Not recorded" else n / 650,
                    "searches_per_1000_upper_95": None if g == "Not recorded" else n / 550,
                    "arrest_share": a, "arrest_share_lower_95": a - 0.02, "arrest_share_upper_95": a + 0.02,
                    "is_small_group": n < 30} for c, g, n, a in searches]
    groups = [("all", "All victims", 0, 1440, 0.72, 1200), ("ethnic_group", "White", 1, 1200, 0.73, 1000),
              ("ethnic_group", "Asian", 3, 90, 0.66, 75), ("ethnic_group", "Other", 5, 12, 0.58, 10),
              ("sex", "Female", 1, 750, 0.71, 620), ("sex", "Male", 2, 690, 0.73, 570),
              ("disability", "Not stated", 99, 1440, 0.72, 1200)]
    victims = [{"characteristic": c, "group_value": g, "group_order": o, "period_start_date": date(2024, 1, 1),
                "period_end_date": end, "respondent_count": n, "weighted_share_satisfied": p, "ci_lower_95": p - 0.05,
                "ci_upper_95": p + 0.05, "effective_sample_size": ess, "is_small_group": n < 30,
                "is_low_effective_sample": ess < 50} for c, g, o, n, p, ess in groups]
    confidence = [{"survey_id": "lancashire-2025", "group_variable": v, "group_value": g, "answered_count": n,
                   "weighted_share_confident": p, "ci_lower_95": p - 0.04, "ci_upper_95": p + 0.04,
                   "effective_sample_size": n * 0.8, "is_small_group": n < 30, "is_low_effective_sample": n * 0.8 < 50}
                  for v, g, n, p in (("all", "All respondents", 2000, 0.61), ("age_band", "16-34", 400, 0.52),
                                     ("age_band", "65+", 600, 0.70), ("disability", "Disabled", 45, 0.49))]
    return {"stop_search": (stop_search, None), "victim_satisfaction": (victims, None), "confidence": (confidence, None)}


def hard_quarter() -> ReportData:
    """A quarter whose every table is as wide as real data makes it."""
    measures = [_measure(spec, order) for order, spec in enumerate(PLAN, start=1)]
    by_id = {m["measure_id"]: m for m in measures}
    scorecard = {spec[0]: _row(spec, by_id[spec[0]]) for spec in PLAN}
    csp_rows = [_row(spec, by_id[spec[0]], area_type="csp", area_name=csp, scale=0.08 + 0.01 * i)
                for i, csp in enumerate(CSPS) for spec in PLAN if spec[4] in ("count", "rate_per_1000_population")
                and spec[8] is not None]
    spc = {}
    for spec in PLAN:
        if spec[11] and spec[8] is not None and spec[3] != "gbp":
            months = _months(33)
            base = spec[8] / 3
            spc[spec[0]] = [{"month_start": m, "value": base * (1 + 0.04 * ((i * 7) % 5 - 2) / 2),
                             "centre_line": base, "upper_process_limit": base * 1.12, "lower_process_limit": base * 0.88,
                             "variation": spec[11] if i >= 28 else "common_cause"} for i, m in enumerate(months)]
    history = {"net_revenue_budget": [
        {"measure_id": "net_revenue_budget", "period_type": "year", "period_start": date(2021 + i, 4, 1),
         "period_label": f"{2021 + i}-{22 + i}", "value": 7.6e8 + 2e7 * i, "value_lower_95": None,
         "value_upper_95": None} for i in range(5)]}
    disproportionality = [
        {"measure_id": "stop_search_disproportionality_black", "ethnic_group": group, "event_count": events,
         "population_count": people, "rate_per_1000": 1000 * events / people, "rate_ratio": ratio,
         "rate_ratio_lower_95": None if ratio == 1 else ratio * 0.8, "rate_ratio_upper_95": None if ratio == 1 else ratio * 1.25,
         "is_significant": ratio > 1.5}
        for group, events, people, ratio in (("White", 8000, 1_300_000, 1.0), ("Black", 420, 22_000, 3.06),
                                             ("Asian", 1300, 140_000, 1.51), ("Mixed", 200, 30_000, 1.08),
                                             ("Other ethnic group", 60, 9_000, 1.08))]
    peel = [{"programme": "PEEL 2023-25", "area": area, "grade": grade, "grade_rank": None,
             "previous_grade": previous, "change_since_previous": change, "msg_position": position,
             "msg_forces_graded_count": 8 if position else None, "cause_of_concern_count": 0,
             "area_for_improvement_count": 2, "published_date": date(2023, 12, 18)}
            for area, grade, previous, change, position in (
                ("Preventing and deterring crime and antisocial behaviour, and reducing vulnerability", "Good",
                 "Adequate", "improved", 2),
                ("Responding to the public", "Requires improvement", "Good", "declined", 7),
                ("Victim service assessment", None, None, "not_graded", None),
                ("Building, supporting and protecting the workforce", "Outstanding", None,
                 "first_graded_inspection", 1))]
    years = [f"{2025 + i}/{26 + i}" for i in range(5)]
    finance = {
        "budget": ([{"financial_year": y, "net_revenue_budget_gbp": 838_956_847 + 1e7 * i,
                     "gross_expenditure_gbp": 1.1e9} for i, y in enumerate(years)], None),
        "savings": ([{"financial_year": y, "savings_required_gbp": 12_345_678.0 + i, "savings_identified_gbp": 9_876_543.0,
                      "savings_delivered_gbp": None if i else 8_765_432.0, "savings_gap_gbp": 2_469_135.0}
                     for i, y in enumerate(years)], None),
        "reserves": ([{"financial_year": y, "total_closing_reserves_gbp": 123_456_789.0,
                       "general_reserves_share_of_net_budget": 0.0312} for y in years], None),
        "funding": ([{"financial_year": y, "police_grant_gbp": 402_170_000.0, "precept_gbp": 131_987_654.0,
                      "total_funding_gbp": 8.4e8, "band_d_precept_gbp": 286.71 + 14 * i, "band_d_change_pct": 0.0511}
                     for i, y in enumerate(years)], None),
    }
    themes = [("asb", "Anti-social behaviour"), ("vawg", "Violence against women and girls"),
              ("road_safety", "Road safety"), ("serious_violence", "Serious violence")]
    csp_matrix = [{"csp_name": csp, "theme": theme, "theme_label": label, "theme_sort_order": order,
                   "is_priority": (i + order) % 3 == 0, "is_mentioned": (i + order) % 2 == 0, "assessment_year": 2025}
                  for i, csp in enumerate(CSPS) for order, (theme, label) in enumerate(themes)]
    sources = [{"source": "ons_population", "files": 9, "first_partition": "census_disability/census2021-ts038.zip",
                "last_partition": "mid_year_estimates/mye2-persons_mid2023_csv_export.csv",
                "last_fetched": datetime(2025, 11, 15, 6, 0), "bytes": 1_000_000}]
    loads = [{"dataset": "police_uk_street", "partitions_loaded": 36, "partitions_absent": 0, "rows_loaded": 2_000_000,
              "rows_rejected": 12, "first_month": "2022-10", "last_month": "2025-09"}]
    return ReportData(
        quarter=QUARTER, force_id="lancashire", force_name="Lancashire Constabulary",
        published_at=datetime(2025, 11, 15, 6, 0), measures=measures, scorecard=scorecard, csp_rows=csp_rows,
        spc=spc, history=history, disproportionality=disproportionality, peel=(peel, None), finance=finance,
        csp_matrix=(csp_matrix, None), reconciliation=([], "evidence.fct_crime_reconciliation_quarterly is not "
                                                       "in the published file (Catalog Error)"),
        sources=(sources, None), loads=(loads, None), rejects=([], None),
        consultation={"survey": ([], "No public consultation is loaded for this force.")}, equality=hard_equality())


def _render_hard_quarter(out: Path) -> Path:
    """render() as production calls it, its read of the published file replaced by the quarter above."""
    from ingest.config import load_settings

    published = out / "evidence.duckdb"
    published.touch()  # render() checks the file is there; the read is replaced
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ingest.report.output.read_report_data", lambda *_args: hard_quarter())
        return render(load_settings(), QUARTER.label, force_id="lancashire", published=published, out_dir=out / "reports")


@pytest.fixture(scope="module", params=["hand-made", "demo"])
def report(request, tmp_path_factory) -> tuple[str, Path, int]:
    """(which, the rendered performance_report.html, the charts the context lists)."""
    out = tmp_path_factory.mktemp(request.param)
    if request.param == "hand-made":
        return request.param, _render_hard_quarter(out), len(build_context(hard_quarter())[1])
    if not DEMO_PUBLISHED.exists():
        pytest.skip(f"{DEMO_PUBLISHED} does not exist: `make demo` publishes it")
    import duckdb

    from ingest.config import load_settings
    from ingest.report.data import read_report_data

    published = out / "evidence.duckdb"
    shutil.copyfile(DEMO_PUBLISHED, published)  # a snapshot: the demo may publish again meanwhile
    with duckdb.connect(str(published), read_only=True) as con:
        forces = [r[0] for r in con.execute(
            "select distinct force_id from performance.fct_measure_assessment order by 1").fetchall()]
    force = "lancashire" if "lancashire" in forces else forces[0]
    path = render(load_settings(), None, force_id=force, published=published, out_dir=out / "reports")
    charts = len(build_context(read_report_data(published, force, Quarter.parse(path.parent.name)))[1])
    return request.param, path, charts


# --------------------------------------------------------------------------- Chromium


def _chromium(*args: str, timeout: int = 120) -> str:
    """Headless Chromium with the flags that keep it off the network (STACK-NOTES), a fresh
    profile, and every host name resolving to nothing: a page that needs the network fails here."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def probe(page: Path, *, extra_head: str = "") -> dict:
    """Load a copy of ``page`` (beside it, so relative paths still resolve) with PROBE in its head,
    at A4 width, and return what the probe saw."""
    html = page.read_text(encoding="utf-8")
    copy = page.with_name(f".probe-{page.name}")
    copy.write_text(re.sub(r"<head>", lambda _: "<head>" + PROBE + extra_head, html, count=1), encoding="utf-8")
    try:
        dom = _chromium(A4_WINDOW, "--hide-scrollbars", "--run-all-compositor-stages-before-draw",
                        "--virtual-time-budget=10000", "--dump-dom", copy.as_uri())
    finally:
        copy.unlink()
    found = re.search(r'<pre id="report-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run in {page}: {dom[:500]}"
    return json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def external(seen: dict) -> list[str]:
    local = ("file:", "data:", "blob:", "about:")
    return [url for url in seen["resources"] + seen["failed"] if not str(url).startswith(local)]


def print_pdf(page: Path, pdf: Path) -> list:
    from pypdf import PdfReader

    _chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    return list(PdfReader(str(pdf)).pages)


def _screenshots(pdf: Path, pages: int = 2) -> list[Path]:
    """PNGs of the first pages (pdftoppm, from poppler-utils, where installed) to look at."""
    if not shutil.which("pdftoppm"):
        return []
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", str(pages), str(pdf), str(pdf.with_suffix(""))],
                   check=True, capture_output=True, timeout=120)
    return sorted(pdf.parent.glob(f"{pdf.stem}-*.png"))


# --------------------------------------------------------------------------- the tests


@needs_chromium
def test_the_probe_sees_a_page_that_needs_the_network(tmp_path):
    """The canary: the same probe on a page wanting a stylesheet and an image from the web reports
    both (and they fail: nothing resolves), so a clean result below means nothing was asked for."""
    page = tmp_path / "canary.html"
    page.write_text('<!DOCTYPE html><html><head><title>canary</title>'
                    '<link rel="stylesheet" href="https://fonts.example.invalid/font.css"></head>'
                    '<body><p>text</p><img src="http://opcc-canary.invalid/pixel.png" alt=""></body></html>')
    seen = probe(page)
    wanted = {"https://fonts.example.invalid/font.css", "http://opcc-canary.invalid/pixel.png"}
    assert wanted <= set(external(seen)) and wanted <= set(seen["failed"])
    assert seen["title"] == "canary"


@needs_chromium
def test_the_report_opens_offline_with_every_chart_and_nothing_wider_than_a4(report):
    which, path, charts = report
    html = path.read_text(encoding="utf-8")
    assert not re.findall(r'(?:src|href)\s*=\s*"(?:https?:)?//|url\(\s*["\']?(?:https?:)?//|@import|<link\b', html)
    seen = probe(path)
    assert external(seen) == [] and seen["failed"] == [], f"{which}: {seen['resources']} {seen['failed']}"
    assert seen["title"].startswith("Police and Crime Plan: performance report")
    # every chart the context lists is an inline SVG with a size on the page, and its file is there
    assert charts > 0 and seen["charts"] == seen["chartsDrawn"] == charts, seen
    assert len(list((path.parent / "charts").glob("*.svg"))) == charts
    # nothing wider than the A4 text column (182 mm), nor the page
    assert seen["overflowing"] == [], f"{which}: wider than the A4 column: {seen['overflowing']}"
    assert seen["scrollWidth"] <= seen["clientWidth"], seen


@needs_chromium
def test_the_report_prints_on_a4_with_the_summary_alone_on_page_one(report, tmp_path):
    which, path, _charts = report
    pdf = tmp_path / f"{which}-report.pdf"
    pages = print_pdf(path, pdf)
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages} == {A4_POINTS}
    low, high = PAGES[which]
    assert low <= len(pages) <= high, f"{which}: {len(pages)} A4 pages, expected {low} to {high}"
    first, second = (" ".join(page.extract_text().split()) for page in pages[:2])
    assert "Summary for the Panel" in first and "What improved" in first and "What worsened" in first
    assert "Compared with similar forces" in first and "Every figure is in the scorecard" in first  # the last line
    assert "Scorecard" in second and "What improved" not in second
    shots = _screenshots(pdf)
    print(f"\n{which}: {len(pages)} A4 pages, {pdf}; pages as PNG: {', '.join(map(str, shots)) or 'no pdftoppm'}")


@needs_chromium
def test_the_national_statement_opens_offline_and_prints_on_a4(report, tmp_path):
    which, path, _charts = report
    statement = path.with_name(STATEMENT_FILE)
    seen = probe(statement)
    assert external(seen) == [] and seen["failed"] == []
    assert seen["title"].startswith("National Crime and Policing Measures")
    assert seen["overflowing"] == [] and seen["scrollWidth"] <= seen["clientWidth"], seen
    pages = print_pdf(statement, tmp_path / f"{which}-statement.pdf")
    assert STATEMENT_PAGES[0] <= len(pages) <= STATEMENT_PAGES[1]
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages} == {A4_POINTS}
    assert "Statement on the National Crime and Policing Measures" in pages[0].extract_text()


@needs_chromium
@pytest.mark.skipif(not DBT_DOCS.exists(), reason=f"{DBT_DOCS} does not exist: `make docs` builds it")
def test_the_dbt_docs_site_renders_without_the_network(tmp_path):
    copy = tmp_path / "dbt" / "index.html"  # a copy: the probe is written beside the page
    copy.parent.mkdir()
    shutil.copyfile(DBT_DOCS, copy)
    seen = probe(copy)
    assert seen["title"] == "dbt Docs"
    assert external(seen) == [], seen["resources"]
    assert seen["text"] > 200  # the app drew its page (navigation, project tree) from the embedded manifest


# --------------------------------------------------------------------------- no codes for the reader


def _reader_text(html: str) -> str:
    """What a reader reads as prose: no charts, styles, code, or the appendix (sources and definitions,
    where table and column names are the point)."""
    html = html[:html.index('<section id="appendix"')] if '<section id="appendix"' in html else html
    for pattern in (r"<svg.*?</svg>", r"<style>.*?</style>", r"<code>.*?</code>", r"<[^>]+>"):
        html = re.sub(pattern, " ", html, flags=re.S)
    return html


def test_no_code_from_the_marts_reaches_the_reader(report):
    which, path, _charts = report
    html = path.read_text(encoding="utf-8")
    assert "not_graded" not in html and "first_graded_inspection" not in html
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", _reader_text(html)) == [], which
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", _reader_text(path.with_name(STATEMENT_FILE).read_text())) == [], which


def test_the_summary_gives_targets_in_their_units_ranks_and_gaps(tmp_path):
    path = _render_hard_quarter(tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "not graded" in _reader_text(html) and "first graded inspection" in _reader_text(html)
    summary = _reader_text(html[html.index('<section id="summary"'):html.index('<section id="scorecard"')])
    # targets in the measure's unit; ranks among similar forces; the data gaps by name
    assert "999 calls answered within 10 seconds: target 90.0%: no data yet" in summary
    assert "Black people searched relative to White people: 3.06 against a target of 1.00: not met" in summary
    assert "3rd of 8 forces with data (1st is best)" in summary
    assert "Savings delivered against plan" in summary.split("No data yet")[1]
    appendix = html[html.index('<section id="appendix"'):]
    assert ">90.0%<" in appendix and ">100.0%<" in appendix  # targets in the definitions table too
    # the savings gap's reason names its table and column as code
    assert "<code>savings_delivered_gbp</code>" in html and "<code>evidence.fct_mtfp_savings</code>" in html
