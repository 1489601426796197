"""The compose file and image: parsed and checked (no Docker engine runs on these machines)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker"]


def test_stack_has_the_official_shape():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES} <= set(services)
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")


@pytest.mark.parametrize("service", ["postgres", "redis", *AIRFLOW_SERVICES])
def test_every_long_running_service_has_a_health_check(service):
    check = COMPOSE["services"][service]["healthcheck"]
    assert check["test"] and check["interval"]


def test_airflow_waits_for_init_and_init_creates_pool_and_admin():
    for service in AIRFLOW_SERVICES:
        assert COMPOSE["services"][service]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    command = " ".join(COMPOSE["services"]["airflow-init"]["command"])
    assert "ingest.airflow_home" in command  # db migrate + duckdb_writer pool
    assert "users create" in command and "--role Admin" in command
    from ingest.airflow_home import POOLS

    assert POOLS["duckdb_writer"][0] == 1


def test_data_folders_are_volumes():
    mounts = COMPOSE["services"]["airflow-worker"]["volumes"]
    targets = {m.split(":")[1] for m in mounts}
    assert {"/opt/opcc/var", "/opt/opcc/published", "/opt/opcc/reports", "/opt/opcc/dags"} <= targets
    assert {"opcc-var", "opcc-published", "opcc-reports", "postgres-db-volume"} <= set(COMPOSE["volumes"])


def test_secrets_only_from_env_file():
    text = (REPO / "docker-compose.yml").read_text()
    # Every password or secret is a ${VAR} reference that fails when unset, never a literal.
    for line in text.splitlines():
        if re.search(r"PASSWORD|SECRET|FERNET", line) and ":" in line and not line.strip().startswith("#"):
            value = line.split(":", 1)[1]
            assert "${" in value or "$${" in value or value.strip() in {"", "|"} or "env" in value, line
    assert COMPOSE["services"]["airflow-scheduler"]["env_file"] == ".env"
    assert ".env" in (REPO / ".gitignore").read_text().split()
    assert (REPO / ".env.example").exists()
    assert not (REPO / ".env").exists() or ".env" not in subprocess.run(
        ["git", "ls-files", ".env"], cwd=REPO, capture_output=True, text=True).stdout


def test_image_builds_from_the_official_airflow_image():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.\d+-python3\.11$", dockerfile, re.M)
    assert "requirements.lock" in dockerfile


@pytest.mark.skipif(shutil.which("docker") is None, reason="docker client not installed")
def test_docker_compose_config_where_the_plugin_exists(tmp_path):
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("docker compose plugin not installed")
    env = tmp_path / ".env"
    env.write_text((REPO / ".env.example").read_text())
    result = subprocess.run(["docker", "compose", "--env-file", str(env), "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_airflow_home_has_one_jwt_secret_for_every_component_and_its_pools(tmp_path: Path):
    """ingest.airflow_home writes airflow.cfg with its generated secrets before anything starts: an
    API server and a scheduler started without the file would each generate their own JWT secret,
    and every task would be refused ("Invalid auth token"). A second run keeps them."""
    import configparser
    import os
    import sqlite3
    import sys

    home = tmp_path / "airflow"
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    secrets = []
    for _ in range(2):
        subprocess.run([sys.executable, "-m", "ingest.airflow_home"], env=env, cwd=REPO, check=True,
                       capture_output=True, timeout=180)
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(home / "airflow.cfg")
        secrets.append((cfg.get("api_auth", "jwt_secret"), cfg.get("core", "fernet_key")))
    assert all(secrets[0]) and secrets[0] == secrets[1]
    from ingest.airflow_home import POOLS

    with sqlite3.connect(home / "airflow.db") as db:
        pools = dict(db.execute("select pool, slots from slot_pool").fetchall())
    assert {name: slots for name, (slots, _) in POOLS.items()}.items() <= pools.items()
