"""run_local fails a DAG run that loaded nothing: no task instance (a date before the DAG's
start_date) or every task skipped. Airflow itself marks both runs "success"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from ingest.run_local import RunLoadedNothing, judge_run

REPO = Path(__file__).resolve().parents[2]
WHEN = datetime(2019, 1, 1, tzinfo=timezone.utc)


def fake_dag(start: datetime, upstream: dict[str, set[str]] | None = None):
    upstream = upstream or {}
    return SimpleNamespace(dag_id="police_uk", start_date=start, fileloc=str(REPO / "dags" / "x.py"),
                           get_task=lambda t: SimpleNamespace(upstream_task_ids=upstream.get(t, set())))


def test_a_run_with_no_task_instance_fails_naming_the_dag_the_date_and_the_start_date():
    with pytest.raises(RunLoadedNothing) as nothing:
        judge_run(fake_dag(datetime(2022, 10, 1, tzinfo=timezone.utc)), WHEN, "success", {}, what="2018-12")
    assert str(nothing.value) == (
        "police_uk 2018-12: the run ended success but ran no task, so nothing was loaded: its start_date "
        "2022-10-01 (x.py) is after the run date 2019-01-01, and Airflow creates no task for a run before a DAG's "
        "start_date")
    with pytest.raises(RunLoadedNothing, match="ran no task, so nothing was loaded: Airflow created no task"):
        judge_run(fake_dag(datetime(2010, 12, 1, tzinfo=timezone.utc)), WHEN, "success", {}, what="2018-12")


def test_a_run_whose_every_task_skipped_fails_naming_the_task_that_skipped():
    dag = fake_dag(datetime(2010, 12, 1, tzinfo=timezone.utc),
                   {"fetch": {"check_published"}, "load_and_validate": {"check_published", "fetch"}})
    skipped = {"check_published": "skipped", "fetch": "skipped", "load_and_validate": "skipped"}
    with pytest.raises(RunLoadedNothing) as nothing:
        judge_run(dag, WHEN, "success", skipped, what="2018-12")
    assert str(nothing.value).startswith(
        "police_uk 2018-12: every task was skipped (check_published, fetch, load_and_validate), so nothing "
        "was loaded; check_published skipped the run")
    judge_run(dag, WHEN, "success", skipped, what="2018-12", require_load=False)  # a caller that accepts a skip


def test_a_run_with_a_task_that_succeeded_passes():
    dag = fake_dag(datetime(2010, 12, 1, tzinfo=timezone.utc))
    judge_run(dag, WHEN, "success", {"check_published": "success", "fetch": "success", "load_and_validate": "success"},
           what="2018-12")


DAGS = '''
from datetime import datetime, timezone
from airflow.sdk import CronDataIntervalTimetable, dag, task

MONTHLY = CronDataIntervalTimetable("0 0 1 * *", timezone="UTC")


@dag(dag_id="starts_later", schedule=MONTHLY, start_date=datetime(2022, 10, 1, tzinfo=timezone.utc), catchup=False)
def starts_later():
    @task
    def load() -> int:
        return 1

    load()


@dag(dag_id="skips_everything", schedule=MONTHLY, start_date=datetime(2010, 12, 1, tzinfo=timezone.utc), catchup=False)
def skips_everything():
    @task
    def check_published() -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException("not published")

    @task
    def load(month: str) -> str:
        return month

    load(check_published())


@dag(dag_id="loads", schedule=MONTHLY, start_date=datetime(2010, 12, 1, tzinfo=timezone.utc), catchup=False)
def loads():
    @task
    def load() -> int:
        return 1

    load()


starts_later()
skips_everything()
loads()
'''

RUNNER = '''
import json, sys
from datetime import datetime, timezone
from airflow.utils import db
db.resetdb(skip_init=False)
from airflow.dag_processing.dagbag import DagBag
from ingest.run_local import run_dag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
out = {}
for dag_id in ("starts_later", "skips_everything", "loads"):
    try:
        out[dag_id] = {"returned": run_dag(bag.dags[dag_id], datetime(2019, 1, 1, tzinfo=timezone.utc), what="2018-12")}
    except SystemExit as exc:
        out[dag_id] = {"exit": str(exc.code), "type": type(exc).__name__}
print("@@" + json.dumps(out))
'''


def test_run_local_fails_real_dag_runs_that_loaded_nothing(tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "run_local_cases.py").write_text(textwrap.dedent(DAGS))
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", RUNNER, str(dags)], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    marker = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    assert marker, done.stdout[-3000:] + done.stderr[-3000:]
    out = json.loads(marker[-1][2:])
    assert out["starts_later"]["type"] == "RunLoadedNothing"
    assert out["starts_later"]["exit"].startswith("starts_later 2018-12: the run ended success but ran no task")
    assert "start_date 2022-10-01 (run_local_cases.py) is after the run date 2019-01-01" in out["starts_later"]["exit"]
    assert out["skips_everything"]["type"] == "RunLoadedNothing"
    assert out["skips_everything"]["exit"].startswith(
        "skips_everything 2018-12: every task was skipped (check_published, load), so nothing was loaded; "
        "check_published skipped the run")
    assert out["loads"] == {"returned": "success"}
