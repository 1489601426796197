"""Every dbt unit test passes. Refreshes skip them (``[dbt] run_unit_tests = false``: their inputs are
fixed, so a refresh cannot change their result); this is where each one runs, on every ``make test``.

dbt reads a unit test's input columns from the relations it mocks, so every seed and model is first
built on a warehouse holding only the empty raw tables (``--empty`` cannot serve: it wraps each ref in a
subquery, and the plan's seed is read in file order through DuckDB's ``rowid``)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.sources import ensure_all_raw_tables
from tests.helpers import dbt as _dbt
from tests.helpers import dbt_ok


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_all_raw_tables(con)

    dbt_ok(["build", "--exclude-resource-type", "test", "unit_test"], warehouse, tmp_path)

    listed = _dbt(["ls", "--resource-type", "unit_test", "--output", "name"], warehouse, tmp_path)
    assert listed.success, listed.exception
    expected = {line.strip() for line in listed.result if line.strip()}
    assert len(expected) >= 40  # the project's unit tests (43 when this was written)

    result = dbt_ok(["test", "--select", "test_type:unit"], warehouse, tmp_path)
    ran = {r.node.name for r in (result.result or []) if r.node.resource_type == "unit_test"}
    assert ran == expected  # every unit test ran, and each passed
