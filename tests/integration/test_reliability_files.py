"""Reliability, files: damaged and hostile files (not UTF-8, a NUL byte, zip-slip, a zip bomb, a
changed header, a finance formula error, an encrypted assessment) refused by name through the
DAGs while the previous rows stay. Helpers and the generated archives are test_reliability's.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from devtools.sample.police_uk import generate_archive
from ingest.config import load_settings
from ingest.raw.landing import LandingError, extract_member
from ingest.sources import police_uk
from ingest.sources.police_uk_contract import STREET
from tests.conftest import write_zip
from tests.integration.test_reliability import (
    FORCES,
    MONTH,
    RAW_TABLES,
    REPO,
    child_environ,
    file_state,
    police_environ,
    publish_a_previous_build,
    republish,
)

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
print("@@ready " + json.dumps({"pools": pools, "load_pool": bag.dags["police_uk"].get_task("load_and_validate").pool}), flush=True)
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
    publish_a_previous_build(environ)
    runner = DagRunner(environ, root / "airflow.log")
    try:
        events = 0
        for dag_id, when in (("police_uk", MONTH_RUN), ("finance", FINANCE_RUN)):
            result, output = runner.run(dag_id, when)
            assert result["state"] == "success", output[-5000:]
            assert result["asset_events"] == events + 1  # a successful load announces its raw Asset
            events += 1
        yield root, load_settings(environ=environ), runner
    finally:
        runner.close()




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
    result, output = runner.run("police_uk", MONTH_RUN)
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
    result, output = runner.run("finance", FINANCE_RUN)
    assert result["tasks"]["load_and_validate"] == "failed", result
    assert result["asset_events"] == events_before
    assert result["tasks"]["fetch"] == "success"
    assert f"{FINANCE_PLAN}: refused" in output
    assert "sheet 'Funding', cell B4: the cell holds the formula error #REF!" in output
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*), sum(amount_gbp) from raw.finance_revenue_budget").fetchall() == before
    assert file_state(settings.paths.published) == published

    # The rest of the platform carries on: the next police.uk month loads through its DAG.
    result, output = runner.run("police_uk", datetime(2024, 5, 1, tzinfo=timezone.utc))
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
