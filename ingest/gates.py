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
            # One denominator, said plainly: the values the expectation looked at (empty values
            # are not checked by most expectations), then the partition's rows for scale.
            rows, missing = self.get("element_count"), self.get("missing_count")
            checked = rows - missing if isinstance(rows, int) and isinstance(missing, int) else rows
            pct = self.get("unexpected_percent")
            pct_text = f" ({pct:.2f}%)" if isinstance(pct, (int, float)) else ""
            if missing:
                parts.append(f"{self['unexpected_count']:,} of {checked:,} non-empty values{pct_text}; "
                             f"{rows:,} rows in the partition")
            else:
                parts.append(f"{self['unexpected_count']:,} of {rows:,} rows{pct_text}" if isinstance(rows, int)
                             else f"{self['unexpected_count']} unexpected{pct_text}")
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
            where = f"row {row['_row']} of the partition" if row.get("_row") is not None else "a row"
            lines.append(f"     {where}: {_short(_compact_row(row), 300)}")
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


# --------------------------------------------------------------------------- in-database gate (SQL)
#
# At national scale a month is 44 forces x 3 files; copying each partition to pandas for GX costs
# ~0.3-0.6 s a partition plus GX's import. The loader therefore evaluates the same suites inside
# DuckDB: each suite's JSON (still the one source of truth) is compiled into one aggregate query
# per table and month, grouped by partition, so every force-month gets its own verdict in one scan.
# The compiled SQL reproduces GX 1.x's pandas semantics for the expectation types the suites use
# (NULLs are "missing" and not checked, except by not_null; ``mostly`` is over non-missing values;
# a row_condition `!=` keeps rows whose column is NULL, as pandas does). tests/unit/test_gates.py
# runs the hand-made partitions through both engines and requires identical findings.
# ``validate_partition`` (GX itself) stays for single files and ad-hoc checks.

# GX pandas dtype names -> DuckDB column types, for expect_column_values_to_be_of_type.
_PANDAS_TO_DUCKDB_TYPES = {
    "float64": {"DOUBLE"}, "float32": {"FLOAT"}, "int64": {"BIGINT"}, "int32": {"INTEGER"},
    "bool": {"BOOLEAN"}, "boolean": {"BOOLEAN"}, "str": {"VARCHAR"}, "string": {"VARCHAR"}, "object": {"VARCHAR"},
}
_MAP_TYPES = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_pair_values_to_be_equal",
    "expect_column_values_to_be_unique",
}
_TABLE_TYPES = {
    "expect_table_columns_to_match_ordered_list",
    "expect_table_row_count_to_be_between",
    "expect_column_values_to_be_of_type",
}
SQL_SUPPORTED_EXPECTATIONS = frozenset(_MAP_TYPES | _TABLE_TYPES)
_SQL_SAMPLE_VALUES = 20


class UnsupportedExpectation(ValueError):
    """A suite uses an expectation the in-database gate cannot evaluate yet."""


_SUITE_JSON: dict[Path, tuple[tuple[int, int], dict]] = {}


def load_suite_json(suite_name: str) -> dict:
    """``expectations/<suite_name>.json`` as plain data, checked (severity on every expectation, types the
    SQL gate supports); cached by file mtime and size. Imports nothing heavy."""
    if not TABLE_PATTERN.match(suite_name):
        raise ValueError(f"{suite_name!r} is not a valid suite name (expected {TABLE_PATTERN.pattern})")
    path = expectations_dir() / f"{suite_name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no expectation suite {suite_name!r}: {path} does not exist")
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
                    f"(ingest/gates.py supports {sorted(SQL_SUPPORTED_EXPECTATIONS)}); add its SQL there, "
                    "with a parity test against GX in tests/unit/test_gates.py"
                )
        _SUITE_JSON[path] = (stamp, data)
        return data


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _col(name: str) -> str:
    if not TABLE_PATTERN.match(name or ""):
        raise ValueError(f"{name!r} is not a plain column name")
    return f'"{name}"'


def _condition_sql(condition: Any) -> str | None:
    """GX 1.x row_condition (``{"type": "comparison", "column": {...}, "operator", "parameter"}``) as SQL,
    with pandas' NULL behaviour: ``!=`` keeps NULLs, ``==`` and orderings drop them."""
    if condition is None:
        return None
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        column = condition["column"]["name"] if isinstance(condition["column"], dict) else condition["column"]
        operator, value = condition["operator"], _literal(condition.get("parameter"))
        if operator in ("!=", "<>"):
            return f"({_col(column)} is null or {_col(column)} <> {value})"
        if operator in ("==", "="):
            return f"({_col(column)} = {value})"
        if operator in ("<", "<=", ">", ">="):
            return f"({_col(column)} {operator} {value})"
    raise UnsupportedExpectation(f"row_condition {condition!r} is not supported by the in-database gate")


