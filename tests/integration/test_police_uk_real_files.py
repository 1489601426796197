"""The real data.police.uk files in ../shared/data, zipped as the publisher ships them,
through the real fetch → load → gate path. Every row is loaded or rejected with a reason."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from ingest.raw import LoadError
from ingest.sources import police_uk

pytestmark = pytest.mark.real_data


def _archive_real_month(real_dir: Path, month: str, out: Path) -> Path:
    path = out / f"{month}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for csv_file in sorted((real_dir / month).glob("*.csv")):
            archive.write(csv_file, f"{month}/{csv_file.name}")
    return path


def _settings(tmp_path: Path, forces: list[str]):
    return load_settings(environ={
        "OPCC_ROOT": str(tmp_path),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{tmp_path}/publisher/{{month}}.zip",
        "OPCC_POLICE_UK__FORCES": ",".join(forces),
    })


def _data_rows(path: Path) -> int:
    with path.open(newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


@pytest.mark.parametrize("month, forces", [
    ("2013-06", ["lancashire", "cumbria", "city-of-london"]),
    ("2018-12", ["lancashire", "cumbria", "metropolitan"]),
    ("2019-01", ["lancashire", "cumbria", "city-of-london", "btp", "metropolitan"]),
    ("2019-02", ["lancashire", "cumbria", "city-of-london", "btp"]),
])
def test_every_real_row_is_loaded_or_rejected(tmp_path, real_police_uk, month, forces):
    _archive_real_month(real_police_uk, month, tmp_path / "publisher")
    settings = _settings(tmp_path, forces)
    fetched = police_uk.fetch(settings, month)
    assert fetched.status == "fetched"
    police_uk.load(settings, month)

    con = duckdb.connect(str(settings.paths.warehouse), read_only=True)
    try:
        for csv_file in sorted((real_police_uk / month).glob("*.csv")):
            force, kind = police_uk.parse_member_name(csv_file.name)
            dataset = next(d for d in police_uk.DATASETS if d.kind == kind)
            loaded, rejected, rows_in, status = con.execute(
                "select rows_loaded, rows_rejected, rows_in, status from raw.load_log "
                "where dataset = ? and force_id = ? and month = ?",
                [dataset.table, force, month],
            ).fetchall()[0]
            assert status == "loaded" and rows_in == _data_rows(csv_file), csv_file.name  # counted from the bytes
            in_table = con.execute(
                f"select count(*) from raw.{dataset.table} where _force_id = ? and _month = ?", [force, month]
            ).fetchall()[0][0]
            assert loaded == in_table
            assert loaded + rejected == _data_rows(csv_file), csv_file.name
            assert rejected == 0, f"{csv_file.name}: real rows rejected"
        # Real quirks are kept, not rejected: BTP rows without a Crime ID, No Location rows.
        if "btp" in forces:
            assert con.execute(
                "select count(*) from raw.police_uk_street where _force_id = 'btp' and crime_id is null"
            ).fetchall()[0][0] > 4000
        if month != "2013-06":
            assert con.execute(
                "select count(*) from raw.police_uk_street where location = 'No Location' and longitude is null"
            ).fetchall()[0][0] > 0
    finally:
        con.close()

    # A rerun gives exactly the same rows.
    police_uk.fetch(settings, month)
    police_uk.load(settings, month)
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        total = con.execute("select sum(rows_loaded) from raw.load_log where month = ?", [month]).fetchall()[0][0]
        assert con.execute("select count(*) from raw.police_uk_street where _month = ?", [month]).fetchall()[0][0] + \
            con.execute("select count(*) from raw.police_uk_outcomes where _month = ?", [month]).fetchall()[0][0] + \
            con.execute("select count(*) from raw.police_uk_stop_search where _month = ?", [month]).fetchall()[0][0] == total


def test_the_2011_layout_is_refused_by_name_and_nothing_loads(tmp_path, real_police_uk):
    _archive_real_month(real_police_uk / "_legacy_2011_format", "2011-02", tmp_path / "publisher")
    settings = _settings(tmp_path, ["west-midlands"])
    police_uk.fetch(settings, "2011-02")
    with pytest.raises(LoadError, match=r"2011-02-west-midlands-street\.csv: this file is in the 2011 publication layout"):
        police_uk.load(settings, "2011-02")
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.police_uk_street").fetchall()[0][0] == 0
