"""Data-quality gate on one raw partition, with Great Expectations 1.x.

A partition is one force-month of one raw table (``_force_id``, ``_month``). The loader
replaces the partition inside a transaction, calls :func:`validate_partition`, then
:func:`check`: a failed error-severity expectation raises :class:`GateFailed` and the
caller rolls back, so the previous rows stay published.

Suites live in ``expectations/<suite>.json`` (``ExpectationSuite.to_json_dict()``
format). Every expectation's ``meta`` says ``{"severity": "error" | "warning", "why": …}``:

* ``error``   — fails the gate;
* ``warning`` — counted and reported in :class:`GateReport`, never fails the gate
  (known publisher behaviour such as British Transport Police rows without a Crime ID,
  or a few repeated Crime IDs in a street file).

An expectation that cannot be evaluated at all (a missing column, a metric error) fails
the gate whatever its severity: the suite no longer fits the table.

This module is imported by Airflow DAG files at parse time: only the standard library is
imported at the top; duckdb, pandas and great_expectations are imported when a partition
is validated. The GX context, its pandas datasource and the parsed suites are built once
per process and reused.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

TABLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
PARTITION_KEYS = ("_force_id", "_month")
SEVERITIES = ("error", "warning")
SAMPLE_SIZE = 5
EXPECTATIONS_ENV = "OPCC_EXPECTATIONS_DIR"
_REPO = Path(__file__).resolve().parent.parent
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


# --------------------------------------------------------------------------- results


class Finding(dict):
    """One failed expectation, as a plain (JSON-serialisable) dict that prints as one line."""

    def __str__(self) -> str:  # used by log lines such as log.warning("%s", finding)
        target = self.get("column") or "table"
        parts = [f"[{self.get('severity')}] {self.get('expectation')}({target})"]
        if self.get("row_condition"):
            parts.append(f"where {self['row_condition']}:")
        if self.get("exception"):
            parts.append(f"could not be evaluated: {self['exception']}")
        elif self.get("unexpected_count") is not None:
            pct = self.get("unexpected_percent")
            base = "of non-empty values" if self.get("missing_count") is not None else "of rows checked"
            pct_text = f" ({pct:.2f}% {base})" if isinstance(pct, (int, float)) else ""
            parts.append(f"{self['unexpected_count']} unexpected of {self.get('element_count')} rows{pct_text}")
            if self.get("mostly") is not None:
                parts.append(f"(allowed: up to {100 * (1 - self['mostly']):.0f}% unexpected)")
        elif self.get("details"):
            parts.append(str(self["details"]))
        elif self.get("observed_value") is not None:
            parts.append(f"observed {_short(self['observed_value'], 200)}")
        if self.get("sample_values"):
            shown = ", ".join(f"{_short(v['value'])} x{v['count']}" for v in self["sample_values"])
            parts.append(f"e.g. {shown}")
        return " ".join(parts)


@dataclass
class GateReport:
    table: str
    partition: dict[str, str]
    success: bool
    row_count: int
    failures: list[dict] = field(default_factory=list)  # error severity (or not evaluable)
    warnings: list[dict] = field(default_factory=list)  # warning severity, counted only
    result_path: Path | None = None
    suite_name: str = ""
    source_file: str | None = None
    expectations_evaluated: int = 0
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"raw.{self.table} " + ", ".join(f"{k}={v}" for k, v in self.partition.items())

    def summary(self) -> str:
        status = "passed" if self.success else "FAILED"
        lines = [
            f"{self.label}: gate {status} ({self.row_count} rows, {self.expectations_evaluated} expectations "
            f"of suite {self.suite_name}, {len(self.failures)} errors, {len(self.warnings)} warnings, "
            f"{self.seconds:.2f}s)"
        ]
        lines += [f"  error:   {Finding(f)}" for f in self.failures]
        lines += [f"  warning: {Finding(w)}" for w in self.warnings]
        if self.result_path is not None:
            lines.append(f"  result: {self.result_path}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "table": self.table,
            "partition": dict(self.partition),
            "success": self.success,
            "row_count": self.row_count,
            "suite": self.suite_name,
            "source_file": self.source_file,
            "expectations_evaluated": self.expectations_evaluated,
            "failures": [dict(f) for f in self.failures],
            "warnings": [dict(w) for w in self.warnings],
            "seconds": round(self.seconds, 3),
        }


class GateFailed(Exception):
    """A partition failed at least one error-severity expectation."""

    def __init__(self, report: GateReport):
        self.report = report
        super().__init__(_failure_message(report))

    def __reduce__(self):  # survives pickling (e.g. across a process boundary)
        return (type(self), (self.report,))


def check(report: GateReport) -> GateReport:
    """Raise :class:`GateFailed` unless the report passed; return it otherwise."""
    if not report.success:
        raise GateFailed(report)
    return report


def _failure_message(report: GateReport) -> str:
    lines = [
        f"Data-quality gate failed for {report.label} ({report.row_count} rows): "
        f"{len(report.failures)} error-severity expectation(s) of suite {report.suite_name} not met."
    ]
    for number, failure in enumerate(report.failures, 1):
        lines.append(f"  {number}. {Finding(failure)}")
        if failure.get("why"):
            lines.append(f"     why it matters: {failure['why']}")
        for row in failure.get("sample_rows", [])[:SAMPLE_SIZE]:
            lines.append(f"     partition row {row.get('_row')}: {_short(_compact_row(row), 300)}")
    if report.warnings:
        lines.append(f"  ({len(report.warnings)} warning(s) too, not blocking; see the result file.)")
    source = report.source_file
    lines.append(
        "What to do next: if this ran inside the loader's transaction, the load was rolled back and the "
        "partition keeps its previous rows. Compare the sample above with the source file"
        + (f" ({source})" if source else "")
        + ". If the file is corrupt or truncated, re-fetch the month (the publisher re-issues files). "
        "If the publisher has genuinely changed a label or the layout, update "
        "ingest/sources/police_uk_contract.py, the suite "
        f"expectations/{report.suite_name}.json (and any dbt seed mapping the labels) together, "
        "then rerun the load for this force-month."
    )
    if report.result_path is not None:
        lines.append(f"Full validation result: {report.result_path}")
    return "\n".join(lines)


def _compact_row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "_row" and v is not None}


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- suites and GX runtime


def expectations_dir() -> Path:
    """``$OPCC_EXPECTATIONS_DIR`` or ``<repo>/expectations``."""
    configured = os.environ.get(EXPECTATIONS_ENV)
    return Path(configured) if configured else _REPO / "expectations"


@dataclass
class _Runtime:
    gx: Any
    context: Any
    batch_definition: Any


_LOCK = threading.RLock()
_RUNTIME: _Runtime | None = None
_SUITES: dict[Path, tuple[tuple[int, int], Any]] = {}


def _runtime() -> _Runtime:
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
    """Parse ``expectations/<suite_name>.json`` into a GX ExpectationSuite (cached by file mtime/size)."""
    if not TABLE_PATTERN.match(suite_name):
        raise ValueError(f"{suite_name!r} is not a valid suite name (expected {TABLE_PATTERN.pattern})")
    path = expectations_dir() / f"{suite_name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no expectation suite {suite_name!r}: {path} does not exist")
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        cached = _SUITES.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        gx = _runtime().gx
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("id", None)
        for expectation in data.get("expectations", []):
            expectation.pop("id", None)
            severity = (expectation.get("meta") or {}).get("severity")
            if severity not in SEVERITIES:
                raise ValueError(
                    f"{path}: expectation {expectation.get('type')} {expectation.get('kwargs')} has meta.severity "
                    f"{severity!r}; every expectation must say 'error' or 'warning'"
                )
        suite = gx.ExpectationSuite(**data)
        _SUITES[path] = (stamp, suite)
        return suite


# --------------------------------------------------------------------------- validation


def _partition_values(where: dict[str, str]) -> tuple[str, str]:
    if set(where) != set(PARTITION_KEYS):
        raise ValueError(f"a partition is exactly {list(PARTITION_KEYS)}; got {sorted(where)}")
    values = tuple(where[k] for k in PARTITION_KEYS)
    for key, value in zip(PARTITION_KEYS, values):
        if not isinstance(value, str) or not value:
            raise ValueError(f"partition value {key}={value!r} must be a non-empty string")
    return values  # type: ignore[return-value]


def _table_exists(con: "duckdb.DuckDBPyConnection", table: str) -> bool:
    (count,) = con.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = current_database() and table_schema = 'raw' and table_name = ?",
        [table],
    ).fetchall()[0]
    return bool(count)


def _safe_file_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", value)[:100] or "_"


def _jsonable(value: Any) -> Any:
    """A value from pandas/numpy/GX as plain JSON (NaN, NaT and NA become None)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    try:
        if value != value:  # NaN, NaT
            return None
    except (TypeError, ValueError):  # pd.NA refuses to be a bool
        return None
    if isinstance(value, float):
        return value
    if isinstance(value, (datetime, date)) or hasattr(value, "isoformat"):  # incl. pandas Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        try:
            return _jsonable(value.item())
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _sample_rows(df: Any, indexes: list, columns: list[str]) -> list[dict]:
    rows = []
    for index in indexes[:SAMPLE_SIZE]:
        try:
            record = df.loc[index]
        except (KeyError, TypeError):
            continue
        row = {"_row": _jsonable(index)}
        for column in columns:
            if column in record.index:
                row[column] = _jsonable(record[column])
        rows.append(row)
    return rows


