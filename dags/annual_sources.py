"""Annual and on-publication sources: HMICFRS PEEL grades, finance plans, CSP strategic assessments,
the public consultation, the force's victim survey export and its 999/101 call handling return.

One DAG per source, made from the table below, each with its own schedule: what is there for
the year (skipped when nothing is published yet) → fetch (retries with backoff) → load and gate
in the ``duckdb_writer`` pool, which emits the source's Asset. The year is the one the run's
data interval ends in: everything published by then for that year and before is (re)loaded,
each partition replaced whole, so reruns and backfills give the same rows.

**When it fails**: the task names the file and what was wrong (a finance formula error by sheet and
cell, an encrypted assessment, a consultation answer outside its list by column and line, never the
value); the refused file keeps its previous rows and the others still load. Correct the file where
the office keeps it (``inputs/…``, see ``templates/``) and clear the task.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import CronDataIntervalTimetable, dag, task

from ingest.assets import (RAW_CALL_HANDLING, RAW_CONSULTATION, RAW_CSP_ASSESSMENTS, RAW_FINANCE,
                           RAW_FORCE_VULNERABILITY, RAW_HMICFRS, RAW_ROAD_SAFETY, RAW_VICTIM_SATISFACTION)

YEAR = "{{ data_interval_end.year }}"
FETCH = {"retries": 4, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True,
         "max_retry_delay": timedelta(hours=1)}
DEFAULTS = {"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=2)}

# DAG id = module in ingest.sources = config section: (cron (UTC), Asset, why this cadence)
SOURCES = {
    "hmicfrs": ("0 6 1 * *", RAW_HMICFRS,
                "PEEL reports come out through each round: checked monthly (an unchanged file is skipped)."),
    "finance": ("0 6 1 3 *", RAW_FINANCE,
                "Budgets and precepts are set in February, the settlement in January: loaded each March."),
    "csp_assessments": ("0 6 1 7 *", RAW_CSP_ASSESSMENTS,
                        "Strategic assessments are refreshed each spring: loaded each July."),
    "consultation": ("0 7 1 * *", RAW_CONSULTATION,
                     "Per consultation: the survey export is checked monthly while a survey runs and after "
                     "it closes (an unchanged file is skipped)."),
    "victim_satisfaction": ("0 7 8 * *", RAW_VICTIM_SATISFACTION,
                            "The force sends the victim survey export monthly, a week after the month ends: "
                            "checked on the 8th (an unchanged file is skipped)."),
    "call_handling": ("0 7 8 * *", RAW_CALL_HANDLING,
                      "The force's 999 and 101 return comes monthly, a week after the month ends: checked on the 8th."),
    "force_vulnerability": ("0 7 15 * *", RAW_FORCE_VULNERABILITY,
                            "The force's vulnerability return comes monthly, two weeks after the month ends (its "
                            "outcomes and repeat-victim matching need the month closed): checked on the 15th."),
    "road_safety": ("0 7 15 * *", RAW_ROAD_SAFETY,
                    "The force's STATS19 casualty totals come monthly, once the month's collisions are validated: "
                    "checked on the 15th (an unchanged file is skipped)."),
}


def source_dag(module: str, cron: str, asset, cadence: str):
    @dag(dag_id=module, schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
         # Earlier years' files (finance plans, PEEL grades from 2014) can be configured and backfilled:
         # a run dated before start_date would get no task. catchup off: the scheduler never backfills.
         start_date=datetime(2010, 12, 1, tzinfo=timezone.utc), catchup=False, max_active_runs=1,
         default_args=DEFAULTS, tags=[module, "annual", "ingest"], doc_md=f"{__doc__}\n\n{cadence}")
    def annual_source():
        @task
        def what_is_there(year: str) -> str:
            import importlib

            from airflow.sdk.exceptions import AirflowSkipException

            from ingest.config import load_settings

            settings, source = load_settings(), importlib.import_module(f"ingest.sources.{module}")
            published = [f for f in source.files_for(settings, int(year)) if source.is_published(settings, f)]
            if not published:
                raise AirflowSkipException(f"{module}: nothing published for {year} or before (see config [{module}])")
            return year

        @task(**FETCH)
        def fetch(year: str) -> list[dict]:
            import importlib

            from ingest.config import load_settings

            return importlib.import_module(f"ingest.sources.{module}").fetch(load_settings(), int(year))

        @task(pool="duckdb_writer", outlets=[asset])
        def load_and_validate(year: str, fetched: list[dict]) -> dict:
            import importlib

            from ingest.config import load_settings

            return importlib.import_module(f"ingest.sources.{module}").load(load_settings(), int(year))

        year = what_is_there(YEAR)
        load_and_validate(year, fetch(year))

    return annual_source()


for _module, (_cron, _asset, _cadence) in SOURCES.items():
    source_dag(_module, _cron, _asset, _cadence)
