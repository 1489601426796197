"""The quarterly performance report: built before each Police and Crime Panel meeting, from the published file.

The measures are built and tested with the rest of the evidence base (evidence_build: dbt build,
gates, publish); this DAG only reads ``published/evidence.duckdb``, which holds the last state
that passed every gate. It runs on the days the Panel's papers are due, from the office's
calendar (``config/calendar.toml``: each meeting's date less ``papers_due_days_before_meeting``;
Airflow's EventsTimetable), and reports the newest quarter the published file completes by then.
The report folder is rendered beside the old one, checked, and swapped in whole: a failed check
leaves the previous report in place.

**When it fails**: "no complete quarter" means nothing has been published yet (the task retries
every six hours for two days); a failed check names what was wrong in the rendered folder (a
missing chart, an unknown measure) and leaves the previous report. A calendar the office mistyped
is a DAG import error naming the file and the entry; fix ``config/calendar.toml``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum
from airflow.sdk import dag, task
# The core class, not airflow.sdk's: Airflow 3.3's serializer writes the SDK EventsTimetable without the
# "_summary" its own decoder requires, so a DAG scheduled by it cannot be stored (SerializationError).
from airflow.timetables.events import EventsTimetable

from ingest.office_calendar import load_calendar

RUN_DATE = "{{ data_interval_end.strftime('%Y-%m-%d') }}"


# The calendar is read when the file is parsed (one small TOML file): EventsTimetable needs its dates.
CALENDAR = load_calendar()


@dag(
    schedule=EventsTimetable(
        [pendulum.instance(when) for when in CALENDAR.report_runs()], presorted=True,
        # A manual run reports as of its own date, not as of the last papers-due day.
        restrict_to_events=False,
        description=f"papers due {CALENDAR.papers_due_days} days before each Panel meeting"),
    # Any quarter police.uk covers can be reported by a manual run; the scheduled runs are the
    # calendar's. catchup off: a calendar with past meetings does not render old reports on deploy.
    start_date=datetime(2011, 2, 15, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "performance", "retries": 8, "retry_delay": timedelta(hours=6)},
    tags=["report", "quarterly", "performance"],
    doc_md=__doc__,
)
def quarterly_report():
    @task
    def quarter_to_report(run_date: str) -> str:
        from ingest.config import load_settings
        from ingest.report import newest_published_quarter

        return newest_published_quarter(load_settings(), before=datetime.strptime(run_date, "%Y-%m-%d").date())

    @task
    def render_report(quarter: str) -> str:
        from ingest.config import load_settings
        from ingest.report import render

        return str(render(load_settings(), quarter))

    render_report(quarter_to_report(RUN_DATE))


quarterly_report()
