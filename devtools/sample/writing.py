"""Sample files written so that the same content gives the same bytes, and only when it changed.

An unchanged file keeps its mtime, so landing skips it and the demo's rerun does no work.
openpyxl and python-docx stamp the save time into ``docProps/core.xml`` and every zip entry;
both are fixed here, so a rebuilt template or sample only changes when its content does — and
an unchanged file keeps its mtime, so landing skips it.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

FIXED_STAMP = datetime(2025, 1, 1, 0, 0, 0)


def fixed_zip(data: bytes, stamp: datetime = FIXED_STAMP) -> bytes:
    """Rewrite an OOXML zip with fixed entry times and document dates."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + iso + rb"\2", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, body)
    return out.getvalue()


def write_xlsx_deterministically(workbook: Any, path: Path, stamp: datetime = FIXED_STAMP) -> bool:
    """Save an openpyxl workbook so that the same content gives the same bytes; True if the file changed."""
    buffer = io.BytesIO()
    workbook.properties.creator = "opcc-evidence-platform"
    workbook.properties.created = stamp
    workbook.save(buffer)
    return write_if_changed(path, fixed_zip(buffer.getvalue(), stamp))


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` atomically unless it already holds exactly that; True if written."""
    if path.exists() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return True


def template_csv(note: str, contract: Any, table: list[list[object]]) -> bytes:
    """An office template as the office's system writes it: a note line, the contract's header, the rows,
    one line ending throughout (DuckDB reads a file with mixed ones as empty)."""
    import csv

    buffer = io.StringIO()
    buffer.write(note + "\r\n")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in contract.columns])
    writer.writerows(table)
    return buffer.getvalue().encode("utf-8")


def write_per_force(out_dir: Path, forces: Any, file_name: str, table_for: Any, to_csv: Any) -> dict[str, int]:
    """One file per force, ``file_name.format(force_id=…)``, written only when changed; file name -> rows."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for force_id in forces:
        table = table_for(force_id)
        name = file_name.format(force_id=force_id)
        write_if_changed(out_dir / name, to_csv(table))
        written[name] = len(table)
    return written


def per_force_sample(settings: Any, source: str, generate: Any) -> Path:
    """The demo's files of ``source``, one per configured territorial force, in its ``sample_dir``."""
    section = settings.source(source) or {}
    out_dir = settings.root / section.get("sample_dir", f"var/sample/{source}")
    forces = [f for f in settings.police_uk.forces if f != "btp"]
    generate(out_dir, forces, settings.police_uk.last_month, seed=int(settings.sample.get("seed", 2011)))
    return out_dir


def per_force_main(module: str, doc: str | None, generate: Any, argv: Any = None) -> int:
    """The command line of a per-force sample: --out, --forces, --last, --seed."""
    import argparse
    import logging
    import sys

    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--forces", nargs="+", required=True)
    parser.add_argument("--last", default="2025-09")
    parser.add_argument("--seed", type=int, default=2011)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    print(generate(args.out, args.forces, args.last, args.seed))
    return 0
