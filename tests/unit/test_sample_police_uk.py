"""The synthetic data.police.uk archive: real-format files, consistent ids, deterministic bytes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import duckdb
import pytest

from devtools.sample import police_uk as pu
from devtools.sample.forces import FORCE_IDS, FORCES, HIGH_REPEAT_FORCES, WELSH_FORCES
from ingest.sources.police_uk_contract import (AGE_RANGES, CRIME_TYPES, OFFICER_DEFINED_ETHNICITIES, OUTCOME_CATEGORIES,
                                              OUTCOMES, STOP_AND_SEARCH, STOP_SEARCH_OUTCOMES, STOP_SEARCH_TYPES, STREET)

FORCES_UNDER_TEST = ["lancashire", "west-midlands", "btp", "city-of-london"]
FIRST, LAST = "2023-06", "2023-08"  # includes the month west-midlands has no stop-and-search file
SCALE = 0.05
HEX64 = re.compile(r"^[0-9a-f]{64}$")
DATASETS = {ds.kind: ds for ds in (STREET, OUTCOMES, STOP_AND_SEARCH)}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("police_uk_sample")
    summary = pu.generate_archive(out, FIRST, LAST, FORCES_UNDER_TEST, seed=2011, scale=SCALE)
    return out, summary


@pytest.fixture(scope="module")
def members(archive: tuple[Path, dict]) -> dict[str, bytes]:
    """Every member of every month's zip, by member name."""
    out, _ = archive
    found: dict[str, bytes] = {}
    for month in pu.month_range(FIRST, LAST):
        with zipfile.ZipFile(out / "archive" / f"{month}.zip") as zf:
            assert zf.testzip() is None
            for name in zf.namelist():
                found[name] = zf.read(name)
    return found


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def _kind(name: str) -> str:
    return next(k for k in DATASETS if name.endswith(f"-{k}.csv"))


def _force(name: str) -> str:
    month = name.split("/")[0]
    return name.split("/")[1][len(month) + 1: -len(f"-{_kind(name)}.csv")]


def _by(members: dict[str, bytes], kind: str, force: str | None = None) -> dict[str, bytes]:
    return {n: d for n, d in members.items() if _kind(n) == kind and (force is None or _force(n) == force)}


def test_month_range_is_inclusive_and_crosses_years() -> None:
    assert pu.month_range("2022-11", "2023-02") == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert pu.month_range("2024-03", "2024-03") == ["2024-03"]
    with pytest.raises(ValueError):
        pu.month_range("2024-03", "2024-02")
    with pytest.raises(ValueError):
        pu.month_range("2024-3", "2024-04")


def test_layout_one_zip_per_month_with_a_folder_per_month(archive, members) -> None:
    out, summary = archive
    months = pu.month_range(FIRST, LAST)
    assert sorted(p.name for p in (out / "archive").glob("*.zip")) == [f"{m}.zip" for m in months]
    for month in months:
        with zipfile.ZipFile(out / "archive" / f"{month}.zip") as zf:
            names = zf.namelist()
            assert names == sorted(names)
            assert all(n.startswith(f"{month}/{month}-") for n in names)
            assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
    assert "2023-07/2023-07-west-midlands-stop-and-search.csv" not in members
    assert "2023-06/2023-06-west-midlands-stop-and-search.csv" in members
    assert not _by(members, "outcomes", "btp")
    assert set(_by(members, "street")) == {
        STREET.member_name(m, f) for m in months for f in FORCES_UNDER_TEST
    }


def test_index_lists_months_forces_rows_and_absent_members(archive, members) -> None:
    out, summary = archive
    index = json.loads((out / "archive" / "index.json").read_text())
    assert index == json.loads(json.dumps(summary))
    assert index["months"] == pu.month_range(FIRST, LAST)
    assert set(index["forces"]) == set(FORCES_UNDER_TEST)
    listed = {name: n for a in index["archives"] for name, n in a["members"].items()}
    assert set(listed) == set(members)
    for name, data in members.items():
        assert listed[name] == len(_rows(data)), name
    absent = {name for a in index["archives"] for name in a["absent"]}
    assert "2023-07/2023-07-west-midlands-stop-and-search.csv" in absent
    assert "2023-06/2023-06-btp-outcomes.csv" in absent
    for kind in DATASETS:
        assert index["rows"][kind] == sum(n for name, n in listed.items() if _kind(name) == kind)
    for a in index["archives"]:
        digest = hashlib.sha256((out / "archive" / a["file"]).read_bytes()).hexdigest()
        assert a["sha256"] == digest
    assert (out / "lsoa_lookup.csv").read_text().startswith("LSOA code,LSOA name,District,Force ID")


