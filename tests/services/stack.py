"""A throwaway real Airflow stack on loopback: PostgreSQL (Debian's package) plus Airflow's
api-server, scheduler, dag-processor and triggerer with the LocalExecutor. No containers.

Every process is started in its own process group and stopped (then killed) by group,
so LocalExecutor workers left behind by SIGTERM are reaped too.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class Postgres:
    data_dir: Path
    port: int
    password: str = "airflow-test"
    bin_dir: Path = field(default_factory=lambda: postgres_bin() or Path("/nonexistent"))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://airflow:{self.password}@127.0.0.1:{self.port}/airflow"

    @property
    def async_url(self) -> str:
        # Airflow derives an asyncpg URL by default; psycopg 3 serves both, so say so explicitly.
        return f"postgresql+psycopg_async://airflow:{self.password}@127.0.0.1:{self.port}/airflow"

    def _as_postgres(self) -> dict:
        # initdb and postgres refuse to run as root: run them as the postgres system user.
        if os.geteuid() != 0:
            return {}
        entry = pwd.getpwnam("postgres")
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        as_user = self._as_postgres()
        if as_user:
            for path in (self.data_dir.parent, self.data_dir):
                shutil.chown(path, user="postgres", group="postgres")
        subprocess.run([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
                        "--no-sync"], check=True, capture_output=True, **as_user)
        self.process = subprocess.Popen(
            [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.data_dir), "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, **as_user,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run([str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                break
            time.sleep(0.3)
        else:
            raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{self.port}")
        psql = [str(self.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
        subprocess.run(psql + ["-c", f"create user airflow password '{self.password}'"], check=True, capture_output=True)
        subprocess.run(psql + ["-c", "create database airflow owner airflow"], check=True, capture_output=True)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, sig=signal.SIGINT)  # postgres: SIGINT = fast shutdown


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    stop_groups([process], sig, timeout)


def stop_groups(processes: list[subprocess.Popen], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Signal every process group at once, wait for them all within one ``timeout`` (they shut down
    side by side, not one after another), then kill whatever is left of each group."""
    for process in processes:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # reap anything the component left behind
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


@dataclass
class AirflowStack:
    home: Path
    env: dict[str, str]
    port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    token: str | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        init = subprocess.run([sys.executable, "-m", "ingest.airflow_home"], env=self.env, cwd=REPO,
                              capture_output=True, text=True)
        if init.returncode != 0:
            raise RuntimeError(f"ingest.airflow_home failed:\n{init.stderr[-3000:]}")
        airflow = str(Path(sys.executable).with_name("airflow"))
        commands = {
            "api-server": [airflow, "api-server", "--port", str(self.port), "--host", "127.0.0.1"],
            "scheduler": [airflow, "scheduler"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer"],
        }
        for name, command in commands.items():
            log = (self.home / f"{name}.log").open("w")
            self.processes[name] = subprocess.Popen(command, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                                    start_new_session=True)
        self._wait_healthy()
        self.token = self._login()

    def _wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: see {self.home / (name + '.log')}")
            try:
                health = requests.get(f"{self.base}/api/v2/monitor/health", timeout=2).json()
                if health.get("metadatabase", {}).get("status") == "healthy" and \
                        health.get("scheduler", {}).get("status") == "healthy":
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(1)
        raise RuntimeError(f"Airflow was not healthy within {timeout:.0f}s; logs in {self.home}")

    def _login(self) -> str:
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())
        response = requests.post(f"{self.base}/auth/token",
                                 json={"username": "admin", "password": passwords["admin"]}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(method, f"{self.base}/api/v2{path}", headers=headers, timeout=30, **kwargs)

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api("GET", f"/dags/{dag_id}").status_code == 200:
                return
            time.sleep(2)
        raise RuntimeError(f"DAG {dag_id} was not parsed within {timeout:.0f}s")

    def wait_for_run(self, dag_id: str, run_id: str | None = None, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-start_date"}).json().get("dag_runs", [])
            run = next((r for r in runs if run_id in (None, r["dag_run_id"])), None)
            if run and run["state"] in {"success", "failed"}:
                return run
            time.sleep(2)
        raise RuntimeError(f"{dag_id} run {run_id or '(any)'} did not finish within {timeout:.0f}s")

    def stop(self) -> None:
        # the stack is thrown away: a component still up 5 s after SIGTERM is killed
        stop_groups(list(self.processes.values()), timeout=5)
