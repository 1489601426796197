"""The real services: PostgreSQL + Airflow components on loopback, DAGs driven through the
authenticated REST API, the published file checked, every process stopped afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from devtools.sample.police_uk import generate_archive
from tests.services.stack import REPO, AirflowStack, Postgres, free_port, postgres_bin

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed (make test-services installs them)")
    root = tmp_path_factory.mktemp("stack")
    generate_archive(root / "publisher", "2024-01", "2024-02", ["lancashire"], seed=3, scale=0.05)
    # The cluster lives outside pytest's root-only tmp tree: the postgres user must reach it.
    pg_dir = Path(tempfile.mkdtemp(prefix="opcc-pg-"))
    postgres = Postgres(data_dir=pg_dir / "data", port=free_port())
    postgres.start()
    home = root / "airflow"
    home.mkdir()
    api_port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": postgres.async_url,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        # Task processes report to the api-server's execution API: ours is on a free port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "PYTHONPATH": str(REPO),
        "OPCC_ROOT": str(root),
        "OPCC_POLICE_UK__FORCES": "lancashire",
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{root}/publisher/archive/{{month}}.zip",
        "OPCC_POLICE_UK__API_URL": "",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    airflow = AirflowStack(home=home, env=env, port=api_port)
    try:
        airflow.start()
        yield airflow, env
    finally:
        airflow.stop()
        postgres.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)


def test_unauthenticated_api_is_refused(stack):
    airflow, _ = stack
    import requests

    assert requests.get(f"{airflow.base}/api/v2/dags", timeout=10).status_code == 401


def test_dags_run_through_the_rest_api_and_publish(stack):
    airflow, env = stack
    for dag_id in ("police_uk", "evidence_build"):
        airflow.wait_for_dag(dag_id)
        assert airflow.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}).status_code == 200
    triggered = airflow.api("POST", "/dags/police_uk/dagRuns", json={
        "dag_run_id": "test_2024_01",
        "logical_date": "2024-01-01T00:00:00Z",
        "data_interval_start": "2024-01-01T00:00:00Z",
        "data_interval_end": "2024-02-01T00:00:00Z",
    })
    assert triggered.status_code == 200, triggered.text
    run = airflow.wait_for_run("police_uk", "test_2024_01")
    assert run["state"] == "success", run
    # evidence_build is scheduled on the raw Asset the monthly run produced.
    build = airflow.wait_for_run("evidence_build")
    assert build["state"] == "success", build

    settings = load_settings(environ=env)
    with duckdb.connect(str(settings.paths.published), read_only=True) as con:
        months = con.execute("select distinct strftime(month_start, '%Y-%m') from evidence.fct_crime_monthly").fetchall()
        crimes = con.execute("select sum(crime_count) from evidence.fct_crime_monthly").fetchall()[0][0]
    assert months == [("2024-01",)]
    assert crimes > 100
