"""The report's reads of the published file (``published/evidence.duckdb``), and nothing else.

The report reads the marts in the file's ``main`` schema, the plan's measures in ``performance``
and the lineage in ``meta``, always read-only and never from the warehouse: what the panel sees is
what analysts can query. Sections beyond the plan's measures are optional: a table or column the
file does not hold gives no rows and a reason the report prints, not a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.config import Settings
from ingest.report.quarter import Quarter, ReportError, ReportNotReady

Rows = list[dict[str, Any]]
Section = tuple[Rows, str | None]  # an optional section's rows, or none and why (see _optional)


def _rows(con, sql: str, params: list | None = None) -> Rows:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    # DECIMAL columns arrive as Decimal, which cannot be mixed with the float columns in arithmetic.
    return [{name: float(value) if isinstance(value, Decimal) else value for name, value in zip(names, values)}
            for values in cursor.fetchall()]


def _by_measure(rows: Rows) -> dict[str, Rows]:
    grouped: dict[str, Rows] = {}
    for row in rows:
        grouped.setdefault(row["measure_id"], []).append(row)
    return grouped


def _optional(con, what: str, sql: str, params: list | None = None) -> Section:
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
    """Everything one report shows, read once from the published file: the rest of the report
    (sentences, charts, templates) works from this alone."""

    quarter: Quarter
    force_id: str
    force_name: str
    published_at: Any
    measures: Rows
    scorecard: dict[str, dict[str, Any]]                       # measure_id -> force row
    csp_rows: Rows
    spc: dict[str, Rows]                                       # measure_id -> points
    history: dict[str, Rows]                                   # measure_id -> quarterly/annual values
    disproportionality: Rows
    peel: Section
    finance: dict[str, Section]
    csp_matrix: Section
    reconciliation: Section
    sources: Section
    loads: Section
    rejects: Section
    # the newest public consultation: name -> (rows, why missing); see load_consultation
    consultation: dict[str, Section] = field(default_factory=dict)
    # meta.publication's notice when the published file was built from the bundled samples
    synthetic_notice: str | None = None
    # the statement on the National Crime and Policing Measures: its measures (dim_ncpm_measure) and,
    # per measure, the newest 12 months ending in or before the quarter (fct_ncpm_statement); see load_ncpm
    ncpm_measures: Rows = field(default_factory=list)
    ncpm: dict[str, dict[str, Any]] = field(default_factory=dict)
    ncpm_note: str | None = None
    # measure_id -> funnel rows (performance.fct_measure_peers): the force among its most similar
    # group (comparison 'msg') and its CSPs within the force ('csp'), for the quarter's period
    peers: dict[str, Rows] = field(default_factory=dict)
    # the equality section: each published breakdown by protected characteristic (see load_equality)
    equality: dict[str, Section] = field(default_factory=dict)


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
    """Everything the report shows for ``force_id`` and ``quarter`` (default: the latest the file
    completes). Raises ReportNotReady when the file does not complete the quarter."""
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
    synthetic_notice = synthetic_notice_of(con)
    measures = _rows(con, "select * from performance.dim_measure order by objective_order, measure_order")
    assessment = _rows(con, """
        select * from performance.fct_measure_assessment
        where reporting_period = ? and force_id = ? order by objective_order, measure_order, area_name
    """, [quarter.label, force_id])
    scorecard = {r["measure_id"]: r for r in assessment if r["area_type"] == "force"}
    csp_rows = [r for r in assessment if r["area_type"] == "csp"]
    spc = _by_measure(_rows(con, """
        select spc.* from performance.fct_spc as spc
        inner join performance.fct_measure_assessment as a
            on a.measure_id = spc.measure_id and a.area_type = spc.area_type and a.area_code = spc.area_code
            and a.assessed_period_label = spc.as_of_period
        where a.reporting_period = ? and a.force_id = ? and a.area_type = 'force'
        order by spc.measure_id, spc.month_start
    """, [quarter.label, force_id]))
    history = _by_measure(_rows(con, """
        select v.measure_id, v.period_type, v.period_start, v.period_label, v.value, v.value_lower_95, v.value_upper_95
        from performance.fct_measure_values as v
        inner join performance.fct_measure_assessment as a
            on a.measure_id = v.measure_id and a.area_type = v.area_type and a.area_code = v.area_code
            and a.assessed_period_type = v.period_type and v.period_start <= a.assessed_period_start
        where a.reporting_period = ? and a.force_id = ? and a.area_type = 'force'
        order by v.measure_id, v.period_start
    """, [quarter.label, force_id]))
    disproportionality, _ = _optional(con, "performance.fct_stop_search_disproportionality", """
        select d.* from performance.fct_stop_search_disproportionality as d
        inner join performance.fct_measure_assessment as a
            on a.measure_id = d.measure_id and a.area_code = d.force_id and a.assessed_period_label = d.period_label
        where a.reporting_period = ? and a.force_id = ? and a.area_type = 'force'
        order by d.measure_id, case d.ethnic_group when 'White' then 0 else 1 end, d.ethnic_group
    """, [quarter.label, force_id])
    peer_rows, _ = _optional(con, "performance.fct_measure_peers", """
        select * from performance.fct_measure_peers
        where reporting_period_start = ? and force_id = ?
        order by measure_id, comparison, member_area_name
    """, [quarter.start, force_id])
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
    return ReportData(
        quarter=quarter, force_id=force_id, force_name=force[0]["force_name"], published_at=published_at,
        synthetic_notice=synthetic_notice,
        measures=measures, scorecard=scorecard, csp_rows=csp_rows, spc=spc, history=history,
        disproportionality=disproportionality, peel=peel, finance=_finance(con, force_id), csp_matrix=csp_matrix,
        reconciliation=reconciliation, **_lineage(con, force_id), consultation=load_consultation(con, force_id),
        **load_ncpm(con, force_id, quarter),
        peers=_by_measure(peer_rows), equality=load_equality(con, force_id, quarter),
    )


def load_equality(con, force_id: str, quarter: Quarter) -> dict[str, Section]:
    """The breakdowns by protected characteristic the published marts carry, each for its newest 12
    months ending by the quarter's end (the consultation: its newest survey). Stop and search by
    ethnic group is ReportData.disproportionality (the plan's measure, with its intervals)."""
    newest = "qualify period_end_date = max(period_end_date) over ()"
    return {
        "stop_search": _optional(con, "evidence.fct_stop_search_by_group", f"""
            select * from main.fct_stop_search_by_group
            where force_id = ? and period_end_date <= ? and characteristic in ('all', 'sex', 'age_range')
            {newest} order by characteristic, group_value
        """, [force_id, quarter.end]),
        "victim_satisfaction": _optional(con, "evidence.fct_victim_satisfaction_by_group", f"""
            select * from main.fct_victim_satisfaction_by_group
            where force_id = ? and period_end_date <= ? {newest} order by characteristic, group_order, group_value
        """, [force_id, quarter.end]),
        "confidence": _optional(con, "evidence.fct_confidence_in_police", r"""
            select survey_id, group_variable, group_value, answered_count, weighted_share_confident, ci_lower_95,
                   ci_upper_95, effective_sample_size, is_small_group, is_low_effective_sample
            from main.fct_confidence_in_police
            where area_type = 'force_area' and group_variable in ('all', 'age_band', 'sex', 'ethnic_group', 'disability')
              and survey_id = (select survey_id from main.fct_confidence_in_police where force_id = ?
                               order by regexp_extract(survey_id, '(\d{4})$') desc, survey_id limit 1)
            order by group_variable, group_value
        """, [force_id]),
    }


def load_ncpm(con, force_id: str, quarter: Quarter) -> dict[str, Any]:
    """The statement's measures and, per measure, the newest 12 months that end by the quarter's end."""
    measures, note = _optional(con, "performance.dim_ncpm_measure", """
        select * from performance.dim_ncpm_measure order by priority_order, measure_order
    """)
    rows, row_note = _optional(con, "performance.fct_ncpm_statement", """
        select * from performance.fct_ncpm_statement
        where force_id = ? and period_end_date <= ?
        qualify row_number() over (partition by measure_id order by period_end_date desc) = 1
    """, [force_id, quarter.end])
    return {"ncpm_measures": measures, "ncpm": {r["measure_id"]: r for r in rows}, "ncpm_note": note or row_note}


def _finance(con, force_id: str) -> dict[str, Section]:
    """The force's latest financial plan, by financial year (the marts keep every plan published)."""
    return {
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


def _lineage(con, force_id: str) -> dict[str, Section]:
    """Where the figures came from: the files fetched, the partitions loaded and the rows refused."""
    return {
        "sources": _optional(con, "meta.landing_manifest", """
            select source, count(*) as files, min(partition) as first_partition, max(partition) as last_partition,
                   max(fetched_at) as last_fetched, sum(bytes) as bytes
            from meta.landing_manifest group by source order by source
        """),
        "loads": _optional(con, "meta.load_log", """
            select dataset, count(*) filter (where status = 'loaded') as partitions_loaded,
                   count(*) filter (where status = 'absent') as partitions_absent,
                   sum(rows_loaded) as rows_loaded, sum(rows_rejected) as rows_rejected,
                   min(month) as first_month, max(month) as last_month
            from meta.load_log where force_id = ? or force_id is null group by dataset order by dataset
        """, [force_id]),
        "rejects": _optional(con, "meta.load_rejects", """
            select dataset, error_type, count(*) as problems from meta.load_rejects
            where force_id = ? or force_id is null group by all order by problems desc limit 10
        """, [force_id]),
    }


def load_consultation(con, force_id: str) -> dict[str, Section]:
    """The force's newest consultation (the survey id ending in the latest year) from the published marts."""
    survey, note = _optional(con, "evidence.fct_consultation_priorities", r"""
        select survey_id from main.fct_consultation_priorities where force_id = ?
        order by regexp_extract(survey_id, '(\d{4})$') desc, survey_id limit 1
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


def default_force(settings: Settings) -> str:
    return (settings.sections.get("report") or {}).get("force_id") or settings.police_uk.forces[0]


def read_report_data(published: Path, force_id: str, quarter: Quarter | None) -> ReportData:
    import duckdb

    # Read-only: the report never changes the file analysts read, and other readers may hold it open.
    with duckdb.connect(str(published), read_only=True) as con:
        return load_report_data(con, published, force_id, quarter)


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


def newest_published_quarter(settings: Settings, before: date, *, force_id: str | None = None,
                             published: Path | None = None) -> str:
    """The newest quarter the published file completes for the force that ended before ``before``:
    the papers for a Panel meeting report the data published by then. Raises ReportNotReady when
    there is none (nothing published yet, or only quarters still running)."""
    import duckdb

    published = Path(published or settings.paths.published)
    if not published.exists():
        raise ReportNotReady(f"{published} does not exist yet: the evidence build has not published")
    force_id = force_id or default_force(settings)
    with duckdb.connect(str(published), read_only=True) as con:
        _check_published(con, published)
        quarters = [q for q in reportable_quarters(con, force_id) if Quarter.parse(q).end < before]
    if not quarters:
        raise ReportNotReady(f"{published}: no quarter ending before {before} is complete for {force_id} yet; "
                             "the previous report stays in place")
    return quarters[-1]


def synthetic_notice_of(con) -> str | None:
    """The publication's synthetic-data notice, or None for real data (or a file published before the marker)."""
    columns = {c for (c,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'meta' and table_name = 'publication'"
    ).fetchall()}
    if not {"is_synthetic", "synthetic_notice"} <= columns:
        return None
    row = con.execute("select synthetic_notice from meta.publication where is_synthetic limit 1").fetchone()
    return row[0] if row else None