@dataclass
class _Check:
    """One expectation compiled to SQL pieces over a row of the partition."""

    position: int
    type: str
    kwargs: dict
    meta: dict
    column: str | None
    columns_used: list[str]
    condition: str | None = None  # row_condition, SQL
    missing: str | None = None  # rows not checked (NULL), SQL; None = every row is checked
    unexpected: str | None = None  # rows that break the expectation, SQL (map expectations)
    value: str | None = None  # what to show as the unexpected value
    # unexpected rows counted once per distinct value, in the grouped pass of a uniqueness check on
    # the same column and condition (see _value_tallies): the signature of that pass
    tallied_by_value: str | None = None
    exception: str | None = None  # cannot be evaluated on this table


def _compile(suite: dict, table_columns: dict[str, str]) -> list[_Check]:
    checks = []
    for position, expectation in enumerate(suite.get("expectations", [])):
        kind, kwargs = expectation["type"], dict(expectation.get("kwargs") or {})
        meta = dict(expectation.get("meta") or {})
        if "column" in kwargs:
            column, used = kwargs["column"], [kwargs["column"]]
        elif "column_A" in kwargs:
            column, used = f"{kwargs['column_A']}, {kwargs['column_B']}", [kwargs["column_A"], kwargs["column_B"]]
        else:
            column, used = None, []
        check = _Check(position, kind, kwargs, meta, column, used)
        checks.append(check)
        condition = kwargs.get("row_condition")
        if condition is not None:
            name = condition["column"]["name"] if isinstance(condition.get("column"), dict) else condition.get("column")
            used = used + [name]
        absent = [c for c in used if c not in table_columns]
        if absent:
            check.exception = f"column {absent[0]!r} does not exist in the table (columns: {list(table_columns)})"
            continue
        check.condition = _condition_sql(condition)
        if kind in _TABLE_TYPES:
            continue
        if kind == "expect_column_pair_values_to_be_equal":
            a, b = _col(kwargs["column_A"]), _col(kwargs["column_B"])
            if kwargs.get("ignore_row_if", "both_values_are_missing") != "both_values_are_missing":
                raise UnsupportedExpectation(f"{kind}: ignore_row_if={kwargs['ignore_row_if']!r} is not supported")
            check.missing = f"({a} is null and {b} is null)"
            check.unexpected = f"not coalesce({a} = {b}, false)"
            check.value = f"[{a}::varchar, {b}::varchar]"
            continue
        col = _col(kwargs["column"])
        check.value = col
        if kind == "expect_column_values_to_not_be_null":
            check.unexpected = f"{col} is null"
            check.value = None
        elif kind == "expect_column_values_to_match_regex":
            check.missing = f"{col} is null"
            check.unexpected = f"not regexp_matches({col}::varchar, {_literal(kwargs['regex'])})"
        elif kind == "expect_column_values_to_be_in_set":
            check.missing = f"{col} is null"
            values = ", ".join(_literal(v) for v in kwargs["value_set"])
            check.unexpected = f"not ({col} in ({values}))"
        elif kind == "expect_column_values_to_be_between":
            check.missing = f"{col} is null"
            column_type = table_columns[kwargs["column"]]
            bounds = []
            for key, strict, operator in (("min_value", "strict_min", ">"), ("max_value", "strict_max", "<")):
                if kwargs.get(key) is None:
                    continue
                bound = _literal(kwargs[key])
                if isinstance(kwargs[key], str):
                    bound = f"cast({bound} as {column_type})"
                bounds.append(f"{col} {operator if kwargs.get(strict) else operator + '='} {bound}")
            check.unexpected = f"not ({' and '.join(bounds) or 'true'})"
        elif kind == "expect_column_values_to_be_unique":
            check.missing = f"{col} is null"
            # evaluated by its own grouped pass over the values (see _value_tallies)
    return checks


def _table_columns(con: "duckdb.DuckDBPyConnection", table: str) -> dict[str, str]:
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'raw' and table_name = ? "
        "order by ordinal_position",
        [table],
    ).fetchall())


