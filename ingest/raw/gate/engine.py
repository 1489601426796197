"""The gate, evaluated inside DuckDB: every source's raw partitions against its suite.

At national scale a police.uk month is 44 forces x 3 files; copying each partition to pandas for
GX would cost ~0.3-0.6 s a partition plus GX's import. The suites (still GX's JSON, the one source
of truth) are compiled to SQL (:mod:`ingest.raw.gate.compile`) and evaluated in one grouped
aggregate per table over all the partitions loaded together, so every partition gets its own
verdict from one scan. A partition is any set of lineage columns: ``_force_id`` and ``_month``
for police.uk, ``_vintage`` for an ONS lookup, ``_survey`` and ``_force_id`` for a consultation.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ingest.raw.contract import column_differences
from ingest.raw.gate.compile import (
    PANDAS_TO_DUCKDB_TYPES,
    UNIQUENESS_TYPES,
    Check,
    col,
    compile_suite,
    condition_columns,
)
from ingest.raw.gate.findings import (
    SAMPLE_SIZE,
    Finding,
    GateReport,
    condition_text,
    jsonable,
    write_report,
)
from ingest.raw.gate.suites import TABLE_PATTERN, TABLE_TYPES, load_suite_json

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

LINEAGE_PREFIX = "_"  # lineage columns (_force_id, _month, _source_file, …) are not the file's own
SAMPLE_VALUES = 20  # distinct unexpected values kept per check and partition


def _partition_keys(partitions: Sequence[dict[str, str]]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    names = tuple(partitions[0])
    if not names:
        raise ValueError("a partition names at least one lineage column")
    for name in names:
        if not name.startswith(LINEAGE_PREFIX) or not TABLE_PATTERN.match(name):
            raise ValueError(f"partition key {name!r} is not a lineage column (like _force_id)")
    values = []
    for partition in partitions:
        if tuple(partition) != names:
            raise ValueError(f"every partition is keyed by {list(names)}; got {list(partition)}")
        row = tuple(partition[k] for k in names)
        for key, value in zip(names, row):
            if not isinstance(value, str) or not value:
                raise ValueError(f"partition value {key}={value!r} must be a non-empty string")
        values.append(row)
    return names, values


def _table_columns(con: "duckdb.DuckDBPyConnection", table: str) -> dict[str, str]:
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'raw' and table_name = ? "
        "order by ordinal_position",
        [table],
    ).fetchall())


def _in_partitions(names: tuple[str, ...], keys: list[tuple[str, ...]]) -> tuple[str, list]:
    """``where`` matching exactly these partitions (partition columns are VARCHAR lineage).

    Each key gets a plain ``in`` list, which DuckDB pushes into the scan (zone maps), so gating a
    month reads that month's row groups only; when the partitions are not every combination of
    those lists, the exact tuples are named too.
    """
    clauses, params = [], []
    combinations = 1
    for i, name in enumerate(names):
        values = sorted({k[i] for k in keys})
        combinations *= len(values)
        clauses.append(f"{col(name)} in ({', '.join('?' * len(values))})")
        params += values
    if len(set(keys)) < combinations:
        aliases = [f"k{i}" for i in range(len(names))]
        struct = ", ".join(f"'{a}': {col(n)}" for a, n in zip(aliases, names))
        wanted = ", ".join(f"'{a}': {a}" for a in aliases)
        rows = ", ".join("(" + ", ".join("?" * len(names)) + ")" for _ in keys)
        clauses.append(f"{{{struct}}} in (select {{{wanted}}} from (values {rows}) as v({', '.join(aliases)}))")
        params += [v for k in keys for v in k]
    return " and ".join(clauses), params


def _map_success(check: Check, element: int, missing: int, unexpected: int) -> tuple[bool, float | None]:
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
    """Validate partitions of ``raw.<table>`` against ``expectations/<suite_name or raw_<table>>.json``.

    One report per partition, in order. One grouped aggregate over all the partitions, one grouped
    query per uniqueness check, and sample queries only for expectations some partition did not meet.
    ``table`` must match a strict pattern and exist in schema ``raw``; partition values are only
    ever bound parameters.
    """
    started = time.perf_counter()
    if not TABLE_PATTERN.match(table or ""):
        raise ValueError(f"{table!r} is not a valid raw table name (expected {TABLE_PATTERN.pattern})")
    if not partitions:
        return []
    names, keys = _partition_keys(partitions)
    columns = _table_columns(con, table)
    if not columns:
        raise ValueError(f"raw.{table} does not exist: load the partition before gating it")
    if not set(names) <= set(columns):
        raise ValueError(f"partition keys {[k for k in names if k not in columns]} are not columns of raw.{table}")
    suite_name = suite_name or f"raw_{table}"
    checks = compile_suite(load_suite_json(suite_name), columns)
    where, params = _in_partitions(names, keys)
    source = f"raw.{table}"
    n = len(names)
    key_sql = ", ".join(col(k) for k in names)

    # Per map expectation and partition: rows checked (element), missing (NULL) and unexpected.
    # Checks on categorical columns (lineage, in-set vocabularies, the Month that must equal the
    # partition month) are evaluated once per distinct value rather than once per row: a grouped
    # pre-aggregation turns 500,000 rows a month into a few thousand value combinations.
    categorical = _categorical_columns(checks, columns)
    _assign_value_tallies(checks, categorical)
    row_checks, grouped_checks, distinct_checks = [], [], []
    for check in checks:
        if check.exception:
            continue
        if check.type == "expect_column_unique_value_count_to_be_between":
            distinct_checks.append(check)
            continue
        if check.type in TABLE_TYPES:
            continue  # (a uniqueness check tallies its rows here; its repeats come from value_tallies)
        used = set(check.columns_used) | set(condition_columns(check.kwargs))
        grouped = used <= categorical and check.type not in UNIQUENESS_TYPES
        (grouped_checks if grouped else row_checks).append(check)
    distinct_sql = "".join(f", count(distinct {col(c.kwargs['column'])})" for c in distinct_checks)
    tallies: dict[tuple, dict[int, list[int]]] = {}
    counts: dict[tuple, tuple[int, Any]] = {}
    distinct: dict[tuple, dict[int, int]] = {}
    for row in con.execute(
        f"select {key_sql}, count(*), {'min(_source_file)' if '_source_file' in columns else 'null'}"
        f"{_tally_sql(row_checks, 'count(*)')}{distinct_sql} from {source} where {where} group by all",
        params,
    ).fetchall():
        key = tuple(row[:n])
        counts[key] = (int(row[n]), row[n + 1])
        tallies[key] = {c.position: list(row[n + 2 + 3 * i: n + 5 + 3 * i]) for i, c in enumerate(row_checks)}
        first_distinct = n + 2 + 3 * len(row_checks)
        distinct[key] = {c.position: int(row[first_distinct + i]) for i, c in enumerate(distinct_checks)}
    if grouped_checks:
        group_columns = sorted({c for check in grouped_checks
                                for c in (*check.columns_used, *condition_columns(check.kwargs))} | set(names))
        value_columns = ", ".join(col(c) for c in group_columns)
        for row in con.execute(
            f"select {key_sql}{_tally_sql(grouped_checks, 'sum(n)')} "
            f"from (select {value_columns}, count(*) as n from {source} where {where} group by all) group by all",
            params,
        ).fetchall():
            tallies.setdefault(tuple(row[:n]), {}).update(
                {c.position: [int(v or 0) for v in row[n + 3 * i: n + 3 + 3 * i]] for i, c in enumerate(grouped_checks)}
            )
    repeated_values: dict[str, list[tuple]] = {}
    for signature, value_checks in _value_tally_groups(checks).items():
        counts_by_value, repeated_values[signature] = _value_tallies(con, source, names, value_checks, where, params)
        for key, unexpected_by_position in counts_by_value.items():
            for position, unexpected in unexpected_by_position.items():
                if key in tallies and position in tallies[key]:
                    tallies[key][position][2] = unexpected

    outcomes: dict[tuple, list[tuple[Check, bool, Finding | None]]] = {}
    for key in keys:
        row_count = counts.get(key, (0, None))[0]
        outcomes[key] = [_judge(check, key, row_count, columns, tallies, distinct) for check in checks]

    _add_samples(con, source, names, where, params, outcomes, columns, repeated_values)

    elapsed = time.perf_counter() - started
    reports = []
    for key in keys:
        row_count, source_file = counts.get(key, (0, None))
        failures, warnings = [], []
        for check, success, finding in outcomes[key]:
            if success:
                continue
            finding = finding or _sql_finding(check)
            (failures if finding["severity"] == "error" else warnings).append(finding)
        report = GateReport(
            table=table,
            partition=dict(zip(names, key)),
            success=not failures,
            row_count=row_count,
            failures=failures,
            warnings=warnings,
            suite_name=suite_name,
            source_file=source_file if isinstance(source_file, str) else None,
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


def _judge(check: Check, key: tuple, row_count: int, columns: dict[str, str], tallies: dict,
           distinct: dict) -> tuple[Check, bool, Finding | None]:
    """One expectation's verdict on one partition, with its finding when it was not met."""
    if check.exception:
        return check, False, _sql_finding(check, exception=check.exception)
    if check.type == "expect_table_row_count_to_be_between":
        low, high = check.kwargs.get("min_value"), check.kwargs.get("max_value")
        success = (low is None or row_count >= low) and (high is None or row_count <= high)
        return check, success, None if success else _sql_finding(check, observed_value=row_count)
    if check.type == "expect_table_columns_to_match_ordered_list":
        observed = list(columns)
        success = observed == list(check.kwargs.get("column_list") or [])
        return check, success, None if success else _sql_finding(check, observed_value=observed)
    if check.type == "expect_column_values_to_be_of_type":
        wanted = PANDAS_TO_DUCKDB_TYPES.get(str(check.kwargs.get("type_")).lower(), {str(check.kwargs.get("type_")).upper()})
        found = columns[check.kwargs["column"]]
        success = found in wanted
        return check, success, None if success else _sql_finding(check, observed_value=found)
    if check.type == "expect_column_unique_value_count_to_be_between":
        observed = distinct.get(key, {}).get(check.position, 0)
        low, high = check.kwargs.get("min_value"), check.kwargs.get("max_value")
        success = (low is None or observed >= low) and (high is None or observed <= high)
        return check, success, None if success else _sql_finding(check, observed_value=observed)
    element, missing, unexpected = tallies.get(key, {}).get(check.position, [0, 0, 0])
    success, percent = _map_success(check, element, missing, unexpected)
    finding = None
    if unexpected:
        finding = _sql_finding(check, element_count=element, unexpected_count=unexpected, unexpected_percent=percent,
                               missing_count=None if check.missing is None else missing)
    return check, success, finding


