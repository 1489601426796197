"""The report's folder, ``reports/<YYYY>Q<n>/``: rendered from the templates beside the old one,
checked, and swapped in whole, so a reader never sees half a report and a failed run leaves the
last good report in place. Output is deterministic given the published data (no clock, no
random ids)."""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.config import Settings
from ingest.report.context import build_context, scorecard_rows
from ingest.report.data import ReportData, default_force, read_report_data
from ingest.report.quarter import MONTHS, Quarter, ReportError
from ingest.report.wording import (format_change, format_p, format_significance, format_value, funnel_words, is_missing,
                                   is_significant, mark_identifiers, ordinal,
                                   period_words, plain, slug)

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
REPORT_FILE = "performance_report.html"
STATEMENT_FILE = "national_measures_statement.html"


def environment():
    """The templates' Jinja environment: a name the template does not know is an error, not blank."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(value=format_value, change=format_change, p=format_p, ordinal=ordinal, slug=slug, words=plain,
                       identifiers=mark_identifiers, funnel=funnel_words,
                       significance=format_significance, significant=is_significant)
    env.globals.update(period_words=period_words, month_name=lambda d: f"{MONTHS[d.month - 1]} {d.year}")
    return env


def _write_scorecard(folder: Path, rows: list[dict[str, Any]], published_at: Any) -> None:
    with (folder / "scorecard.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["measure_id"])
        writer.writeheader()
        writer.writerows(rows)
    try:
        from openpyxl import Workbook
    except ImportError:  # pragma: no cover - openpyxl is in the lock
        return
    book = Workbook()
    sheet = book.active
    sheet.title = "scorecard"
    if rows:
        sheet.append(list(rows[0]))
        for row in rows:
            sheet.append([None if is_missing(v) else v for v in row.values()])  # NaN is not a valid cell
        sheet.freeze_panes = "A2"
    if isinstance(published_at, datetime):
        book.properties.created = book.properties.modified = published_at
    book.save(folder / "scorecard.xlsx")


def _write_folder(folder: Path, data: ReportData, context: dict[str, Any], charts: dict[str, str]) -> None:
    env = environment()
    (folder / "charts").mkdir()
    for name, svg in charts.items():
        (folder / "charts" / f"{name}.svg").write_text(
            '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg, encoding="utf-8")
    (folder / REPORT_FILE).write_text(env.get_template("performance_report.html.j2").render(**context), encoding="utf-8")
    (folder / STATEMENT_FILE).write_text(env.get_template("national_statement.html.j2").render(**context), encoding="utf-8")
    _write_scorecard(folder, scorecard_rows(data), data.published_at)


def check_rendered(folder: Path, data: ReportData) -> None:
    """The report gate: every measure of the plan is in the report, with a value or a data gap,
    and every chart the report names is there. Raises ReportError (the old report stays)."""
    html = (folder / REPORT_FILE).read_text(encoding="utf-8")
    missing = [m["measure_id"] for m in data.measures if f'id="measure-{slug(m["measure_id"])}"' not in html]
    if missing:
        raise ReportError(f"the rendered report lacks measure(s) {', '.join(missing)}")
    for chart in re.findall(r'data-chart="([^"]+)"', html):
        if not (folder / "charts" / f"{chart}.svg").exists():
            raise ReportError(f"chart {chart} was not written")
    if "{{" in html or "{%" in html:
        raise ReportError("template syntax left in the rendered report")


def replace_directory(source: Path, target: Path) -> None:
    """Put ``source`` at ``target``, replacing any old folder in one step where the OS allows
    (Linux renameat2 RENAME_EXCHANGE), else by two renames a moment apart."""
    if not target.exists():
        os.rename(source, target)
        return
    if _exchange(source, target):
        shutil.rmtree(source)  # now holds the old report
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(target, old)
    try:
        os.rename(source, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    # Python has no os.renameat2: call libc's, where there is one (glibc 2.28+).
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2  # <fcntl.h>, <linux/fs.h>
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def reports_dir(settings: Settings) -> Path:
    configured = (settings.sections.get("report") or {}).get("out_dir", "reports")
    path = Path(str(configured).replace("{root}", str(settings.root)))
    return path if path.is_absolute() else settings.root / path


def render(settings: Settings, period: str | None = None, *, force_id: str | None = None,
           published: Path | None = None, out_dir: Path | None = None) -> Path:
    """Render the report for ``period`` (``2025Q3``; default the latest complete quarter) into
    ``reports/<period>/`` and return the path of ``performance_report.html``."""
    published = Path(published or settings.paths.published)
    if not published.exists():
        raise ReportError(f"{published} does not exist: run the evidence build (make demo) first")
    force_id = force_id or default_force(settings)
    quarter = Quarter.parse(period) if period else None
    data = read_report_data(published, force_id, quarter)
    context, charts = build_context(data)
    root = Path(out_dir or reports_dir(settings))
    root.mkdir(parents=True, exist_ok=True)
    target = root / data.quarter.label
    # Built inside the reports folder, so the swap is a rename on one file system.
    building = Path(tempfile.mkdtemp(prefix=f".{data.quarter.label}.", dir=root))
    try:
        _write_folder(building, data, context, charts)
        check_rendered(building, data)
        building.chmod(0o755)  # mkdtemp makes it 0700: the report is for others to read
        replace_directory(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    report = target / REPORT_FILE
    log.info("rendered %s (%d measures, %d charts, %.0f kB)", report, len(data.measures), len(charts),
             report.stat().st_size / 1024)
    return report
