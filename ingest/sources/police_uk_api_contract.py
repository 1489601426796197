"""The data.police.uk API's contract: each endpoint this platform lands, as a raw table.

One declaration per dataset (:class:`ApiDataset`): the endpoint, the request context kept beside
each response, the fields taken from it (nested paths allowed) with their DuckDB types, and its
grain. The raw table's DDL, the ``read_json`` type of a landed response and the gate's suite
(:func:`suite`, written to ``expectations/raw_<table>.json`` and checked by a test) all come from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.warehouse import quote_identifier

NATIONAL = "national"
FORCE = "force"
ALL = "all"  # partition of a dataset that covers every force
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_partition", "VARCHAR"),  # force id, month, or "all"
    ("_source_url", "VARCHAR"),  # the API call the row came from
    ("_source_file", "VARCHAR"),  # landed file name
    ("_file_sha256", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),  # UTC
)
DUCKDB_TYPES = {"VARCHAR", "BIGINT", "DOUBLE", "JSON", "VARCHAR[]"}
JSON_KEY = re.compile(r"^[A-Za-z0-9_-]+$")



@dataclass(frozen=True)
class Field:
    """One raw column taken from a response object."""

    name: str  # raw column
    path: str  # key in the response object; "centre.latitude" for a nested one
    duckdb_type: str = "VARCHAR"


@dataclass(frozen=True)
class ApiDataset:
    name: str  # landing folder and configuration name
    table: str  # raw table (schema raw)
    endpoint: str  # the API call, for people and manifests
    scope: str  # national | force
    keys: tuple[tuple[str, str], ...]  # request context written beside each response: (column, type)
    fields: tuple[Field, ...]
    body_is_list: bool  # a list of objects (one row each) or one object (one row)
    not_null: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()  # the grain within a partition, checked before commit
    min_rows: int = 0  # fewer rows than this is a broken answer, not news

    def raw_columns(self) -> list[tuple[str, str]]:
        return [*self.keys, *((f.name, f.duckdb_type) for f in self.fields), *LINEAGE_COLUMNS]

    def ddl(self) -> str:
        parts = []
        for name, kind in self.raw_columns():
            if kind not in DUCKDB_TYPES | {"TIMESTAMP"}:
                raise ValueError(f"{self.table}.{name}: unexpected type {kind!r}")
            parts.append(f"{quote_identifier(name)} {kind}")
        return f"create table if not exists raw.{quote_identifier(self.table)} ({', '.join(parts)})"

    def body_type(self) -> str:
        """The DuckDB type ``read_json`` reads ``body`` as: a STRUCT of the fields (nested by path)."""
        tree: dict[str, Any] = {}
        for f in self.fields:
            node = tree
            *parents, leaf = f.path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = f.duckdb_type

        def render(node: dict[str, Any]) -> str:
            members = []
            for key, value in node.items():
                if not JSON_KEY.match(key):
                    raise ValueError(f"{self.name}: unexpected JSON key {key!r}")
                members.append(f'"{key}" {render(value) if isinstance(value, dict) else value}')
            return f"STRUCT({', '.join(members)})"

        return render(tree) + ("[]" if self.body_is_list else "")

    def field_sql(self, f: Field) -> str:
        return "b." + ".".join(f'"{part}"' for part in f.path.split("."))


_V = "VARCHAR"
STREET_DATES = ApiDataset(
    name="street_dates", table="police_uk_api_street_dates", endpoint="/crimes-street-dates", scope=NATIONAL,
    keys=(), body_is_list=True, min_rows=1, not_null=("month",), unique=("month",),
    fields=(Field("month", "date"), Field("stop_and_search_force_ids", "stop-and-search", "VARCHAR[]")),
)
LAST_UPDATED = ApiDataset(
    name="last_updated", table="police_uk_api_last_updated", endpoint="/crime-last-updated", scope=NATIONAL,
    keys=(), body_is_list=False, min_rows=1, not_null=("last_updated_date",),
    fields=(Field("last_updated_date", "date"),),
)
CRIME_CATEGORIES = ApiDataset(
    name="crime_categories", table="police_uk_api_crime_categories", endpoint="/crime-categories?date={month}",
    scope=NATIONAL, keys=(("month", _V),), body_is_list=True, min_rows=1,
    not_null=("month", "category_url"), unique=("month", "category_url"),
    fields=(Field("category_url", "url"), Field("category_name", "name")),
)
FORCES = ApiDataset(
    name="forces", table="police_uk_api_forces", endpoint="/forces/{force}", scope=NATIONAL,
    keys=(), body_is_list=False, min_rows=1, not_null=("force_id",), unique=("force_id",),
    fields=(
        Field("force_id", "id"), Field("force_name", "name"), Field("description", "description"),
        Field("url", "url"), Field("telephone", "telephone"), Field("engagement_methods", "engagement_methods", "JSON"),
    ),
)
SENIOR_OFFICERS = ApiDataset(
    name="senior_officers", table="police_uk_api_senior_officers", endpoint="/forces/{force}/people", scope=FORCE,
    keys=(("force_id", _V),), body_is_list=True, not_null=("force_id", "name"),
    fields=(Field("name", "name"), Field("rank", "rank"), Field("bio", "bio"),
            Field("contact_details", "contact_details", "JSON")),
)
NEIGHBOURHOODS = ApiDataset(
    name="neighbourhoods", table="police_uk_api_neighbourhoods", endpoint="/{force}/{neighbourhood}", scope=FORCE,
    keys=(("force_id", _V),), body_is_list=False, min_rows=1,
    not_null=("force_id", "neighbourhood_id"), unique=("force_id", "neighbourhood_id"),
    fields=(
        Field("neighbourhood_id", "id"), Field("neighbourhood_name", "name"), Field("description", "description"),
        Field("population", "population"), Field("url_force", "url_force"),
        Field("centre_latitude", "centre.latitude"), Field("centre_longitude", "centre.longitude"),
        Field("contact_details", "contact_details", "JSON"), Field("links", "links", "JSON"),
        Field("locations", "locations", "JSON"),
    ),
)
NEIGHBOURHOOD_PRIORITIES = ApiDataset(
    name="neighbourhood_priorities", table="police_uk_api_neighbourhood_priorities",
    endpoint="/{force}/{neighbourhood}/priorities", scope=FORCE,
    keys=(("force_id", _V), ("neighbourhood_id", _V)), body_is_list=True, not_null=("force_id", "neighbourhood_id"),
    fields=(Field("issue", "issue"), Field("issue_date", "issue-date"), Field("action", "action"),
            Field("action_date", "action-date")),
)
DATASETS: tuple[ApiDataset, ...] = (
    STREET_DATES, LAST_UPDATED, CRIME_CATEGORIES, FORCES, SENIOR_OFFICERS, NEIGHBOURHOODS, NEIGHBOURHOOD_PRIORITIES,
)
BY_NAME = {d.name: d for d in DATASETS}


def suite(dataset: ApiDataset) -> dict:
    """The GX suite the dataset's declaration implies (``expectations/raw_<table>.json``, kept in step by a test).

    The API answers JSON, so there is no file header to check: the suite holds what a broken
    answer would break — the columns, a minimum row count, the keys present and unique.
    """
    def expectation(kind: str, why: str, **kwargs: Any) -> dict:
        return {"type": kind, "kwargs": kwargs, "meta": {"severity": "error", "why": why}}

    items = [expectation("expect_table_columns_to_match_ordered_list",
                         "The raw table is the loader's declaration in ingest/sources/police_uk_api.py.",
                         column_list=[name for name, _ in dataset.raw_columns()])]
    if dataset.min_rows:
        items.append(expectation("expect_table_row_count_to_be_between",
                                 f"{dataset.endpoint} always answers at least {dataset.min_rows} row(s): fewer is a "
                                 "broken answer, not news.", min_value=dataset.min_rows))
    for column in dataset.not_null:
        items.append(expectation("expect_column_values_to_not_be_null",
                                 f"{column} identifies the row; the API always sends it.", column=column))
    if len(dataset.unique) == 1:
        items.append(expectation("expect_column_values_to_be_unique",
                                 f"One row per {dataset.unique[0]} in a partition.", column=dataset.unique[0]))
    elif dataset.unique:
        items.append(expectation("expect_compound_columns_to_be_unique",
                                 f"One row per ({', '.join(dataset.unique)}) in a partition.",
                                 column_list=list(dataset.unique)))
    return {"name": f"raw_{dataset.table}", "expectations": items,
            "meta": {"table": f"raw.{dataset.table}", "partition_key": ["_partition"],
                     "contract": "ingest/sources/police_uk_api.py (generated by police_uk_api.suite)"}}
