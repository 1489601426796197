"""Each expectation of a suite compiled to SQL pieces over one row of a raw partition.

The compiled SQL reproduces GX 1.x's pandas semantics for the expectation types the suites
use: NULLs are "missing" and not checked, except by not_null; ``mostly`` is over non-missing
values; a row_condition ``!=`` keeps rows whose column is NULL, as pandas does; uniqueness
counts every copy of a repeated value. tests/unit/test_gates.py runs hand-made partitions
through this engine and through GX itself and requires identical findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ingest.raw.gate.suites import TABLE_PATTERN, TABLE_TYPES, UnsupportedExpectation

# GX pandas dtype names -> DuckDB column types, for expect_column_values_to_be_of_type.
PANDAS_TO_DUCKDB_TYPES = {
    "float64": {"DOUBLE"}, "float32": {"FLOAT"}, "int64": {"BIGINT"}, "int32": {"INTEGER"},
    "bool": {"BOOLEAN"}, "boolean": {"BOOLEAN"}, "str": {"VARCHAR"}, "string": {"VARCHAR"}, "object": {"VARCHAR"},
}
UNIQUENESS_TYPES = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"})


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def col(name: str) -> str:
    if not TABLE_PATTERN.match(name or ""):
        raise ValueError(f"{name!r} is not a plain column name")
    return f'"{name}"'


def condition_sql(condition: Any) -> str | None:
    """GX 1.x row_condition (``{"type": "comparison", "column": {...}, "operator", "parameter"}``) as SQL,
    with pandas' NULL behaviour: ``!=`` keeps NULLs, ``==`` and orderings drop them."""
    if condition is None:
        return None
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        column = condition["column"]["name"] if isinstance(condition["column"], dict) else condition["column"]
        operator, value = condition["operator"], literal(condition.get("parameter"))
        if operator in ("!=", "<>"):
            return f"({col(column)} is null or {col(column)} <> {value})"
        if operator in ("==", "="):
            return f"({col(column)} = {value})"
        if operator in ("<", "<=", ">", ">="):
            return f"({col(column)} {operator} {value})"
    raise UnsupportedExpectation(f"row_condition {condition!r} is not supported by the in-database gate")


def condition_columns(kwargs: dict) -> list[str]:
    condition = kwargs.get("row_condition")
    if not isinstance(condition, dict):
        return []
    column = condition.get("column")
    return [column["name"] if isinstance(column, dict) else column]


@dataclass
class Check:
    """One expectation compiled to SQL pieces over a row of the partition."""

    position: int
    type: str
    kwargs: dict
    meta: dict
    column: str | None  # as findings name it ("crime_id", "month, _month", "a, b")
    columns_used: list[str]
    condition: str | None = None  # row_condition, SQL
    missing: str | None = None  # rows not checked (NULL), SQL; None = every row is checked
    unexpected: str | None = None  # rows that break the expectation, SQL (map expectations)
    value: str | None = None  # what to show as the unexpected value
    # uniqueness: the value grouped on (a column, or a struct of columns) and the rows it is asked of
    key: str | None = None
    present: str | None = None
    # unexpected rows counted once per distinct value, in the grouped pass of a uniqueness check on
    # the same column and condition (see engine.value_tallies): the signature of that pass
    tallied_by_value: str | None = None
    exception: str | None = None  # cannot be evaluated on this table
    extra: dict = field(default_factory=dict)

    @property
    def signature(self) -> str:
        """The grouped pass a uniqueness check makes: its value and row condition."""
        return f"{self.key}|{self.condition}"


def compile_suite(suite: dict, table_columns: dict[str, str]) -> list[Check]:
    checks = []
    for position, expectation in enumerate(suite.get("expectations", [])):
        kind, kwargs = expectation["type"], dict(expectation.get("kwargs") or {})
        meta = dict(expectation.get("meta") or {})
        if "column" in kwargs:
            column, used = kwargs["column"], [kwargs["column"]]
        elif "column_A" in kwargs:
            column, used = f"{kwargs['column_A']}, {kwargs['column_B']}", [kwargs["column_A"], kwargs["column_B"]]
        elif kind == "expect_compound_columns_to_be_unique":
            column, used = ", ".join(kwargs["column_list"]), list(kwargs["column_list"])
        else:
            column, used = None, []
        check = Check(position, kind, kwargs, meta, column, used)
        checks.append(check)
        absent = [c for c in used + condition_columns(kwargs) if c not in table_columns]
        if absent:
            check.exception = f"column {absent[0]!r} does not exist in the table (columns: {list(table_columns)})"
            continue
        check.condition = condition_sql(kwargs.get("row_condition"))
        if kind in TABLE_TYPES:
            continue
        if kind == "expect_column_pair_values_to_be_equal":
            a, b = col(kwargs["column_A"]), col(kwargs["column_B"])
            if kwargs.get("ignore_row_if", "both_values_are_missing") != "both_values_are_missing":
                raise UnsupportedExpectation(f"{kind}: ignore_row_if={kwargs['ignore_row_if']!r} is not supported")
            check.missing = f"({a} is null and {b} is null)"
            check.unexpected = f"not coalesce({a} = {b}, false)"
            check.value = f"[{a}::varchar, {b}::varchar]"
            continue
        if kind == "expect_compound_columns_to_be_unique":
            names = [col(c) for c in kwargs["column_list"]]
            ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
            if ignore == "all_values_are_missing":
                check.missing = "(" + " and ".join(f"{n} is null" for n in names) + ")"
            elif ignore == "any_value_is_missing":
                check.missing = "(" + " or ".join(f"{n} is null" for n in names) + ")"
            elif ignore != "never":
                raise UnsupportedExpectation(f"{kind}: ignore_row_if={ignore!r} is not supported")
            check.key = "{" + ", ".join(f"'{c}': {n}" for c, n in zip(kwargs["column_list"], names)) + "}"
            check.present = f"not {check.missing}" if check.missing else "true"
            check.value = check.key
            continue  # evaluated by its own grouped pass over the values (engine.value_tallies)
        name = col(kwargs["column"])
        check.value = name
        if kind == "expect_column_values_to_not_be_null":
            check.unexpected = f"{name} is null"
            check.value = None
        elif kind == "expect_column_values_to_match_regex":
            check.missing = f"{name} is null"
            check.unexpected = f"not regexp_matches({name}::varchar, {literal(kwargs['regex'])})"
        elif kind == "expect_column_values_to_not_match_regex":
            check.missing = f"{name} is null"
            check.unexpected = f"regexp_matches({name}::varchar, {literal(kwargs['regex'])})"
        elif kind == "expect_column_values_to_be_in_set":
            check.missing = f"{name} is null"
            values = ", ".join(literal(v) for v in kwargs["value_set"])
            check.unexpected = f"not ({name} in ({values}))"
        elif kind == "expect_column_values_to_be_between":
            check.missing = f"{name} is null"
            column_type = table_columns[kwargs["column"]]
            bounds = []
            for key, strict, operator in (("min_value", "strict_min", ">"), ("max_value", "strict_max", "<")):
                if kwargs.get(key) is None:
                    continue
                bound = literal(kwargs[key])
                if isinstance(kwargs[key], str):
                    bound = f"cast({bound} as {column_type})"
                bounds.append(f"{name} {operator if kwargs.get(strict) else operator + '='} {bound}")
            check.unexpected = f"not ({' and '.join(bounds) or 'true'})"
        elif kind == "expect_column_values_to_be_unique":
            check.missing = f"{name} is null"
            check.key, check.present = name, f"{name} is not null"
            # evaluated by its own grouped pass over the values (engine.value_tallies)
    return checks
