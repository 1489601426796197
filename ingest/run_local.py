"""Run the real DAGs through Airflow on this machine: one ``dag.test`` run per month, then the build.

This is ``airflow dags test`` for a range of months in one process, so Airflow and
GX are imported once rather than once per month. Each run is a real DAG run in the
metadata database (data interval = the month), with the same tasks, pools and
templating the scheduler uses.

    python -m ingest.run_local --first 2022-10 --last 2025-09
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ingest.config import PROJECT_ROOT, load_settings

log = logging.getLogger("ingest.run_local")


def _load_dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    return bag


def month_run_date(month: str) -> datetime:
    """The date to test a monthly run at so that its data interval is ``month``.

    Airflow infers a manual run's data interval as the one *ending* at the date given
    (``airflow dags test police_uk_monthly 2024-04-01`` covers March 2024), so a month
    is run at the first day of the month after it.
    """
    year, number = map(int, month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=timezone.utc)


# The demo's other sources, each run once through its own DAG before the build. The dates are
# the DAG-run dates whose data intervals cover the bundled samples (see config/demo.toml).
SOURCE_RUNS: tuple[tuple[str, datetime], ...] = (
    ("reference_geography_population", datetime(2024, 1, 1, tzinfo=timezone.utc)),  # vintage 2023
    ("home_office_prc_quarterly", datetime(2025, 10, 1, tzinfo=timezone.utc)),  # release after 2025 Q2
    ("hmicfrs_inspections", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("finance_plans", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("csp_assessments", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("public_consultation", datetime(2025, 12, 1, tzinfo=timezone.utc)),  # the 2025 survey
)


def _without_retries(dag) -> None:
    for task in dag.tasks:
        task.retries = 0


class RunLoadedNothing(SystemExit):
    """A DAG run that ended "success" without running a task: nothing was loaded."""


def _judge(dag, logical_date: datetime, state: str, task_states: dict[str, str], *, what: str,
           require_load: bool = True) -> None:
    """Fail a run that did nothing: Airflow marks a run with no task instances (a date before the
    DAG's start_date) or with every task skipped as ``success``, and "loaded" must mean loaded."""
    if not task_states:
        start = getattr(dag, "start_date", None)
        if start is not None and start > logical_date:
            where = Path(getattr(dag, "fileloc", "") or "dags").name
            why = (f"its start_date {start:%Y-%m-%d} ({where}) is after the run date {logical_date:%Y-%m-%d}, and "
                   "Airflow creates no task for a run before a DAG's start_date")
        else:
            why = "Airflow created no task instance for it (is the DAG paused or its tasks' start_date later?)"
        raise RunLoadedNothing(f"{dag.dag_id} {what}: the run ended {state} but ran no task, so nothing was "
                               f"loaded: {why}")
    if require_load and not any(s == "success" for s in task_states.values()):
        skipped = sorted(t for t, s in task_states.items() if s == "skipped")
        if len(skipped) == len(task_states):
            # The task that chose to skip is the one with no skipped task upstream; its log says why.
            first = [t for t in skipped if not (dag.get_task(t).upstream_task_ids & set(skipped))]
            raise RunLoadedNothing(
                f"{dag.dag_id} {what}: every task was skipped ({', '.join(skipped)}), so nothing was loaded; "
                f"{', '.join(first) or skipped[0]} skipped the run (its log says why, e.g. the period is not "
                "published yet or no file is configured for it)")
        raise RunLoadedNothing(f"{dag.dag_id} {what}: no task succeeded ({task_states}), so nothing was loaded")


def _run(dag, logical_date: datetime, *, what: str | None = None, require_load: bool = True) -> str:
    what = what or f"run for {logical_date:%Y-%m-%d}"
    dag_run = dag.test(logical_date=logical_date)
    state = str(getattr(dag_run, "state", "unknown"))
    task_states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    failed = [t for t, s in task_states.items() if s in {"failed", "upstream_failed"}]
    if failed or state != "success":
        raise SystemExit(f"{dag.dag_id} {what} ended {state}; failed tasks: {failed}")
    _judge(dag, logical_date, state, task_states, what=what, require_load=require_load)
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    settings = load_settings()
    parser.add_argument("--first", default=settings.police_uk.first_month)
    parser.add_argument("--last", default=settings.police_uk.last_month)
    parser.add_argument("--skip-build", action="store_true", help="load months only, no dbt build/publish")
    parser.add_argument("--no-retries", action="store_true", help="fail at the first error (tests)")
    parser.add_argument("--police-uk-only", action="store_true", help="skip the other sources' DAGs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

    from ingest.months import month_range

    bag = _load_dags()
    monthly, build = bag.dags["police_uk_monthly"], bag.dags["evidence_build"]
    if args.no_retries:
        _without_retries(monthly)
        _without_retries(build)
    months = month_range(args.first, args.last)
    started = time.perf_counter()
    for index, month in enumerate(months, start=1):
        t0 = time.perf_counter()
        _run(monthly, month_run_date(month), what=f"{month} (run date {month_run_date(month):%Y-%m-%d})")
        print(f"[{index}/{len(months)}] police_uk_monthly {month} loaded in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr, flush=True)
    if not args.police_uk_only:
        for dag_id, run_date in SOURCE_RUNS:
            if dag_id not in bag.dags:
                continue
            t0 = time.perf_counter()
            if args.no_retries:
                _without_retries(bag.dags[dag_id])
            _run(bag.dags[dag_id], run_date)
            print(f"{dag_id} finished in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    if not args.skip_build:
        t0 = time.perf_counter()
        _run(build, datetime.now(timezone.utc).replace(microsecond=0))
        print(f"evidence_build finished in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    print(f"{len(months)} months through Airflow in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
