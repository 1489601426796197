"""End to end through Airflow on generated data: a full run, a rerun with identical results,
bad inputs that fail with a clear error while the published file stays as it was, and the
police.uk reference data (neighbourhoods and their priorities) from the fake API into the published file."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from ingest.raw import LoadError
from ingest.raw.landing import LandingError
from devtools.fake_police_api import FakePoliceApi
from devtools.sample.police_uk import generate_archive
from ingest.sources import police_uk

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST = "2024-01", "2025-02"  # 14 months: enough for a same-month-last-year comparison
FORCES = ["lancashire", "west-midlands"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("platform")
    generate_archive(root / "publisher", FIRST, LAST, FORCES, seed=7, scale=0.1)
    env = {
        **os.environ,
        "OPCC_ROOT": str(root),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{root}/publisher/archive/{{month}}.zip",
        "OPCC_POLICE_UK__API_URL": "",  # offline: "is the month published?" checks the archive itself
        "OPCC_POLICE_UK__FORCES": ",".join(FORCES),
        "OPCC_POLICE_UK__FIRST_MONTH": FIRST,
        "OPCC_POLICE_UK__LAST_MONTH": LAST,
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(REPO),
    }
    subprocess.run([sys.executable, "-m", "ingest.airflow_home"], env=env, check=True, cwd=REPO)
    return root, env


def run_dags(env, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    # police.uk only: the other sources' defaults point at their live publishers.
    return subprocess.run([sys.executable, "-m", "ingest.run_local", "--police-uk-only", *args], env=env, cwd=REPO,
                          input=stdin, capture_output=True, text=True, timeout=900)


def snapshot(published: Path) -> dict[str, object]:
    with duckdb.connect(str(published), read_only=True) as con:
        # The marts sit in the file's main schema, so `evidence.<table>` resolves through the catalog name.
        tables = [f"evidence.{r[0]}" for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by 1"
        ).fetchall()]
        counts = {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}
        counts["crimes"] = con.execute("select sum(crime_count) from evidence.fct_crime_monthly").fetchall()[0][0]
        counts["charged"] = con.execute("select sum(charge_summons_count) from evidence.fct_outcomes").fetchall()[0][0]
        counts["searches"] = con.execute("select sum(search_count) from evidence.fct_stop_search_monthly").fetchall()[0][0]
    return counts


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _overlay(root: Path) -> Path:
    """The fake publisher is local: no real API's rate limit to keep to (as config/demo.toml)."""
    overlay = root / "fake-api.toml"
    overlay.write_text('[http.rate_limits."127.0.0.1"]\nrequests_per_second = 200\nburst = 50\n')
    return overlay


@pytest.fixture(scope="module")
def fake_api(platform):
    """The fake data.police.uk API, for police_uk_api's runs only (the monthly loads stay offline)."""
    root, env = platform
    with FakePoliceApi(root / "publisher") as server:
        yield server, {**env, "OPCC_CONFIG": str(_overlay(root))}


# What the first run printed and asked the fake API, for the tests that read them.
FIRST_RUN_OUTPUT: dict[str, object] = {}


@pytest.fixture(scope="module")
def first_run(platform, fake_api):
    """Every month in two police_uk runs of seven (the `through` param, as a backfill or the demo
    loads history), police_uk_api from the fake API, then one build and publish."""
    server, api_env = fake_api
    result = run_dags(api_env, "--months-per-run", "7", "--api-url", server.api_url)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    FIRST_RUN_OUTPUT.update(stderr=result.stderr, requested=[r.path for r in server.requests])
    settings = load_settings(environ=api_env)
    return settings, snapshot(settings.paths.published)


def test_full_run_publishes_documented_evidence(first_run):
    settings, counts = first_run
    assert counts["crimes"] > 10_000
    assert counts["evidence.fct_crime_monthly"] > 0 and counts["evidence.dim_force"] >= 2
    with duckdb.connect(str(settings.paths.published), read_only=True) as con:
        documented = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main' and comment is not null"
        ).fetchall()[0][0]
        months = con.execute("select count(distinct month_start) from evidence.fct_crime_monthly").fetchall()[0][0]
        loaded = con.execute("select count(*) from meta.load_log where status = 'loaded'").fetchall()[0][0]
    assert documented == counts_of_evidence_tables(counts)
    assert months == 14
    assert loaded >= 14 * 2 * 2  # street + outcomes for each force-month at least


def counts_of_evidence_tables(counts: dict) -> int:
    return sum(1 for key in counts if key.startswith("evidence."))


def test_rerun_gives_identical_results(fake_api, first_run):
    """Run again the way the scheduler runs, one month per police_uk run: the same published numbers."""
    server, api_env = fake_api
    settings, before = first_run
    result = run_dags(api_env, "--api-url", server.api_url)
    assert result.returncode == 0, result.stderr[-5000:]
    assert snapshot(settings.paths.published) == before
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        statuses = {r[0] for r in con.execute("select status from raw.landing_manifest").fetchall()}
    assert statuses == {"unchanged"}  # nothing fetched twice


