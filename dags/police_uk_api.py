"""data.police.uk reference data, weekly: forces, senior officers, neighbourhoods and their priorities.

Fetch tasks share the ``police_uk_api`` pool, whose slots split the API's rate limit (15
requests/s, bursts of 30) between processes (``[http.rate_limits."data.police.uk"]``). One
fetch lands the national datasets, one per configured force lands that force's; the load
replaces them all in ``raw.police_uk_api_*`` in one transaction.

**When it fails**: a 429 or 5xx is retried by the HTTP layer and then by the task; a load whose
answers break their suite (``expectations/raw_police_uk_api_*.json``: no rows where the API always
has some, a key missing or repeated) rolls back every table and names the landed file — the
previous reference data stays. Clear the fetch task to land the answers again.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import CronTriggerTimetable, dag, task

from ingest.assets import RAW_POLICE_UK_API

FETCH = {"pool": "police_uk_api", "retries": 3, "retry_exponential_backoff": True,
         "retry_delay": timedelta(minutes=2), "max_retry_delay": timedelta(minutes=30)}


@dag(
    schedule=CronTriggerTimetable("0 6 * * 1", timezone="UTC"),  # Mondays 06:00
    start_date=datetime(2025, 1, 6, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["police_uk", "weekly", "ingest", "reference"],
    doc_md=__doc__,
)
def police_uk_api():
    @task
    def configured_forces() -> list[str]:
        from ingest.config import load_settings

        return list(load_settings().police_uk.forces)

    @task(**FETCH)
    def fetch_national() -> list[dict]:
        from ingest.config import load_settings
        from ingest.sources import police_uk_api

        return police_uk_api.fetch_national(load_settings())

    @task(**FETCH)
    def fetch_force(force_id: str) -> list[dict]:
        from ingest.config import load_settings
        from ingest.sources import police_uk_api

        return police_uk_api.fetch_force(load_settings(), force_id)

    @task(pool="duckdb_writer", outlets=[RAW_POLICE_UK_API])
    def load(national: list[dict], forces: list[list[dict]]) -> dict:
        from ingest.config import load_settings
        from ingest.sources import police_uk_api

        return police_uk_api.load(load_settings())

    load(fetch_national(), fetch_force.expand(force_id=configured_forces()))


police_uk_api()
