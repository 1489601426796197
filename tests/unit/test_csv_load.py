"""Typed CSV loads: contract headers, rejects with reasons, CRLF, idempotent partition replace."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.raw import LoadError, TypedColumn, check_headers
from ingest.raw.load import CsvFile, replace_partition, replace_partitions
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


def _csv_file(path: Path, force: str, month: str = "2024-03") -> CsvFile:
    member = f"{month}/{month}-{force}-street.csv"
    return CsvFile(
        path=path, label=member,
        lineage={"_force_id": force, "_month": month, "_source_file": member, "_archive_sha256": "sha",
                 "_loaded_at": datetime(2024, 5, 1)},
        rejects_key={"dataset": STREET.table, "force_id": force, "month": month},
    )


def test_many_files_load_in_one_statement_each_into_its_own_partition(tmp_path, con):
    lancs, kent = tmp_path / "lancashire.csv", tmp_path / "kent.csv"
    lancs.write_text("\n".join([STREET_HEADER] + [street_row(f"{ID}{i}", "2024-03") for i in range(3)]) + "\n")
    kent.write_bytes(("\r\n".join([STREET_HEADER, street_row(ID + "7", "2024-03", force_name="Kent Police"),
                                   street_row(ID + "8", "2024-03", lon="east"), "only,three,fields"]) + "\r\n").encode())
    load(con, lancs, force="gwent")  # another partition, which must be left alone
    files = [_csv_file(lancs, "lancashire"), _csv_file(kent, "kent")]
    assert check_headers(files, COLUMNS) == {}
    for _ in range(2):  # a rerun replaces, never appends
        results = replace_partitions(con, table=STREET.table, columns=COLUMNS, files=files)
    assert {k: (r.rows_loaded, r.rows_rejected) for k, r in results.items()} == {
        "2024-03/2024-03-lancashire-street.csv": (3, 0), "2024-03/2024-03-kent-street.csv": (1, 2)}
    assert con.execute(
        "select _force_id, _source_file, count(*) from raw.police_uk_street group by all order by 1"
    ).fetchall() == [("gwent", "lancashire.csv", 3), ("kent", "2024-03/2024-03-kent-street.csv", 1),
                     ("lancashire", "2024-03/2024-03-lancashire-street.csv", 3)]
    assert con.execute(
        "select distinct force_id, source_file, line, error_type from raw.load_rejects order by line"
    ).fetchall() == [("kent", "2024-03/2024-03-kent-street.csv", 3, "CAST"),
                     ("kent", "2024-03/2024-03-kent-street.csv", 4, "MISSING COLUMNS")]


def test_a_changed_header_is_named_per_file_before_anything_is_read(tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(STREET_HEADER + "\n")
    bad.write_text(STREET_HEADER.replace("LSOA code", "LSOA21 code") + "\n")
    refused = check_headers([_csv_file(good, "lancashire"), _csv_file(bad, "kent")], COLUMNS, OLDER_FORMATS)
    assert list(refused) == ["2024-03/2024-03-kent-street.csv"]
    assert "unexpected columns ['LSOA21 code']" in str(refused["2024-03/2024-03-kent-street.csv"])