def _republish(root: Path, month: str, mutate) -> None:
    """The publisher re-issues one month's archive with a change."""
    archive = root / "publisher" / "archive" / f"{month}.zip"
    members = {}
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            members[name] = zf.read(name)
    members = mutate(members)
    tmp = archive.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    tmp.replace(archive)


def _raw_rows(settings, month: str) -> int:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute("select count(*) from raw.police_uk_street where _month = ?", [month]).fetchall()[0][0]


@pytest.fixture
def republished(platform, first_run):
    """Restore the generated archive after a test damages it."""
    root, env = platform
    backup = root / "publisher-backup"
    if not backup.exists():
        shutil.copytree(root / "publisher", backup)
    yield root, env
    shutil.rmtree(root / "publisher")
    shutil.copytree(backup, root / "publisher")


def test_truncated_archive_fails_clearly_and_keeps_published(republished, first_run):
    root, env = republished
    settings, before = first_run
    published_sha = sha256(settings.paths.published)
    archive = root / "publisher" / "archive" / "2024-06.zip"
    archive.write_bytes(archive.read_bytes()[:5000])
    with pytest.raises(LandingError, match=r"2024-06\.zip.*not a complete zip archive"):
        police_uk.fetch(settings, "2024-06")
    result = run_dags(env, "--first", "2024-06", "--last", "2024-06", "--no-retries")
    assert result.returncode != 0
    # The terminal names the failing run and shows the log's end; the whole log is in the file it names.
    assert "FAILED at police_uk 2024-06: police_uk 2024-06 (run date 2024-07-01) ended failed" in result.stderr
    assert "not a complete zip archive" in result.stderr  # the task's error, among the log's last lines
    log_file = REPO / result.stderr.strip().splitlines()[-1].removeprefix("Full log: ")
    assert log_file.is_file() and "Traceback" in log_file.read_text()
    assert sha256(settings.paths.published) == published_sha
    assert _raw_rows(settings, "2024-06") > 0


def test_wrong_header_fails_that_file_and_keeps_previous_rows(republished, first_run):
    root, env = republished
    settings, _ = first_run
    published_sha = sha256(settings.paths.published)
    before = _raw_rows(settings, "2024-07")

    def rename_column(members):
        name = "2024-07/2024-07-lancashire-street.csv"
        members[name] = members[name].replace(b"LSOA code", b"LSOA21 code", 1)
        return members

    _republish(root, "2024-07", rename_column)
    police_uk.fetch(settings, "2024-07")
    with pytest.raises(LoadError, match=r"lancashire 2024-07 refused: 2024-07/2024-07-lancashire-street\.csv: header does not match.*LSOA21 code"):
        police_uk.load(settings, "2024-07")
    assert _raw_rows(settings, "2024-07") == before
    assert sha256(settings.paths.published) == published_sha


def test_malformed_row_is_rejected_with_reason_and_the_rest_loads(republished, first_run):
    root, env = republished
    settings, _ = first_run
    name = "2024-08/2024-08-west-midlands-street.csv"

    def break_a_row(members):
        lines = members[name].split(b"\n")
        lines[5] = lines[5] + b",an extra field"
        members[name] = b"\n".join(lines)
        return members

    with zipfile.ZipFile(root / "publisher" / "archive" / "2024-08.zip") as zf:
        data_rows = zf.read(name).count(b"\n") - 1
    _republish(root, "2024-08", break_a_row)
    police_uk.fetch(settings, "2024-08")
    police_uk.load(settings, "2024-08")
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        loaded, rejected = con.execute(
            "select rows_loaded, rows_rejected from raw.load_log where dataset = 'police_uk_street' "
            "and force_id = 'west-midlands' and month = '2024-08'"
        ).fetchall()[0]
        reason = con.execute(
            "select error_type from raw.load_rejects where force_id = 'west-midlands' and month = '2024-08'"
        ).fetchall()
    assert (loaded, rejected) == (data_rows - 1, 1)
    assert reason[0][0] == "TOO MANY COLUMNS"


def test_month_missing_from_archive_is_a_clear_error(republished, first_run):
    root, env = republished
    settings, _ = first_run
    _republish(root, "2024-09", lambda members: {n.replace("2024-09/", "2024-08/"): d for n, d in members.items()})
    with pytest.raises(LoadError, match=r"2024-09\.zip .*holds no files for 2024-09"):
        police_uk.fetch(settings, "2024-09")


