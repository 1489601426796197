"""The evidence build: when raw data changes, ``dbt build`` (models + tests), then publish.

Scheduled on the raw Assets: any source's new data triggers it. A failed dbt test stops the run before publish, so
analysts keep the last good ``published/evidence.duckdb``.

**When it fails**: ``dbt_build``'s log names the failing model or test and shows up to five failing
rows; fix the data (or the model) and clear the task — the published file is untouched until a build
passes. ``publish`` failing leaves the previous file, Parquet and workbooks in place; rerun it. Docs
(``published/docs/``) are rebuilt by ``make docs`` / ``python -m ingest.docs_site``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, task

from ingest.assets import (
    PUBLISHED_EVIDENCE,
    RAW_CALL_HANDLING,
    RAW_CONSULTATION,
    RAW_CSP_ASSESSMENTS,
    RAW_FINANCE,
    RAW_FORCE_VULNERABILITY,
    RAW_HMICFRS,
    RAW_HOME_OFFICE_PRC,
    RAW_ONS_GEOGRAPHY,
    RAW_ONS_POPULATION,
    RAW_POLICE_UK,
    RAW_POLICE_UK_API,
    RAW_ROAD_SAFETY,
    RAW_VICTIM_SATISFACTION,
)

# Any source's new raw data rebuilds the evidence base.
ANY_RAW_SOURCE = (RAW_POLICE_UK | RAW_POLICE_UK_API | RAW_ONS_GEOGRAPHY | RAW_ONS_POPULATION | RAW_HOME_OFFICE_PRC
                  | RAW_HMICFRS | RAW_FINANCE | RAW_CSP_ASSESSMENTS | RAW_CONSULTATION
                  | RAW_VICTIM_SATISFACTION | RAW_CALL_HANDLING | RAW_FORCE_VULNERABILITY | RAW_ROAD_SAFETY)


@dag(
    schedule=ANY_RAW_SOURCE,
    # Asset-scheduled; the start is the data's (police.uk from December 2010) so that a build
    # tested or triggered at any date the data covers gets its tasks.
    start_date=datetime(2010, 12, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["dbt", "publish"],
    doc_md=__doc__,
)
def evidence_build():
    @task(pool="duckdb_writer")
    def dbt_build() -> dict:
        from ingest.config import load_settings
        from ingest.transform import dbt_build as run

        return run(load_settings())  # creates every source's raw tables first, even before its first load

    @task(pool="duckdb_writer", outlets=[PUBLISHED_EVIDENCE])
    def publish(built: dict) -> str:
        from ingest.config import load_settings
        from ingest.publish import publish as run

        return str(run(load_settings()))

    publish(dbt_build())


evidence_build()
