"""What a gate says: one finding per expectation not met, a report per partition, the error text.

Shared by the in-database engine (:mod:`ingest.raw.gate.engine`) and by the Great Expectations
reference the tests run beside it, so both speak the same words and write the same files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

SAMPLE_SIZE = 5  # sample values and rows shown per finding


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
            parts.append(f"observed {short(self['observed_value'], 200)}")
        if self.get("sample_values"):
            shown = ", ".join(f"{short(v['value'])} x{v['count']}" for v in self["sample_values"])
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
        super().__init__(failure_message(report))

    def __reduce__(self):  # survives pickling (e.g. across a process boundary)
        return (type(self), (self.report,))


def check(report: GateReport) -> GateReport:
    """Raise :class:`GateFailed` unless the report passed; return it otherwise."""
    if not report.success:
        raise GateFailed(report)
    return report


def failure_message(report: GateReport) -> str:
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
            lines.append(f"     {where}: {short(compact_row(row), 300)}")
    if report.warnings:
        lines.append(f"  ({len(report.warnings)} warning(s) too, not blocking; see the result file.)")
    source = report.source_file
    lines.append(
        "What to do next: if this ran inside the loader's transaction, the load was rolled back and the "
        "partition keeps its previous rows. Compare the sample above with the source file"
        + (f" ({source})" if source else "")
        + ". If the file is corrupt or truncated, fetch it again (publishers re-issue files). "
        "If the publisher has genuinely changed a label or the layout, update the source's contract "
        f"(ingest/sources/), the suite expectations/{report.suite_name}.json (and any dbt seed mapping the "
        "labels) together, then rerun the load for this partition."
    )
    if report.result_path is not None:
        lines.append(f"Full validation result: {report.result_path}")
    return "\n".join(lines)


def compact_row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "_row" and v is not None}


def short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_file_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", value)[:100] or "_"


def jsonable(value: Any) -> Any:
    """A value from DuckDB, pandas, numpy or GX as plain JSON (NaN, NaT and NA become None)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, dict):  # a compound key's values
        return {str(k): jsonable(v) for k, v in value.items()}
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
            return jsonable(value.item())
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def condition_text(condition: Any) -> str:
    """``{"column": {"name": "crime_type"}, "operator": "!=", "parameter": "…"}`` → ``crime_type != '…'``."""
    if hasattr(condition, "dict"):
        condition = condition.dict()
    if isinstance(condition, dict) and {"column", "operator"} <= set(condition):
        column = condition["column"].get("name") if isinstance(condition["column"], dict) else condition["column"]
        return f"{column} {condition['operator']} {condition.get('parameter')!r}"
    return str(condition)


def result_path(results_dir: Path, report: GateReport) -> Path:
    """``<results_dir>/<table>__<value>__<value>.json``: one file per table and partition."""
    parts = "__".join(safe_file_part(str(v)) for v in report.partition.values())
    return results_dir / f"{report.table}__{parts}.json"


def write_report(results_dir: Path, report: GateReport, engine: str = "duckdb-sql (ingest/raw/gate)",
                 extra: dict | None = None) -> Path:
    """Write ``report`` (and ``extra``, e.g. GX's own result) as JSON, atomically; return the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = result_path(results_dir, report)
    payload = {"engine": engine, "success": report.success, **(extra or {}), "opcc_gate": report.to_dict()}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
