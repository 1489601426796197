"""The not_null_columns data test (dbt_project/macros/not_null_columns.sql): its SQL, run in DuckDB
on a small table, returns a row per column that holds NULLs, with how many, and nothing otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import jinja2

MACRO = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "not_null_columns.sql"


def rendered_sql(model: str, columns: list[str]) -> str:
    body = re.search(r"{% test not_null_columns\(model, columns\) %}(.*){% endtest %}", MACRO.read_text(), re.S)
    return jinja2.Template(body.group(1)).render(model=model, columns=columns)


def failures(rows: list[tuple], columns: list[str]) -> list[tuple]:
    con = duckdb.connect()
    con.execute("create table crimes (force_id varchar, month_start date, crime_type varchar)")
    if rows:
        con.executemany("insert into crimes values (?, ?, ?)", rows)
    return sorted(con.execute(rendered_sql("crimes", columns)).fetchall())


def test_a_column_with_nulls_is_named_with_its_count():
    rows = [("lancashire", "2024-01-01", "Burglary"), (None, "2024-01-01", None), (None, "2024-02-01", "Robbery")]
    assert failures(rows, ["force_id", "month_start", "crime_type"]) == [("crime_type", 1), ("force_id", 2)]


def test_columns_without_nulls_pass_and_unlisted_columns_are_not_checked():
    rows = [("lancashire", "2024-01-01", None), ("west-midlands", "2024-02-01", "Robbery")]
    assert failures(rows, ["force_id", "month_start"]) == []
    assert failures([], ["force_id", "month_start", "crime_type"]) == []