def _in_partitions(partitions: list[tuple[str, str]]) -> tuple[str, list]:
    forces = sorted({f for f, _ in partitions})
    months = sorted({m for _, m in partitions})
    sql = f"_month in ({', '.join('?' * len(months))}) and _force_id in ({', '.join('?' * len(forces))})"
    params = [*months, *forces]
    if len(set(partitions)) < len(forces) * len(months):  # not every force x month: name the pairs
        rows = ", ".join(["(?, ?)"] * len(partitions))
        sql += f" and {{'f': _force_id, 'm': _month}} in (select {{'f': f, 'm': m}} from (values {rows}) as k(f, m))"
        params += [v for p in partitions for v in p]
    return sql, params


def _map_success(check: _Check, element: int, missing: int, unexpected: int) -> tuple[bool, float | None]:
    checked = element - missing
    percent = 100.0 * unexpected / checked if checked else None
    mostly = check.kwargs.get("mostly")
    if mostly is None:
        return unexpected == 0, percent
    return (checked == 0 or 1 - unexpected / checked >= mostly), percent


def validate_partitions(
    con: "duckdb.DuckDBPyConnection",
    table: str,
    partitions: list[dict[str, str]],
    suite_name: str | None = None,
    results_dir: Path | None = None,
) -> list[GateReport]:
    """Validate many partitions of ``raw.<table>`` inside DuckDB, one report per partition (in order).

    The same suites and the same :class:`GateReport` as :func:`validate_partition`, evaluated as
    SQL: one grouped aggregate over all the partitions, one grouped query per uniqueness check,
    and sample queries only for expectations that some partition did not meet.
    """
    started = time.perf_counter()
    if not TABLE_PATTERN.match(table or ""):
        raise ValueError(f"{table!r} is not a valid raw table name (expected {TABLE_PATTERN.pattern})")
    keys = [_partition_values(p) for p in partitions]
    if not keys:
        return []
    if not _table_exists(con, table):
        raise ValueError(f"raw.{table} does not exist: load the partition before gating it")
    suite_name = suite_name or f"raw_{table}"
    suite = load_suite_json(suite_name)
    columns = _table_columns(con, table)
    checks = _compile(suite, columns)
    where, params = _in_partitions(keys)
    source = f"raw.{table}"  # ``table`` passed TABLE_PATTERN and exists

    # Per map expectation and partition: rows checked (element), missing (NULL) and unexpected.
    # Checks on categorical columns (lineage, in-set vocabularies, the Month that must equal the
    # partition month) are evaluated once per distinct value rather than once per row: a grouped
    # pre-aggregation turns 500,000 rows a month into a few thousand value combinations.
    categorical = _categorical_columns(checks, columns)
    _assign_value_tallies(checks, categorical)
    row_checks, grouped_checks = [], []
    for check in checks:
        if check.exception or check.type in _TABLE_TYPES:
            continue  # (a uniqueness check tallies its rows here; its repeats come from _value_tallies)
        used = set(check.columns_used) | set(_condition_columns(check))
        grouped = used <= categorical and check.type != "expect_column_values_to_be_unique"
        (grouped_checks if grouped else row_checks).append(check)
    tallies: dict[tuple[str, str], dict[int, list[int]]] = {}
    counts = {}
    for row in con.execute(
        f"select _force_id, _month, count(*), {'min(_source_file)' if '_source_file' in columns else 'null'}"
        f"{_tally_sql(row_checks, 'count(*)')} from {source} where {where} group by all",
        params,
    ).fetchall():
        counts[(row[0], row[1])] = row[:4]
        tallies[(row[0], row[1])] = {c.position: list(row[4 + 3 * i: 7 + 3 * i]) for i, c in enumerate(row_checks)}
    if grouped_checks:
        group_columns = sorted({c for check in grouped_checks for c in (*check.columns_used, *_condition_columns(check))}
                               | {"_force_id", "_month"})
        value_columns = ", ".join(_col(c) for c in group_columns)
        for row in con.execute(
            f"select _force_id, _month{_tally_sql(grouped_checks, 'sum(n)')} "
            f"from (select {value_columns}, count(*) as n from {source} where {where} group by all) group by all",
            params,
        ).fetchall():
            tallies.setdefault((row[0], row[1]), {}).update(
                {c.position: [int(v or 0) for v in row[2 + 3 * i: 5 + 3 * i]] for i, c in enumerate(grouped_checks)}
            )
    repeated_values: dict[str, list[tuple]] = {}
    for signature, value_checks in _value_tally_groups(checks).items():
        counts_by_value, repeated_values[signature] = _value_tallies(con, source, value_checks, where, params)
        for key, unexpected_by_position in counts_by_value.items():
            for position, unexpected in unexpected_by_position.items():
                if key in tallies and position in tallies[key]:
                    tallies[key][position][2] = unexpected

    observed_columns = list(columns)
    outcomes: dict[tuple[str, str], list[tuple[_Check, bool, Finding | None]]] = {}
    for key in keys:
        row = counts.get(key)
        row_count = int(row[2]) if row else 0
        results = []
        for check in checks:
            finding: Finding | None = None
            success = True
            if check.exception:
                success = False
                finding = _sql_finding(check, exception=check.exception)
            elif check.type == "expect_table_row_count_to_be_between":
                low, high = check.kwargs.get("min_value"), check.kwargs.get("max_value")
                success = (low is None or row_count >= low) and (high is None or row_count <= high)
                if not success:
                    finding = _sql_finding(check, observed_value=row_count)
            elif check.type == "expect_table_columns_to_match_ordered_list":
                success = observed_columns == list(check.kwargs.get("column_list") or [])
                if not success:
                    finding = _sql_finding(check, observed_value=observed_columns)
            elif check.type == "expect_column_values_to_be_of_type":
                wanted = _PANDAS_TO_DUCKDB_TYPES.get(str(check.kwargs.get("type_")).lower(), {str(check.kwargs.get("type_")).upper()})
                found = columns[check.kwargs["column"]]
                success = found in wanted
                if not success:
                    finding = _sql_finding(check, observed_value=found)
            else:
                element, missing, unexpected = tallies.get(key, {}).get(check.position, [0, 0, 0])
                success, percent = _map_success(check, element, missing, unexpected)
                if unexpected:
                    finding = _sql_finding(
                        check, element_count=element, unexpected_count=unexpected, unexpected_percent=percent,
                        missing_count=None if check.missing is None else missing,
                    )
            results.append((check, success, finding))
        outcomes[key] = results

    _add_samples(con, source, where, params, outcomes, columns, repeated_values)

    elapsed = time.perf_counter() - started
    reports = []
    for key in keys:
        row = counts.get(key)
        failures, warnings = [], []
        for check, success, finding in outcomes[key]:
            if success:
                continue
            finding = finding or _sql_finding(check)
            (failures if finding["severity"] == "error" else warnings).append(finding)
        report = GateReport(
            table=table,
            partition={"_force_id": key[0], "_month": key[1]},
            success=not failures,
            row_count=int(row[2]) if row else 0,
            failures=failures,
            warnings=warnings,
            suite_name=suite_name,
            source_file=row[3] if row else None,
            expectations_evaluated=len(checks),
            seconds=elapsed / len(keys),
        )
        if results_dir is not None:
            report.result_path = write_report(Path(results_dir), report)
        (log.debug if report.success else log.error)("%s", report.summary().splitlines()[0])
        reports.append(report)
    log.info("raw.%s: gated %d partitions in-database in %.2fs (%d failed)",
             table, len(reports), elapsed, sum(not r.success for r in reports))
    return reports


