"""Genuine publisher files are never refused, and no row is lost without a trace.

Each test starts from real data.police.uk files in ../shared/data, zipped as the publisher
ships them, and makes the damaged or quirky copy it needs: repeated Crime IDs as other
forces publish them, a file joined to itself, a re-issue with unreadable values or far fewer
rows, a field too long for DuckDB's reader, mixed line ends, two members of one name, a
full disk. What a user sees is asserted: the load log's status and reason, the rows kept,
the message.
"""

from __future__ import annotations

import logging
import random
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.config import load_settings
from ingest.raw import LoadError
from ingest.raw import scan
from ingest.raw.landing import LandingError
from ingest.sources import police_uk
from tests.helpers import query as _query

pytestmark = pytest.mark.real_data

MONTH = "2019-01"


def _real(real_dir: Path, force: str, kind: str = "street", month: str = MONTH) -> bytes:
    return (real_dir / month / f"{month}-{force}-{kind}.csv").read_bytes()


def _publish(tmp_path: Path, members: dict[str, bytes], month: str = MONTH, *, stored: bool = False) -> None:
    path = tmp_path / "publisher" / f"{month}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(f"{month}/{name}", data)


def _settings(tmp_path: Path, forces: list[str], **extra: str):
    environ = {
        "OPCC_ROOT": str(tmp_path),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{tmp_path}/publisher/{{month}}.zip",
        "OPCC_POLICE_UK__FORCES": ",".join(forces),
        # These archives hold the named forces only; loading their most similar group peers too is
        # tested in test_police_uk_peers.py (here it would add an absent row per peer file).
        "OPCC_POLICE_UK__LOAD_MSG_PEERS": "false",
    }
    environ.update({f"OPCC_POLICE_UK__{key.upper()}": value for key, value in extra.items()})
    return load_settings(environ=environ)


def _fetch_and_load(settings, month: str = MONTH) -> dict:
    police_uk.fetch(settings, month)
    return police_uk.load(settings, month)


def _loaded_genuine(tmp_path, real_police_uk, force):
    """The force's real January 2019 street file, published, fetched and loaded: the good month a fault follows."""
    genuine = _real(real_police_uk, force)
    _publish(tmp_path, {f"{MONTH}-{force}-street.csv": genuine})
    settings = _settings(tmp_path, [force])
    _fetch_and_load(settings)
    return genuine, settings


def _log_row(settings, force: str, dataset: str = "police_uk_street", month: str = MONTH) -> dict:
    rows = _query(settings, "select * from raw.load_log where dataset = ? and force_id = ? and month = ?",
                  [dataset, force, month])
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        names = [c[0] for c in con.execute("select * from raw.load_log limit 0").description]
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0]))


def _street_rows(settings, force: str, month: str = MONTH) -> int:
    return _query(settings, "select count(*) from raw.police_uk_street where _force_id = ? and _month = ?",
                  [force, month])[0][0]


def _lines(data: bytes) -> tuple[bytes, list[bytes]]:
    header, *rows = data.rstrip(b"\n").split(b"\n")
    return header, rows


# --------------------------------------------------------------------------- 1. quirks are not refused


