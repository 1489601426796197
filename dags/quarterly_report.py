"""The quarterly performance report: after each quarter, render reports/<YYYY>Q<n>/ from the published file.

The measures are built and tested with the rest of the evidence base (evidence_build: dbt build,
gates, publish); this DAG only reads ``published/evidence.duckdb``, which holds the last state
that passed every gate. It runs on the 15th of the second month after a quarter ends (police.uk
publishes a month four to six weeks after it), reports the quarter before the run's data interval
end, and retries daily for a week while that quarter is not complete in the published file. The
report folder is rendered beside the old one, checked, and swapped in whole: a failed check or
an incomplete quarter leaves the previous report in place.

**When it fails**: "not complete in the published file" is expected until the quarter's last month
is published and built (the task retries daily); a failed check names what was wrong in the
rendered folder (a missing chart, an unknown measure) and leaves the previous report.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import CronDataIntervalTimetable, dag, task

RUN_DATE = "{{ data_interval_end.strftime('%Y-%m-%d') }}"


@dag(
    schedule=CronDataIntervalTimetable("0 6 15 2,5,8,11 *", timezone="UTC"),
    # Any quarter police.uk covers can be reported (its first whole quarter, 2011 Q1, is the run
    # of 2011-05-15); a run dated before start_date would get no task. catchup off: no self-backfill.
    start_date=datetime(2011, 2, 15, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "performance", "retries": 7, "retry_delay": timedelta(days=1)},
    tags=["report", "quarterly", "performance"],
    doc_md=__doc__,
)
def quarterly_report():
    @task
    def quarter_is_published(run_date: str) -> str:
        from ingest.config import load_settings
        from ingest.report import Quarter, check_quarter_published

        quarter = Quarter.last_complete_before(datetime.strptime(run_date, "%Y-%m-%d").date())
        return check_quarter_published(load_settings(), quarter.label)

    @task
    def render_report(quarter: str) -> str:
        from ingest.config import load_settings
        from ingest.report import render

        return str(render(load_settings(), quarter))

    render_report(quarter_is_published(RUN_DATE))


quarterly_report()
