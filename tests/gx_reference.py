"""Great Expectations itself, running the platform's suites: the reference the in-database gate must match.

The loaders gate every partition with :mod:`ingest.raw.gate` (the suites compiled to SQL, in
DuckDB). This module validates a partition the way GX does, through pandas, and returns the
same :class:`GateReport`, so tests can require both engines to find the same things
(tests/unit/test_gates.py) and a person can re-check a partition with GX by hand.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.raw.gate.findings import SAMPLE_SIZE, Finding, GateReport, condition_text, jsonable, write_report
from ingest.raw.contract import column_differences
from ingest.raw.gate.suites import TABLE_PATTERN, load_suite_json, suite_path

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)
_LINEAGE_PREFIX = "_"


# GX logs every public API call at INFO from ``_docs_decorators``, plus registry, context and
# expectation-parsing chatter at INFO on every run; it drowns the task log. The decorators
# logger is always quietened; the package logger only if nobody configured it.
# ``data_context.types.base`` pins its own level to INFO at import, so it is quietened after import.
_NOISY_LOGGERS = ("great_expectations._docs_decorators", "great_expectations.data_context.types.base")
_GX_LOGGER = "great_expectations"


def _quieten_gx_logs() -> None:
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    package_logger = logging.getLogger(_GX_LOGGER)
    if package_logger.level == logging.NOTSET:
        package_logger.setLevel(logging.WARNING)


@dataclass
class _Runtime:
    gx: Any
    context: Any
    batch_definition: Any


_LOCK = threading.RLock()
_RUNTIME: _Runtime | None = None


def runtime() -> _Runtime:
    """One ephemeral GX context per process, with a pandas datasource and a whole-dataframe batch."""
    global _RUNTIME
    with _LOCK:
        if _RUNTIME is None:
            _quieten_gx_logs()
            started = time.perf_counter()
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            _quieten_gx_logs()

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm in task logs
            asset = context.data_sources.add_pandas("opcc_raw").add_dataframe_asset("raw_partition")
            batch_definition = asset.add_batch_definition_whole_dataframe("whole_partition")
            _RUNTIME = _Runtime(gx=gx, context=context, batch_definition=batch_definition)
            log.debug("GX context ready in %.1fs", time.perf_counter() - started)
        return _RUNTIME


def load_suite(suite_name: str) -> Any:
    """Parse ``expectations/<suite_name>.json`` into a GX ExpectationSuite (cached until the file changes)."""
    stat = suite_path(suite_name).stat()
    return _parsed_suite(suite_name, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=None)
def _parsed_suite(suite_name: str, mtime_ns: int, size: int) -> Any:
    data = json.loads(json.dumps(load_suite_json(suite_name)))  # checked as the engine checks it; a copy GX may change
    data.pop("id", None)
    for expectation in data.get("expectations", []):
        expectation.pop("id", None)
    return runtime().gx.ExpectationSuite(**data)


def _sample_rows(df: Any, indexes: list, columns: list[str]) -> list[dict]:
    rows = []
    for index in indexes[:SAMPLE_SIZE]:
        try:
            record = df.loc[index]
        except (KeyError, TypeError):
            continue
        row = {"_row": jsonable(index)}
        for column in columns:
            if column in record.index:
                row[column] = jsonable(record[column])
        rows.append(row)
    return rows



def _config_key(expectation_type: str, kwargs: Any) -> str:
    kwargs = {k: v for k, v in dict(kwargs or {}).items() if k != "batch_id"}
    return json.dumps([expectation_type, kwargs], sort_keys=True, default=str)


def _exceptions(result: Any) -> list[str]:
    """Messages of the exceptions GX caught while evaluating one expectation.

    ``exception_info`` is either one ``{"raised_exception", "exception_message", …}`` dict or,
    when a metric failed, a dict of those keyed by metric id.
    """
    info = result.exception_info
    if not isinstance(info, dict):
        return []
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = []
    for entry in entries:
        if entry.get("raised_exception"):
            text = str(entry.get("exception_message") or "").strip()
            messages.append(text.splitlines()[0][:500] if text else "unknown error")
    return messages


def _raised(result: Any) -> bool:
    return bool(_exceptions(result))


def _finding(result: Any, df: Any) -> Finding:
    config = result.expectation_config
    kwargs = dict(config.kwargs or {})
    meta = dict(config.meta or {})
    outcome = dict(result.result or {})
    errors = _exceptions(result)

    if "column" in kwargs:
        column: str | None = kwargs["column"]
    elif "column_A" in kwargs:
        column = f"{kwargs['column_A']}, {kwargs['column_B']}"
    elif "column_list" in kwargs and config.type != "expect_table_columns_to_match_ordered_list":
        column = ", ".join(kwargs["column_list"])
    else:
        column = None

    finding = Finding(
        expectation=config.type,
        column=column,
        severity=meta.get("severity", "error"),
        why=meta.get("why"),
        element_count=outcome.get("element_count"),
        unexpected_count=outcome.get("unexpected_count"),
        unexpected_percent=jsonable(outcome.get("unexpected_percent")),
        missing_count=outcome.get("missing_count"),
        mostly=kwargs.get("mostly"),
        observed_value=jsonable(outcome.get("observed_value")) if not isinstance(outcome.get("observed_value"), list)
        else outcome.get("observed_value"),
        exception=None,
        sample_values=[],
        sample_rows=[],
    )
    if kwargs.get("row_condition") is not None:
        finding["row_condition"] = condition_text(kwargs["row_condition"])
    if errors:
        finding["exception"] = "; ".join(dict.fromkeys(errors))
        finding["severity"] = "error"  # an expectation that cannot run means the suite does not fit the table

    counts = [c for c in outcome.get("partial_unexpected_counts") or [] if jsonable(c.get("value")) is not None]
    if counts:
        finding["sample_values"] = [
            {"value": jsonable(c.get("value")), "count": c.get("count")} for c in counts[:SAMPLE_SIZE]
        ]
    elif outcome.get("partial_unexpected_list"):
        values = [jsonable(v) for v in outcome["partial_unexpected_list"]]
        finding["sample_values"] = [{"value": v, "count": 1} for v in values if v is not None][:SAMPLE_SIZE]

    indexes = outcome.get("partial_unexpected_index_list") or []
    if indexes and df is not None:
        # the checked column(s) first, so a truncated message still shows them
        checked = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)]
        source_columns = checked + [c for c in df.columns if not c.startswith(_LINEAGE_PREFIX) and c not in checked]
        finding["sample_rows"] = _sample_rows(df, list(indexes), source_columns)

    if config.type == "expect_table_columns_to_match_ordered_list":
        finding["details"] = column_differences(kwargs.get("column_list") or [],
                                                outcome.get("observed_value") or []) or None
    return finding




def validate_partition(
    con: "duckdb.DuckDBPyConnection",
    table: str,
    where: dict[str, str],
    suite_name: str | None = None,
    results_dir: Path | None = None,
) -> GateReport:
    """Validate one partition of ``raw.<table>`` with GX against ``expectations/<suite_name or raw_<table>>.json``.

    ``where`` names the partition (``{"_force_id": …, "_month": …}``, ``{"_vintage": …}``). The
    partition is read with a parameterised query into pandas. If ``results_dir`` is given, GX's
    full validation result is written there beside the report, as the engine writes its own.
    """
    if not TABLE_PATTERN.match(table or ""):
        raise ValueError(f"{table!r} is not a valid raw table name (expected {TABLE_PATTERN.pattern})")
    if not where or any(not re.match(r"^_[a-z0-9_]+$", k) or not isinstance(v, str) or not v for k, v in where.items()):
        raise ValueError(f"a partition is lineage columns with non-empty string values; got {where!r}")
    (exists,) = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'raw' and table_name = ?", [table]).fetchall()[0]
    if not exists:
        raise ValueError(f"raw.{table} does not exist: load the partition before gating it")
    columns = [c[0] for c in con.execute(f"select * from raw.{table} limit 0").description]
    if not set(where) <= set(columns):
        raise ValueError(f"partition keys {[k for k in where if k not in columns]} are not columns of raw.{table}")
    suite_name = suite_name or f"raw_{table}"
    suite = load_suite(suite_name)
    context = runtime()

    started = time.perf_counter()
    condition = " and ".join(f'"{k}" = ?' for k in where)
    df = con.execute(f"select * from raw.{table} where {condition}", list(where.values())).df()
    with _LOCK:  # one shared datasource/batch definition per process
        batch = context.batch_definition.get_batch(batch_parameters={"dataframe": df})
        result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20})

    failures: list[dict] = []
    warnings: list[dict] = []
    configs = [e.configuration for e in suite.expectations]
    position = {_config_key(c.type, c.kwargs): i for i, c in enumerate(configs)}
    last = len(configs)
    ordered = sorted(  # GX returns results grouped by metric; report them in suite order
        result.results,
        key=lambda r: position.get(_config_key(r.expectation_config.type, r.expectation_config.kwargs), last),
    )
    for item in ordered:
        if item.success and not _raised(item):
            continue
        finding = _finding(item, df)
        (failures if finding["severity"] == "error" else warnings).append(finding)

    source_file = None
    if "_source_file" in df.columns and len(df):
        first = df["_source_file"].iloc[0]
        source_file = first if isinstance(first, str) else None
    report = GateReport(
        table=table,
        partition=dict(where),
        success=not failures,
        row_count=int(len(df)),
        failures=failures,
        warnings=warnings,
        suite_name=suite_name,
        source_file=source_file,
        expectations_evaluated=len(result.results),
        seconds=time.perf_counter() - started,
    )
    if results_dir is not None:
        report.result_path = write_report(Path(results_dir), report, engine="Great Expectations (pandas)",
                                          extra=result.to_json_dict())
    (log.info if report.success else log.error)("%s", report.summary().splitlines()[0])
    return report
