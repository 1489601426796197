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
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from ingest.raw import LoadError
from devtools.sample.police_uk import generate_archive
from ingest.sources import police_uk
from ingest.sources.police_uk_contract import STREET

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
        # The generated publisher holds these forces only (peer loading: test_police_uk_peers.py).
        "OPCC_POLICE_UK__LOAD_MSG_PEERS": "false",
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

# The performance models and what they need, and dim_force, which the report reads.
PERFORMANCE_SELECTION = ["+path:models/marts/performance", "+dim_force"]
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
    """Every file of the report folders: bytes, a workbook's cell values (a workbook written again
    from the same data differs only in its zip entries' timestamps) and a PDF's text per page (Chromium
    stamps each print with its time and a new document id)."""
    import openpyxl
    import pypdf

    content: dict[str, object] = {}
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            content[str(path.relative_to(reports))] = {s.title: [list(r) for r in s.iter_rows(values_only=True)]
                                                       for s in book.worksheets}
        elif path.suffix == ".pdf":
            content[str(path.relative_to(reports))] = [page.extract_text() for page in pypdf.PdfReader(path).pages]
        else:
            content[str(path.relative_to(reports))] = path.read_bytes()
    return content


def test_a_failed_dbt_test_publishes_nothing_keeps_the_report_and_shows_the_bad_rows(platform, tmp_path):
    from ingest.report import Quarter, ReportNotReady, check_quarter_published, newest_published_quarter, render
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
    # Before a Panel meeting the DAG reports the newest quarter complete by then.
    assert newest_published_quarter(settings, Quarter.parse(QUARTER).end + timedelta(days=1),
                                    force_id="lancashire") == QUARTER
    with pytest.raises(ReportNotReady):
        newest_published_quarter(settings, date(2011, 1, 1), force_id="lancashire")
    render(settings, QUARTER, force_id="lancashire", out_dir=reports)
    assert report_content(reports) == rendered
    assert file_state(settings.paths.published) == published_before


def test_a_failed_gate_names_the_table_the_expectation_and_bad_rows_and_keeps_the_rows(tmp_path):
    environ = police_environ(tmp_path)
    settings = load_settings(environ=environ)
    generate_archive(tmp_path / "publisher", MONTH, MONTH, FORCES, seed=4, scale=0.05)
    police_uk.fetch(settings, MONTH)
    police_uk.load(settings, MONTH)
    publish_a_previous_build(environ)
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


def publish_a_previous_build(environ: dict[str, str]) -> None:
    """A published file as an earlier evidence build left it (a small mart, the lineage tables)."""
    from ingest.publish import publish
    from ingest.warehouse import connect

    previous = load_settings(environ={**environ, "OPCC_PATHS__WAREHOUSE": str(Path(environ["OPCC_ROOT"]) / "built.duckdb")})
    with connect(previous) as con:
        con.execute("create schema evidence")
        con.execute("create table evidence.fct_crime_monthly as select date '2024-02-01' as month_start, "
                    "'lancashire' as force_id, 'Burglary' as crime_type, 40 as crime_count")
    publish(previous)