def test_headers_are_byte_exact_utf8_without_bom_lf_and_final_newline(members) -> None:
    for name, data in members.items():
        expected = (",".join(DATASETS[_kind(name)].headers) + "\n").encode()
        assert data.startswith(expected), name
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data, name
        assert data.endswith(b"\n") and not data.endswith(b"\n\n"), name
        data.decode("utf-8")


def test_every_row_has_the_header_column_count_in_duckdb(members, tmp_path: Path) -> None:
    for name, data in members.items():
        path = tmp_path / name.split("/")[1]
        path.write_bytes(data)
        headers = DATASETS[_kind(name)].headers
        rel = duckdb.sql(
            f"select * from read_csv('{path}', header=true, all_varchar=true, strict_mode=true)"
        )
        assert rel.columns == headers, name
        assert rel.shape[0] == data.count(b"\n") - 1, name  # no field holds a line break
        for row in csv.reader(io.StringIO(data.decode(), newline="")):
            assert len(row) == len(headers), (name, row)


def test_some_fields_carry_a_quoted_comma(members) -> None:
    quoted = [
        value
        for data in members.values()
        for row in csv.reader(io.StringIO(data.decode(), newline=""))
        for value in row
        if "," in value
    ]
    assert quoted
    assert any(b'"On or near ' in data for data in _by(members, "street").values())


def test_street_rows_follow_the_publishers_rules(members) -> None:
    allowed_outcomes = set(OUTCOME_CATEGORIES) - {"Suspect charged"}
    for name, data in _by(members, "street").items():
        month, force = name.split("/")[0], FORCES[_force(name)]
        rows = _rows(data)
        assert rows, name
        for r in rows:
            assert r["Month"] == month
            assert r["Reported by"] == r["Falls within"] == force.name
            assert r["Crime type"] in CRIME_TYPES
            assert r["Context"] == ""
            if r["Crime type"] == "Anti-social behaviour" or force.id == "btp":
                assert r["Crime ID"] == "" and r["Last outcome category"] == ""
            else:
                assert HEX64.match(r["Crime ID"]), r
                assert r["Last outcome category"] in allowed_outcomes, r
            if r["Location"] == "No Location":
                assert r["Longitude"] == r["Latitude"] == r["LSOA code"] == r["LSOA name"] == ""
                assert r["Crime type"] != "Anti-social behaviour"
            else:
                assert r["Location"].startswith("On or near ")
                assert re.match(r"^-?\d+\.\d{6}$", r["Longitude"]) and re.match(r"^\d+\.\d{6}$", r["Latitude"])
                if force.id != "btp":
                    assert abs(float(r["Latitude"]) - force.lat) <= force.radius + 0.05
                    assert abs(float(r["Longitude"]) - force.lon) <= 1.5 * force.radius + 0.05
                    assert re.match(r"^E01\d{6}$", r["LSOA code"]), r
                    assert re.match(r"^.+ \d{3}[A-H]$", r["LSOA name"]), r
                    assert r["LSOA name"].rsplit(" ", 1)[0] in force.districts
        if force.id == "btp":
            assert not any(r["Crime type"] == "Anti-social behaviour" for r in rows)
            assert not any(r["Location"] == "No Location" for r in rows)


def test_street_files_have_at_most_a_few_repeated_crime_ids(members) -> None:
    for name, data in _by(members, "street").items():
        rows = [r for r in _rows(data) if r["Crime ID"]]
        assert len(rows) - len({r["Crime ID"] for r in rows}) <= 2, name
        types: dict[str, set[str]] = {}
        for r in rows:
            types.setdefault(r["Crime ID"], set()).add(r["Crime type"])
        assert all(len(t) == 1 for t in types.values()), name


@pytest.mark.parametrize("force_id", sorted(HIGH_REPEAT_FORCES))
def test_some_forces_repeat_crime_ids_as_real_files_do(force_id) -> None:
    # 6-8 % of the rows with a Crime ID share it with another row, the rows differing in place
    # or outcome and a fifth of them in crime type: the publisher's files for some forces.
    crimes = pu.generate_crimes(force_id, "2024-03")
    rows = [r for r in _rows(pu.street_csv(crimes, "2024-03")) if r["Crime ID"]]
    counts: dict[str, list[dict]] = {}
    for r in rows:
        counts.setdefault(r["Crime ID"], []).append(r)
    repeated = [group for group in counts.values() if len(group) > 1]
    share = sum(len(group) for group in repeated) / len(rows)
    assert 0.06 <= share <= 0.08, share
    assert any(len({r["Crime type"] for r in group}) > 1 for group in repeated)
    assert sum(1 for group in repeated if len({r["Location"] for r in group}) > 1) > len(repeated) / 2


