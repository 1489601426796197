"""The data-quality gate every raw table passes before anything downstream sees it.

One engine (:mod:`.engine`) evaluates each source's Great Expectations suite
(``expectations/raw_<table>.json``) inside DuckDB, for any partition keys, in the loader's
transaction: a failed error-severity expectation rolls the load back, so the previous rows
stay. Great Expectations itself runs the same suites in the tests, as the reference the
engine must agree with (tests/gx_reference.py).

Imported by Airflow DAG files' tasks: only the standard library is imported at the top.
"""

from ingest.raw.gate.engine import validate_partitions
from ingest.raw.gate.findings import SAMPLE_SIZE, Finding, GateFailed, GateReport, check, write_report
from ingest.raw.gate.suites import (
    EXPECTATIONS_ENV,
    SEVERITIES,
    SQL_SUPPORTED_EXPECTATIONS,
    TABLE_PATTERN,
    UnsupportedExpectation,
    expectations_dir,
    load_suite_json,
)

__all__ = [
    "EXPECTATIONS_ENV", "SAMPLE_SIZE", "SEVERITIES", "SQL_SUPPORTED_EXPECTATIONS", "TABLE_PATTERN", "Finding",
    "GateFailed", "GateReport", "UnsupportedExpectation", "check", "expectations_dir",
    "load_suite_json", "validate_partitions", "write_report",
]
