"""Reliability: a load killed mid-transaction, two loads of one month at once, an analyst reading
while publish replaces the file, a failed gate or dbt test that publishes nothing, and damaged or
hostile files refused by name through the DAGs while the previous rows stay.

Small fixtures: generated police.uk archives for two or three forces and one or two months, the
hand-made warehouse of ``test_performance_models`` for the build/publish/report path, and one
Airflow home for the ``dag.test()`` runs (in a child process, so its configuration is its own).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from ingest.raw import LoadError
from ingest.raw.landing import LandingError, extract_member
from devtools.sample.police_uk import generate_archive
from ingest.sources import police_uk
from ingest.sources.police_uk_contract import STREET
from tests.conftest import write_zip

REPO = Path(__file__).resolve().parents[2]
FORCES = ["lancashire", "west-midlands"]
MONTH = "2024-03"
RAW_TABLES = ("police_uk_street", "police_uk_outcomes", "police_uk_stop_search")


def police_environ(root: Path, forces: list[str] = FORCES, **extra: str) -> dict[str, str]:
    """The settings of a platform rooted at ``root`` that reads a generated publisher under it."""
    return {
        "OPCC_ROOT": str(root),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{root}/publisher/archive/{{month}}.zip",
        "OPCC_POLICE_UK__API_URL": "",
        "OPCC_POLICE_UK__FORCES": ",".join(forces),
        "OPCC_PATHS__WAREHOUSE": str(root / "warehouse.duckdb"),
        "OPCC_PATHS__WORK_DIR": str(root / "work"),
        "OPCC_PATHS__RUNS_DIR": str(root / "runs"),
        "OPCC_PATHS__LANDING_DIR": str(root / "landing"),
        "OPCC_PATHS__PUBLISHED": str(root / "published" / "evidence.duckdb"),
        **extra,
    }


def child_environ(environ: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **environ, "PYTHONPATH": str(REPO)}


def raw_digest(warehouse: Path, month: str | None = None) -> dict[str, tuple]:
    """Per raw table: row count and a sum of every column's hash, ignoring when the rows were loaded.

    Order-independent (the loader writes rows in any order), so two loads of the same files agree.
    """
    where = "where _month = ?" if month else ""
    digest = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in RAW_TABLES:
            row = con.execute(
                f"select count(*), sum(hash(columns(* exclude (_loaded_at)))) from raw.{table} {where}",
                [month] if month else [],
            ).fetchall()[0]
            digest[table] = tuple(row)
    return digest


def loads_per_file(warehouse: Path) -> set[int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {r[0] for r in con.execute(
            "select count(distinct _loaded_at) from raw.police_uk_street group by _source_file").fetchall()}


def republish(root: Path, month: str, change) -> None:
    """The publisher re-issues ``month``'s archive with ``change(members)`` applied."""
    archive = root / "publisher" / "archive" / f"{month}.zip"
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members = change(members)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def file_state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


# --------------------------------------------------------------------------- 1. killed mid-load

LOAD_IN_CHILD = """
import logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
from ingest.config import load_settings
from ingest.sources import police_uk

go = Path(sys.argv[2]) if len(sys.argv) > 2 else None
print("ready", flush=True)
while go is not None and not go.exists():
    time.sleep(0.005)
police_uk.load(load_settings(), sys.argv[1])
"""