def _condition_columns(check: _Check) -> list[str]:
    condition = check.kwargs.get("row_condition")
    if not isinstance(condition, dict):
        return []
    column = condition.get("column")
    return [column["name"] if isinstance(column, dict) else column]


def _categorical_columns(checks: list[_Check], columns: dict[str, str]) -> set[str]:
    """Columns with few distinct values per partition: lineage, in-set vocabularies, and a column
    that must equal a lineage column (Month = the partition month)."""
    categorical = {c for c in columns if c.startswith(_LINEAGE_PREFIX)}
    for check in checks:
        if check.type == "expect_column_values_to_be_in_set":
            categorical.add(check.kwargs["column"])
        if check.type == "expect_column_pair_values_to_be_equal":
            a, b = check.kwargs["column_A"], check.kwargs["column_B"]
            if a.startswith(_LINEAGE_PREFIX) or b.startswith(_LINEAGE_PREFIX):
                categorical |= {a, b}
    return categorical & set(columns)


def _tally_sql(checks: list[_Check], count: str) -> str:
    """``, element, missing, unexpected`` per check, as filtered ``count`` aggregates."""
    parts = []
    for check in checks:
        cond = check.condition or "true"
        missing = check.missing or "false"
        unexpected = "false" if check.tallied_by_value else (check.unexpected or "false")
        parts += [
            f"{count} filter (where {cond})",
            f"{count} filter (where {cond} and {missing})",
            f"{count} filter (where {cond} and not {missing} and {unexpected})",
        ]
    return "".join(", " + p for p in parts)


