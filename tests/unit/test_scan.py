"""The record count every load is checked against, on random files: the vectorised count must give
what reading the file line by line gives (the definition below), quotes, blank lines and all."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ingest.raw.scan import LandedScan, scan_file, scan_landed


def _by_lines(text: bytes) -> tuple[int, int | None]:
    """The definition: a record starts on a non-blank line that begins outside any quoted field."""
    records, open_at, in_quote = 0, None, False
    for number, line in enumerate(text.split(b"\n")[1:-1], start=2):
        if not in_quote:
            if not line:
                continue
            records += 1
            open_at = number
        if line.count(b'"') % 2:
            in_quote = not in_quote
    return records, open_at if in_quote else None


@pytest.mark.parametrize("seed", range(40))
def test_the_count_matches_reading_line_by_line(tmp_path: Path, seed: int):
    rng = random.Random(seed)
    pieces = [b"a", b"b,c", b'"x,y"', b'"open', b'close"', b'""', b"", b'"two\nlines"', b"z"]
    lines = [b"Crime ID,Month,Location"] + [
        b",".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))) for _ in range(rng.randint(0, 60))]
    text = b"\n".join(lines) + (b"\n" if rng.random() < 0.8 else b"")
    path = tmp_path / "f.csv"
    path.write_bytes(text)
    scan = scan_file(path)
    expected = _by_lines(text if text.endswith(b"\n") else text + b"\n")
    if b'"' in text or b"\n\n" in text:
        assert (scan.records, scan.unterminated_quote_at) == expected
    else:
        assert scan.records == expected[0]


@pytest.mark.parametrize("seed", range(40))
def test_few_quotes_are_counted_one_by_one_as_the_vectorised_count_does(tmp_path: Path, seed: int, monkeypatch):
    """No blank line (the publisher's files): quoted fields found one by one, or every byte looked at."""
    from ingest.raw import scan as scan_module

    rng = random.Random(seed)
    pieces = [b"a", b"b,c", b'"x,y"', b'"open', b'close"', b'""', b'"two\nlines"', b'"say ""hi"""', b"z"]
    lines = [b'Crime ID,"Month",Location'] + [
        b",".join(rng.choice(pieces) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(0, 60))]
    text = b"\n".join(lines) + b"\n"
    path = tmp_path / "f.csv"
    path.write_bytes(text)
    expected = _by_lines(text)
    one_by_one = scan_file(path)
    monkeypatch.setattr(scan_module, "_FEW_QUOTES", -1)
    every_byte = scan_file(path)
    assert (one_by_one.records, one_by_one.unterminated_quote_at) == expected
    assert one_by_one == every_byte


def test_a_landed_scan_is_kept_as_json_and_describes_the_file_only_while_it_is_unchanged(tmp_path: Path):
    path = tmp_path / "joined.csv"
    path.write_bytes(b"a,b\n1,2\na,b\n3,4\n")
    landed = LandedScan.of(path)
    assert landed.scan.header_repeated_at == (3,)
    again = LandedScan.from_json(json.loads(json.dumps(landed.to_json())))
    assert again == landed and again.describes(path)
    assert scan_landed(path, again) is again.scan
    path.write_bytes(b"a,b\n1,2\n3,4\n5,6\n7,8\n")  # another file in the same place
    assert not again.describes(path)
    assert scan_landed(path, again) == scan_file(path) != again.scan
    assert not again.describes(tmp_path / "gone.csv")