def _categorical_columns(checks: list[Check], columns: dict[str, str]) -> set[str]:
    """Columns with few distinct values per partition: lineage, in-set vocabularies, and a column
    that must equal a lineage column (Month = the partition month)."""
    categorical = {c for c in columns if c.startswith(LINEAGE_PREFIX)}
    for check in checks:
        if check.type == "expect_column_values_to_be_in_set":
            categorical.add(check.kwargs["column"])
        if check.type == "expect_column_pair_values_to_be_equal":
            a, b = check.kwargs["column_A"], check.kwargs["column_B"]
            if a.startswith(LINEAGE_PREFIX) or b.startswith(LINEAGE_PREFIX):
                categorical |= {a, b}
    return categorical & set(columns)


def _tally_sql(checks: list[Check], count: str) -> str:
    """``, element, missing, unexpected`` per check, as filtered ``count`` aggregates."""
    parts = []
    for check in checks:
        cond = check.condition or "true"
        missing = check.missing or "false"
        unexpected = "false" if check.tallied_by_value or check.key else (check.unexpected or "false")
        parts += [
            f"{count} filter (where {cond})",
            f"{count} filter (where {cond} and {missing})",
            f"{count} filter (where {cond} and not {missing} and {unexpected})",
        ]
    return "".join(", " + p for p in parts)