def test_a_month_not_yet_published_is_skipped_by_the_dag_and_not_reported_as_loaded(platform, first_run):
    # The DAG run skips (the scheduler's monthly run is not a failure while the publisher is behind);
    # a person who asked run_local to load that month is told nothing was loaded, and why.
    root, env = platform
    result = run_dags(env, "--first", "2031-01", "--last", "2031-01", "--skip-build")
    assert result.returncode != 0
    assert "police_uk 2031-01 (run date 2031-02-01): every task was skipped" in result.stderr
    log_file = Path(result.stderr.strip().splitlines()[-1].removeprefix("Full log: "))
    log_file = log_file if log_file.is_absolute() else REPO / log_file  # printed relative to where run_local ran
    assert "data.police.uk has not published 2031-01 yet" in log_file.read_text()


SEVERAL_MONTHS = ["2024-03", "2024-04", "2024-05"]


@pytest.fixture(scope="module")
def several_months_run(platform, first_run):
    """One run_local over three months already loaded, two per police_uk run (``--months-per-run 2``),
    no build, started as the demo starts it (``--start-on-stdin``): the raw rows before it, and its
    result. The two tests below read it (each run_local pays Airflow's start-up, ~8 s)."""
    _, env = platform
    settings, _ = first_run
    before = {month: _raw_rows(settings, month) for month in SEVERAL_MONTHS}
    result = run_dags(env, "--first", SEVERAL_MONTHS[0], "--last", SEVERAL_MONTHS[-1], "--months-per-run", "2",
                      "--skip-build", "--start-on-stdin", stdin="\n")
    assert result.returncode == 0, result.stderr[-3000:]
    return before, result


def test_progress_lines_on_the_terminal_and_logs_in_the_file(several_months_run):
    _, result = several_months_run
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Full log: ") and lines[-1] == lines[0]
    assert lines[1].startswith("police.uk months 1–2 of 3 (2024-03 to 2024-04) loaded in ")
    assert len(lines) == 6 and not result.stdout.strip()  # no Airflow or task log line on the terminal
    logged = (REPO / lines[0].removeprefix("Full log: ")).read_text()  # relative to the working directory
    assert "[DAG TEST] starting task_id=load_and_validate" in logged  # Airflow's own (structlog) lines
    assert "==> police.uk months 1–2 of 3 (2024-03 to 2024-04) loaded" in logged


def test_neighbourhoods_and_priorities_from_the_api_are_published(fake_api, first_run):
    """police_uk_api against the fake data.police.uk in the first run, for that DAG run only, then the
    build: the published file's neighbourhood marts are filled, and the monthly loads stayed offline."""
    server, _ = fake_api
    settings, _ = first_run
    stderr, requested = FIRST_RUN_OUTPUT["stderr"], FIRST_RUN_OUTPUT["requested"]
    expected_neighbourhoods = sum(len(server.data.neighbourhoods(force)) for force in FORCES)
    assert f"police_uk_api from {server.api_url}: " in stderr
    assert f"{expected_neighbourhoods} neighbourhoods" in stderr
    assert requested and all(path.startswith("/api/") for path in requested)
    # The monthly runs did not ask the API whether a month is published (offline: the archive
    # exists); the one /crimes-street-dates request is police_uk_api's national fetch.
    assert requested.count("/api/crimes-street-dates") == 1
    with duckdb.connect(str(settings.paths.published), read_only=True) as con:
        per_force = dict(con.execute(
            "select force_id, count(*) from evidence.dim_neighbourhood group by all").fetchall())
        priorities = dict(con.execute(
            "select force_id, count(*) from evidence.fct_neighbourhood_priorities group by all").fetchall())
    assert set(per_force) == set(FORCES) and sum(per_force.values()) == expected_neighbourhoods
    assert set(priorities) == set(FORCES) and all(count > 0 for count in priorities.values())


def test_a_run_can_load_several_months_with_the_same_rows(several_months_run, first_run):
    """run_local --months-per-run: one police_uk run per batch (its `through` param), the months
    loaded together; the raw rows are those the month-by-month runs loaded. Started as the demo
    starts it (--start-on-stdin: Airflow's execution API built first, then the start line)."""
    settings, _ = first_run
    before, result = several_months_run
    lines = result.stderr.strip().splitlines()
    assert lines[1].startswith("police.uk months 1–2 of 3 (2024-03 to 2024-04) loaded in ")
    assert lines[2].startswith("police.uk month 3 of 3 (2024-05) loaded in ")
    assert lines[-2].startswith("2 DAG runs through Airflow (3 police.uk months) in ")
    assert {month: _raw_rows(settings, month) for month in SEVERAL_MONTHS} == before
    logged = (REPO / lines[0].removeprefix("Full log: ")).read_text()
    for month in SEVERAL_MONTHS:  # loaded again (both configured forces), not skipped
        assert re.search(rf"police_uk {month}: 2 of \d+ force-months loaded", logged), month