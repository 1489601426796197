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
