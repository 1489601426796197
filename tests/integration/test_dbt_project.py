"""The dbt project builds on a tiny raw warehouse and gives numbers a person can check by hand.

The fixture writes the raw tables exactly as the loader does (DDL from the contract module:
source columns with their DuckDB types, then the lineage columns), fills them with a handful of
hand-written rows for Lancashire and West Midlands over January and February 2024 (plus one
British Transport Police row), then runs ``dbt build`` once for the module. ``dbt build`` runs
seeds, models and data tests in DAG order (dbt's unit tests run in test_dbt_unit_tests.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.sources import ensure_all_raw_tables
from ingest.sources.police_uk_contract import DATASETS, LINEAGE_COLUMNS, OUTCOMES, STOP_AND_SEARCH, STREET
from ingest.transform import POLICE_UK_SELECTION
from tests.helpers import dbt_ok
from tests.helpers import query as _query

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
LOADED_AT = datetime(2024, 4, 2, 6, 0, 0)
ARCHIVE_SHA256 = "0" * 64

# Crime ids as the publisher writes them: 64 hex characters.
BURGLARY_CHARGED_LATER = "a1" * 32  # January; charged in a February outcomes file
BURGLARY_NO_SUSPECT = "a2" * 32
BURGLARY_UNDER_INVESTIGATION = "a3" * 32
VIOLENCE_NO_LOCATION = "a5" * 32
SHOPLIFTING_AWAITING_COURT = "a7" * 32
SHOPLIFTING_UNABLE = "a8" * 32
ROBBERY_WM = "b1" * 32
VEHICLE_WM = "b2" * 32
CRIME_BEFORE_WINDOW = "ff" * 32  # an outcome for a crime whose street file is not loaded

PRESTON = ("E01025000", "Preston 001A")
PRESTON_B = ("E01025001", "Preston 001B")
BIRMINGHAM = ("E01009001", "Birmingham 001A")

LANCS = "Lancashire Constabulary"
WM = "West Midlands Police"
BTP = "British Transport Police"


def _street(crime_id, month, force_name, lon, lat, location, lsoa, crime_type, last_outcome):
    lsoa_code, lsoa_name = lsoa if lsoa else (None, None)
    return (crime_id, month, force_name, force_name, lon, lat, location, lsoa_code, lsoa_name,
            crime_type, last_outcome, None)


def _outcome(crime_id, month, force_name, lsoa, outcome_type):
    lsoa_code, lsoa_name = lsoa
    return (crime_id, month, force_name, force_name, -2.7, 53.76, "On or near High Street",
            lsoa_code, lsoa_name, outcome_type)


# (force_id, month) -> rows, in the contract's column order
STREET_ROWS = {
    ("lancashire", "2024-01"): [
        _street(BURGLARY_CHARGED_LATER, "2024-01", LANCS, -2.7, 53.76, "On or near High Street", PRESTON,
                "Burglary", "Under investigation"),
        _street(BURGLARY_NO_SUSPECT, "2024-01", LANCS, -2.7, 53.76, "On or near High Street", PRESTON,
                "Burglary", "Investigation complete; no suspect identified"),
        _street(BURGLARY_UNDER_INVESTIGATION, "2024-01", LANCS, -2.7, 53.76, "On or near Park Road", PRESTON,
                "Burglary", "Under investigation"),
        _street(None, "2024-01", LANCS, -2.7, 53.76, "On or near Park Road", PRESTON,
                "Anti-social behaviour", None),
        _street(VIOLENCE_NO_LOCATION, "2024-01", LANCS, None, None, "No Location", None,
                "Violence and sexual offences", "Offender given a caution"),
    ],
    ("lancashire", "2024-02"): [
        _street(SHOPLIFTING_AWAITING_COURT, "2024-02", LANCS, -2.69, 53.75, "On or near Supermarket",
                PRESTON_B, "Shoplifting", "Awaiting court outcome"),
        _street(SHOPLIFTING_UNABLE, "2024-02", LANCS, -2.69, 53.75, "On or near Supermarket",
                PRESTON_B, "Shoplifting", "Unable to prosecute suspect"),
    ],
    ("west-midlands", "2024-01"): [
        _street(ROBBERY_WM, "2024-01", WM, -1.89, 52.48, "On or near New Street", BIRMINGHAM,
                "Robbery", "Status update unavailable"),
    ],
    ("west-midlands", "2024-02"): [
        _street(VEHICLE_WM, "2024-02", WM, -1.89, 52.48, "On or near New Street", BIRMINGHAM,
                "Vehicle crime", "Under investigation"),
        _street(None, "2024-02", WM, -1.89, 52.48, "On or near New Street", BIRMINGHAM,
                "Anti-social behaviour", None),
    ],
    # British Transport Police: no crime id and no outcome, on a non-ASB crime.
    ("btp", "2024-01"): [
        _street(None, "2024-01", BTP, -2.70, 53.757, "On or near Preston (Station)", PRESTON,
                "Theft from the person", None),
    ],
}

OUTCOME_ROWS = {
    ("lancashire", "2024-01"): [
        _outcome(BURGLARY_CHARGED_LATER, "2024-01", LANCS, PRESTON, "Under investigation"),
        _outcome(BURGLARY_NO_SUSPECT, "2024-01", LANCS, PRESTON, "Investigation complete; no suspect identified"),
    ],
    ("lancashire", "2024-02"): [
        # Charged a month later: counts in the January cohort.
        _outcome(BURGLARY_CHARGED_LATER, "2024-02", LANCS, PRESTON, "Suspect charged"),
        # A 2013-style label still maps to its group.
        _outcome(SHOPLIFTING_UNABLE, "2024-02", LANCS, PRESTON_B, "No further action at this time"),
        _outcome(CRIME_BEFORE_WINDOW, "2024-02", LANCS, PRESTON, "Offender fined"),
    ],
}

WHITE_BRITISH = "White - English/Welsh/Scottish/Northern Irish/British"
BLACK_CARIBBEAN = "Black/African/Caribbean/Black British - Caribbean"
MDA = "Misuse of Drugs Act 1971 (section 23)"
PACE = "Police and Criminal Evidence Act 1984 (section 1)"


def _search(type_, date, self_defined, officer_defined, legislation, outcome, linked):
    return (type_, date, False, None, 53.76, -2.7, "Male", "18-24", self_defined, officer_defined,
            legislation, "Controlled drugs", outcome, linked, False)


STOP_SEARCH_ROWS = {
    ("lancashire", "2024-01"): [
        _search("Person search", "2024-01-05T10:00:00+00:00", WHITE_BRITISH, "White", MDA, "Arrest", True),
        _search("Person search", "2024-01-06T11:00:00+00:00", WHITE_BRITISH, "White", MDA, "Arrest", False),
        _search("Person and Vehicle search", "2024-01-07T12:00:00+00:00", BLACK_CARIBBEAN, "Black", MDA,
                "A no further action disposal", False),
        _search("Vehicle search", "2024-01-08T13:00:00+00:00", None, None, PACE, "Arrest", None),
    ],
    ("west-midlands", "2024-02"): [
        _search("Person search", "2024-02-01T09:58:14+00:00", "Other ethnic group - Not stated", "Asian", MDA,
                "A no further action disposal", None),
    ],
}


def _create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for dataset in DATASETS:
        columns = [f'"{c.name}" {c.duckdb_type}' for c in dataset.columns]
        columns += [f'"{name}" {duckdb_type}' for name, duckdb_type in LINEAGE_COLUMNS]
        con.execute(f"create table raw.{dataset.table} ({', '.join(columns)})")
    con.execute(
        """
        create table raw.load_rejects (
            dataset VARCHAR, force_id VARCHAR, month VARCHAR, source_file VARCHAR, line BIGINT,
            column_name VARCHAR, error_type VARCHAR, error_message VARCHAR, csv_line VARCHAR,
            _loaded_at TIMESTAMP
        )
        """
    )


def _insert(con: duckdb.DuckDBPyConnection, dataset, rows_by_partition) -> None:
    width = len(dataset.columns) + len(LINEAGE_COLUMNS)
    placeholders = ", ".join(["?"] * width)
    for (force_id, month), rows in rows_by_partition.items():
        lineage = (force_id, month, dataset.member_name(month, force_id), ARCHIVE_SHA256, LOADED_AT)
        con.executemany(
            f"insert into raw.{dataset.table} values ({placeholders})",
            [tuple(row) + lineage for row in rows],
        )


def build_raw_warehouse(path: Path) -> None:
    """Write the raw tables the loader would, with the hand-written rows above."""
    with duckdb.connect(str(path)) as con:
        _create_raw_tables(con)
        _insert(con, STREET, STREET_ROWS)
        _insert(con, OUTCOMES, OUTCOME_ROWS)
        _insert(con, STOP_AND_SEARCH, STOP_SEARCH_ROWS)
        ensure_all_raw_tables(con)  # the other sources' tables, empty (crimes join the ONS lookups)


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp_path = tmp_path_factory.mktemp("dbt")
    warehouse = tmp_path / "warehouse.duckdb"
    build_raw_warehouse(warehouse)

    # the police.uk evidence only: other sources' raw tables are here but empty
    dbt_ok(["build", "--fail-fast", "--select", *POLICE_UK_SELECTION, "--indirect-selection", "cautious"],
           warehouse, tmp_path)
    yield warehouse


def test_crime_monthly_counts_published_records(built_warehouse: Path) -> None:
    rows = _query(
        built_warehouse,
        """
        select force_id, month_start::varchar, lsoa_code, crime_type, crime_count,
               is_neighbourhood_crime, is_anti_social_behaviour
        from evidence.fct_crime_monthly
        order by all
        """,
    )
    assert ("lancashire", "2024-01-01", "E01025000", "Burglary", 3, True, False) in rows
    assert ("lancashire", "2024-01-01", "E01025000", "Anti-social behaviour", 1, False, True) in rows
    # The No Location crime is kept, under the literal LSOA code.
    assert ("lancashire", "2024-01-01", "no-lsoa", "Violence and sexual offences", 1, False, False) in rows
    # British Transport Police crimes (no crime id) are counted.
    assert ("btp", "2024-01-01", "E01025000", "Theft from the person", 1, True, False) in rows
    # Every published street row is counted once.
    assert sum(r[4] for r in rows) == sum(len(v) for v in STREET_ROWS.values())


def test_outcomes_cohort_charge_rate(built_warehouse: Path) -> None:
    rows = _query(
        built_warehouse,
        """
        select crime_count, charge_summons_count, charge_summons_rate, no_further_action_count,
               pending_count, outcome_event_count, crimes_with_outcome_event_count
        from evidence.fct_outcomes
        where force_id = 'lancashire' and month_start = date '2024-01-01' and crime_type = 'Burglary'
        """,
    )
    # Three January burglaries: one charged in February (counted in January), one with no
    # suspect, one still under investigation.
    assert rows == [(3, 1, pytest.approx(1 / 3), 1, 1, 3, 2)]


def test_outcomes_use_latest_outcome_and_leave_out_asb_and_btp(built_warehouse: Path) -> None:
    rows = _query(
        built_warehouse,
        """
        select force_id, month_start::varchar, crime_type, crime_count, charge_summons_count,
               out_of_court_count, no_further_action_count, other_outcome_count
        from evidence.fct_outcomes
        order by all
        """,
    )
    assert ("lancashire", "2024-01-01", "Violence and sexual offences", 1, 0, 1, 0, 0) in rows
    # Awaiting court outcome counts as charged; the 2013 label counts as no further action.
    assert ("lancashire", "2024-02-01", "Shoplifting", 2, 1, 0, 1, 0) in rows
    assert ("west-midlands", "2024-01-01", "Robbery", 1, 0, 0, 0, 1) in rows
    assert all(r[0] != "btp" for r in rows)
    assert all(r[2] != "Anti-social behaviour" for r in rows)
    # The event for a crime outside the loaded months is not counted anywhere.
    total_events = _query(built_warehouse, "select sum(outcome_event_count) from evidence.fct_outcomes")
    assert total_events == [(4,)]


def test_stop_search_monthly_counts(built_warehouse: Path) -> None:
    rows = _query(
        built_warehouse,
        """
        select force_id, month_start::varchar, ethnic_group, legislation, outcome,
               search_count, person_search_count, arrest_count, find_count, find_recorded_count
        from evidence.fct_stop_search_monthly
        order by all
        """,
    )
    assert rows == [
        ("lancashire", "2024-01-01", "Black", MDA, "A no further action disposal", 1, 1, 0, 0, 1),
        ("lancashire", "2024-01-01", "Not stated", PACE, "Arrest", 1, 0, 1, 0, 0),
        ("lancashire", "2024-01-01", "White", MDA, "Arrest", 2, 2, 2, 1, 2),
        ("west-midlands", "2024-02-01", "Not stated", MDA, "A no further action disposal", 1, 1, 0, 0, 0),
    ]


def test_dim_force_coverage(built_warehouse: Path) -> None:
    rows = _query(
        built_warehouse,
        """
        select force_id, force_name, first_month_start::varchar, last_month_start::varchar,
               has_outcomes, has_stop_search
        from evidence.dim_force
        where force_id in ('lancashire', 'west-midlands', 'btp', 'kent')
        order by force_id
        """,
    )
    assert rows == [
        ("btp", "British Transport Police", "2024-01-01", "2024-01-01", False, False),
        ("kent", "Kent Police", None, None, False, False),
        ("lancashire", "Lancashire Constabulary", "2024-01-01", "2024-02-01", True, True),
        ("west-midlands", "West Midlands Police", "2024-01-01", "2024-02-01", False, True),
    ]
    assert _query(built_warehouse, "select count(*) from evidence.dim_force") == [(45,)]


def test_marts_carry_their_documentation_as_comments(built_warehouse: Path) -> None:
    tables = _query(
        built_warehouse,
        "select table_name, comment from duckdb_tables() where schema_name = 'evidence' order by 1",
    )
    assert [t[0] for t in tables] == [
        "dim_crime_type", "dim_force", "fct_crime_monthly", "fct_outcomes", "fct_stop_search_monthly",
    ]
    assert all(comment and "One row per" in comment for _, comment in tables)
    column_comment = _query(
        built_warehouse,
        """
        select comment from duckdb_columns()
        where schema_name = 'evidence' and table_name = 'fct_outcomes' and column_name = 'charge_summons_rate'
        """,
    )
    assert column_comment[0][0].startswith("charge_summons_count / crime_count")


def test_schemas_are_used_as_named(built_warehouse: Path) -> None:
    schemas = {
        r[0]
        for r in _query(
            built_warehouse,
            "select distinct schema_name from duckdb_tables() union select distinct schema_name from duckdb_views()"
            " where not internal",
        )
    }
    assert {"raw", "reference", "staging", "intermediate", "evidence"} <= schemas
