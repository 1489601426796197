"""The quarterly report's pieces: quarters, numbers in words, charts, and the whole-folder swap."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingest.report.charts import CONCERN, confidence_chart, consultation_priorities_chart, spc_chart
from ingest.report.context import consultation_alignment, consultation_context
from ingest.report.data import ReportData
from ingest.raw.landing import swap_in
from ingest.report.output import REPORT_FILE, check_rendered, environment, render
from ingest.report.quarter import Quarter, ReportError
from ingest.report.wording import format_value, measure_sentences

BURGLARY = {"measure_id": "burglary", "measure_name": "Burglary", "unit": "count", "statistic": "count",
            "baseline_rule": "same_period_last_year", "polarity": "lower_is_better"}


def test_quarters_are_calendar_quarters():
    quarter = Quarter.parse("2024Q2")
    assert (quarter.start, quarter.end, quarter.words) == (date(2024, 4, 1), date(2024, 6, 30), "April to June 2024")
    assert Quarter.parse("2024-q4").label == "2024Q4"
    # The DAG's run on 15 November reports the quarter that ended in September; in February, the last one.
    assert Quarter.last_complete_before(date(2025, 11, 15)).label == "2025Q3"
    assert Quarter.last_complete_before(date(2026, 2, 15)).label == "2025Q4"
    with pytest.raises(ReportError, match="not like 2024Q2"):
        Quarter.parse("2024-06")


def test_values_are_written_in_their_units():
    assert format_value(2179, "count") == "2,179"
    assert format_value(0.0712, "percent") == "7.1%"
    assert format_value(23.1106, "per_1000_residents") == "23.11 per 1,000"
    assert format_value(402_170_000, "gbp") == "£402.2m"
    assert format_value(3.0589, "ratio") == "3.06"
    assert format_value(None, "count") == "–"


def test_a_significant_fall_with_a_shift_reads_in_plain_english():
    row = {"status": "improving", "value": 2179.0, "baseline_value": 2476.0, "change_ratio": -0.12, "direction": "lower",
           "assessed_period_label": "2025Q3", "assessed_period_type": "quarter", "test_name": "conditional binomial (exact)",
           "p_value": 0.0031, "is_significant": True, "spc_variation": "special_cause_improvement",
           "spc_rules": "shift", "spc_side_of_centre_line": "below", "spc_side_run_length": 7}
    assert measure_sentences(row, BURGLARY) == [
        "Burglary: 2,179 in July to September 2025, 12.0% lower than the same quarter last year (2,476).",
        "The fall is statistically significant (p = 0.003).",
        "The monthly chart shows special-cause variation (shift), an improvement; the last 7 months sit below the average.",
    ]


def test_no_significant_change_a_target_and_a_rank():
    measure = {"measure_id": "find", "measure_name": "Find rate", "unit": "percent", "statistic": "proportion",
               "baseline_rule": "mean_previous_3_years", "polarity": "higher_is_better"}
    row = {"status": "no significant change", "value": 0.25, "baseline_value": 0.24, "change_ratio": 0.0417,
           "direction": "higher", "assessed_period_label": "2025Q3", "assessed_period_type": "quarter",
           "test_name": "two-proportion z-test", "p_value": 0.41, "is_significant": False, "spc_variation": "common_cause",
           "target_value": 0.3, "meets_target": False, "msg_rank": 3, "msg_forces_with_data": 8}
    sentences = measure_sentences(row, measure)
    assert sentences[0] == ("Find rate: 25.0% in July to September 2025, 4.2% higher than the average of the same "
                            "quarter in the previous three years (24.0%).")
    assert sentences[1].startswith("The rise is not statistically significant (p = 0.410)")
    assert sentences[-1] == ("The target of 30.0% is not met; the force ranks 3rd of 8 forces with data in its most "
                             "similar group.")


def test_a_data_gap_says_why():
    row = {"status": "data gap", "value": None, "data_gap_reason": "The force's victim survey is not loaded."}
    measure = {**BURGLARY, "measure_name": "Victim satisfaction"}
    assert measure_sentences(row, measure) == ["Victim satisfaction: data gap. The force's victim survey is not loaded."]


def _points():
    values = [10, 12, 11, 13, 12, 14, 10, 12, 11, 13, 12, 14, 10, 12, 30]
    return [{"month_start": date(2024, 1 + i % 12, 1).replace(year=2024 + i // 12), "value": v,
             "centre_line": 12.5, "upper_process_limit": 20.0, "lower_process_limit": 5.0,
             "variation": "special_cause_concern" if v == 30 else "common_cause"} for i, v in enumerate(values)]


def test_the_spc_chart_is_inline_svg_marking_special_causes_and_repeatable():
    svg = spc_chart(_points(), unit="count", target=15, title="Burglary", chart_id="chart-burglary",
                    assessed_start=date(2025, 1, 1))
    again = spc_chart(_points(), unit="count", target=15, title="Burglary", chart_id="chart-burglary",
                      assessed_start=date(2025, 1, 1))
    assert svg == again  # no clock, no random ids
    assert svg.startswith("<svg") and 'aria-labelledby="chart-burglary-title"' in svg
    assert ' width="' not in svg.split(">", 1)[0]  # scales with the page
    assert CONCERN in svg  # the special-cause point is coloured
    assert ">mean<" in svg and ">limits<" in svg and ">target<" in svg


def test_a_report_folder_is_replaced_whole(tmp_path):
    target = tmp_path / "2025Q3"
    first = tmp_path / ".first"
    first.mkdir()
    (first / "performance_report.html").write_text("old")
    swap_in(first, target)
    assert (target / "performance_report.html").read_text() == "old"
    second = tmp_path / ".second"
    (second / "charts").mkdir(parents=True)
    (second / "performance_report.html").write_text("new")
    swap_in(second, target)
    assert (target / "performance_report.html").read_text() == "new" and (target / "charts").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025Q3"]  # the old folder is gone


def test_the_report_gate_refuses_a_report_missing_a_measure(tmp_path):
    (tmp_path / "charts").mkdir()
    (tmp_path / REPORT_FILE).write_text('<article id="measure-burglary"></article><figure data-chart="chart-x">')
    data = ReportData(
        quarter=Quarter(2025, 3), force_id="lancashire", force_name="Lancashire", published_at=None,
        measures=[{"measure_id": "burglary"}, {"measure_id": "robbery"}], scorecard={}, csp_rows=[], spc={},
        history={}, disproportionality=[], peel=([], None), finance={}, csp_matrix=([], None),
        reconciliation=([], None), sources=([], None), loads=([], None), rejects=([], None))
    with pytest.raises(ReportError, match="lacks measure\\(s\\) robbery"):
        check_rendered(tmp_path, data)
    (tmp_path / REPORT_FILE).write_text('<article id="measure-burglary"></article><article id="measure-robbery">'
                                        '<figure data-chart="chart-x">')
    with pytest.raises(ReportError, match="chart chart-x was not written"):
        check_rendered(tmp_path, data)


def test_a_missing_published_file_or_performance_schema_is_explained(tmp_path):
    import duckdb

    from ingest.config import load_settings

    settings = load_settings()
    with pytest.raises(ReportError, match="does not exist"):
        render(settings, "2025Q3", published=tmp_path / "missing.duckdb", out_dir=tmp_path)
    published = tmp_path / "evidence.duckdb"
    with duckdb.connect(str(published)) as con:
        con.execute("create table dim_force (force_id varchar, force_name varchar)")
    with pytest.raises(ReportError, match="PUBLISHED_SCHEMAS must map performance -> performance"):
        render(settings, "2025Q3", published=published, out_dir=tmp_path / "reports")
    assert not (tmp_path / "reports" / "2025Q3").exists()


# --------------------------------------------------------------------------- the consultation section


def _consultation_rows():
    def row(area_type, area_name, csp_name, priority_id, label, order, theme, objective, share, rank, small=False):
        return {"area_type": area_type, "area_code": area_name, "area_name": area_name, "csp_name": csp_name,
                "priority_id": priority_id, "priority_label": label, "priority_sort_order": order,
                "csp_theme": theme, "plan_objective_id": objective, "respondent_count": 20 if small else 120,
                "weighted_share": share, "ci_lower_95": share - 0.05, "ci_upper_95": share + 0.05,
                "effective_sample_size": 80.0, "priority_rank": rank, "is_small_group": small,
                "is_low_effective_sample": small}

    return [
        row("force_area", "Lancashire Constabulary", None, "asb", "Tackling anti-social behaviour", 1, "asb", "tackle_crime", 0.41, 1),
        row("force_area", "Lancashire Constabulary", None, "visible_policing", "More visible policing in my area", 5, None, "efficient_service", 0.33, 2),
        row("force_area", "Lancashire Constabulary", None, "road_safety", "Making roads safer", 6, "road_safety", "tackle_crime", 0.20, 3),
        row("district", "Preston", "Preston", "asb", "Tackling anti-social behaviour", 1, "asb", "tackle_crime", 0.45, 1),
        row("district", "Preston", "Preston", "visible_policing", "More visible policing in my area", 5, None, "efficient_service", 0.30, 2),
        row("district", "Preston", "Preston", "road_safety", "Making roads safer", 6, "road_safety", "tackle_crime", 0.25, 3),
        row("district", "Ribble Valley", "Ribble Valley", "road_safety", "Making roads safer", 6, "road_safety", "tackle_crime", 0.5, 1, small=True),
        row("district", "Ribble Valley", "Ribble Valley", "asb", "Tackling anti-social behaviour", 1, "asb", "tackle_crime", 0.3, 2, small=True),
        row("district", "Ribble Valley", "Ribble Valley", "visible_policing", "More visible policing in my area", 5, None, "efficient_service", 0.2, 3, small=True),
    ]


def test_consultation_priorities_line_up_with_the_csp_matrix_and_the_plan():
    matrix = [
        {"csp_name": "Preston Community Safety Partnership", "theme": "asb", "is_priority": True, "is_mentioned": True},
        {"csp_name": "Preston Community Safety Partnership", "theme": "road_safety", "is_priority": False, "is_mentioned": True},
    ]
    objectives = [{"objective_id": "tackle_crime", "objective": "Tackle crime and reoffending"}]
    lines = {(r["area_name"], r["priority_id"]): r for r in consultation_alignment(_consultation_rows(), matrix, objectives)}
    assert lines["Preston", "asb"]["csp"] == "priority"  # 'Preston Community Safety Partnership' is Preston's CSP
    assert lines["Preston", "road_safety"]["csp"] == "mentioned"
    assert lines["Preston", "visible_policing"]["csp"] == "no theme"
    assert lines["Ribble Valley", "asb"]["csp"] == "no assessment"
    assert lines["Lancashire Constabulary", "asb"]["csp"] == "force area"
    assert lines["Preston", "asb"]["objective"] == "Tackle crime and reoffending"
    assert lines["Preston", "visible_policing"]["objective"] == "efficient_service"  # no name published: the id
    assert consultation_alignment(_consultation_rows(), matrix, objectives, top=1) == [
        lines["Lancashire Constabulary", "asb"], lines["Preston", "asb"], lines["Ribble Valley", "road_safety"]]


def test_consultation_charts_are_svg_naming_districts_and_marking_small_samples():
    svg = consultation_priorities_chart(_consultation_rows(), chart_id="chart-consultation-priorities",
                                        title="Top priorities")
    assert svg.startswith("<svg") and "Preston" in svg and "Ribble Valley †" in svg and "Preston †" not in svg
    assert "Lancashire Constabulary (all)" in svg and ">45<" in svg.replace(" ", "")
    assert svg == consultation_priorities_chart(_consultation_rows(), chart_id="chart-consultation-priorities",
                                                title="Top priorities")  # repeatable
    confidence = [
        {"area_type": "force_area", "area_name": "Lancashire Constabulary", "weighted_share_confident": 0.52,
         "ci_lower_95": 0.49, "ci_upper_95": 0.55, "is_small_group": False, "is_low_effective_sample": False},
        {"area_type": "district", "area_name": "Burnley", "weighted_share_confident": 0.40, "ci_lower_95": 0.21,
         "ci_upper_95": 0.62, "is_small_group": True, "is_low_effective_sample": True},
    ]
    svg = confidence_chart(confidence, chart_id="chart-consultation-confidence", title="Confidence")
    assert "Burnley †" in svg and "Lancashire Constabulary" in svg and "95% interval" in svg


def test_the_consultation_section_says_when_no_survey_is_loaded():
    data = ReportData(
        quarter=Quarter(2025, 3), force_id="lancashire", force_name="Lancashire", published_at=None, measures=[],
        scorecard={}, csp_rows=[], spc={}, history={}, disproportionality=[], peel=([], None), finance={},
        csp_matrix=([], None), reconciliation=([], None), sources=([], None), loads=([], None), rejects=([], None),
        consultation={"survey": ([], "evidence.fct_consultation_priorities is not in the published file")})
    charts: dict[str, str] = {}
    context = consultation_context(data, charts)
    html = environment().get_template("_consultation.html.j2").render(consultation=context, charts=charts)
    assert charts == {} and "Data gap." in html and "fct_consultation_priorities is not in the published file" in html


def test_the_package_keeps_the_entry_points_the_dag_and_the_makefile_use():
    import subprocess
    import sys

    import ingest.report as package

    # dags/quarterly_report.py imports these from the package; the Makefile runs `python -m ingest.report`.
    assert package.render is render and package.Quarter is Quarter
    assert callable(package.check_quarter_published) and issubclass(package.ReportNotReady, ReportError)
    result = subprocess.run([sys.executable, "-m", "ingest.report", "--help"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("usage:") and "--quarter" in result.stdout and "performance_report.html" in result.stdout


# --------------------------------------------------------------------------- the summary page's words


def test_summary_lines_name_the_change_its_significance_and_the_chart():
    from ingest.report.wording import summary_line

    row = {"status": "improving", "value": 34851.0, "baseline_value": 35471.0, "change_ratio": -0.0175,
           "direction": "lower", "assessed_period_label": "2025Q3", "assessed_period_type": "quarter",
           "test_name": "conditional binomial", "p_value": 0.0196, "is_significant": True,
           "spc_variation": "special_cause_improvement", "spc_rules": "shift"}
    assert summary_line(row, BURGLARY, Quarter(2025, 3)) == (
        "34,851, down 1.8% on the same quarter last year (35,471): statistically significant (p = 0.020). "
        "The monthly chart flags a change for the better (shift).")
    rate = {"measure_name": "Charge rate", "unit": "percent", "statistic": "proportion",
            "baseline_rule": "same_period_last_year"}
    row = {"value": 0.0712, "baseline_value": 0.0762, "change_ratio": -0.066, "direction": "lower",
           "assessed_period_label": "2025Q1", "assessed_period_type": "quarter", "test_name": "z", "p_value": 0.41,
           "is_significant": False}
    assert summary_line(row, rate, Quarter(2025, 3)) == (
        "7.1% in January to March 2025, down from 7.6% in the same quarter last year: within chance (p = 0.410).")


def test_targets_ranks_and_codes_read_as_words():
    from ingest.report.wording import mark_identifiers, peer_words, plain, target_words

    percent = {"unit": "percent", "target_value": 0.9}
    assert target_words({"value": None, "target_value": 0.9}, percent) == "target 90.0%: no data yet"
    assert target_words({"value": 3.06, "target_value": 1.0, "meets_target": False}, {"unit": "ratio"}) == (
        "3.06 against a target of 1.00: not met")
    assert peer_words({"msg_rank": 3, "msg_forces_with_data": 8}) == "3rd of 8 forces with data (1st is best)"
    assert peer_words({"msg_rank": None, "msg_forces_with_data": 1}) is None
    assert plain("not_graded") == "not graded" and plain("first_graded_inspection") == "first graded inspection"
    assert plain(None) == "–" and plain("road_safety") == "road safety"
    assert str(mark_identifiers("no savings_delivered_gbp in evidence.fct_mtfp_savings <yet>")) == (
        "no <code>savings_delivered_gbp</code> in <code>evidence.fct_mtfp_savings</code> &lt;yet&gt;")


def test_the_summary_says_plainly_when_no_similar_force_has_data():
    from ingest.report.context import objective_sections, panel_summary

    measure = {**BURGLARY, "measure_id": "charge_rate", "measure_name": "Charge rate", "unit": "percent",
               "objective_id": "o", "objective": "Objective", "measure_order": 1, "objective_order": 1,
               "is_national": False, "period_grain": "quarter", "target_value": None}
    row = {"status": "deteriorating", "value": 0.07, "baseline_value": 0.08, "change_ratio": -0.125,
           "direction": "lower", "assessed_period_label": "2025Q3", "assessed_period_type": "quarter",
           "msg_rank": None, "msg_forces_with_data": 1, "target_value": None}
    data = ReportData(
        quarter=Quarter(2025, 3), force_id="lancashire", force_name="Lancashire", published_at=None,
        measures=[measure], scorecard={"charge_rate": row}, csp_rows=[], spc={}, history={}, disproportionality=[],
        peel=([], None), finance={}, csp_matrix=([], None), reconciliation=([], None), sources=([], None),
        loads=([], None), rejects=([], None))
    summary = panel_summary(data, objective_sections(data, {}))
    assert [e["measure"]["measure_id"] for e in summary["worsened"]] == ["charge_rate"] and not summary["improved"]
    assert not summary["has_peer_ranks"] and "no other force in the group has figures" in summary["peer_note"]


def test_a_publication_from_the_samples_is_marked_synthetic_on_the_report_and_the_statement(tmp_path):
    import dataclasses

    import duckdb
    import pytest

    from ingest.config import load_settings
    from ingest.report import STATEMENT_FILE, render
    from ingest.report.data import synthetic_notice_of
    from tests.integration.test_report_browser import QUARTER, hard_quarter

    with duckdb.connect() as con:
        con.execute("create schema meta; create table meta.publication (published_at timestamp)")
        assert synthetic_notice_of(con) is None  # a file published before the marker existed
        con.execute("alter table meta.publication add column is_synthetic boolean; "
                    "alter table meta.publication add column synthetic_notice varchar")
        con.execute("insert into meta.publication values (now(), false, null)")
        assert synthetic_notice_of(con) is None
        con.execute("update meta.publication set is_synthetic = true, synthetic_notice = 'Synthetic demonstration data'")
        assert synthetic_notice_of(con) == "Synthetic demonstration data"

    for notice in ("Synthetic demonstration data: do not quote it.", None):
        out = tmp_path / ("synthetic" if notice else "real")
        out.mkdir()
        published = out / "evidence.duckdb"
        published.touch()
        data = dataclasses.replace(hard_quarter(), synthetic_notice=notice)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("ingest.report.output.read_report_data", lambda *_args, data=data: data)
            report = render(load_settings(), QUARTER.label, force_id="lancashire", published=published,
                            out_dir=out / "reports")
        for page in (report, report.parent / STATEMENT_FILE):
            html = page.read_text()
            assert ('class="synthetic-banner"' in html) is bool(notice), page.name
            if notice:
                assert notice in html


def test_significance_is_judged_after_the_quarters_false_discovery_adjustment():
    from ingest.report.wording import format_significance, is_significant

    # Burglary in the performance fixture: p = 0.0357 alone, q = 0.0357 x 9 / 1 = 0.321 across 9 tests.
    row = {"p_value": 0.0357, "is_significant": True, "q_value": 0.3213, "fdr_family_size": 9,
           "is_significant_adjusted": False}
    assert not is_significant(row)
    assert format_significance(row) == "p = 0.036; 0.321 after allowing for the quarter's 9 tests"
    assert is_significant({**row, "q_value": 0.004, "is_significant_adjusted": True})
    # A file published before the adjustment: the test's own result, the raw p alone.
    assert is_significant({"p_value": 0.0357, "is_significant": True})
    assert format_significance({"p_value": 0.0357}) == "p = 0.036"


def _funnel_row(code: str, name: str, value: float | None, exposure: float | None, *, comparison: str = "msg",
                own: bool = False, position: str | None = "within", reason: str | None = None) -> dict:
    return {"measure_id": "burglary", "force_id": "lancashire", "comparison": comparison, "assessed_period_label": "2025Q3",
            "member_area_type": "force" if comparison == "msg" else "csp", "member_area_code": code,
            "member_area_name": name, "is_compared_force": own, "comparison_statistic": "rate_per_1000_population",
            "comparison_value": value, "exposure": exposure, "group_value": 2.0, "funnel_position": position,
            "member_rank": None, "missing_reason": reason}


def test_funnel_limits_match_the_hand_worked_example():
    from ingest.report.charts import funnel_limits

    # p = 2 per 1,000 = 0.002 per resident, n = 10,000: se = sqrt(0.002 / 10,000) = 0.000447214, so
    # 95 %: 1000 x (0.002 -/+ 1.959964 x 0.000447214) = 1.1235 to 2.8765 per 1,000 (the dbt unit test's
    # numbers, test_int_measure__peer_funnel__limits_worked_example); a proportion 0.2 of 100: se 0.04.
    assert funnel_limits(2.0, 10_000, 1.959964, proportion=False) == pytest.approx((1.1234774525, 2.8765225475))
    assert funnel_limits(2.0, 10_000, 3.090232, proportion=False) == pytest.approx((0.6180062364, 3.3819937636))
    assert funnel_limits(0.2, 100, 1.959964, proportion=True) == pytest.approx((0.2 - 0.0783986, 0.2 + 0.0783986))
    assert funnel_limits(0.001, 10, 3.090232, proportion=False)[0] == 0.0  # never below zero


def test_a_measure_with_peers_gets_a_peer_chart_and_a_csp_funnel_and_one_without_gets_none():
    from ingest.report.context import build_context

    measures = [{**BURGLARY, "objective_id": "o", "objective": "Objective", "measure_order": order, "objective_order": 1,
                 "is_national": False, "period_grain": "quarter", "target_value": None, "description": "",
                 "measure_id": measure_id, "measure_name": measure_id.title(), "national_priority": None}
                for order, measure_id in enumerate(["burglary", "robbery"], start=1)]
    row = {"status": "no significant change", "value": 30.0, "assessed_period_label": "2025Q3",
           "assessed_period_type": "quarter", "msg_rank": 2, "msg_forces_with_data": 2, "msg_funnel_position": "above_95",
           "msg_missing_peers": "Kent Police: no police.uk data loaded ([police_uk] forces and load_msg_peers say which)"}
    peers = [_funnel_row("lancashire", "Lancashire Constabulary", 3.0, 10_000, own=True, position="above_95"),
             _funnel_row("cheshire", "Cheshire Constabulary", 1.0, 10_000, position="below_95"),
             _funnel_row("kent", "Kent Police", None, None, position=None, reason="no police.uk data loaded"),
             _funnel_row("E1", "Preston", 2.5, 4_000, comparison="csp"),
             _funnel_row("E2", "Lancaster", 1.5, 6_000, comparison="csp")]
    data = ReportData(
        quarter=Quarter(2025, 3), force_id="lancashire", force_name="Lancashire", published_at=None,
        measures=measures, scorecard={"burglary": row, "robbery": {**row, "msg_rank": None, "msg_funnel_position": None}},
        csp_rows=[], spc={}, history={}, disproportionality=[], peel=([], None), finance={}, csp_matrix=([], None),
        reconciliation=([], None), sources=([], None), loads=([], None), rejects=([], None),
        peers={"burglary": peers})
    context, charts = build_context(data)

    assert "chart-burglary-peers" in charts and "chart-burglary-csps" in charts
    assert not any(key.startswith("chart-robbery-") for key in charts)
    peer_chart = charts["chart-burglary-peers"]
    assert peer_chart.startswith("<svg") and "Cheshire Constabulary" in peer_chart and "Kent Police" not in peer_chart
    assert "Preston" in charts["chart-burglary-csps"]
    item = context["objectives"][0]["items"][0]
    assert item["peer_chart_id"] == "chart-burglary-peers" and item["csp_funnel_id"] == "chart-burglary-csps"
    assert (item["peer_period"], item["peer_kind"]) == ("2025Q3", "rate per 1,000 residents")


def test_the_statement_pdf_prints_from_a_relative_output_folder(tmp_path, monkeypatch):
    from ingest.report.output import chromium_path, print_pdf

    chromium = chromium_path()
    if not chromium:
        pytest.skip("no Chromium installed (make services-deps installs it)")
    monkeypatch.chdir(tmp_path)
    Path("out").mkdir()
    Path("out/statement.html").write_text("<!doctype html><html><body><p>Statement</p></body></html>")
    print_pdf(chromium, Path("out/statement.html"), Path("out/statement.pdf"))  # as `--out out` gives them
    assert Path("out/statement.pdf").read_bytes().startswith(b"%PDF")


def test_the_equality_section_shows_each_breakdown_with_intervals_and_flags_the_small_group():
    import re

    from ingest.report.context import build_context
    from ingest.report.equality import CANNOT_SHOW
    from tests.integration.test_report_browser import hard_quarter

    data = hard_quarter()
    context, charts = build_context(data)
    html = environment().get_template("_equality.html.j2").render(**context)
    section = re.sub(r"\s+", " ", html[html.index('<section id="equality"'):])  # one space, as a reader sees it
    # the rule stated with the marts' own thresholds, and the small groups named
    assert "fewer than 30 searches or respondents in the period, or (surveys) an effective sample under 50" in section
    flagged = context["equality"]["flagged"]
    assert "Victim satisfaction, ethnic group Other (12 respondents)" in flagged
    assert "Stop and search, sex Not recorded (10 searches)" in flagged
    assert "Confidence, disability Disabled (45 answers)" in flagged  # 45 answers, effective sample 36 < 50
    assert '<tr class="flagged"><td>Other †</td><td class="num">12</td> <td class="num">58.0%</td>' in section
    # each breakdown is there with its intervals: ethnicity ratios, sex and age rates, victims, confidence
    assert "Stop and search by ethnic group" in section and "3.06" in section and "2.45 to 3.83" in section
    assert 'aria-label="Stop and search by sex"' in section and 'aria-label="Stop and search by age"' in section
    assert "66.0%" in section and "61.0% to 71.0%" in section  # Asian victims satisfied, with the interval
    assert 'aria-label="Confidence by age"' in section and "48.0% to 56.0%" in section
    # a characteristic the survey export does not carry is said, not drawn as one Not stated bar
    assert "Disability: the survey export carries no answers (1,440 respondents Not stated)" in section
    assert 'aria-label="Victim satisfaction by disability"' not in section
    for sentence in CANNOT_SHOW:
        assert sentence in section
    assert {"chart-equality-stop-search-ethnicity", "chart-equality-victims", "chart-equality-confidence"} <= set(charts)
    assert "Other †" in charts["chart-equality-victims"]


def test_the_equality_section_says_what_is_missing_when_the_file_has_no_breakdowns():
    import dataclasses

    from ingest.report.context import build_context
    from tests.integration.test_report_browser import hard_quarter

    data = dataclasses.replace(hard_quarter(), disproportionality=[], equality={
        "stop_search": ([], "evidence.fct_stop_search_by_group is not in the published file (Catalog Error)"),
        "victim_satisfaction": ([], None), "confidence": ([], None)})
    context, charts = build_context(data)
    section = " ".join(environment().get_template("_equality.html.j2").render(**context).split())
    assert "No disproportionality figures for the quarter" in section
    assert "No stop and search breakdown by sex and age for the quarter" in section
    assert "No victim satisfaction by group for the quarter: the survey needs 12 months of interviews" in section
    assert "No consultation is loaded for this force" in section
    assert not any(name.startswith("chart-equality") for name in charts)


def test_the_summary_stays_one_page_however_long_the_plan():
    """Worth watching and the peer positions list their first few and say how many more there are;
    what improved and what worsened are never cut."""
    from ingest.report.context import SUMMARY_LIST_MAX, objective_sections, panel_summary

    measures, scorecard = [], {}
    for n in range(SUMMARY_LIST_MAX + 3):
        measure_id = f"m{n}"
        measures.append({**BURGLARY, "measure_id": measure_id, "measure_name": f"Measure {n}", "unit": "count",
                         "objective_id": "o", "objective": "Objective", "measure_order": n, "objective_order": 1,
                         "is_national": False, "period_grain": "quarter", "target_value": None, "comparator": "msg"})
        scorecard[measure_id] = {
            "status": "deteriorating" if n < SUMMARY_LIST_MAX + 1 else "no significant change", "value": 100 + n,
            "baseline_value": 90, "change_ratio": 0.1, "direction": "higher", "assessed_period_label": "2025Q3",
            "assessed_period_type": "quarter", "spc_variation": "special_cause_concern", "p_value": 0.001,
            "msg_rank": 2, "msg_forces_with_data": 8, "target_value": None}
    data = ReportData(
        quarter=Quarter(2025, 3), force_id="lancashire", force_name="Lancashire", published_at=None,
        measures=measures, scorecard=scorecard, csp_rows=[], spc={}, history={}, disproportionality=[],
        peel=([], None), finance={}, csp_matrix=([], None), reconciliation=([], None), sources=([], None),
        loads=([], None), rejects=([], None))
    summary = panel_summary(data, objective_sections(data, {}))
    assert len(summary["worsened"]) == SUMMARY_LIST_MAX + 1  # never cut
    assert len(summary["watch"]) == 2 and summary["watch_more"] == 0
    assert len(summary["peers"]) == SUMMARY_LIST_MAX and summary["peers_more"] == 3


def test_the_report_draws_its_charts_once_and_lists_the_offices_next_dates(tmp_path, monkeypatch):
    import ingest.report.output as output
    from ingest.config import load_settings
    from tests.integration.test_report_browser import QUARTER, hard_quarter

    calendar = tmp_path / "calendar.toml"
    calendar.write_text("papers_due_days_before_meeting = 10\nstatement_due_days_after_statistics = 28\n"
                        "[[panel_meetings]]\ndate = 2099-02-05\npurpose = \"quarterly performance\"\n")
    monkeypatch.setenv("OPCC_CALENDAR", str(calendar))
    published = tmp_path / "evidence.duckdb"
    published.touch()
    data = hard_quarter()
    monkeypatch.setattr(output, "read_report_data", lambda *_args: data)
    built = []
    real_build = output.build_context
    monkeypatch.setattr(output, "build_context", lambda *a, **k: built.append(1) or real_build(*a, **k))
    report = output.render(load_settings(), QUARTER.label, force_id="lancashire", published=published,
                           out_dir=tmp_path / "reports", pdf=False)
    assert len(built) == 1  # one context (every chart drawn once) for the report and the statement
    html = report.read_text()
    assert '<section id="calendar">' in html and "Coming up" in html
    assert "Police and Crime Panel: quarterly performance" in html and "5 February 2099" in html
    assert "Papers due for the Panel meeting of 5 February 2099" in html
