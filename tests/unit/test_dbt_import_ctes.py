"""Import CTEs over the police.uk history are not copied: one read more than once is ``not materialized``.

DuckDB materializes a CTE that a query reads more than once: ``crime_cohort as (select * from
int_outcomes__crime_cohort)`` read twice copied every crime of history, every column, into a temporary
result before any filter applied (7 s of a new month's build at ten years of history, 0.14 s without).
Marked ``as not materialized``, each reader scans the table with its own filters and columns pushed down.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MODELS = PROJECT / "models"

# Relations that hold a row per police.uk record or crime of all history (they grow every month):
# the raw tables (`source('police_uk', ...)`) and the models over them.
HISTORY_SIZED = re.compile(r"^(stg_police_uk__|int_crime__|int_outcomes__|police_uk\.)")

IMPORT_CTE = re.compile(
    r"^(\w+) as (not materialized )?\(\s*select \* from "
    r"\{\{ (?:ref\('(\w+)'\)|source\('(\w+)', '(\w+)'\)) \}\}", re.MULTILINE)


def history_ctes_read_twice(sql: str) -> list[str]:
    """The import CTEs of ``sql`` over a history-sized relation that are read more than once and may be
    materialized."""
    sql = re.sub(r"--[^\n]*", "", sql)
    found = []
    for name, not_materialized, model, source, table in IMPORT_CTE.findall(sql):
        ref = model or f"{source}.{table}"
        reads = len(re.findall(rf"\b(?:from|join)\s+{name}\b", sql))
        if HISTORY_SIZED.match(ref) and reads > 1 and not not_materialized:
            found.append(f"{name} (select * from {ref}), read {reads} times")
    return found


def test_the_check_finds_a_history_cte_read_twice() -> None:
    sql = """
with

crime_cohort as (

    select * from {{ ref('int_outcomes__crime_cohort') }}

),

months as (select distinct cohort_month_start from crime_cohort)

select * from crime_cohort where cohort_month_start in (select * from months)
"""
    assert history_ctes_read_twice(sql) == [
        "crime_cohort (select * from int_outcomes__crime_cohort), read 2 times"]
    assert history_ctes_read_twice(sql.replace("crime_cohort as (", "crime_cohort as not materialized (")) == []
    # a small reference table read twice is left to DuckDB
    assert history_ctes_read_twice(sql.replace("int_outcomes__crime_cohort", "crime_types")) == []


def test_the_check_finds_a_raw_table_read_twice() -> None:
    sql = """
with

street as (

    select * from {{ source('police_uk', 'street') }}

)

select * from street where _month in (select _month from street where _loaded_at > now())
"""
    assert history_ctes_read_twice(sql) == ["street (select * from police_uk.street), read 2 times"]
    assert history_ctes_read_twice(sql.replace("street as (", "street as not materialized (")) == []


def test_no_model_or_test_materializes_the_police_uk_history_in_a_cte() -> None:
    files = sorted(MODELS.rglob("*.sql")) + sorted((PROJECT / "tests").rglob("*.sql"))
    assert len(files) > 100
    offenders = {str(path.relative_to(PROJECT)): found for path in files
                 if (found := history_ctes_read_twice(path.read_text(encoding="utf-8")))}
    assert offenders == {}