def _unique_signature(check: _Check) -> str:
    return f"{check.kwargs['column']}|{check.condition}"


def _assign_value_tallies(checks: list[_Check], categorical: set[str]) -> None:
    """Checks counted per distinct value in the grouped pass a uniqueness check makes anyway.

    A uniqueness check groups its partition's rows by value (crime ids: ~500,000 a month). Another
    check on the same column under the same row condition (the crime-id format) is then evaluated
    once per distinct value in that pass, weighted by its copies, instead of once more per row.
    """
    unique = {_unique_signature(c) for c in checks
              if c.type == "expect_column_values_to_be_unique" and not c.exception}
    for check in checks:
        if check.exception or check.type in _TABLE_TYPES or check.type == "expect_column_values_to_be_unique":
            continue
        if check.unexpected is None or len(check.columns_used) != 1 or check.columns_used[0] in categorical:
            continue
        signature = f"{check.columns_used[0]}|{check.condition}"
        if signature in unique and check.missing == f"{_col(check.columns_used[0])} is null":
            check.tallied_by_value = signature


def _value_tally_groups(checks: list[_Check]) -> dict[str, list[_Check]]:
    """Per grouped pass (column and condition): the uniqueness checks and the checks tallied in it."""
    groups: dict[str, list[_Check]] = {}
    for check in checks:
        if check.type == "expect_column_values_to_be_unique" and not check.exception:
            groups.setdefault(_unique_signature(check), []).append(check)
    for check in checks:
        if check.tallied_by_value:
            groups[check.tallied_by_value].append(check)
    return groups


def _value_tallies(
    con, source: str, checks: list[_Check], where: str, params: list
) -> tuple[dict[tuple[str, str], dict[int, int]], list[tuple]]:
    """One grouped pass over a column's non-NULL values (under the checks' row condition).

    Returns, per partition, each check's unexpected rows — for uniqueness every copy of a repeated
    value (as GX counts them), for the others the copies of each value that breaks the check — and
    the repeated values themselves (``_force_id, _month, value, copies``, most copies first, at
    most ``_SQL_SAMPLE_VALUES`` per partition) for the findings' samples.
    """
    first = checks[0]
    col = _col(first.kwargs["column"])
    cond = first.condition or "true"
    tallies = []
    for check in checks:
        if check.type == "expect_column_values_to_be_unique":
            tallies.append("sum(copies) filter (where copies > 1)")
        else:
            tallies.append(f"sum(copies) filter (where {check.unexpected})")
    con.execute(
        f"""
        create or replace temp table gate_value_copies as
        select _force_id, _month, {col}, count(*) as copies
        from {source}
        where {where} and {cond} and {col} is not null
        group by all
        """,
        params,
    )
    try:
        counts: dict[tuple[str, str], dict[int, int]] = {}
        for force, month, *values in con.execute(
            f"select _force_id, _month, {', '.join(tallies)} from gate_value_copies group by all"
        ).fetchall():
            counts[(force, month)] = {check.position: int(v or 0) for check, v in zip(checks, values)}
        repeated = con.execute(
            f"""
            select _force_id, _month, {col} as value, copies as n from gate_value_copies where copies > 1
            qualify row_number() over (partition by _force_id, _month order by copies desc, value)
                <= {_SQL_SAMPLE_VALUES}
            order by 1, 2, 4 desc, 3
            """
        ).fetchall()
    finally:
        con.execute("drop table if exists gate_value_copies")
    return counts, repeated


def _sql_finding(check: _Check, **values: Any) -> Finding:
    finding = Finding(
        expectation=check.type,
        column=check.column if check.type != "expect_table_columns_to_match_ordered_list" else None,
        severity=check.meta.get("severity", "error"),
        why=check.meta.get("why"),
        element_count=values.get("element_count"),
        unexpected_count=values.get("unexpected_count"),
        unexpected_percent=values.get("unexpected_percent"),
        missing_count=values.get("missing_count"),
        mostly=check.kwargs.get("mostly"),
        observed_value=values.get("observed_value"),
        exception=values.get("exception"),
        sample_values=[],
        sample_rows=[],
    )
    if check.kwargs.get("row_condition") is not None:
        finding["row_condition"] = _condition_text(check.kwargs["row_condition"])
    if finding["exception"]:
        finding["severity"] = "error"
    if check.type == "expect_table_columns_to_match_ordered_list" and values.get("observed_value") is not None:
        expected = list(check.kwargs.get("column_list") or [])
        observed = list(values["observed_value"])
        detail = []
        missing = [c for c in expected if c not in observed]
        unexpected = [c for c in observed if c not in expected]
        if missing:
            detail.append(f"missing columns {missing}")
        if unexpected:
            detail.append(f"unexpected columns {unexpected}")
        if not detail and expected != observed:
            detail.append(f"columns out of order: found {observed}")
        finding["details"] = "; ".join(detail) or None
    return finding