def _assign_value_tallies(checks: list[Check], categorical: set[str]) -> None:
    """Checks counted per distinct value in the grouped pass a uniqueness check makes anyway.

    A uniqueness check groups its partition's rows by value (crime ids: ~500,000 a month). Another
    check on the same column under the same row condition (the crime-id format) is then evaluated
    once per distinct value in that pass, weighted by its copies, instead of once more per row.
    """
    unique = {c.signature for c in checks if c.type == "expect_column_values_to_be_unique" and not c.exception}
    for check in checks:
        if check.exception or check.type in TABLE_TYPES or check.type in UNIQUENESS_TYPES:
            continue
        if check.unexpected is None or len(check.columns_used) != 1 or check.columns_used[0] in categorical:
            continue
        signature = f"{col(check.columns_used[0])}|{check.condition}"
        if signature in unique and check.missing == f"{col(check.columns_used[0])} is null":
            check.tallied_by_value = signature


def _value_tally_groups(checks: list[Check]) -> dict[str, list[Check]]:
    """Per grouped pass (value and condition): the uniqueness checks and the checks tallied in it."""
    groups: dict[str, list[Check]] = {}
    for check in checks:
        if check.type in UNIQUENESS_TYPES and not check.exception:
            groups.setdefault(check.signature, []).append(check)
    for check in checks:
        if check.tallied_by_value:
            groups[check.tallied_by_value].append(check)
    return groups


