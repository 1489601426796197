"""The data-quality gate (ingest/raw/gate) and the raw police.uk suites (expectations/*.json).

Tiny in-memory DuckDB partitions built by hand, then every real published file under
shared/data/police_uk loaded the way the loader does and gated: real files must pass, and
their known quirks (BTP rows without Crime ID, repeated Crime IDs, empty stop-search
outcomes) must show up as warnings, not failures.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.raw import gate as gates
from ingest.raw.gate import GateFailed, GateReport, check
from tests import gx_reference
from tests.gx_reference import validate_partition  # GX itself: the reference the engine must match
from tests.helpers import use_suites
from ingest.sources.police_uk_contract import (
    AGE_RANGES,
    CRIME_TYPES,
    DATASETS,
    LEGACY_CRIME_TYPES,
    LINEAGE_COLUMNS,
    OFFICER_DEFINED_ETHNICITIES,
    OUTCOME_CATEGORIES,
    OUTCOMES,
    STOP_AND_SEARCH,
    STOP_SEARCH_OUTCOMES,
    STOP_SEARCH_TYPES,
    STREET,
    Dataset,
)

REPO = Path(__file__).resolve().parents[2]
REAL_DIR = Path(os.environ["OPCC_SHARED_DATA"]) / "police_uk" if os.environ.get("OPCC_SHARED_DATA") else (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "police_uk"
)
SHA = "0" * 64
FORCE, MONTH = "lancashire", "2024-03"
PART = {"_force_id": FORCE, "_month": MONTH}
LOADED_AT = datetime(2024, 5, 1, 6, 0)


# --------------------------------------------------------------------------- helpers


def raw_ddl(dataset: Dataset) -> str:
    """``create table raw.<table>`` from the contract: source columns, then lineage columns."""
    columns = [f"{c.name} {c.duckdb_type}" for c in dataset.columns]
    columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS]
    return f"create table raw.{dataset.table} ({', '.join(columns)})"


def new_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    for dataset in DATASETS:
        con.execute(raw_ddl(dataset))
    return con


@pytest.fixture
def con():
    connection = new_db()
    yield connection
    connection.close()


def crime_id(i: int) -> str:
    return hashlib.sha256(f"crime-{i}".encode()).hexdigest()


def lineage(kind: str, force: str = FORCE, month: str = MONTH) -> list:
    return [force, month, f"{month}/{month}-{force}-{kind}.csv", SHA, LOADED_AT]


def street(i: int, **over) -> list:
    row = {
        "crime_id": crime_id(i), "month": MONTH, "reported_by": "Lancashire Constabulary",
        "falls_within": "Lancashire Constabulary", "longitude": -2.7033, "latitude": 53.7632,
        "location": "On or near Parking Area", "lsoa_code": "E01025321", "lsoa_name": "Preston 013B",
        "crime_type": "Burglary", "last_outcome_category": "Under investigation", "context": None,
    }
    row.update(over)
    return [row[c.name] for c in STREET.columns] + lineage("street", month=row.get("_month", MONTH))


def clean_street(n: int = 12) -> list[list]:
    rows = []
    for i in range(n):
        kind = CRIME_TYPES[i % len(CRIME_TYPES)]
        if kind == "Anti-social behaviour":  # no Crime ID, no outcome
            rows.append(street(i, crime_type=kind, crime_id=None, last_outcome_category=None))
        else:
            rows.append(street(i, crime_type=kind))
    # a crime that could not be located
    rows.append(street(n, longitude=None, latitude=None, location="No Location", lsoa_code=None, lsoa_name=None))
    return rows


def outcome(i: int, **over) -> list:
    row = {
        "crime_id": crime_id(i), "month": MONTH, "reported_by": "Lancashire Constabulary",
        "falls_within": "Lancashire Constabulary", "longitude": -2.7033, "latitude": 53.7632,
        "location": "On or near Parking Area", "lsoa_code": "W01001234", "lsoa_name": "Preston 013B",
        "outcome_type": "Suspect charged",
    }
    row.update(over)
    return [row[c.name] for c in OUTCOMES.columns] + lineage("outcomes")


def search(i: int, **over) -> list:
    row = {
        "type": STOP_SEARCH_TYPES[i % 3], "date": datetime(2024, 3, 1 + i % 28, 9, 58),
        "part_of_a_policing_operation": False, "policing_operation": None, "latitude": 51.5, "longitude": -0.1,
        "gender": "Male", "age_range": AGE_RANGES[i % len(AGE_RANGES)],
        "self_defined_ethnicity": "White - English/Welsh/Scottish/Northern Irish/British",
        "officer_defined_ethnicity": OFFICER_DEFINED_ETHNICITIES[i % len(OFFICER_DEFINED_ETHNICITIES)],
        "legislation": "Misuse of Drugs Act 1971 (section 23)", "object_of_search": "Controlled drugs",
        "outcome": STOP_SEARCH_OUTCOMES[i % len(STOP_SEARCH_OUTCOMES)],
        "outcome_linked_to_object_of_search": None, "removal_of_more_than_just_outer_clothing": None,
    }
    row.update(over)
    return [row[c.name] for c in STOP_AND_SEARCH.columns] + lineage("stop-and-search")


def insert(con, dataset: Dataset, rows: list[list]) -> None:
    width = len(dataset.columns) + len(LINEAGE_COLUMNS)
    con.executemany(f"insert into raw.{dataset.table} values ({', '.join('?' * width)})", rows)


def failed(report: GateReport) -> list[tuple[str, str | None]]:
    return [(f["expectation"], f["column"]) for f in report.failures]


def warned(report: GateReport) -> list[tuple[str, str | None]]:
    return [(w["expectation"], w["column"]) for w in report.warnings]


# --------------------------------------------------------------------------- suites


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.table)
def test_suite_json_loads_and_matches_the_contract(dataset):
    import great_expectations as gx

    path = REPO / "expectations" / f"raw_{dataset.table}.json"
    data = json.loads(path.read_text())
    assert "id" not in data and all("id" not in e for e in data["expectations"])
    suite = gx.ExpectationSuite(**data)
    assert suite.name == f"raw_{dataset.table}"
    for expectation in data["expectations"]:
        assert expectation["meta"]["severity"] in ("error", "warning"), expectation
        assert len(expectation["meta"]["why"]) > 20, expectation
    by_type = {}
    for expectation in data["expectations"]:
        by_type.setdefault((expectation["type"], expectation["kwargs"].get("column")), []).append(expectation)
    (columns,) = by_type[("expect_table_columns_to_match_ordered_list", None)]
    assert columns["kwargs"]["column_list"] == [c.name for c in dataset.columns] + [n for n, _ in LINEAGE_COLUMNS]

    def value_set(column: str) -> set[str]:
        # A label list may stand twice: a warning for any unknown label, an error when most are unknown.
        sets = {frozenset(exp["kwargs"]["value_set"]) for exp in by_type[("expect_column_values_to_be_in_set", column)]}
        (values,) = sets
        return set(values)

    if dataset is STREET:
        assert value_set("crime_type") == set(CRIME_TYPES) | set(LEGACY_CRIME_TYPES)
        assert value_set("last_outcome_category") >= set(OUTCOME_CATEGORIES) | {"No further action at this time"}
    if dataset is OUTCOMES:
        assert value_set("outcome_type") >= set(OUTCOME_CATEGORIES) | {
            "Offender given community penalty", "Suspect found not guilty"}
    if dataset is STOP_AND_SEARCH:
        assert value_set("type") == set(STOP_SEARCH_TYPES)
        assert value_set("outcome") >= set(STOP_SEARCH_OUTCOMES)
        assert value_set("officer_defined_ethnicity") == set(OFFICER_DEFINED_ETHNICITIES)
        assert value_set("age_range") == set(AGE_RANGES)


def test_gates_module_imports_no_heavy_modules():
    code = (
        "import sys, ingest.raw.gate\n"
        "print(','.join(m for m in ('duckdb', 'pandas', 'great_expectations') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout.strip()
    assert out == ""


def test_expectations_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(gates.EXPECTATIONS_ENV, raising=False)
    assert gates.expectations_dir() == REPO / "expectations"
    monkeypatch.setenv(gates.EXPECTATIONS_ENV, str(tmp_path))
    assert gates.expectations_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="raw_police_uk_street"):
        gx_reference.load_suite("raw_police_uk_street")


# --------------------------------------------------------------------------- hand-made partitions


def test_clean_partitions_pass(con, tmp_path):
    insert(con, STREET, clean_street())
    insert(con, OUTCOMES, [outcome(i) for i in range(5)] + [outcome(0, outcome_type="Offender given community penalty")])
    insert(con, STOP_AND_SEARCH, [search(i) for i in range(10)] + [search(11, latitude=None, longitude=None, gender=None)])
    for dataset in DATASETS:
        report = check(validate_partition(con, dataset.table, PART, results_dir=tmp_path))
        assert report.success and report.failures == [] and report.warnings == [], report.summary()
        assert report.result_path == tmp_path / f"{dataset.table}__{FORCE}__{MONTH}.json"
        written = json.loads(report.result_path.read_text())
        assert written["success"] is True and written["opcc_gate"]["row_count"] == report.row_count
        assert "passed" in report.summary()


def test_other_partitions_are_not_read(con):
    insert(con, STREET, clean_street())
    insert(con, STREET, [street(99, crime_type="Not a crime type", month="2024-04", _month="2024-04")])
    assert validate_partition(con, STREET.table, PART).success
    assert not validate_partition(con, STREET.table, {"_force_id": FORCE, "_month": "2024-04"}).success


def test_bad_crime_type_fails_naming_the_column_and_value(con, tmp_path):
    insert(con, STREET, clean_street() + [street(50, crime_type="Burglry"), street(51, crime_type="Burglry")])
    report = validate_partition(con, STREET.table, PART, results_dir=tmp_path)
    assert not report.success
    assert failed(report) == [("expect_column_values_to_be_in_set", "crime_type")]
    (failure,) = report.failures
    assert failure["unexpected_count"] == 2 and failure["sample_values"] == [{"value": "Burglry", "count": 2}]
    assert failure["sample_rows"][0]["crime_type"] == "Burglry"
    with pytest.raises(GateFailed) as raised:
        check(report)
    message = str(raised.value)
    for text in ("raw.police_uk_street", "_force_id=lancashire", "_month=2024-03", "expect_column_values_to_be_in_set",
                 "crime_type", "'Burglry' x2", "2 of 15 rows", "What to do next", str(report.result_path)):
        assert text in message
    assert raised.value.report is report
    assert str(pickle.loads(pickle.dumps(raised.value))) == message


def test_out_of_uk_coordinate_fails(con):
    insert(con, STREET, clean_street() + [street(60, longitude=12.49, latitude=41.9)])  # Rome
    report = validate_partition(con, STREET.table, PART)
    assert set(failed(report)) == {("expect_column_values_to_be_between", "longitude"),
                                   ("expect_column_values_to_be_between", "latitude")}
    with pytest.raises(GateFailed, match=r"(?s)longitude.*12\.49"):
        check(report)


def test_swapped_stop_search_coordinates_fail(con):
    insert(con, STOP_AND_SEARCH, [search(i) for i in range(5)] + [search(6, latitude=-0.1, longitude=51.5)])
    report = validate_partition(con, STOP_AND_SEARCH.table, PART)
    assert ("expect_column_values_to_be_between", "longitude") in failed(report)


def test_a_duplicate_crime_id_is_a_warning_only(con):
    insert(con, STREET, clean_street(60) + [street(3)])  # crime 3 twice: 2 of 53 ids, under the 5% error line
    report = check(validate_partition(con, STREET.table, PART))
    assert report.success
    assert warned(report) == [("expect_column_values_to_be_unique", "crime_id")]
    (warning,) = report.warnings
    assert warning["unexpected_count"] == 2 and warning["sample_values"] == [{"value": crime_id(3), "count": 2}]
    assert "warning" in report.summary() and crime_id(3)[:20] in str(gates.Finding(warning))


def test_four_duplicates_in_300_rows_still_pass(con):
    rows = [street(i) for i in range(296)] + [street(i) for i in (10, 20, 30, 40)]
    insert(con, STREET, rows)
    report = check(validate_partition(con, STREET.table, PART))
    assert report.row_count == 300
    assert warned(report) == [("expect_column_values_to_be_unique", "crime_id")]
    assert report.warnings[0]["unexpected_count"] == 8


def test_many_repeated_crime_ids_are_the_publishers_and_only_warn(con):
    # Real street files repeat 6-8 % of their Crime IDs, the repeats differing in outcome or place;
    # a third repeated is still counted, not refused (a file joined to itself is caught from its
    # bytes by the loader: see test_csv_load and test_police_uk_faults).
    rows = [street(i) for i in range(200)]
    insert(con, STREET, rows + [street(i, last_outcome_category="Unable to prosecute suspect") for i in range(40)])
    report = check(validate_partition(con, STREET.table, PART))
    assert report.success
    assert warned(report) == [("expect_column_values_to_be_unique", "crime_id")]
    assert report.warnings[0]["unexpected_count"] == 80


def test_a_new_label_warns_and_a_column_of_unknown_labels_fails(con):
    insert(con, STREET, clean_street(200) + [street(300, crime_type="Fraud and forgery")])
    report = check(validate_partition(con, STREET.table, PART))
    assert report.success and ("expect_column_values_to_be_in_set", "crime_type") in warned(report)
    insert(con, STREET, [street(i, crime_type="E01025321") for i in range(50)])  # a shifted column
    report = validate_partition(con, STREET.table, PART)
    assert failed(report) == [("expect_column_values_to_be_in_set", "crime_type")]


def test_btp_rows_without_crime_id_are_warnings(con):
    btp = [street(i, crime_id=None, last_outcome_category=None, reported_by="British Transport Police",
                  falls_within="British Transport Police", lsoa_code=None, lsoa_name=None) for i in range(20)]
    insert(con, STREET, clean_street() + btp)
    report = check(validate_partition(con, STREET.table, PART))
    assert warned(report) == [("expect_column_values_to_not_be_null", "crime_id"),
                              ("expect_column_values_to_not_be_null", "last_outcome_category")]
    assert [w["unexpected_count"] for w in report.warnings] == [20, 20]
    assert report.warnings[0]["row_condition"]


def test_old_outcome_labels_pass_and_unknown_ones_fail(con):
    insert(con, STREET, clean_street() + [street(70, last_outcome_category="No further action at this time")])
    assert validate_partition(con, STREET.table, PART).success
    insert(con, OUTCOMES, [outcome(1), outcome(2, outcome_type="Sent to the moon")])
    report = validate_partition(con, OUTCOMES.table, PART)
    assert failed(report) == [("expect_column_values_to_be_in_set", "outcome_type")]


def test_outcomes_need_a_crime_id(con):
    insert(con, OUTCOMES, [outcome(1), outcome(2, crime_id=None)])
    report = validate_partition(con, OUTCOMES.table, PART)
    assert failed(report) == [("expect_column_values_to_not_be_null", "crime_id")]


def test_month_must_match_the_partition_and_ids_must_be_hex(con):
    insert(con, STREET, clean_street() + [street(80, month="2024-02"), street(81, crime_id="X" * 64),
                                          street(82, lsoa_code="S01000001")])
    report = validate_partition(con, STREET.table, PART)
    assert set(failed(report)) == {("expect_column_pair_values_to_be_equal", "month, _month"),
                                   ("expect_column_values_to_match_regex", "crime_id"),
                                   ("expect_column_values_to_match_regex", "lsoa_code")}


def test_stop_search_vocabularies_and_date(con):
    insert(con, STOP_AND_SEARCH, [search(i) for i in range(5)] + [
        search(10, type="Horse search"), search(11, officer_defined_ethnicity="Martian"),
        search(12, age_range="35-44"), search(13, date=None), search(14, outcome="Suspect arrested"),
        search(15, outcome=None, self_defined_ethnicity="Something new"),
    ])
    report = validate_partition(con, STOP_AND_SEARCH.table, PART)
    assert set(failed(report)) == {("expect_column_values_to_be_in_set", "type"),
                                   ("expect_column_values_to_be_in_set", "officer_defined_ethnicity"),
                                   ("expect_column_values_to_be_in_set", "age_range"),
                                   ("expect_column_values_to_not_be_null", "date")}
    assert set(warned(report)) == {("expect_column_values_to_be_in_set", "self_defined_ethnicity"),
                                   ("expect_column_values_to_not_be_null", "outcome")}


def test_missing_column_fails(con):
    insert(con, STREET, clean_street())
    con.execute("alter table raw.police_uk_street drop column lsoa_name")
    report = validate_partition(con, STREET.table, PART)
    assert not report.success
    assert ("expect_table_columns_to_match_ordered_list", None) in failed(report)
    with pytest.raises(GateFailed, match=r"missing columns \['lsoa_name'\]"):
        check(report)


def test_dropping_a_checked_column_fails_every_expectation_on_it(con):
    insert(con, STREET, clean_street())
    con.execute("alter table raw.police_uk_street drop column crime_type")
    report = validate_partition(con, STREET.table, PART)
    not_evaluable = [f for f in report.failures if f["exception"]]
    assert {f["column"] for f in not_evaluable} >= {"crime_type"}
    assert all(f["severity"] == "error" for f in report.failures)


def test_empty_partition_fails(con):
    insert(con, STREET, clean_street())
    report = validate_partition(con, STREET.table, {"_force_id": "x' or 1=1 --", "_month": MONTH})
    assert report.row_count == 0  # the value is a bound parameter, never SQL
    assert ("expect_table_row_count_to_be_between", None) in failed(report)


@pytest.mark.parametrize("table", ["police_uk_street; drop table raw.police_uk_street", "Police", "raw.police_uk_street", ""])
def test_table_names_are_validated(con, table):
    with pytest.raises(ValueError, match="not a valid raw table name"):
        validate_partition(con, table, PART)


def test_unknown_table_and_bad_partition_are_refused(con):
    with pytest.raises(ValueError, match="does not exist"):
        validate_partition(con, "police_uk_nothing", PART)
    # A partition is any set of the table's lineage columns (a force-month here, a vintage for an ONS
    # lookup): something else is refused by both engines.
    for engine in (validate_partition, lambda c, t, p: gates.validate_partitions(c, t, [p])):
        with pytest.raises(ValueError, match="partition"):
            engine(con, STREET.table, {**PART, "extra": "1"})
        with pytest.raises(ValueError, match="partition"):
            engine(con, STREET.table, {**PART, "_not_a_column": "1"})
        with pytest.raises(ValueError, match="partition"):
            engine(con, STREET.table, {"_force_id": ""})


def test_suite_without_severity_is_refused(con, tmp_path, monkeypatch):
    data = json.loads((REPO / "expectations" / "raw_police_uk_street.json").read_text())
    data["expectations"][0]["meta"].pop("severity")
    use_suites(tmp_path, monkeypatch, data)
    insert(con, STREET, clean_street())
    with pytest.raises(ValueError, match="severity"):
        validate_partition(con, STREET.table, PART)


def test_gx_context_and_suites_are_reused_and_gx_info_logs_are_quiet(con, caplog):
    insert(con, STREET, clean_street())
    with caplog.at_level(logging.INFO):
        validate_partition(con, STREET.table, PART)
    assert not [r for r in caplog.records if r.name.startswith("great_expectations") and r.levelno < logging.WARNING]
    assert logging.getLogger("great_expectations._docs_decorators").getEffectiveLevel() >= logging.WARNING
    runtime, suite = gx_reference.runtime(), gx_reference.load_suite("raw_police_uk_street")
    for _ in range(3):
        validate_partition(con, STREET.table, PART)
    assert gx_reference.runtime() is runtime and gx_reference.load_suite("raw_police_uk_street") is suite


def test_15k_row_partition_validates_in_seconds(con, capsys):
    con.execute(f"""
        insert into raw.police_uk_street
        select sha256('c' || i::varchar), '{MONTH}', 'Lancashire Constabulary', 'Lancashire Constabulary',
               -2.7 + (i % 100) / 1000.0, 53.7 + (i % 100) / 1000.0, 'On or near Parking Area', 'E01025321',
               'Preston 013B', 'Burglary', 'Under investigation', null,
               '{FORCE}', '{MONTH}', 'f.csv', '{SHA}', now()::timestamp
        from range(15000) t(i)
    """)
    validate_partition(con, STREET.table, PART)  # warm: GX import and context are paid once per process
    started = time.perf_counter()
    report = check(validate_partition(con, STREET.table, PART))
    seconds = time.perf_counter() - started
    assert report.row_count == 15000
    with capsys.disabled():
        print(f"\n[gate timing] 15,000-row street partition: {seconds:.2f}s ({report.expectations_evaluated} expectations)")
    assert seconds < 30


# --------------------------------------------------------------------------- the in-database gate (SQL)
#
# The loader gates a whole month (every force) in DuckDB with SQL compiled from the same suites.
# Each hand-made partition above goes through both engines: the findings must be the same.

PARITY_CASES = {
    "clean street": (STREET, lambda: clean_street()),
    "bad crime type": (STREET, lambda: clean_street() + [street(50, crime_type="Burglry"), street(51, crime_type="Burglry")]),
    "outside the UK": (STREET, lambda: clean_street() + [street(60, longitude=12.49, latitude=41.9)]),
    "one duplicate id": (STREET, lambda: clean_street(60) + [street(3)]),
    "duplicated file": (STREET, lambda: [street(i) for i in range(200)] + [street(i) for i in range(40)]),
    "btp rows": (STREET, lambda: clean_street() + [
        street(i, crime_id=None, last_outcome_category=None, reported_by="British Transport Police",
               falls_within="British Transport Police", lsoa_code=None, lsoa_name=None) for i in range(20)]),
    "month, ids and lsoa": (STREET, lambda: clean_street() + [
        street(80, month="2024-02"), street(81, crime_id="X" * 64), street(82, lsoa_code="S01000001"),
        street(83, month=None), street(84, location=None, longitude=None, latitude=None)]),
    "no location with coordinates missing": (STREET, lambda: clean_street() + [
        street(90, longitude=None, latitude=None)]),
    "outcomes": (OUTCOMES, lambda: [outcome(1), outcome(2, outcome_type="Sent to the moon"), outcome(3, crime_id=None),
                                   outcome(4, location="No location")]),
    "stop and search": (STOP_AND_SEARCH, lambda: [search(i) for i in range(5)] + [
        search(10, type="Horse search"), search(11, officer_defined_ethnicity="Martian"),
        search(12, age_range="35-44"), search(13, date=None), search(14, outcome="Suspect arrested"),
        search(15, outcome=None, self_defined_ethnicity="Something new"), search(16, latitude=-0.1, longitude=51.5),
        search(17, date=datetime(2009, 1, 1))]),
    "empty partition": (STREET, lambda: []),
}


def comparable(report: GateReport) -> list[tuple]:
    return sorted(
        (f["expectation"], f["column"], f["severity"], f.get("unexpected_count"), bool(f.get("exception")),
         # sample values where GX lists all of them (pairs print as tuples in GX, lists in SQL)
         tuple((v["value"], v["count"]) for v in f.get("sample_values") or [])
         if (f.get("unexpected_count") or 0) <= 5 and "column_A" not in str(f["expectation"]) and
         f["expectation"] != "expect_column_pair_values_to_be_equal" else ())
        for f in report.failures + report.warnings
    )


@pytest.mark.parametrize("case", list(PARITY_CASES))
def test_sql_gate_finds_what_gx_finds(con, case):
    dataset, rows = PARITY_CASES[case]
    if rows():  # the partition, and the same rows under another force (which must not be read)
        insert(con, dataset, rows())
        insert(con, dataset, [r[: len(dataset.columns)] + lineage(dataset.kind, force="kent") for r in rows()])
    gx_report = validate_partition(con, dataset.table, PART)
    (sql_report,) = gates.validate_partitions(con, dataset.table, [PART])
    assert (sql_report.success, sql_report.row_count) == (gx_report.success, gx_report.row_count)
    assert comparable(sql_report) == comparable(gx_report), (sql_report.summary(), gx_report.summary())


def test_sql_gate_judges_each_partition_on_its_own(con, tmp_path):
    good = clean_street()
    bad = [r[: len(STREET.columns)] + lineage("street", force="kent") for r in clean_street()]
    bad += [street(50, crime_type="Burglry")[: len(STREET.columns)] + lineage("street", force="kent")]
    insert(con, STREET, good + bad)
    reports = gates.validate_partitions(
        con, STREET.table, [PART, {"_force_id": "kent", "_month": MONTH}, {"_force_id": "gwent", "_month": MONTH}],
        results_dir=tmp_path,
    )
    assert [r.success for r in reports] == [True, False, False]
    assert [r.row_count for r in reports] == [len(good), len(bad), 0]
    assert failed(reports[1]) == [("expect_column_values_to_be_in_set", "crime_type")]
    assert reports[1].failures[0]["sample_values"] == [{"value": "Burglry", "count": 1}]
    assert reports[1].failures[0]["sample_rows"][0]["crime_type"] == "Burglry"
    assert failed(reports[2]) == [("expect_table_row_count_to_be_between", None)]
    with pytest.raises(GateFailed, match=r"(?s)_force_id=kent.*'Burglry' x1.*What to do next"):
        check(reports[1])
    written = json.loads(reports[1].result_path.read_text())
    assert written["success"] is False and written["opcc_gate"]["partition"]["_force_id"] == "kent"


def test_sql_gate_reports_a_missing_column_as_not_evaluable(con):
    insert(con, STREET, clean_street())
    con.execute("alter table raw.police_uk_street drop column crime_type")
    (report,) = gates.validate_partitions(con, STREET.table, [PART])
    assert not report.success
    assert {f["column"] for f in report.failures if f["exception"]} >= {"crime_type"}
    assert ("expect_table_columns_to_match_ordered_list", None) in failed(report)


def test_every_suite_compiles_to_sql():
    for dataset in DATASETS:
        suite = gates.load_suite_json(f"raw_{dataset.table}")
        assert {e["type"] for e in suite["expectations"]} <= gates.SQL_SUPPORTED_EXPECTATIONS


# --------------------------------------------------------------------------- any partition keys, every type
#
# Reference tables are partitioned by other lineage columns (a vintage, a financial year) and their
# suites use expectation types police.uk's do not: both engines must agree on those too.

REFERENCE_SUITE = {
    "name": "raw_gate_parity",
    "expectations": [
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["lad_code", "csp_code"]},
         "meta": {"severity": "error", "why": "one row per district and partnership"}},
        {"type": "expect_column_values_to_not_match_regex", "kwargs": {"column": "lad_name", "regex": "Ã"},
         "meta": {"severity": "warning", "why": "double-encoded Welsh is repaired at load"}},
        {"type": "expect_column_unique_value_count_to_be_between",
         "kwargs": {"column": "csp_code", "min_value": 1, "max_value": 3},
         "meta": {"severity": "error", "why": "a handful of partnerships"}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "lad_code", "regex": "^[EW]0[6-9]"},
         "meta": {"severity": "error", "why": "district codes"}},
    ],
}


@pytest.fixture
def reference_con(tmp_path, monkeypatch):
    use_suites(tmp_path / "expectations", monkeypatch, REFERENCE_SUITE)
    con = duckdb.connect()
    con.execute("create schema raw; create table raw.gate_parity (lad_code varchar, lad_name varchar, "
                "csp_code varchar, _vintage varchar, _source_file varchar)")
    yield con
    con.close()


@pytest.mark.parametrize("rows, verdict", [
    ([("E06000001", "Hartlepool", "E22000001"), ("E06000002", "Middlesbrough", "E22000002")], True),
    ([("E06000001", "Hartlepool", "E22000001"), ("E06000001", "Hartlepool", "E22000001"),
      ("W06000001", "Ynys MÃ´n", "W22000001"), (None, None, None), (None, None, None),
      ("X1", "Nowhere", "E22000003"), ("E06000004", "Stockton", "E22000004")], False),
])
def test_both_engines_agree_on_any_partition_keys_and_the_reference_types(reference_con, rows, verdict):
    for vintage in ("2023", "2019"):  # the other vintage must not be read
        other = [("E06000009", "x", "E22000009")] * 3 if vintage == "2019" else []  # repeats, elsewhere
        reference_con.executemany("insert into raw.gate_parity values (?, ?, ?, ?, 'file.csv')",
                                  [(*r, vintage) for r in rows + other])
    part = {"_vintage": "2023"}
    gx_report = validate_partition(reference_con, "gate_parity", part, suite_name="raw_gate_parity")
    (sql_report,) = gates.validate_partitions(reference_con, "gate_parity", [part], suite_name="raw_gate_parity")
    assert sql_report.success is gx_report.success is verdict
    assert sql_report.row_count == gx_report.row_count == len(rows)
    assert sql_report.partition == {"_vintage": "2023"}
    assert comparable(sql_report) == comparable(gx_report), (sql_report.summary(), gx_report.summary())
    if not verdict:
        failed_types = {f["expectation"] for f in sql_report.failures}
        assert failed_types == {"expect_compound_columns_to_be_unique", "expect_column_unique_value_count_to_be_between",
                                "expect_column_values_to_match_regex"}
        assert [w["expectation"] for w in sql_report.warnings] == ["expect_column_values_to_not_match_regex"]
