"""Shared fixtures: where the real published files are, and tiny real-format archives."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never touch a developer's Airflow: a private home, no example DAGs.
os.environ.setdefault("AIRFLOW_HOME", str(REPO / "var" / "test-airflow"))
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


@pytest.fixture
def real_police_uk() -> Path:
    if not REAL_POLICE_UK.is_dir():
        pytest.skip(f"real police.uk files not found at {REAL_POLICE_UK}")
    return REAL_POLICE_UK
