"""A file's records and the signs of a broken file, counted from its bytes without DuckDB's parser.

The independent count every load is checked against (rows in = rows loaded + rows rejected),
and the proof that a file is not what the publisher shipped: two files joined, a file
concatenated with itself, a quote never closed.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

@dataclass(frozen=True)
class FileScan:
    """What a file holds, counted from its bytes without DuckDB's parser.

    ``records`` is the number of data records (header excluded): non-blank lines, a quoted
    field spanning lines counted once, line ends ``\n``, ``\r\n`` or a lone ``\r`` (as DuckDB
    reads them). It is the independent count every load is checked against: rows in =
    rows loaded + rows rejected.
    """

    records: int
    line_endings: str  # LF | CRLF | CR | mixed | none
    header_repeated_at: tuple[int, ...] = ()  # physical lines (1-based) that repeat the header
    copy_starts_at: int | None = None  # physical line where the file's first rows start again
    unterminated_quote_at: int | None = None  # physical line of a quote never closed

    def broken_reason(self, label: str) -> str | None:
        """Why the file is not a publisher file as published (two files joined, a cut quote), or None."""
        if self.header_repeated_at:
            lines = ", ".join(str(n) for n in self.header_repeated_at[:5])
            return (f"{label}: the header line appears again inside the file (line {lines}): two files "
                    "were joined into one, so its rows would be loaded twice")
        if self.copy_starts_at is not None:
            return (f"{label}: the file's first rows start again at line {self.copy_starts_at}: the file "
                    "was concatenated with itself, so its rows would be loaded twice")
        if self.unterminated_quote_at is not None:
            return (f"{label}: a quote opened on line {self.unterminated_quote_at} is never closed, so "
                    "every row after it would be read as one value")
        return None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, payload: dict) -> "FileScan":
        return cls(**{**payload, "header_repeated_at": tuple(payload.get("header_repeated_at", ()))})


@dataclass(frozen=True)
class LandedScan:
    """A file's scan taken when it was landed, with the size and modification time it had then.

    The fetch scans each member it extracts (a fetch runs outside the warehouse's one writer, in
    parallel), so the load, which holds the writer, reads the counts instead of every byte again.
    A file whose size or modification time is no longer the landed one is scanned again at load.
    """

    size: int
    mtime_ns: int
    scan: FileScan

    @classmethod
    def of(cls, path: Path) -> "LandedScan":
        stat = path.stat()  # before reading: a write after it changes the stamp, so the load rescans
        return cls(size=stat.st_size, mtime_ns=stat.st_mtime_ns, scan=scan_file(path))

    def describes(self, path: Path) -> bool:
        try:
            stat = os.stat(path)
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (self.size, self.mtime_ns)

    def to_json(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, **self.scan.to_json()}

    @classmethod
    def from_json(cls, payload: dict) -> "LandedScan":
        fields = dict(payload)
        return cls(size=fields.pop("size"), mtime_ns=fields.pop("mtime_ns"), scan=FileScan.from_json(fields))


def scan_landed(path: Path, landed: LandedScan | None) -> FileScan:
    """The landed scan when it still describes the file, else the file scanned now."""
    return landed.scan if landed is not None and landed.describes(path) else scan_file(path)


# Rows compared when looking for a file that starts again part-way (concatenated with itself):
# long enough that genuine repeats (BTP files repeat whole rows, in runs of a few) never match.
_COPY_PROBE_LINES = 25


def scan_file(path: Path) -> FileScan:
    """Count a CSV's records and look for signs of a broken file, from its bytes alone.

    Line ends are counted with ``bytes.count`` (fast: police.uk members are tens of MB), and a
    file's bytes are passed over as few times as possible (this runs for every file loaded); only
    a file with a quote character or a blank line has its line ends located one by one.
    """
    data = path.read_bytes()
    lf = _count_byte(data, b"\n")
    crlf = cr_only = 0
    if b"\r" in data:  # most files have none: skip two more passes
        crlf = data.count(b"\r\n")
        cr_only = data.count(b"\r") - crlf
    lf_only = lf - crlf
    kinds = [name for name, n in (("CRLF", crlf), ("LF", lf_only), ("CR", cr_only)) if n]
    endings = kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "none")
    text = data if not cr_only and not crlf else data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if text and not text.endswith(b"\n"):
        text += b"\n"
    header_end = text.find(b"\n")
    header = text[:header_end] if header_end >= 0 else text

    def line_number(offset: int) -> int:  # 1-based physical line of a byte offset
        return text.count(b"\n", 0, offset) + 1

    unterminated = None
    # ``text is data``: no \r and a final line end, so its line ends were counted above
    newlines = lf if text is data else _count_byte(text, b"\n")
    quoted = _records_with_few_quotes(text, header_end, newlines) if not _has_blank_line(text) else None
    if quoted is not None:
        records = quoted
    else:
        records, unterminated = _records_across_quotes(text)

    repeated: list[int] = []
    if header:
        at = text.find(b"\n" + header + b"\n")
        while at >= 0 and len(repeated) < 5:
            repeated.append(line_number(at + 1))
            at = text.find(b"\n" + header + b"\n", at + 1)

    # A file concatenated with itself: its first rows appear again, in order, at a line start.
    copy_at = None
    probe_end = header_end
    for _ in range(_COPY_PROBE_LINES):
        probe_end = text.find(b"\n", probe_end + 1) if probe_end >= 0 else -1
    if header_end >= 0 and probe_end >= 0 and records >= 2 * _COPY_PROBE_LINES:
        probe = text[header_end:probe_end + 1]  # "\n" + the first rows + "\n"
        found = text.find(probe, probe_end)
        if found >= 0:
            copy_at = line_number(found + 1)
    return FileScan(records=records, line_endings=endings, header_repeated_at=tuple(repeated),
                    copy_starts_at=copy_at, unterminated_quote_at=unterminated)


def _count_byte(data: bytes, byte: bytes, start: int = 0) -> int:
    """How many times ``byte`` occurs in ``data[start:]``: numpy compares 16-32 bytes an instruction,
    where ``bytes.count`` goes one by one."""
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8, offset=start) == ord(byte)))


def _has_blank_line(text: bytes) -> bool:
    """Whether two line ends follow each other (``b"\\n\\n" in text``, which CPython searches for
    slowly when line ends are frequent: a third of the whole scan before)."""
    import numpy as np

    ends = np.frombuffer(text, dtype=np.uint8) == ord("\n")
    return bool(np.any(ends[1:] & ends[:-1]))


# Up to this many quote characters, a file's quoted fields are found one by one (``bytes.find``);
# police.uk files quote a few location names ("On or near Sainsbury's, Hartlepool") in tens of
# thousands of rows, and a pass per quote is far cheaper than the vectorised scan of every byte.
_FEW_QUOTES = 4096


def _records_with_few_quotes(text: bytes, header_end: int, newlines: int) -> int | None:
    """The records of a file with no blank line and every quote closed, its quoted fields found one
    by one: lines after the header, less the line ends inside a quoted field. None when the file has
    many quotes or a quote never closed (:func:`_records_across_quotes` counts those).
    ``text`` ends with ``\\n`` and uses no ``\\r``."""
    if header_end < 0:
        return 0
    lines = newlines - 1  # line ends after the header's: the lines after it
    quotes = _count_byte(text, b'"', header_end)
    if quotes == 0:
        return max(lines, 0)
    if quotes > _FEW_QUOTES or quotes % 2:
        return None
    inside = 0
    at = text.find(b'"', header_end)
    while at >= 0:
        closing = text.find(b'"', at + 1)  # an escaped quote ("") closes and reopens: same count
        inside += text.count(b"\n", at, closing)
        at = text.find(b'"', closing + 1)
    return lines - inside


def _records_across_quotes(text: bytes) -> tuple[int, int | None]:
    """(records, line of a quote never closed) of a file with quotes or blank lines: a record starts on
    a non-blank line that begins outside any quoted field (DuckDB skips blank lines; a quoted field may
    span lines). Vectorised over the line ends, since the sample and some publishers quote fields on
    many rows and this runs for every file loaded. ``text`` ends with ``\\n`` and uses no ``\\r``."""
    import numpy as np

    data = np.frombuffer(text, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    if len(ends) < 2:
        return 0, None
    quotes = np.flatnonzero(data == ord('"'))
    # Quotes seen from the end of the header to each line end: odd means inside a quoted field.
    inside = (np.searchsorted(quotes, ends, side="right") - np.searchsorted(quotes, ends[0], side="right")) & 1
    starts = ends[:-1] + 1  # lines 2..n
    opens_record = (inside[:-1] == 0) & (starts != ends[1:])  # begins outside quotes, not blank
    unterminated = None
    if inside[-1]:
        record_lines = np.flatnonzero(opens_record)
        unterminated = int(record_lines[-1]) + 2 if len(record_lines) else None
    return int(opens_record.sum()), unterminated