def test_a_load_killed_inside_its_transaction_leaves_the_previous_rows_and_a_rerun_loads_cleanly(tmp_path):
    forces = ["lancashire", "west-midlands", "kent"]
    environ = police_environ(tmp_path, forces, OPCC_DUCKDB__THREADS="1")
    settings = load_settings(environ=environ)
    # The publisher's first issue of the month, loaded; then a re-issue with different rows.
    generate_archive(tmp_path / "publisher", MONTH, MONTH, forces, seed=1, scale=0.3)
    police_uk.fetch(settings, MONTH)
    police_uk.load(settings, MONTH)
    first_issue = raw_digest(settings.paths.warehouse)
    generate_archive(tmp_path / "publisher", MONTH, MONTH, forces, seed=2, scale=2.0)
    police_uk.fetch(settings, MONTH)

    # The gate writes each force-month's result file inside the load transaction, after the street
    # rows are inserted and before outcomes and stop and search are read: kill the load then.
    gate_results = settings.paths.runs_dir / "gates" / "police_uk" / MONTH
    shutil.rmtree(gate_results)
    child_log = tmp_path / "child.log"
    with child_log.open("w") as log:  # a file, not a pipe: a full pipe would stall the child
        child = subprocess.Popen([sys.executable, "-c", LOAD_IN_CHILD, MONTH], env=child_environ(environ), cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while child.poll() is None and time.monotonic() < deadline:
        if gate_results.is_dir() and any(gate_results.iterdir()):
            child.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, f"the load ended before it was killed: {child_log.read_text()[-2000:]}"
    killed_in = sorted(p.name for p in gate_results.iterdir())
    assert all(name.startswith("police_uk_street__") for name in killed_in), killed_in  # still mid-month

    # DuckDB replays its log on open: the uncommitted transaction is gone, the first issue is intact.
    assert raw_digest(settings.paths.warehouse) == first_issue

    police_uk.load(settings, MONTH)
    fresh = load_settings(environ={**environ, "OPCC_PATHS__WAREHOUSE": str(tmp_path / "fresh.duckdb")})
    police_uk.load(fresh, MONTH)
    assert raw_digest(settings.paths.warehouse) == raw_digest(fresh.paths.warehouse)
    assert raw_digest(settings.paths.warehouse) != first_issue
    assert loads_per_file(settings.paths.warehouse) == {1}


# --------------------------------------------------------------------------- 2. two loads at once


def test_two_processes_loading_the_same_month_are_serialised_into_one_copy(tmp_path):
    environ = police_environ(tmp_path)
    settings = load_settings(environ=environ)
    generate_archive(tmp_path / "publisher", MONTH, MONTH, FORCES, seed=3, scale=0.5)
    police_uk.fetch(settings, MONTH)
    go = tmp_path / "go"
    children = [
        subprocess.Popen([sys.executable, "-c", LOAD_IN_CHILD, MONTH, str(go)], env=child_environ(environ),
                         cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for child in children:  # both have imported everything; release them together
        assert child.stdout.readline().strip() == "ready"
    go.touch()
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, stderr) in zip(children, outputs):
        assert child.returncode == 0, stderr[-3000:]
    # One of them found the file locked and waited for the other instead of failing.
    assert any("is locked by another process" in stderr for _, stderr in outputs), [e[-1500:] for _, e in outputs]

    fresh = load_settings(environ={**environ, "OPCC_PATHS__WAREHOUSE": str(tmp_path / "fresh.duckdb")})
    police_uk.load(fresh, MONTH)
    assert raw_digest(settings.paths.warehouse) == raw_digest(fresh.paths.warehouse)
    assert loads_per_file(settings.paths.warehouse) == {1}
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.load_log where month = ?", [MONTH]).fetchall() == [(6,)]


def test_a_writer_that_never_lets_go_fails_the_second_process_clearly(tmp_path):
    from ingest.warehouse import WarehouseBusy, connect

    environ = police_environ(tmp_path, OPCC_DUCKDB__LOCK_WAIT_SECONDS="0.5")
    settings = load_settings(environ=environ)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "sys.stdin.read()", str(settings.paths.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match=r"warehouse\.duckdb: another process holds the DuckDB file .*PID "
                                                r"\d+\); waited 0\.5 s \(\[duckdb\] lock_wait_seconds\)"):
            with connect(settings):
                pass
        assert 0.4 < time.monotonic() - started < 10
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with connect(settings) as con:  # once the other process has gone, the file opens at once
        assert con.execute("select 1").fetchall() == [(1,)]


# --------------------------------------------------------------------------- 3, 4. build, publish, report

PERFORMANCE_SELECTION = ["+path:models/marts/performance"]
QUARTER = "2024Q3"


def _platform_settings(root: Path, work_dir: Path | None = None):
    return load_settings(environ={
        "OPCC_ROOT": str(root),
        "OPCC_PATHS__WAREHOUSE": str(root / "warehouse.duckdb"),
        # Copies share dbt's work folder, so each build parses the project only as much as changed.
        "OPCC_PATHS__WORK_DIR": str(work_dir or root / "work"),
        "OPCC_PATHS__RUNS_DIR": str(root / "runs"),
        "OPCC_PATHS__PUBLISHED": str(root / "published" / "evidence.duckdb"),
        "OPCC_POLICE_UK__FORCES": "lancashire",
    })


def _copy_platform(source: Path, target: Path):
    """A second platform with a copy of the warehouse and the published file, sharing dbt's work folder."""
    target.mkdir(parents=True)
    shutil.copy(source / "warehouse.duckdb", target / "warehouse.duckdb")
    (target / "published").mkdir()
    shutil.copy2(source / "published" / "evidence.duckdb", target / "published" / "evidence.duckdb")
    return _platform_settings(target, work_dir=source / "work")


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The hand-made Lancashire warehouse (21 months) built through the performance marts,
    published, and the 2024Q3 report rendered from the published file."""
    from ingest.publish import publish
    from ingest.report import render
    from ingest.transform import dbt_build
    from ingest.warehouse import connect
    from tests.integration.test_performance_models import build_raw_warehouse

    root = tmp_path_factory.mktemp("platform")
    settings = _platform_settings(root)
    build_raw_warehouse(settings.paths.warehouse)
    with connect(settings):  # the shared raw tables (manifest, load log) the loaders create
        pass
    dbt_build(settings, select=PERFORMANCE_SELECTION)
    publish(settings)
    report = render(settings, QUARTER, force_id="lancashire", out_dir=root / "reports")
    return root, settings, report


def _insert_month(warehouse: Path, month: str, crime_types: list[str]) -> None:
    """A new month of Lancashire street records, as the loader writes them (loaded now)."""
    from tests.integration.test_dbt_project import LANCS, PRESTON, _street

    member = STREET.member_name(month, "lancashire")
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [_street(hashlib.sha256(f"{month}/{i}".encode()).hexdigest(), month, LANCS, -2.7, 53.76,
                    "On or near High Street", PRESTON, crime_type, "Under investigation")
            + ("lancashire", month, member, "sha", loaded_at)
            for i, crime_type in enumerate(crime_types)]
    with duckdb.connect(str(warehouse)) as con:
        con.executemany(f"insert into raw.police_uk_street values ({', '.join('?' * len(rows[0]))})", rows)


def _burglaries(con, month: str) -> int:
    return con.execute(
        "select coalesce(sum(crime_count), 0) from evidence.fct_crime_monthly "
        "where month_start = ?::date and crime_type = 'Burglary'", [f"{month}-01"]).fetchall()[0][0]


def test_an_analyst_reading_during_publish_keeps_a_consistent_view_and_then_sees_the_new_data(platform, tmp_path):
    from ingest.publish import publish
    from ingest.transform import dbt_build

    root, _, _ = platform
    settings = _copy_platform(root, tmp_path / "copy")
    published = settings.paths.published
    _insert_month(settings.paths.warehouse, "2024-10", ["Burglary"] * 7)
    dbt_build(settings, select=["fct_crime_monthly"])  # incremental: the new month

    analyst = duckdb.connect(str(published), read_only=True)
    try:
        query = "select count(*), sum(crime_count), max(month_start) from evidence.fct_crime_monthly"
        before = analyst.execute(query).fetchall()
        assert _burglaries(analyst, "2024-10") == 0
        publish(settings)  # renames the new file over the one the analyst has open
        assert analyst.execute(query).fetchall() == before
        assert _burglaries(analyst, "2024-10") == 0
        assert analyst.execute("select count(*) from meta.publication").fetchall() == [(1,)]
    finally:
        analyst.close()
    with duckdb.connect(str(published), read_only=True) as fresh:
        assert _burglaries(fresh, "2024-10") == 7
        assert fresh.execute(query).fetchall() != before


def report_content(reports: Path) -> dict[str, object]:
    """Every file of the report folders: bytes, and a workbook's cell values (a workbook written again
    from the same data differs only in its zip entries' timestamps)."""
    import openpyxl

    content: dict[str, object] = {}
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            content[str(path.relative_to(reports))] = {s.title: [list(r) for r in s.iter_rows(values_only=True)]
                                                       for s in book.worksheets}
        else:
            content[str(path.relative_to(reports))] = path.read_bytes()
    return content


def test_a_failed_dbt_test_publishes_nothing_keeps_the_report_and_shows_the_bad_rows(platform, tmp_path):
    from ingest.report import check_quarter_published, render
    from ingest.transform import TransformError, dbt_build

    root, _, report = platform
    settings = _copy_platform(root, tmp_path / "copy")
    reports = tmp_path / "copy" / "reports"
    shutil.copytree(report.parent, reports / QUARTER)
    rendered = report_content(reports)
    published_before = file_state(settings.paths.published)

    # A file's rows appended a second time (a loader that appended instead of replacing): every
    # count of September would double. dbt's test of one load per file must stop the build.
    member = STREET.member_name("2024-09", "lancashire")
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute("insert into raw.police_uk_street select * replace (_loaded_at + interval 1 day as _loaded_at) "
                    "from raw.police_uk_street where _source_file = ?", [member])
    with pytest.raises(TransformError) as failed:
        dbt_build(settings, select=["+fct_crime_monthly", "assert_police_uk_each_file_loaded_once"])
    message = str(failed.value)
    assert "nothing was published" in message
    assert "test assert_police_uk_each_file_loaded_once: fail" in message
    assert "failing rows (up to 5):" in message
    assert f"dataset=street, _source_file={member}, load_count=2" in message

    # The evidence build stops before publish; the quarterly report path then reads the same file.
    assert file_state(settings.paths.published) == published_before
    assert check_quarter_published(settings, QUARTER, force_id="lancashire") == QUARTER
    render(settings, QUARTER, force_id="lancashire", out_dir=reports)
    assert report_content(reports) == rendered
    assert file_state(settings.paths.published) == published_before


def test_a_failed_gate_names_the_table_the_expectation_and_bad_rows_and_keeps_the_rows(tmp_path):
    environ = police_environ(tmp_path)
    settings = load_settings(environ=environ)
    generate_archive(tmp_path / "publisher", MONTH, MONTH, FORCES, seed=4, scale=0.05)
    police_uk.fetch(settings, MONTH)
    police_uk.load(settings, MONTH)
    _publish_a_previous_build(environ)
    published = file_state(settings.paths.published)
    before = raw_digest(settings.paths.warehouse)
    member = STREET.member_name(MONTH, "lancashire")

    def unknown_crime_type(members):
        """One record in twenty with a crime type the publisher does not use: far past a new label (a
        few rows, a warning), so the file is not what it claims."""
        rows = list(csv.reader(io.StringIO(members[member].decode())))
        for row in rows[1::20]:
            row[9] = "Burglery"
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        members[member] = text.getvalue().encode()
        return members

    republish(tmp_path, MONTH, unknown_crime_type)
    police_uk.fetch(settings, MONTH)
    with pytest.raises(LoadError) as refused:
        police_uk.load(settings, MONTH)
    message = str(refused.value)
    assert "lancashire 2024-03 refused: Data-quality gate failed for raw.police_uk_street" in message
    assert "expect_column_values_to_be_in_set" in message and "crime_type" in message
    assert "a row: " in message and "Burglery" in message
    after = raw_digest(settings.paths.warehouse)
    assert after["police_uk_street"] != before["police_uk_street"]  # west-midlands was reloaded
    assert raw_digest(settings.paths.warehouse, MONTH) == after
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        lancashire = con.execute("select count(*) from raw.police_uk_street where _force_id = 'lancashire' "
                                 "and crime_type = 'Burglery'").fetchall()
    assert lancashire == [(0,)]
    assert file_state(settings.paths.published) == published


# --------------------------------------------------------------------------- 5. damaged and hostile files


def _street_member(month: str = MONTH, force: str = "lancashire") -> str:
    return STREET.member_name(month, force)


@pytest.mark.parametrize("content, expected", [
    (lambda good: good.replace(b"On or near", b"On or\x00near", 1), r"holds a NUL byte \(0x00\).*at line 2"),
    (lambda good: good + "x,2024-03,Lancashire Constabulary,Lancashire Constabulary,,,On or near Café,,,Burglary,,\n"
     .encode("cp1252"), r"is not UTF-8 \(byte 0xe9 .*cp1252/latin-1"),
    (lambda good: good.decode().encode("utf-16"), r"starts with a UTF-16 byte-order mark"),
])
def test_a_member_that_is_not_utf8_text_is_refused_by_name_at_extraction(tmp_path, content, expected):
    good = (",".join(c.header for c in STREET.columns) + "\n"
            + "a" * 64 + ",2024-03,Lancashire Constabulary,Lancashire Constabulary,-2.7,53.7,On or near Park Road,"
              "E01025321,Preston 013B,Burglary,Under investigation,\n").encode()
    archive = write_zip(tmp_path / "2024-03.zip", {_street_member(): content(good)})
    target = tmp_path / "out" / "street.csv"
    with pytest.raises(LandingError, match=rf"2024-03\.zip!2024-03/2024-03-lancashire-street\.csv: {expected}"):
        extract_member(archive, _street_member(), target, max_member_bytes=10**6)
    assert not target.exists() and not list(target.parent.glob(".*.part"))
    # The same bytes as UTF-8 text are extracted as they are.
    clean = write_zip(tmp_path / "clean.zip", {_street_member(): good})
    assert extract_member(clean, _street_member(), target, max_member_bytes=10**6).read_bytes() == good


def test_a_member_refused_part_way_through_leaves_the_previous_extraction_whole(tmp_path):
    """West Midlands' file is refused after Lancashire's were extracted: the month's extracted folder
    and its members.json stay as the last good fetch left them, so a load reads no mixture."""
    generate_archive(tmp_path / "publisher", MONTH, "2024-04", FORCES, seed=3, scale=0.02)
    settings = load_settings(environ=police_environ(tmp_path))
    first = police_uk.fetch(settings, MONTH)
    extracted = Path(first.members["lancashire"]["street"]).parent
    before = {path.name: path.read_bytes() for path in extracted.iterdir()}

    def reissue_with_a_nul_in_west_midlands(members):
        lancashire = _street_member()
        members[lancashire] = members[lancashire].replace(b"On or near", b"Near", 1)  # a real change
        west_midlands = _street_member(force="west-midlands")
        members[west_midlands] = members[west_midlands].replace(b"On or near", b"On or\x00near", 1)
        return members

    republish(tmp_path, MONTH, reissue_with_a_nul_in_west_midlands)
    with pytest.raises(LandingError, match="west-midlands-street.csv: holds a NUL byte"):
        police_uk.fetch(settings, MONTH)
    assert {path.name: path.read_bytes() for path in extracted.iterdir()} == before
    assert not list(extracted.parent.glob(".*"))  # no partial folder left behind


def test_checking_the_text_of_a_large_member_costs_little(tmp_path):
    """The UTF-8/NUL check runs while the member is decompressed: measured here, printed for the docs."""
    rest = (",2024-03,Lancashire Constabulary,Lancashire Constabulary,-2.703300,53.763200,"
            "On or near Parking Area,E01025321,Preston 013B,Burglary,Under investigation,\n").encode()
    rows = b"".join(os.urandom(32).hex().encode() + rest for _ in range(400_000))  # 67 MB, a large force-month
    archive = write_zip(tmp_path / "big.zip", {_street_member(): rows})
    timings = {}
    for checked in (False, True):
        started = time.perf_counter()
        extract_member(archive, _street_member(), tmp_path / f"{checked}.csv", max_member_bytes=10**9,
                       utf8_text=checked)
        timings[checked] = time.perf_counter() - started
    print(f"extracting 67 MB: {timings[False]:.2f} s unchecked, {timings[True]:.2f} s with the text check")
    assert timings[True] < timings[False] * 2 + 0.5


DAG_RUNNER = r"""
import json, sys, traceback
from datetime import datetime
from airflow.utils import db
from airflow.models.pool import Pool
from ingest.airflow_home import POOLS

db.resetdb(skip_init=False)
for name, (slots, description) in POOLS.items():
    Pool.create_or_update_pool(name, slots, description, include_deferred=False)
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
for dag in bag.dags.values():
    for task in dag.tasks:
        task.retries = 0
pools = {name: pool.slots for name, pool in ((p.pool, p) for p in Pool.get_pools())}
print("@@ready " + json.dumps({"pools": pools, "load_pool": bag.dags["police_uk_monthly"].get_task("load_and_validate").pool}), flush=True)
from sqlalchemy import func, select
from airflow.models.asset import AssetEvent
from airflow.utils.session import create_session


def asset_events():
    # What schedules evidence_build: a raw Asset event, emitted only when a load task succeeds.
    with create_session() as session:
        return session.scalar(select(func.count()).select_from(AssetEvent))


for line in sys.stdin:
    dag_id, when = line.split()
    run = bag.dags[dag_id].test(logical_date=datetime.fromisoformat(when))
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("@@result " + json.dumps({"state": str(run.state), "tasks": states, "asset_events": asset_events()}),
          flush=True)
"""


class DagRunner:
    """One Airflow process running ``dag.test()`` on request; its output is kept per run."""

    def __init__(self, environ: dict[str, str], log: Path):
        self.log = log
        self.process = subprocess.Popen([sys.executable, "-c", DAG_RUNNER, str(REPO / "dags")],
                                        env=child_environ(environ), cwd=REPO, text=True, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.ready = json.loads(self._until("@@ready ")[0])

    def _until(self, marker: str) -> tuple[str, str]:
        lines = []
        for line in self.process.stdout:
            if line.startswith(marker):
                with self.log.open("a") as out:
                    out.writelines(lines)
                return line[len(marker):], "".join(lines)
            lines.append(line)
        raise AssertionError("the Airflow process ended:\n" + "".join(lines)[-5000:])

    def run(self, dag_id: str, when: datetime) -> tuple[dict, str]:
        self.process.stdin.write(f"{dag_id} {when.isoformat()}\n")
        self.process.stdin.flush()
        result, output = self._until("@@result ")
        self.last = json.loads(result)
        return self.last, output

    def asset_events_so_far(self) -> int:
        """Raw Asset events recorded so far (as of the last run)."""
        return self.last["asset_events"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


FINANCE_PLAN = "lancashire-finance-plan-2025-26.xlsx"


@pytest.fixture(scope="module")
def dag_platform(tmp_path_factory):
    """An Airflow home and a platform root with one good police.uk month and one good finance plan loaded
    through the DAGs, and a published file that no failed run may touch."""
    from devtools.sample import finance as finance_sample

    root = tmp_path_factory.mktemp("dags")
    generate_archive(root / "publisher", MONTH, "2024-04", FORCES, seed=5, scale=0.05)
    finance_sample.write_plan(root / "inputs" / FINANCE_PLAN, "lancashire")
    overlay = root / "finance.toml"
    overlay.write_text("\n".join([
        "[[finance.files]]", 'dataset = "police_grant"', 'name = "police-grant-2025-26.csv"',
        'url = "file://{root}/inputs/no-settlement.csv"', "year = 2025", 'settlement_year = "2025/26"', "",
        "[[finance.files]]", 'dataset = "finance_plan"', f'name = "{FINANCE_PLAN}"',
        f'url = "file://{{root}}/inputs/{FINANCE_PLAN}"', "year = 2025", "",
    ]) + "\n")
    environ = police_environ(root, OPCC_CONFIG=str(overlay), AIRFLOW_HOME=str(root / "airflow"),
                             AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    _publish_a_previous_build(environ)
    runner = DagRunner(environ, root / "airflow.log")
    try:
        events = 0
        for dag_id, when in (("police_uk_monthly", MONTH_RUN), ("finance_plans", FINANCE_RUN)):
            result, output = runner.run(dag_id, when)
            assert result["state"] == "success", output[-5000:]
            assert result["asset_events"] == events + 1  # a successful load announces its raw Asset
            events += 1
        yield root, load_settings(environ=environ), runner
    finally:
        runner.close()


def _publish_a_previous_build(environ: dict[str, str]) -> None:
    """A published file as an earlier evidence build left it (a small mart, the lineage tables)."""
    from ingest.publish import publish
    from ingest.warehouse import connect

    previous = load_settings(environ={**environ, "OPCC_PATHS__WAREHOUSE": str(Path(environ["OPCC_ROOT"]) / "built.duckdb")})
    with connect(previous) as con:
        con.execute("create schema evidence")
        con.execute("create table evidence.fct_crime_monthly as select date '2024-02-01' as month_start, "
                    "'lancashire' as force_id, 'Burglary' as crime_type, 40 as crime_count")
    publish(previous)


MONTH_RUN = datetime(2024, 4, 1, tzinfo=timezone.utc)  # data interval: March 2024
FINANCE_RUN = datetime(2025, 12, 1, tzinfo=timezone.utc)


def test_the_monthly_load_runs_in_the_one_slot_writer_pool(dag_platform):
    _, _, runner = dag_platform
    assert runner.ready["load_pool"] == "duckdb_writer"
    assert runner.ready["pools"]["duckdb_writer"] == 1


def _force_digest(warehouse: Path, force: str) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return tuple(con.execute(
            "select count(*), sum(hash(columns(* exclude (_loaded_at)))), max(_loaded_at) "
            f"from raw.{table} where _force_id = ?", [force]).fetchall()[0] for table in RAW_TABLES)


@pytest.fixture
def restore_publisher(dag_platform):
    root, _, _ = dag_platform
    archive = root / "publisher" / "archive" / f"{MONTH}.zip"
    kept = archive.read_bytes()
    yield
    archive.write_bytes(kept)


def _changed_columns(members):
    name = _street_member()
    members[name] = members[name].replace(b"LSOA code", b"LSOA21 code", 1)
    return members


def _zip_slip(members):
    members["../../etc/cron.d/evil.csv"] = b"* * * * * root sh -c 'echo owned'\n"
    return members


def _nul_byte(members):
    name = _street_member()
    members[name] = members[name].replace(b"On or near", b"On or\x00near", 1)
    return members


def _zip_bomb(members):
    name = _street_member()
    members[name] = members[name] + b" " * (64 << 20)  # 64 MiB that deflate to ~64 KiB
    return members


def _cp1252(members):
    name = _street_member()
    members[name] = members[name].decode("utf-8").replace("On or near", "On or n\u00e9ar", 1).encode("cp1252")
    return members


@pytest.mark.parametrize("change, failed_task, message, others_loaded", [
    (_changed_columns, "load_and_validate",
     r"lancashire 2024-03 refused: 2024-03/2024-03-lancashire-street\.csv: header does not match the contract "
     r"\(missing columns \['LSOA code'\]; unexpected columns \['LSOA21 code'\]\)", True),
    (_zip_slip, "fetch", r"2024-03\.zip: refusing an archive with member paths outside its folder: "
                         r"\['\.\./\.\./etc/cron\.d/evil\.csv'\]", False),
    (_nul_byte, "fetch", r"2024-03\.zip!2024-03/2024-03-lancashire-street\.csv: holds a NUL byte", False),
    (_zip_bomb, "fetch", r"2024-03\.zip!2024-03/2024-03-lancashire-street\.csv: compression ratio \d+:1 is over "
                         r"200:1 — refusing a likely zip bomb", False),
    (_cp1252, "fetch", r"2024-03\.zip!2024-03/2024-03-lancashire-street\.csv: is not UTF-8", False),
], ids=["columns-changed", "zip-slip", "nul-byte", "zip-bomb", "cp1252"])
def test_a_bad_police_uk_file_fails_the_dag_task_and_keeps_the_previous_rows(
        dag_platform, restore_publisher, change, failed_task, message, others_loaded):
    import re

    root, settings, runner = dag_platform
    published = file_state(settings.paths.published)
    lancashire, west_midlands = (_force_digest(settings.paths.warehouse, f) for f in FORCES)
    republish(root, MONTH, change)

    events_before = runner.asset_events_so_far()
    result, output = runner.run("police_uk_monthly", MONTH_RUN)
    assert result["state"] == "failed"
    assert result["tasks"][failed_task] == "failed", result
    assert result["asset_events"] == events_before  # so the evidence build is not triggered
    assert re.search(message, output), output[-5000:]
    assert _force_digest(settings.paths.warehouse, "lancashire") == lancashire
    # One force's bad file does not hold back the others when the file reached the loader;
    # a hostile archive is refused whole at fetch, before anything is extracted from it.
    assert (_force_digest(settings.paths.warehouse, "west-midlands") != west_midlands) == others_loaded
    assert not (root / "etc").exists() and not (root.parent / "etc").exists()
    assert file_state(settings.paths.published) == published


def test_a_finance_formula_error_fails_the_dag_task_and_the_plan_keeps_its_rows(dag_platform):
    import openpyxl

    root, settings, runner = dag_platform
    published = file_state(settings.paths.published)
    plan = root / "inputs" / FINANCE_PLAN
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        before = con.execute("select count(*), sum(amount_gbp) from raw.finance_revenue_budget").fetchall()
    assert before[0][0] > 0
    workbook = openpyxl.load_workbook(plan)
    workbook["Funding"]["B4"] = "#REF!"
    workbook.save(plan)

    events_before = runner.asset_events_so_far()
    result, output = runner.run("finance_plans", FINANCE_RUN)
    assert result["tasks"]["load_and_validate"] == "failed", result
    assert result["asset_events"] == events_before
    assert result["tasks"]["fetch"] == "success"
    assert f"{FINANCE_PLAN}: refused" in output
    assert "sheet 'Funding', cell B4: the cell holds the formula error #REF!" in output
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*), sum(amount_gbp) from raw.finance_revenue_budget").fetchall() == before
    assert file_state(settings.paths.published) == published

    # The rest of the platform carries on: the next police.uk month loads through its DAG.
    result, output = runner.run("police_uk_monthly", datetime(2024, 5, 1, tzinfo=timezone.utc))
    assert result["state"] == "success", output[-5000:]


def test_an_encrypted_assessment_fails_the_dag_task_naming_the_file_and_the_rest_loads(dag_platform):
    from pypdf import PdfReader, PdfWriter

    from devtools.sample import csp_assessments as csp_sample

    root, settings, runner = dag_platform
    published = file_state(settings.paths.published)
    docs = root / "inputs" / "csp_assessments"
    csp_sample.generate(docs, ["lancashire"])
    preston = next(a for a in csp_sample.ASSESSMENTS if a.district == "Preston" and a.year == 2025)
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(csp_sample.document_bytes(preston))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", algorithm="AES-128")
    writer.write(docs / "burnley-protected.pdf")
    (docs / "register.csv").write_text(
        "csp_name,force,assessment_year,file_name,url,publisher,licence,notes\n"
        "Preston Community Safety Partnership,lancashire,2025,,preston-csp-strategic-assessment-2025.pdf,,,\n"
        "Burnley Community Safety Partnership,lancashire,2025,,burnley-protected.pdf,,,\n")

    events_before = runner.asset_events_so_far()
    result, output = runner.run("csp_assessments", FINANCE_RUN)
    assert result["tasks"]["fetch"] == "success", result
    assert result["tasks"]["load_and_validate"] == "failed", result
    assert result["asset_events"] == events_before  # the evidence build is not triggered
    assert "burnley-protected.pdf: the PDF is encrypted and needs a password to open" in output
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select distinct _csp from raw.csp_assessment_pages").fetchall() == [
            ("preston-community-safety-partnership",)]
    assert file_state(settings.paths.published) == published
