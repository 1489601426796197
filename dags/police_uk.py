"""data.police.uk, one month per run: is it published? fetch the archive, load and gate each force-month.

"Published" is the API's ``/crimes-street-dates`` (``[police_uk] api_url``), which also says
which forces have stop and search that month; a month not listed is skipped, not failed.

The month is the run's data interval (``@monthly`` intervals), so a backfill over any
range loads exactly those months. Loads are serialised by the ``duckdb_writer`` pool.

**Loads** ``raw.police_uk_street``, ``raw.police_uk_outcomes``, ``raw.police_uk_stop_search`` from
``https://data.police.uk/data/archive/<month>.zip`` (``[police_uk] archive_url``), for the configured
forces. **Emits** the ``raw_police_uk`` Asset, which triggers ``evidence_build``.

**When it fails**: the task log and ``raw.load_log`` (``status``, ``reason``) say which force-month
and why; its previous rows are kept and nothing is published from it. ``refused`` (changed header,
a file joined to itself, a failed gate): fetch again when the publisher re-issues, or update the
contract and suite together. ``held`` (rows unaccounted for, over ``max_reject_share`` rejects, a
partition shrinking by more than ``max_shrink_share``): look at the file; to load it anyway set
``OPCC_POLICE_UK__ACCEPT_HELD=<force>:<month>`` and clear the task. A fetch error (a cut-off or
hostile archive) leaves the previous extraction; clear the task to retry.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import CronDataIntervalTimetable, dag, task

from ingest.assets import RAW_POLICE_UK

MONTH = "{{ data_interval_start.strftime('%Y-%m') }}"


@dag(
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
    # data.police.uk's first month is December 2010: any published month can be backfilled
    # (a run dated before start_date gets no task at all). catchup stays off, so the scheduler
    # never backfills by itself; history is loaded on purpose (run_local, airflow backfill).
    start_date=datetime(2010, 12, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=3,
    default_args={"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["police_uk", "monthly", "ingest"],
    doc_md=__doc__,
)
def police_uk():
    # Asks /crimes-street-dates (offline: does the archive exist?); a month not published yet is
    # skipped, an API that cannot be reached fails and is retried. The pool paces API callers.
    @task(pool="police_uk_api")
    def check_published(month: str) -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        from ingest.config import load_settings
        from ingest.sources import police_uk

        if not police_uk.is_month_published(load_settings(), month):
            raise AirflowSkipException(f"data.police.uk has not published {month} yet")
        return month

    @task(retries=4, retry_delay=timedelta(minutes=1), retry_exponential_backoff=True,
          max_retry_delay=timedelta(minutes=30))
    def fetch(month: str) -> dict:
        from dataclasses import asdict

        from ingest.config import load_settings
        from ingest.sources import police_uk

        return asdict(police_uk.fetch(load_settings(), month))

    @task(pool="duckdb_writer", outlets=[RAW_POLICE_UK])
    def load_and_validate(month: str, fetched: dict) -> dict:
        from ingest.config import load_settings
        from ingest.sources import police_uk

        return police_uk.load(load_settings(), month)

    month = check_published(MONTH)
    load_and_validate(month, fetch(month))


police_uk()