def test_outcomes_refer_to_crimes_of_that_or_earlier_months_of_the_same_force(members) -> None:
    for force in FORCES_UNDER_TEST:
        if force == "btp":
            continue
        street_ids: set[str] = set()
        locations: dict[str, set[tuple[str, ...]]] = {}
        loc_cols = ("Longitude", "Latitude", "Location", "LSOA code", "LSOA name")
        for month in pu.month_range(FIRST, LAST):
            for r in _rows(members[STREET.member_name(month, force)]):
                if r["Crime ID"]:
                    street_ids.add(r["Crime ID"])
                    # a repeated Crime ID can sit at two places, as in the real files
                    locations.setdefault(r["Crime ID"], set()).add(tuple(r[c] for c in loc_cols))
            outcomes = _rows(members[OUTCOMES.member_name(month, force)])
            assert outcomes, (force, month)
            for r in outcomes:
                assert r["Crime ID"] in street_ids, (force, month, r)
                assert r["Month"] == month
                assert r["Reported by"] == r["Falls within"] == FORCES[force].name
                assert r["Outcome type"] in OUTCOME_CATEGORIES
                assert tuple(r[c] for c in loc_cols) in locations[r["Crime ID"]]


def test_stop_and_search_values_are_within_the_vocabularies(members) -> None:
    for name, data in _by(members, "stop-and-search").items():
        month = name.split("/")[0]
        rows = _rows(data)
        assert rows, name
        dates = [r["Date"] for r in rows]
        assert dates == sorted(dates)
        for r in rows:
            assert r["Type"] in STOP_SEARCH_TYPES
            assert re.match(rf"^{month}-\d\dT\d\d:\d\d:\d\d\+00:00$", r["Date"]), r
            for col in ("Part of a policing operation", "Outcome linked to object of search",
                        "Removal of more than just outer clothing"):
                assert r[col] in ("True", "False", "")
            assert (r["Latitude"] == "") == (r["Longitude"] == "")
            assert r["Gender"] in (*pu.GENDERS, "")
            assert r["Age range"] in (*AGE_RANGES, "")
            assert r["Self-defined ethnicity"] in (*pu.SELF_DEFINED_ETHNICITY_VALUES, "")
            assert r["Officer-defined ethnicity"] in (*OFFICER_DEFINED_ETHNICITIES, "")
            assert r["Legislation"] in pu.LEGISLATIONS
            assert r["Object of search"] in (*pu.OBJECTS_OF_SEARCH, "")
            assert r["Outcome"] in STOP_SEARCH_OUTCOMES
            if r["Policing operation"]:
                assert r["Part of a policing operation"] == "True"
            if r["Legislation"].startswith("Misuse of Drugs"):
                assert r["Object of search"] == "Controlled drugs"
            if r["Outcome"] == "Khat or Cannabis warning":
                assert r["Legislation"].startswith("Misuse of Drugs")
    assert len(pu.SELF_DEFINED_ETHNICITY_VALUES) == 19


def test_same_arguments_give_byte_identical_archives(archive, tmp_path: Path) -> None:
    out, _ = archive
    pu.generate_archive(tmp_path / "again", FIRST, LAST, FORCES_UNDER_TEST, seed=2011, scale=SCALE)

    def digests(root: Path) -> dict[str, str]:
        files = sorted((root / "archive").iterdir()) + [root / "lsoa_lookup.csv"]
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    assert digests(tmp_path / "again") == digests(out)
    pu.generate_archive(tmp_path / "other", FIRST, FIRST, ["lancashire"], seed=7, scale=SCALE)
    assert digests(tmp_path / "other")[f"{FIRST}.zip"] != digests(out)[f"{FIRST}.zip"]


def test_a_month_recomputes_alone_and_outcomes_catch_up_with_age() -> None:
    a = pu.generate_crimes("lancashire", "2024-01", seed=2011, scale=0.2)
    b = pu.generate_crimes("lancashire", "2024-01", seed=2011, scale=0.2)
    assert list(a.crime_ids()) == list(b.crime_ids())
    under = OUTCOME_CATEGORIES.index("Under investigation")
    with_id = a.has_id
    fresh = (a.last_outcome("2024-01")[with_id] == under).mean()
    old = (a.last_outcome("2025-12")[with_id] == under).mean()
    assert fresh > 0.5 > 0.05 > old


