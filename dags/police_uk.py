"""data.police.uk, one month per run: is it published? fetch the archive, load and gate each force-month.

"Published" is the API's ``/crimes-street-dates`` (``[police_uk] api_url``), which also says
which forces have stop and search that month; a month not listed is skipped, not failed.

The month is the run's data interval (``@monthly`` intervals), so a backfill over any
range loads exactly those months. A manual run can load several months at once: the ``through``
param (``YYYY-MM``, in the run's conf) extends it from its data interval's month through that one,
loaded six months per transaction (``police_uk.load_months``), as ``run_local --months-per-run``
does. Loads are serialised by the ``duckdb_writer`` pool.

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

import logging
from datetime import datetime, timedelta, timezone

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from ingest.assets import RAW_POLICE_UK

MONTH = "{{ data_interval_start.strftime('%Y-%m') }}"
THROUGH = "{{ params.through or data_interval_start.strftime('%Y-%m') }}"

log = logging.getLogger(__name__)


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
    params={"through": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$",
                             description="load from the run's month through this one (YYYY-MM); empty: that month")},
    doc_md=__doc__,
)
def police_uk():
    # Asks /crimes-street-dates (offline: does the archive exist?); a month not published yet is
    # skipped, an API that cannot be reached fails and is retried. The pool paces API callers.
    @task(pool="police_uk_api")
    def check_published(month: str, through: str) -> list[str]:
        from airflow.sdk.exceptions import AirflowSkipException

        from ingest.config import load_settings
        from ingest.months import month_range
        from ingest.sources import police_uk

        settings = load_settings()
        months = month_range(month, max(month, through))
        published = [m for m in months if police_uk.is_month_published(settings, m)]
        if not published:
            span = f"{months[0]} to {months[-1]}" if len(months) > 1 else month
            raise AirflowSkipException(f"data.police.uk has not published {span} yet")
        if len(published) < len(months):
            log.warning("data.police.uk has not published %s yet: loading %s",
                        ", ".join(sorted(set(months) - set(published))), ", ".join(published))
        return published

    @task(retries=4, retry_delay=timedelta(minutes=1), retry_exponential_backoff=True,
          max_retry_delay=timedelta(minutes=30))
    def fetch(months: list[str]) -> list[dict]:
        from dataclasses import asdict

        from ingest.config import load_settings
        from ingest.sources import police_uk

        settings = load_settings()
        return [asdict(police_uk.fetch(settings, month)) for month in months]

    @task(pool="duckdb_writer", outlets=[RAW_POLICE_UK])
    def load_and_validate(months: list[str], fetched: list[dict]) -> dict:
        from ingest.config import load_settings
        from ingest.sources import police_uk

        return police_uk.load_months(load_settings(), months)

    months = check_published(MONTH, THROUGH)
    load_and_validate(months, fetch(months))


police_uk()
