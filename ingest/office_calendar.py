"""The office's calendar (``config/calendar.toml``): Panel meetings, crime statistics releases and
consultation windows, and the dates that follow from them (papers due, statement deadlines).

The quarterly_report DAG is scheduled from it (one run on each papers-due day) and the report
shows the next dates. Standard library only: the DAG file reads the calendar when it is parsed.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CALENDAR_ENV = "OPCC_CALENDAR"
# The report is built at 06:00 UTC on the day its papers are due.
REPORT_RUN_TIME = time(6, 0, tzinfo=timezone.utc)

_KEYS = {
    None: {"papers_due_days_before_meeting", "statement_due_days_after_statistics", "panel_meetings",
           "crime_statistics_releases", "consultation_windows"},
    "panel_meetings": {"date", "purpose"},
    "crime_statistics_releases": {"date", "period"},
    "consultation_windows": {"name", "opens", "closes"},
}


class CalendarError(ValueError):
    """The calendar file is not readable as the office's calendar; the message names the file and entry."""


@dataclass(frozen=True)
class Event:
    day: date
    what: str


@dataclass(frozen=True)
class Calendar:
    path: Path
    papers_due_days: int
    statement_due_days: int
    panel_meetings: tuple[Event, ...]
    statistics_releases: tuple[Event, ...]
    consultation_windows: tuple[tuple[str, date, date], ...]

    def papers_due(self) -> list[Event]:
        return [Event(m.day - timedelta(days=self.papers_due_days), f"Papers due for the Panel meeting of "
                      f"{m.day:%-d %B %Y}") for m in self.panel_meetings]

    def report_runs(self) -> list[datetime]:
        """When the quarterly report is built: 06:00 UTC on each papers-due day, in order."""
        return sorted(datetime.combine(e.day, REPORT_RUN_TIME) for e in self.papers_due())

    def statement_deadlines(self) -> list[Event]:
        return [Event(r.day + timedelta(days=self.statement_due_days),
                      f"NCPM statement due (crime statistics for the {r.what}, released {r.day:%-d %B %Y})")
                for r in self.statistics_releases]

    def events(self) -> list[Event]:
        """Every dated event, in date order."""
        found = [Event(m.day, f"Police and Crime Panel: {m.what}") for m in self.panel_meetings]
        found += self.papers_due() + self.statement_deadlines()
        found += [Event(r.day, f"Crime statistics released ({r.what})") for r in self.statistics_releases]
        for name, opens, closes in self.consultation_windows:
            found += [Event(opens, f"{name} opens"), Event(closes, f"{name} closes")]
        return sorted(found, key=lambda e: (e.day, e.what))

    def upcoming(self, today: date, limit: int = 6) -> list[Event]:
        """The next ``limit`` events on or after ``today``."""
        return [e for e in self.events() if e.day >= today][:limit]


def calendar_path(environ: dict[str, str] | None = None) -> Path:
    """$OPCC_CALENDAR, else ``config/calendar.toml`` beside ``config/platform.toml`` (the project's,
    like the settings: OPCC_ROOT moves the data, not the configuration)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(CALENDAR_ENV) or PROJECT_ROOT / "config" / "calendar.toml")


def load_calendar(path: Path | None = None) -> Calendar:
    """Read and check the calendar; raises CalendarError naming the file and the entry at fault."""
    path = Path(path or calendar_path())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalendarError(f"{path}: no calendar file (copy config/calendar.toml and put the office's dates in)") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: not valid TOML ({exc})") from None
    _check_keys(path, data, None, "the top level")

    def days(key: str) -> int:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 120:
            raise CalendarError(f"{path}: {key} must be a whole number of days from 0 to 120, not {value!r}")
        return value

    def entries(key: str) -> list[dict]:
        found = data.get(key, [])
        if not isinstance(found, list):
            raise CalendarError(f"{path}: {key} must be a list of [[{key}]] tables")
        for number, entry in enumerate(found, 1):
            _check_keys(path, entry, key, f"[[{key}]] number {number}")
        return found

    def day(entry: dict, key: str, where: str) -> date:
        value = entry.get(key)
        if type(value) is not date:  # a TOML datetime parses as datetime, a subclass of date: refuse it too
            raise CalendarError(f"{path}: {where}: {key} must be a date (YYYY-MM-DD, unquoted), not {value!r}")
        return value

    meetings = tuple(Event(day(e, "date", f"[[panel_meetings]] {i}"), str(e.get("purpose") or "meeting"))
                     for i, e in enumerate(entries("panel_meetings"), 1))
    repeated = sorted({m.day for m in meetings if sum(n.day == m.day for n in meetings) > 1})
    if repeated:
        raise CalendarError(f"{path}: more than one Panel meeting on {', '.join(map(str, repeated))}")
    releases = tuple(Event(day(e, "date", f"[[crime_statistics_releases]] {i}"), str(e.get("period") or "quarter"))
                     for i, e in enumerate(entries("crime_statistics_releases"), 1))
    windows = []
    for i, e in enumerate(entries("consultation_windows"), 1):
        where = f"[[consultation_windows]] {i} ({e.get('name', 'unnamed')})"
        opens, closes = day(e, "opens", where), day(e, "closes", where)
        if closes < opens:
            raise CalendarError(f"{path}: {where}: closes {closes} before it opens {opens}")
        windows.append((str(e.get("name") or "Consultation"), opens, closes))
    return Calendar(path, days("papers_due_days_before_meeting"), days("statement_due_days_after_statistics"),
                    tuple(sorted(meetings, key=lambda e: e.day)), tuple(sorted(releases, key=lambda e: e.day)),
                    tuple(windows))


def _check_keys(path: Path, table: object, section: str | None, where: str) -> None:
    if not isinstance(table, dict):
        raise CalendarError(f"{path}: {where} must be a table")
    unknown = sorted(set(table) - _KEYS[section])
    if unknown:
        raise CalendarError(f"{path}: {where}: unknown key(s) {unknown}; expected some of {sorted(_KEYS[section])}")
