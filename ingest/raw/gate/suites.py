"""The suites: ``expectations/<suite>.json``, Great Expectations 1.x's own format, read as plain data.

Every expectation's ``meta`` says ``{"severity": "error" | "warning", "why": …}``: ``error``
refuses the partition (the load rolls back and the previous rows stay), ``warning`` is
counted and reported. Only expectation types the in-database engine evaluates are allowed,
each with a parity test against GX itself (tests/unit/test_gates.py).
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

TABLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
SEVERITIES = ("error", "warning")
EXPECTATIONS_ENV = "OPCC_EXPECTATIONS_DIR"
_REPO = Path(__file__).resolve().parents[3]

# Evaluated per row (GX "map" expectations): rows checked, missing (NULL) and unexpected.
MAP_TYPES = frozenset({
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_pair_values_to_be_equal",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
})
# Evaluated once per partition.
TABLE_TYPES = frozenset({
    "expect_table_columns_to_match_ordered_list",
    "expect_table_row_count_to_be_between",
    "expect_column_values_to_be_of_type",
    "expect_column_unique_value_count_to_be_between",
})
SQL_SUPPORTED_EXPECTATIONS = MAP_TYPES | TABLE_TYPES


class UnsupportedExpectation(ValueError):
    """A suite uses an expectation the in-database gate cannot evaluate yet."""


def expectations_dir() -> Path:
    """``$OPCC_EXPECTATIONS_DIR`` or ``<repo>/expectations``."""
    configured = os.environ.get(EXPECTATIONS_ENV)
    return Path(configured) if configured else _REPO / "expectations"


def suite_path(suite_name: str) -> Path:
    if not TABLE_PATTERN.match(suite_name or ""):
        raise ValueError(f"{suite_name!r} is not a valid suite name (expected {TABLE_PATTERN.pattern})")
    path = expectations_dir() / f"{suite_name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no expectation suite {suite_name!r}: {path} does not exist")
    return path


_LOCK = threading.Lock()
_SUITE_JSON: dict[Path, tuple[tuple[int, int], dict]] = {}


def load_suite_json(suite_name: str) -> dict:
    """``expectations/<suite_name>.json`` as plain data, checked (severity on every expectation, types the
    SQL gate supports); cached by file mtime and size. Imports nothing heavy."""
    path = suite_path(suite_name)
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        cached = _SUITE_JSON.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        data = json.loads(path.read_text(encoding="utf-8"))
        for expectation in data.get("expectations", []):
            severity = (expectation.get("meta") or {}).get("severity")
            if severity not in SEVERITIES:
                raise ValueError(
                    f"{path}: expectation {expectation.get('type')} {expectation.get('kwargs')} has meta.severity "
                    f"{severity!r}; every expectation must say 'error' or 'warning'"
                )
            if expectation.get("type") not in SQL_SUPPORTED_EXPECTATIONS:
                raise UnsupportedExpectation(
                    f"{path}: {expectation.get('type')} is not supported by the in-database gate "
                    f"(ingest/raw/gate supports {sorted(SQL_SUPPORTED_EXPECTATIONS)}); add its SQL to "
                    "ingest/raw/gate/compile.py, with a parity test against GX in tests/unit/test_gates.py"
                )
        _SUITE_JSON[path] = (stamp, data)
        return data