def _value_tallies(
    con, source: str, names: tuple[str, ...], checks: list[Check], where: str, params: list
) -> tuple[dict[tuple, dict[int, int]], list[tuple]]:
    """One grouped pass over the values a uniqueness check is asked of (under its row condition).

    Returns, per partition, each check's unexpected rows — for uniqueness every copy of a repeated
    value (as GX counts them), for the others the copies of each value that breaks the check — and
    the repeated values themselves (partition key…, value, copies; most copies first, at most
    ``SAMPLE_VALUES`` per partition) for the findings' samples.
    """
    first = checks[0]
    n = len(names)
    keys = ", ".join(col(k) for k in names)
    tallies = []
    for check in checks:
        if check.type in UNIQUENESS_TYPES:
            tallies.append("sum(copies) filter (where copies > 1)")
        else:  # a check on the same single column, tallied per value: its SQL names the column
            tallies.append(f"sum(copies) filter (where {check.unexpected})")
    # A single column keeps its own name, so the tallied checks' SQL applies to it as written; a
    # compound key is a struct. One grouped pass gives the tallies and the repeated values (most
    # copies first) together: no copy of the values in a temporary table, no second scan of them.
    value = first.key if first.type == "expect_column_values_to_be_unique" else "_gate_value"
    alias = "" if value == first.key else " as _gate_value"
    repeated_list = (f"list_slice(list({{'v': {value}, 'n': copies}} order by copies desc, {value}::varchar) "
                     f"filter (where copies > 1), 1, {SAMPLE_VALUES})")
    counts: dict[tuple, dict[int, int]] = {}
    repeated: list[tuple] = []
    for row in con.execute(
        f"""
        select {keys}, {', '.join(tallies)}, {repeated_list}
        from (
            select {keys}, {first.key}{alias}, count(*) as copies
            from {source}
            where {where} and {first.condition or 'true'} and {first.present}
            group by all
        )
        group by all
        """,
        params,
    ).fetchall():
        key = tuple(row[:n])
        counts[key] = {check.position: int(v or 0) for check, v in zip(checks, row[n:-1])}
        repeated += [(*key, item["v"], item["n"]) for item in row[-1] or []]
    return counts, sorted(repeated, key=lambda r: (r[:n], -r[n + 1]))