def test_lancashire_month_at_full_scale_has_realistic_volume_and_mix() -> None:
    crimes = pu.generate_crimes("lancashire", "2024-01", seed=2011, scale=1.0)
    assert 10_000 < crimes.n < 20_000
    asb = crimes.crime_type == CRIME_TYPES.index("Anti-social behaviour")
    assert 0.2 < asb.mean() < 0.35
    no_location = crimes.point == pu.geography("lancashire").no_location
    assert 0.04 < no_location[~asb].mean() < 0.10
    assert not no_location[asb].any()
    summer = pu.expected_street_rows("lancashire", "2024-07")
    february = pu.expected_street_rows("lancashire", "2024-02")
    assert summer > 1.15 * february


def test_forces_table_covers_england_wales_and_btp() -> None:
    assert len(FORCES) == 44
    assert {"lancashire", "west-midlands", "metropolitan", "city-of-london", "avon-and-somerset", "btp"} <= set(FORCES)
    assert FORCES["metropolitan"].name == "Metropolitan Police Service"
    assert FORCES["west-midlands"].street_per_month > FORCES["lancashire"].street_per_month
    assert FORCES["metropolitan"].street_per_month > 3 * FORCES["west-midlands"].street_per_month
    codes: set[str] = set()
    for force_id in FORCE_IDS:
        if force_id == "btp":
            continue
        own = [lsoa.code for lsoa in pu.geography(force_id).lsoas]
        prefix = "W01" if force_id in WELSH_FORCES else "E01"
        assert all(c.startswith(prefix) for c in own), force_id
        assert not codes & set(own), force_id
        codes |= set(own)
    btp_codes = {lsoa.code for lsoa in pu.geography("btp").lsoas}
    assert btp_codes <= codes  # stations sit in other forces' LSOAs


def test_cli_writes_an_archive_and_prints_one_summary_line(tmp_path: Path, capsys) -> None:
    code = pu.main(["--out", str(tmp_path), "--first", "2024-02", "--last", "2024-02",
                    "--forces", "cumbria", "--scale", "0.02"])
    assert code == 0
    assert (tmp_path / "archive" / "2024-02.zip").is_file()
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("wrote 1 archives")
    assert pu.main(["--out", str(tmp_path), "--first", "2024-02", "--last", "2024-02",
                    "--forces", "atlantis"]) == 2


def test_members_compressed_in_the_background_keep_their_order_and_bytes(tmp_path):
    """The month's zip is written by a background thread: the same bytes as writing each member in turn."""
    members = {f"2023-06/2023-06-force-{i:02d}-street.csv": (f"row {i}\n" * (2000 + i)).encode() for i in range(12)}
    background = pu.MonthZip(tmp_path / "background.zip", "2023-06", 1)
    for name, body in members.items():
        background.add(name, body)
    digest = background.close()

    in_turn = io.BytesIO()
    with zipfile.ZipFile(in_turn, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as expected:
        for name, body in members.items():
            expected.writestr(pu.zip_info(name, "2023-06"), body, compresslevel=1)
    assert (tmp_path / "background.zip").read_bytes() == in_turn.getvalue()
    assert digest == hashlib.sha256(in_turn.getvalue()).hexdigest()


def test_a_month_that_fails_midway_leaves_no_zip_behind(tmp_path, monkeypatch):
    """A failure while a month is generated leaves neither the zip nor its part file."""
    def fail(*args, **kwargs):
        raise RuntimeError("generating the month failed")

    monkeypatch.setattr(pu.MonthZip, "add", fail)
    with pytest.raises(RuntimeError, match="generating the month failed"):
        pu.generate_archive(tmp_path, FIRST, FIRST, ["lancashire"], scale=SCALE)
    assert list((tmp_path / "archive").iterdir()) == []


def test_a_failed_member_write_fails_the_month(tmp_path):
    """A write that fails in the background (an unwritable member) is raised when the month closes."""
    archive = pu.MonthZip(tmp_path / "bad.zip", "2023-06", 1)
    archive.add("2023-06/a-street.csv", b"ok\n")
    archive.add("2023-06/b-street.csv", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        archive.close()
    assert not (tmp_path / "bad.zip").exists() and not (tmp_path / "bad.zip.part").exists()
