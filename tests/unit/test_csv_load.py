"""Typed CSV loads: contract headers, rejects with reasons, CRLF, idempotent partition replace."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.csv_load import LoadError, TypedColumn, replace_partition
from ingest.sources.police_uk import OLDER_FORMATS, ensure_raw_tables
from ingest.sources.police_uk_contract import LEGACY_2011_STREET_HEADER, STREET
from ingest.warehouse import SHARED_RAW_DDL
from tests.conftest import STREET_HEADER, street_row

COLUMNS = [TypedColumn(c.header, c.name, c.duckdb_type) for c in STREET.columns]
ID = "a" * 63


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute(SHARED_RAW_DDL)
    ensure_raw_tables(connection)
    yield connection
    connection.close()


def load(con, path: Path, force: str = "lancashire", month: str = "2024-03"):
    return replace_partition(
        con,
        table=STREET.table,
        columns=COLUMNS,
        csv_path=path,
        partition={"_force_id": force, "_month": month},
        lineage={"_force_id": force, "_month": month, "_source_file": path.name, "_archive_sha256": "sha",
                 "_loaded_at": datetime(2024, 5, 1)},
        rejects_key={"dataset": STREET.table, "force_id": force, "month": month, "source_file": path.name},
        other_formats=OLDER_FORMATS,
    )


def rows(con) -> int:
    return con.execute("select count(*) from raw.police_uk_street").fetchall()[0][0]


def test_clean_file_loads_typed_with_lineage(tmp_path, con):
    path = tmp_path / "street.csv"
    path.write_text("\n".join([STREET_HEADER, street_row(ID + "1", "2024-03"), street_row("", "2024-03", "Anti-social behaviour", "")]) + "\n")
    result = load(con, path)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    crime_id, longitude, force, outcome = con.execute(
        "select crime_id, longitude, _force_id, last_outcome_category from raw.police_uk_street order by crime_id nulls last"
    ).fetchall()[1]
    assert crime_id is None and outcome is None  # empty fields are NULL, not ''
    assert force == "lancashire"
    assert con.execute("select typeof(longitude) from raw.police_uk_street limit 1").fetchall()[0][0] == "DOUBLE"


def test_crlf_and_quoted_commas_are_read(tmp_path, con):
    path = tmp_path / "street.csv"
    quoted = street_row(ID + "2", "2024-03", location='"On or near Tesco, Deepdale"')
    path.write_bytes(("\r\n".join([STREET_HEADER, street_row(ID + "1", "2024-03"), quoted]) + "\r\n").encode())
    assert load(con, path).rows_loaded == 2
    assert con.execute("select location from raw.police_uk_street where crime_id like '%2'").fetchall()[0][0] == "On or near Tesco, Deepdale"


def test_malformed_rows_go_to_rejects_with_reason_and_the_rest_load(tmp_path, con):
    path = tmp_path / "street.csv"
    path.write_text("\n".join([
        STREET_HEADER,
        street_row(ID + "1", "2024-03"),
        street_row(ID + "2", "2024-03", lon="not-a-number"),
        street_row(ID + "3", "2024-03") + ",extra",
        "only,three,fields",
    ]) + "\n")
    result = load(con, path)
    assert (result.rows_loaded, result.rows_rejected) == (1, 3)
    reasons = {r[0] for r in con.execute("select error_type from raw.load_rejects").fetchall()}
    assert {"CAST", "TOO MANY COLUMNS", "MISSING COLUMNS"} <= reasons
    assert con.execute("select min(line) from raw.load_rejects").fetchall()[0][0] == 3  # line numbers a person can find


def test_reload_replaces_the_partition_and_leaves_others(tmp_path, con):
    path = tmp_path / "street.csv"
    path.write_text("\n".join([STREET_HEADER] + [street_row(f"{ID}{i}", "2024-03") for i in range(5)]) + "\n")
    load(con, path)
    load(con, path, month="2024-04")
    load(con, path)
    assert rows(con) == 10
    assert con.execute("select count(*) from raw.police_uk_street where _month = '2024-03'").fetchall()[0][0] == 5


def test_changed_header_names_the_file_and_columns_and_loads_nothing(tmp_path, con):
    path = tmp_path / "2024-03-lancashire-street.csv"
    path.write_text(STREET_HEADER.replace("LSOA code", "LSOA21 code") + "\n" + street_row(ID + "1", "2024-03") + "\n")
    with pytest.raises(LoadError, match=r"2024-03-lancashire-street\.csv: header does not match.*missing columns \['LSOA code'\].*unexpected columns \['LSOA21 code'\]"):
        load(con, path)
    assert rows(con) == 0


def test_the_2011_layout_is_refused_by_name(tmp_path, con):
    path = tmp_path / "2011-02-west-midlands-street.csv"
    path.write_text(",".join(LEGACY_2011_STREET_HEADER) + "\r\n2011-02,West Midlands Police,West Midlands Police,408811.0,286000.0,On or near X,Burglary,\r\n")
    with pytest.raises(LoadError, match="2011 publication layout"):
        load(con, path)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"Crime ID\x00,Month\n", "NUL"),
    ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Contéxt\n".encode("latin-1"), "not UTF-8"),
])
def test_unreadable_files_are_refused_clearly(tmp_path, con, content, message):
    path = tmp_path / "street.csv"
    path.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        load(con, path)