def _sql_finding(check: Check, **values: Any) -> Finding:
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
        finding["row_condition"] = condition_text(check.kwargs["row_condition"])
    if finding["exception"]:
        finding["severity"] = "error"
    if check.type == "expect_table_columns_to_match_ordered_list" and values.get("observed_value") is not None:
        finding["details"] = column_differences(check.kwargs.get("column_list") or [], values["observed_value"]) or None
    return finding


def _add_samples(
    con, source: str, names: tuple[str, ...], where: str, params: list, outcomes: dict, columns: dict[str, str],
    repeated_values: dict[str, list[tuple]],
) -> None:
    """Top unexpected values (all findings) and a few rows (failures) for the expectations some partition missed.

    A uniqueness check's top values come from its grouped pass (``repeated_values``), not a new scan.
    """
    n = len(names)
    keys = over = ", ".join(col(k) for k in names)
    missed: dict[int, Check] = {}
    needs_rows: set[int] = set()
    for results in outcomes.values():
        for check, success, finding in results:
            if finding is not None and finding.get("unexpected_count") and not check.exception:
                missed[check.position] = check
                if not success and finding["severity"] == "error":
                    needs_rows.add(check.position)
    source_columns = [c for c in columns if not c.startswith(LINEAGE_PREFIX)]
    seen: dict[str, list] = {}
    for position, check in missed.items():
        cond = check.condition or "true"
        missing = check.missing or "false"
        if check.type in UNIQUENESS_TYPES:
            # the unexpected rows are every copy of a value repeated within its partition
            repeated = (f"select {over}, {check.key} as _gate_value from {source} "
                        f"where {where} and {cond} and {check.present} group by all having count(*) > 1")
            join = " and ".join(f"t.{col(k)} = r.{col(k)}" for k in names)
            # both sides read only the partitions gated (the table holds every month before)
            rows_from = (f"(select *, {check.key} as _gate_value from {source} where {where}) as t "
                         f"semi join ({repeated}) as r on {join} and t._gate_value = r._gate_value")
            rows_where, rows_params = "true", [*params, *params]
        else:
            filter_sql = f"{where} and {cond} and not {missing} and {check.unexpected}"
            values_sql = (
                f"select * from (select {keys}, {check.value} as value, count(*) as n from {source} "
                f"where {filter_sql} group by all) qualify row_number() over (partition by {over} "
                f"order by n desc, value::varchar) <= {SAMPLE_VALUES}"
            )
            rows_from, rows_where, rows_params = source, filter_sql, params
        if check.value is not None:
            if check.type in UNIQUENESS_TYPES:
                values = repeated_values[check.signature]
            else:
                query = f"{values_sql} order by all"
                if query not in seen:  # the warning and error checks of one column share it
                    seen[query] = sorted(con.execute(query, params).fetchall(), key=lambda r: (r[:n], -r[n + 1]))
                values = seen[query]
            for *key, value, count in values:
                for item in outcomes.get(tuple(key), []):
                    if item[0].position == position and item[2] is not None and value is not None \
                            and len(item[2]["sample_values"]) < SAMPLE_SIZE:
                        if isinstance(value, dict):  # a compound key, written as GX writes it: ('a', 'b')
                            value = str(tuple(value.values()))
                        item[2]["sample_values"].append({"value": jsonable(value), "count": int(count)})
        if position in needs_rows:
            checked = [c for c in check.columns_used if c in columns]
            shown = checked + [c for c in source_columns if c not in checked]
            select = ", ".join(col(c) for c in shown)
            key_select = partition_by = over
            rows = con.execute(
                f"""
                select {key_select}, {select}
                from {rows_from} where {rows_where}
                qualify row_number() over (partition by {partition_by}) <= {SAMPLE_SIZE}
                """,
                rows_params,
            ).fetchall()
            for row in rows:
                for item in outcomes.get(tuple(row[:n]), []):
                    if item[0].position == position and item[2] is not None:
                        item[2]["sample_rows"].append(
                            {"_row": None, **{c: jsonable(v) for c, v in zip(shown, row[n:])}}
                        )
