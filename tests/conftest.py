"""Shared fixtures: where the real published files are, and tiny real-format archives."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never touch a developer's Airflow: a private home, no example DAGs. Under pytest-xdist each
# worker (PYTEST_XDIST_WORKER = gw0, gw1, ...) has a home of its own, so no two processes share
# Airflow's logs or configuration. The workers inherit the controller's environment, so the shared
# default the controller set is replaced here; an AIRFLOW_HOME set before pytest started is kept.
TEST_AIRFLOW_HOME = REPO / "var" / "test-airflow"
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if os.environ.get("AIRFLOW_HOME", str(TEST_AIRFLOW_HOME)) == str(TEST_AIRFLOW_HOME):
    os.environ["AIRFLOW_HOME"] = str(TEST_AIRFLOW_HOME / XDIST_WORKER if XDIST_WORKER else TEST_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
SHARED_DATA = Path(os.environ.get("OPCC_SHARED_DATA", REPO.parent / "shared" / "data"))
REAL_POLICE_UK = SHARED_DATA / "police_uk"

STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)


def street_row(crime_id: str, month: str, crime_type: str = "Burglary", outcome: str = "Under investigation",
               force_name: str = "Lancashire Constabulary", lon: str = "-2.703300", lat: str = "53.763200",
               location: str = "On or near Parking Area", lsoa: str = "E01025321", lsoa_name: str = "Preston 013B") -> str:
    return f"{crime_id},{month},{force_name},{force_name},{lon},{lat},{location},{lsoa},{lsoa_name},{crime_type},{outcome},"


def write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.fixture(autouse=True)
def _parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ingest.transform.dbt_build`` reuses the project this process parsed (tests.helpers.parsed_project)
    instead of parsing it again on each call: no test changes the project's files."""
    from tests.helpers import parsed_project

    monkeypatch.setattr("ingest.transform.parse_project", parsed_project)


@pytest.fixture
def real_police_uk() -> Path:
    if not REAL_POLICE_UK.is_dir():
        pytest.skip(f"real police.uk files not found at {REAL_POLICE_UK}")
    return REAL_POLICE_UK


# Parallel runs (pytest-xdist, ``--dist loadscope`` in pyproject.toml): each test module is one unit
# of work, so a module-scoped fixture (a dbt build, an Airflow run, a generated platform) is built
# once, on one worker. Units are handed out in collection order (``--no-loadscope-reorder``), so the
# longest go first: the real services, then the end-to-end run through Airflow, then the modules that
# share a module-scoped fixture, then the rest, which even out the end of the run. A serial run
# keeps the plain collection order. (``--dist loadgroup`` would allow finer units, but with pytest
# 9.2 and pytest-xdist 3.8 it silently ignores xdist_group marks: pytest-xdist issue 1386.)
_SHARED_SCOPES = {"module", "package", "class"}


def _shares_a_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope in _SHARED_SCOPES for defs in info.name2fixturedefs.values())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not XDIST_WORKER:
        return
    shared = {item.nodeid.split("::", 1)[0] for item in items if _shares_a_fixture(item)}

    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("services"):
            return 0
        if item.get_closest_marker("e2e"):
            return 1
        return 2 if item.nodeid.split("::", 1)[0] in shared else 3

    items.sort(key=weight)  # stable: a module's tests keep their order and stay together
