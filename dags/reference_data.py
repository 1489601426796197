"""Reference data: ONS geography and population once a year, Home Office recorded crime each quarter.

Three DAGs, one per source and named after it, each keyed on its data interval: ``ons_geography``
and ``ons_population`` (yearly: the year's lookups and estimates, and earlier vintages) and
``home_office_prc`` (the current release of the recorded-crime tables, found on the gov.uk page).
Fetches retry with backoff; loads share the ``duckdb_writer`` pool and emit one Asset per source.

**When it fails**: the load names the file and the column patterns it expected (ONS and the Home
Office rename columns between releases); a refused file keeps its previous partition and the others
still load. A URL that moved (ONS re-issues item ids) is fixed in ``config/platform.toml``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import CronDataIntervalTimetable, dag, task

from ingest.assets import RAW_HOME_OFFICE_PRC, RAW_ONS_GEOGRAPHY, RAW_ONS_POPULATION

YEAR = "{{ data_interval_start.year }}"
QUARTER = "{{ data_interval_start.year }}-Q{{ (data_interval_start.month - 1) // 3 + 1 }}"
FETCH = {"retries": 4, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True,
         "max_retry_delay": timedelta(hours=1)}
DEFAULTS = {"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=2)}


# From 2011: the ONS vintages police.uk months need go back to 2011 LSOAs (a year before the
# start_date would get no task). catchup off: earlier years are loaded on purpose, never by the scheduler.
# Population runs an hour after geography: both are yearly and independent, the hour only keeps
# the two writers from queueing on the pool at the same minute.
def ons_dag(source: str, cron: str, asset):
    @dag(dag_id=source, schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
         start_date=datetime(2011, 1, 1, tzinfo=timezone.utc), catchup=False, max_active_runs=1,
         default_args=DEFAULTS, tags=[source, "reference", "yearly", "ingest"], doc_md=__doc__)
    def ons_source():
        @task(**FETCH)
        def fetch(year: str) -> list[dict]:
            import importlib

            from ingest.config import load_settings

            return importlib.import_module(f"ingest.sources.{source}").fetch(load_settings(), int(year))

        @task(pool="duckdb_writer", outlets=[asset])
        def load_and_validate(year: str, fetched: list[dict]) -> dict:
            import importlib

            from ingest.config import load_settings

            return importlib.import_module(f"ingest.sources.{source}").load(load_settings(), int(year))

        load_and_validate(YEAR, fetch(YEAR))

    return ons_source()


ons_dag("ons_geography", "0 0 1 1 *", RAW_ONS_GEOGRAPHY)
ons_dag("ons_population", "0 1 1 1 *", RAW_ONS_POPULATION)


@dag(schedule=CronDataIntervalTimetable("0 0 1 */3 *", timezone="UTC"), start_date=datetime(2022, 10, 1, tzinfo=timezone.utc),
     catchup=False, max_active_runs=1, default_args=DEFAULTS, tags=["home_office_prc", "quarterly", "ingest"], doc_md=__doc__)
def home_office_prc():
    @task(**FETCH)
    def fetch(quarter: str) -> list[dict]:
        from ingest.config import load_settings
        from ingest.sources import home_office_prc

        return home_office_prc.fetch(load_settings(), quarter)

    @task(pool="duckdb_writer", outlets=[RAW_HOME_OFFICE_PRC])
    def load_and_validate(quarter: str, fetched: list[dict]) -> dict:
        from ingest.config import load_settings
        from ingest.sources import home_office_prc

        return home_office_prc.load(load_settings(), quarter, names=[f["file"] for f in fetched])

    load_and_validate(QUARTER, fetch(QUARTER))


home_office_prc()