def test_a_street_file_repeating_seven_percent_of_its_crime_ids_loads_whole_with_a_warning(tmp_path, real_police_uk):
    # Real files of some forces repeat 6-8 % of their non-empty Crime IDs, the repeated rows
    # differing in outcome, location or crime type. Make Cumbria's look like that.
    header, rows = _lines(_real(real_police_uk, "cumbria"))
    with_id = [i for i, row in enumerate(rows) if not row.startswith(b",")]
    rng = random.Random(7)
    repeats = rng.sample(with_id, int(0.07 * len(with_id)))
    for i in repeats:
        source = rows[rng.choice(with_id)]
        rows[i] = source.split(b",", 1)[0] + b"," + rows[i].split(b",", 1)[1]  # another crime's id, own place/outcome
    _publish(tmp_path, {f"{MONTH}-cumbria-street.csv": header + b"\n" + b"\n".join(rows) + b"\n"})
    settings = _settings(tmp_path, ["cumbria"])

    summary = _fetch_and_load(settings)

    assert summary["cumbria"]["street"]["status"] == "loaded"
    assert summary["cumbria"]["street"]["gate_warnings"] >= 1
    assert _street_rows(settings, "cumbria") == len(rows)
    row = _log_row(settings, "cumbria")
    assert (row["status"], row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == ("loaded", len(rows), len(rows), 0)


# --------------------------------------------------------------------------- 2. broken files refuse


@pytest.mark.parametrize("joined", ["with its header", "without its header"])
def test_a_file_joined_to_itself_is_refused_and_the_previous_rows_stay(tmp_path, real_police_uk, joined):
    genuine, settings = _loaded_genuine(tmp_path, real_police_uk, "cumbria")
    header, rows = _lines(genuine)

    second = genuine if joined == "with its header" else b"\n".join(rows) + b"\n"
    _publish(tmp_path, {f"{MONTH}-cumbria-street.csv": genuine + second})
    with pytest.raises(LoadError) as raised:
        _fetch_and_load(settings)

    message = str(raised.value)
    assert f"{MONTH}-cumbria-street.csv" in message and "cumbria 2019-01 refused" in message
    expected = "header line appears again" if joined == "with its header" else "concatenated with itself"
    assert expected in message
    assert _street_rows(settings, "cumbria") == len(rows)  # the genuine month, untouched
    row = _log_row(settings, "cumbria")
    assert row["status"] == "refused" and expected in row["reason"]
    assert row["rows_loaded"] == len(rows)  # what the partition still holds


def test_a_changed_header_leaves_a_refused_row_in_the_load_log(tmp_path, real_police_uk):
    genuine = _real(real_police_uk, "cumbria")
    _publish(tmp_path, {f"{MONTH}-cumbria-street.csv": genuine.replace(b"LSOA code", b"LSOA21 code", 1),
                        f"{MONTH}-lancashire-street.csv": _real(real_police_uk, "lancashire")})
    settings = _settings(tmp_path, ["lancashire", "cumbria"])
    with pytest.raises(LoadError, match=r"1 of 2 force-months were not loaded"):
        _fetch_and_load(settings)
    row = _log_row(settings, "cumbria")
    assert row["status"] == "refused" and "header does not match the contract" in row["reason"]
    assert row["rows_loaded"] == 0 and _log_row(settings, "lancashire")["status"] == "loaded"


# --------------------------------------------------------------------------- 3. never less without a trace


def _half_longitudes_unreadable(data: bytes) -> tuple[bytes, int]:
    header, rows = _lines(data)
    damaged = 0
    for i in range(0, len(rows), 2):
        fields = rows[i].split(b",")
        if fields[4]:
            fields[4] = b"-2.7O33"  # a letter O: not a number
            rows[i] = b",".join(fields)
            damaged += 1
    return header + b"\n" + b"\n".join(rows) + b"\n", damaged


def test_a_reissue_with_half_its_longitudes_unreadable_is_held_then_accepted_deliberately(tmp_path, real_police_uk):
    genuine, settings = _loaded_genuine(tmp_path, real_police_uk, "lancashire")
    _, rows = _lines(genuine)

    reissue, damaged = _half_longitudes_unreadable(genuine)
    _publish(tmp_path, {f"{MONTH}-lancashire-street.csv": reissue})
    with pytest.raises(LoadError) as raised:
        _fetch_and_load(settings)
    message = str(raised.value)
    share = f"{100 * damaged / len(rows):.1f}%"
    for text in (f"{MONTH}-lancashire-street.csv", "lancashire 2019-01 held", f"{damaged:,} of {len(rows):,} rows ({share})",
                 "the limit is 1.0%", "max_reject_share", "OPCC_POLICE_UK__ACCEPT_HELD=lancashire:2019-01"):
        assert text in message, text
    assert _street_rows(settings, "lancashire") == len(rows)
    row = _log_row(settings, "lancashire")
    assert (row["status"], row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (
        "held", len(rows), len(rows), damaged)

    # The operator looked at the file and accepts it: loaded, with the rejects kept and the decision logged.
    accepting = _settings(tmp_path, ["lancashire"], accept_held="lancashire:2019-01")
    summary = police_uk.load(accepting, MONTH)
    assert summary["lancashire"]["street"]["status"] == "accepted"
    assert _street_rows(accepting, "lancashire") == len(rows) - damaged
    row = _log_row(accepting, "lancashire")
    assert row["status"] == "accepted" and "max_reject_share" in row["reason"]
    assert row["rows_loaded"] + row["rows_rejected"] == row["rows_in"] == len(rows)
    assert _query(accepting, "select count(distinct line) from raw.load_rejects where force_id = 'lancashire'") == [(damaged,)]


def test_a_reissue_with_far_fewer_rows_is_held(tmp_path, real_police_uk):
    genuine, settings = _loaded_genuine(tmp_path, real_police_uk, "cumbria")
    header, rows = _lines(genuine)
    _publish(tmp_path, {f"{MONTH}-cumbria-street.csv": header + b"\n" + b"\n".join(rows[: len(rows) // 2]) + b"\n"})

    with pytest.raises(LoadError, match=r"would replace 3,484 rows with 1,742 \(50\.0% fewer; the limit is 20\.0%"):
        _fetch_and_load(settings)
    assert _street_rows(settings, "cumbria") == len(rows)
    assert _log_row(settings, "cumbria")["status"] == "held"


def test_a_row_duckdb_cannot_read_whole_is_never_dropped_silently(tmp_path, real_police_uk):
    # A field longer than DuckDB's line-size limit: its reader skips the row without a reject.
    header, rows = _lines(_real(real_police_uk, "city-of-london"))
    fields = rows[10].split(b",")
    fields[11] = b"x" * (110 * 1024 * 1024)
    rows[10] = b",".join(fields)
    # Stored, not deflated: 110 MB of one letter would (rightly) look like a zip bomb.
    _publish(tmp_path, {f"{MONTH}-city-of-london-street.csv": header + b"\n" + b"\n".join(rows) + b"\n"}, stored=True)
    settings = _settings(tmp_path, ["city-of-london"])

    with pytest.raises(LoadError, match=rf"holds {len(rows)} rows but {len(rows) - 1} were loaded and 0 rejected: "
                                         r"1 rows unaccounted for"):
        _fetch_and_load(settings)
    assert _street_rows(settings, "city-of-london") == 0
    row = _log_row(settings, "city-of-london")
    assert row["status"] == "held" and row["rows_in"] == len(rows)


def test_an_archive_holding_one_member_name_twice_is_refused_by_name(tmp_path, real_police_uk):
    genuine, settings = _loaded_genuine(tmp_path, real_police_uk, "cumbria")

    path = tmp_path / "publisher" / f"{MONTH}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{MONTH}/{MONTH}-cumbria-street.csv", genuine)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr(f"{MONTH}/{MONTH}-cumbria-street.csv", genuine[: len(genuine) // 3])
    with pytest.raises(LandingError, match=rf"same member name more than once \(1 name\(s\): {MONTH}/{MONTH}-cumbria-street\.csv\)"):
        police_uk.fetch(settings, MONTH)
    assert _street_rows(settings, "cumbria") == len(_lines(genuine)[1])


def test_a_file_mixing_crlf_and_lf_line_ends_loads_every_row(tmp_path, real_police_uk):
    header, rows = _lines(_real(real_police_uk, "lancashire"))
    body = b"".join(row + (b"\r\n" if i % 3 else b"\n") for i, row in enumerate(rows))
    _publish(tmp_path, {f"{MONTH}-lancashire-street.csv": header + b"\r\n" + body})
    settings = _settings(tmp_path, ["lancashire"])
    _fetch_and_load(settings)
    assert _street_rows(settings, "lancashire") == len(rows)
    assert _query(settings, "select count(*) from raw.police_uk_street where context like '%\r%'") == [(0,)]


def test_the_load_reuses_the_count_the_fetch_took_unless_the_file_changed_since(tmp_path, real_police_uk, monkeypatch):
    """The fetch counts each member's records as it extracts it (outside the warehouse's one writer);
    the load reuses that count while the file is as landed and counts a file changed since again."""
    lancs, cumbria = _real(real_police_uk, "lancashire"), _real(real_police_uk, "cumbria")
    _publish(tmp_path, {f"{MONTH}-lancashire-street.csv": lancs, f"{MONTH}-cumbria-street.csv": cumbria})
    settings = _settings(tmp_path, ["cumbria", "lancashire"])
    fetched = police_uk.fetch(settings, MONTH)
    for force, data in (("lancashire", lancs), ("cumbria", cumbria)):
        path = Path(fetched.members[force]["street"])
        assert fetched.scans[path.name]["records"] == scan.scan_file(path).records == len(_lines(data)[1])
    # Cumbria's landed file gains five rows after the fetch (its last five, again: a warning, not a refusal)
    cumbria_path = Path(fetched.members["cumbria"]["street"])
    rows = _lines(cumbria)[1]
    cumbria_path.write_bytes(cumbria + b"\n".join(rows[-5:]) + b"\n")
    scanned, scan_file = [], scan.scan_file
    monkeypatch.setattr(scan, "scan_file", lambda path: scanned.append(Path(path).name) or scan_file(path))
    police_uk.load(settings, MONTH)
    assert scanned == [cumbria_path.name]
    cumbria_log = _log_row(settings, "cumbria")
    assert (cumbria_log["status"], cumbria_log["rows_in"]) == ("loaded", len(rows) + 5)
    assert _street_rows(settings, "cumbria") == len(rows) + 5
    assert _log_row(settings, "lancashire")["rows_in"] == _street_rows(settings, "lancashire") == len(_lines(lancs)[1])


# --------------------------------------------------------------------------- 4. messages say what happened


def test_the_summary_counts_only_forces_whose_files_arrived(tmp_path, real_police_uk, caplog):
    _publish(tmp_path, {f"{MONTH}-cumbria-street.csv": _real(real_police_uk, "cumbria")})
    settings = _settings(tmp_path, ["cumbria", "lancashire"])
    with caplog.at_level(logging.INFO, logger="ingest.sources.police_uk"):
        _fetch_and_load(settings)
    assert "police_uk 2019-01: 1 of 2 force-months loaded; 1 no files in the archive (lancashire)" in caplog.text


def test_a_month_where_no_configured_force_has_a_file_is_not_success(tmp_path, real_police_uk):
    _publish(tmp_path, {f"{MONTH}-cumbria-street.csv": _real(real_police_uk, "cumbria")})
    settings = _settings(tmp_path, ["lancashire"])
    with pytest.raises(LoadError, match=r"holds no file for any configured force \(lancashire\): nothing was loaded"):
        _fetch_and_load(settings)


def test_a_full_disk_names_the_file_and_the_cause(tmp_path, real_police_uk):
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    try:
        _publish(tmp_path, {f"{MONTH}-lancashire-street.csv": _real(real_police_uk, "lancashire")})
        settings = _settings(tmp_path, ["lancashire"])
        police_uk.fetch(settings, MONTH)
        small = load_settings(environ={
            "OPCC_ROOT": str(tmp_path), "OPCC_POLICE_UK__FORCES": "lancashire", "OPCC_POLICE_UK__LOAD_MSG_PEERS": "false",
            "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{tmp_path}/publisher/{{month}}.zip",
            "OPCC_PATHS__WAREHOUSE": str(disk / "warehouse.duckdb"),
        })
        with pytest.raises(LoadError) as raised:
            police_uk.load(small, MONTH)
        message = str(raised.value)
        assert "ran out of disk space" in message and "2019-01" in message
        assert "no transaction is active" not in message
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