def _condition_text(condition: Any) -> str:
    """``{"column": {"name": "crime_type"}, "operator": "!=", "parameter": "…"}`` → ``crime_type != '…'``."""
    if hasattr(condition, "dict"):
        condition = condition.dict()
    if isinstance(condition, dict) and {"column", "operator"} <= set(condition):
        column = condition["column"].get("name") if isinstance(condition["column"], dict) else condition["column"]
        return f"{column} {condition['operator']} {condition.get('parameter')!r}"
    return str(condition)


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
        unexpected_percent=_jsonable(outcome.get("unexpected_percent")),
        missing_count=outcome.get("missing_count"),
        mostly=kwargs.get("mostly"),
        observed_value=_jsonable(outcome.get("observed_value")) if not isinstance(outcome.get("observed_value"), list)
        else outcome.get("observed_value"),
        exception=None,
        sample_values=[],
        sample_rows=[],
    )
    if kwargs.get("row_condition") is not None:
        finding["row_condition"] = _condition_text(kwargs["row_condition"])
    if errors:
        finding["exception"] = "; ".join(dict.fromkeys(errors))
        finding["severity"] = "error"  # an expectation that cannot run means the suite does not fit the table

    counts = [c for c in outcome.get("partial_unexpected_counts") or [] if _jsonable(c.get("value")) is not None]
    if counts:
        finding["sample_values"] = [
            {"value": _jsonable(c.get("value")), "count": c.get("count")} for c in counts[:SAMPLE_SIZE]
        ]
    elif outcome.get("partial_unexpected_list"):
        values = [_jsonable(v) for v in outcome["partial_unexpected_list"]]
        finding["sample_values"] = [{"value": v, "count": 1} for v in values if v is not None][:SAMPLE_SIZE]

    indexes = outcome.get("partial_unexpected_index_list") or []
    if indexes and df is not None:
        # the checked column(s) first, so a truncated message still shows them
        checked = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)]
        source_columns = checked + [c for c in df.columns if not c.startswith(_LINEAGE_PREFIX) and c not in checked]
        finding["sample_rows"] = _sample_rows(df, list(indexes), source_columns)

    if config.type == "expect_table_columns_to_match_ordered_list":
        expected = list(kwargs.get("column_list") or [])
        observed = list(outcome.get("observed_value") or [])
        missing = [c for c in expected if c not in observed]
        unexpected = [c for c in observed if c not in expected]
        detail = []
        if missing:
            detail.append(f"missing columns {missing}")
        if unexpected:
            detail.append(f"unexpected columns {unexpected}")
        if not detail and expected != observed:
            detail.append(f"columns out of order: found {observed}")
        finding["details"] = "; ".join(detail) or None
    return finding