def _add_samples(
    con, source: str, where: str, params: list, outcomes: dict, columns: dict[str, str],
    repeated_values: dict[str, list[tuple]],
) -> None:
    """Top unexpected values (all findings) and a few rows (failures) for the expectations some partition missed.

    A uniqueness check's top values come from its grouped pass (``repeated_values``), not a new scan.
    """
    missed: dict[int, _Check] = {}
    needs_rows: set[int] = set()
    for results in outcomes.values():
        for check, success, finding in results:
            if finding is not None and finding.get("unexpected_count") and not check.exception:
                missed[check.position] = check
                if not success and finding["severity"] == "error":
                    needs_rows.add(check.position)
    source_columns = [c for c in columns if not c.startswith(_LINEAGE_PREFIX)]
    seen: dict[str, list] = {}
    for position, check in missed.items():
        cond = check.condition or "true"
        missing = check.missing or "false"
        if check.type == "expect_column_values_to_be_unique":
            # the unexpected rows are every copy of a value repeated within its force-month
            col = _col(check.kwargs["column"])
            repeated = (f"select _force_id, _month, {col} as value, count(*) as n from {source} "
                        f"where {where} and {cond} and {col} is not null group by all having count(*) > 1")
            values_sql = (f"select * from ({repeated}) qualify row_number() over (partition by _force_id, _month "
                          f"order by n desc, value) <= {_SQL_SAMPLE_VALUES}")
            rows_from = (f"{source} as t semi join ({repeated}) as r "
                         f"on t._force_id = r._force_id and t._month = r._month and t.{col} = r.value")
            rows_where, rows_params = "true", [*params]
            values_params = params
        else:
            filter_sql = f"{where} and {cond} and not {missing} and {check.unexpected}"
            values_sql = (
                f"select * from (select _force_id, _month, {check.value} as value, count(*) as n from {source} "
                f"where {filter_sql} group by all) qualify row_number() over (partition by _force_id, _month "
                f"order by n desc, value::varchar) <= {_SQL_SAMPLE_VALUES}"
            )
            values_params = params
            rows_from, rows_where, rows_params = source, filter_sql, params
        if check.value is not None:
            values_query = f"{values_sql} order by 1, 2, 4 desc"
            if check.type == "expect_column_values_to_be_unique":
                seen[values_query] = repeated_values[_unique_signature(check)]
            elif values_query not in seen:  # the warning and error checks of one column share it
                seen[values_query] = con.execute(values_query, values_params).fetchall()
            for force, month, value, n in seen[values_query]:
                for item in outcomes.get((force, month), []):
                    if item[0].position == position and item[2] is not None and value is not None \
                            and len(item[2]["sample_values"]) < SAMPLE_SIZE:
                        item[2]["sample_values"].append({"value": _jsonable(value), "count": int(n)})
        if position in needs_rows:
            checked = [c for c in check.columns_used if c in columns]
            shown = checked + [c for c in source_columns if c not in checked]
            select = ", ".join(_col(c) for c in shown)
            rows = con.execute(
                f"""
                select _force_id, _month, {select}
                from {rows_from} where {rows_where}
                qualify row_number() over (partition by _force_id, _month) <= {SAMPLE_SIZE}
                """,
                rows_params,
            ).fetchall()
            for force, month, *values in rows:
                for item in outcomes.get((force, month), []):
                    if item[0].position == position and item[2] is not None:
                        item[2]["sample_rows"].append(
                            {"_row": None, **{c: _jsonable(v) for c, v in zip(shown, values)}}
                        )


def write_report(results_dir: Path, report: GateReport) -> Path:
    """Write ``report`` as ``<results_dir>/<table>__<force>__<month>.json`` (atomically) and return the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    force_id, month = report.partition["_force_id"], report.partition["_month"]
    path = results_dir / f"{report.table}__{_safe_file_part(force_id)}__{_safe_file_part(month)}.json"
    payload = {"engine": "duckdb-sql (ingest/gates.py)", "success": report.success, "opcc_gate": report.to_dict()}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
