"""The report's folder, ``reports/<YYYY>Q<n>/``: rendered from the templates beside the old one,
checked, and swapped in whole, so a reader never sees half a report and a failed run leaves the
last good report in place. Output is deterministic given the published data (no clock, no
random ids)."""

from __future__ import annotations

import csv
import logging
import re
import shutil
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ingest.config import Settings
from ingest.raw.landing import swap_in
from ingest.report.commentary import Commentary, load_commentary
from ingest.report.context import build_context, scorecard_rows
from ingest.report.data import ReportData, default_force, read_report_data
from ingest.report.quarter import MONTHS, Quarter, ReportError
from ingest.report.wording import (format_change, format_ncpm_value, format_p, format_significance, format_value,
                                   funnel_words, is_missing, is_significant, mark_identifiers, ordinal,
                                   period_words, plain, slug)

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
REPORT_FILE = "performance_report.html"
STATEMENT_FILE = "national_measures_statement.html"
STATEMENT_PDF = "national_measures_statement.pdf"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def environment():
    """The templates' Jinja environment: a name the template does not know is an error, not blank."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(value=format_value, ncpm_value=format_ncpm_value, change=format_change, p=format_p, ordinal=ordinal,
                       slug=slug, words=plain, identifiers=mark_identifiers, funnel=funnel_words,
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


def chromium_path(settings: Settings | None = None) -> str | None:
    """``[report] chromium`` if set, else the first Chromium or Chrome on PATH, else None."""
    configured = ((settings.sections.get("report") or {}).get("chromium") if settings else None)
    if configured:
        return str(configured)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def print_pdf(chromium: str, page: Path, pdf: Path, *, timeout: int = 120) -> None:
    """``page`` printed to ``pdf`` (A4, from the stylesheet's @page) by headless Chromium, kept off the
    network (no name resolves, no background requests) with a fresh profile. Raises ReportError."""
    import subprocess

    page, pdf = page.resolve(), pdf.resolve()  # a file URI needs an absolute path (--out may be relative)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        done = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
             "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReportError(f"{chromium} could not print {page.name} to PDF: {exc}") from None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise ReportError(f"{chromium} could not print {page.name} to PDF (exit {done.returncode}): "
                          f"{done.stderr.strip()[-500:]}")


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


def reports_dir(settings: Settings) -> Path:
    configured = (settings.sections.get("report") or {}).get("out_dir", "reports")
    path = Path(str(configured).replace("{root}", str(settings.root)))
    return path if path.is_absolute() else settings.root / path


def upcoming_dates(settings: Settings, today: date | None = None) -> list[dict[str, Any]]:
    """The office's next dates (config/calendar.toml, or $OPCC_CALENDAR): Panel meetings, papers and
    statement deadlines, releases, consultations. None configured: an empty list (no section)."""
    from ingest.office_calendar import calendar_path, load_calendar

    path = calendar_path()
    if not path.exists():
        log.warning("%s: no calendar; the report shows no upcoming dates", path)
        return []
    today = today or datetime.now(timezone.utc).date()
    return [{"day": e.day, "what": e.what} for e in load_calendar(path).upcoming(today)]


def commentary_dir(settings: Settings) -> Path:
    configured = (settings.sections.get("report") or {}).get("commentary_dir", "config/commentary")
    path = Path(str(configured).replace("{root}", str(settings.root)))
    return path if path.is_absolute() else settings.root / path


def _commentary(settings: Settings, data: ReportData) -> Commentary:
    priorities: dict[str, bool] = {}
    for m in data.ncpm_measures:
        priorities[m["priority_id"]] = priorities.get(m["priority_id"], False) or m["measure_id"] in data.ncpm
    folder = commentary_dir(settings)
    try:
        shown = str(folder.relative_to(settings.root))
    except ValueError:
        shown = str(folder)
    return load_commentary(folder, data.quarter, data.force_id, priorities, display_folder=shown)


def render(settings: Settings, period: str | None = None, *, force_id: str | None = None,
           published: Path | None = None, out_dir: Path | None = None, warnings: list[str] | None = None,
           pdf: bool = True) -> Path:
    """Render the report for ``period`` (``2025Q3``; default the latest complete quarter) into
    ``reports/<period>/`` and return the path of ``performance_report.html``. What the statement
    lacks (commentary the office has not written, no Chromium for the PDF) is logged and appended
    to ``warnings``, one line each."""
    published = Path(published or settings.paths.published)
    if not published.exists():
        raise ReportError(f"{published} does not exist: run the evidence build (make demo) first")
    force_id = force_id or default_force(settings)
    quarter = Quarter.parse(period) if period else None
    data = read_report_data(published, force_id, quarter)
    commentary = _commentary(settings, data)
    notes = list(commentary.warnings)
    # Built once: every chart is drawn here, and the report and the statement render from this context.
    context, charts = build_context(data, commentary)
    context["calendar"] = upcoming_dates(settings)  # the "Coming up" section
    chromium = chromium_path(settings) if pdf else None
    if pdf and not chromium:
        notes.append(f"statement PDF not written: no Chromium found ({', '.join(CHROMIUM_NAMES)}; or set [report] chromium)")
    root = Path(out_dir or reports_dir(settings))
    root.mkdir(parents=True, exist_ok=True)
    target = root / data.quarter.label
    # Built inside the reports folder, so the swap is a rename on one file system.
    building = Path(tempfile.mkdtemp(prefix=f".{data.quarter.label}.", dir=root))
    try:
        _write_folder(building, data, context, charts)
        check_rendered(building, data)
        if chromium:
            print_pdf(chromium, building / STATEMENT_FILE, building / STATEMENT_PDF)
        building.chmod(0o755)  # mkdtemp makes it 0700: the report is for others to read
        swap_in(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    for line in notes:
        log.warning("%s", line)
    if warnings is not None:
        warnings.extend(notes)
    report = target / REPORT_FILE
    log.info("rendered %s (%d measures, %d charts, %.0f kB)", report, len(data.measures), len(charts),
             report.stat().st_size / 1024)
    return report