def validate_partition(
    con: "duckdb.DuckDBPyConnection",
    table: str,
    where: dict[str, str],
    suite_name: str | None = None,
    results_dir: Path | None = None,
) -> GateReport:
    """Validate one partition of ``raw.<table>`` against ``expectations/<suite_name or raw_<table>>.json``.

    ``where`` is ``{"_force_id": …, "_month": …}``. The partition is read with a parameterised
    query into pandas (the table name is checked against a strict pattern and must exist in
    schema ``raw``; partition values are only ever bound parameters). If ``results_dir`` is
    given, the full GX validation result is written there as ``<table>__<force>__<month>.json``.
    """
    if not TABLE_PATTERN.match(table or ""):
        raise ValueError(f"{table!r} is not a valid raw table name (expected {TABLE_PATTERN.pattern})")
    force_id, month = _partition_values(where)
    if not _table_exists(con, table):
        raise ValueError(f"raw.{table} does not exist: load the partition before gating it")
    suite_name = suite_name or f"raw_{table}"
    suite = load_suite(suite_name)
    runtime = _runtime()

    started = time.perf_counter()
    # ``table`` passed TABLE_PATTERN and exists; the partition values are bound parameters.
    df = con.execute(
        f"select * from raw.{table} where _force_id = ? and _month = ?", [force_id, month]
    ).df()
    with _LOCK:  # one shared datasource/batch definition per process
        batch = runtime.batch_definition.get_batch(batch_parameters={"dataframe": df})
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
        partition={"_force_id": force_id, "_month": month},
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
        report.result_path = _write_result(Path(results_dir), table, force_id, month, result, report)

    (log.info if report.success else log.error)("%s", report.summary().splitlines()[0])
    return report


def _write_result(results_dir: Path, table: str, force_id: str, month: str, result: Any, report: GateReport) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{table}__{_safe_file_part(force_id)}__{_safe_file_part(month)}.json"
    payload = result.to_json_dict()
    payload["opcc_gate"] = report.to_dict()
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
