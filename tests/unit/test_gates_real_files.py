"""Every real published police.uk file under shared/data gated as the loader gates it: real files
pass, their quirks (BTP rows without a Crime ID, repeated Crime IDs, empty stop-search outcomes)
show as warnings, and the in-database engine gives each the verdict GX gives."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from ingest.raw import gate as gates
from ingest.raw.gate import GateReport
from ingest.sources.police_uk_contract import DATASETS, Dataset
from tests.gx_reference import validate_partition
from tests.unit.test_gates import LOADED_AT, REAL_DIR, comparable, new_db

# --------------------------------------------------------------------------- the real published files

KIND_TO_DATASET = {d.kind: d for d in DATASETS}


def real_files() -> list[Path]:
    if not REAL_DIR.is_dir():
        return []
    return sorted(p for p in REAL_DIR.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]/*.csv"))


def parse_name(path: Path) -> tuple[str, str, Dataset]:
    month = path.parent.name
    stem = path.name.removesuffix(".csv")[len(month) + 1:]
    for kind, dataset in KIND_TO_DATASET.items():
        if stem.endswith("-" + kind):
            return stem.removesuffix("-" + kind), month, dataset
    raise ValueError(path)


def load_real_file(con, path: Path) -> dict[str, str]:
    """Load one real CSV into its raw table as the loader does: typed columns by header, lineage appended."""
    force, month, dataset = parse_name(path)
    columns = "{" + ", ".join(f"'{c.header}': '{c.duckdb_type}'" for c in dataset.columns) + "}"
    select = ", ".join(f'"{c.header}" as {c.name}' for c in dataset.columns)
    con.execute(
        f"""
        insert into raw.{dataset.table}
        select {select}, ?, ?, ?, ?, ?::timestamp
        from read_csv(?, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {columns})
        """,
        [force, month, f"{month}/{path.name}", hashlib.sha256(path.read_bytes()).hexdigest(), LOADED_AT, str(path)],
    )
    return {"_force_id": force, "_month": month}


@pytest.fixture(scope="module")
def real_reports(tmp_path_factory):
    if not REAL_DIR.is_dir():
        pytest.skip(f"real police.uk files not found at {REAL_DIR}")
    con = new_db()
    results_dir = tmp_path_factory.mktemp("gate-results")
    reports: dict[str, GateReport] = {}
    for path in real_files():
        partition = load_real_file(con, path)
        reports[path.name] = validate_partition(con, parse_name(path)[2].table, partition, results_dir=results_dir)
    con.close()
    return reports


@pytest.mark.real_data
@pytest.mark.parametrize("name", [p.name for p in real_files()] or ["(no real files)"])
def test_every_real_file_passes_the_gate(real_reports, name):
    report = real_reports[name]
    assert report.row_count > 0
    assert report.success, report.summary()
    assert report.result_path is not None and report.result_path.exists()


@pytest.mark.real_data
def test_real_file_quirks_are_reported_as_warnings(real_reports, capsys):
    counts = {name: Counter(f"{w['expectation']}({w['column']})" for w in r.warnings) for name, r in real_reports.items()}
    rows = {name: {f"{w['expectation']}({w['column']})": w["unexpected_count"] for w in r.warnings}
            for name, r in real_reports.items()}
    total = sum(len(r.warnings) for r in real_reports.values())
    with capsys.disabled():
        print(f"\n[gate] {len(real_reports)} real files, all passed; {total} warnings:")
        for name, report in real_reports.items():
            detail = "; ".join(f"{k}: {v} rows" for k, v in rows[name].items()) or "none"
            print(f"  {name:<50} {report.row_count:>6} rows {report.seconds:5.2f}s  warnings: {detail}")

    dup, no_id, no_outcome = ("expect_column_values_to_be_unique(crime_id)",
                              "expect_column_values_to_not_be_null(crime_id)",
                              "expect_column_values_to_not_be_null(last_outcome_category)")
    # British Transport Police publishes no Crime ID and no outcome on any row.
    for name in ("2019-01-btp-street.csv", "2019-02-btp-street.csv"):
        if name in rows:
            assert rows[name][no_id] == real_reports[name].row_count
            assert rows[name][no_outcome] == real_reports[name].row_count
    # City of London repeats a few Crime IDs: 4 ids in 2019-01 (8 rows), 8 in 2013-06 (10 rows).
    if "2019-01-city-of-london-street.csv" in rows:
        assert rows["2019-01-city-of-london-street.csv"][dup] == 8
    if "2013-06-city-of-london-street.csv" in rows:
        assert rows["2013-06-city-of-london-street.csv"][dup] == 10
    # Files without those quirks raise no warning at all.
    for name in ("2019-01-lancashire-street.csv", "2018-12-cumbria-street.csv", "2013-06-lancashire-outcomes.csv"):
        if name in counts:
            assert counts[name] == Counter(), name


@pytest.mark.real_data
def test_real_files_get_the_same_verdict_in_database(real_reports):
    """Every real file, gated by the SQL engine the loader uses: same verdicts and warnings as GX."""
    con = new_db()
    partitions: dict[str, list[tuple[str, dict]]] = {}
    for path in real_files():
        partition = load_real_file(con, path)
        partitions.setdefault(parse_name(path)[2].table, []).append((path.name, partition))
    try:
        for table, items in partitions.items():
            reports = gates.validate_partitions(con, table, [p for _, p in items])
            for (name, _), report in zip(items, reports):
                assert report.success, report.summary()
                assert comparable(report) == comparable(real_reports[name]), name
    finally:
        con.close()
