"""The office's calendar (config/calendar.toml): read and checked, the report's run dates and the next dates."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from ingest.office_calendar import CalendarError, calendar_path, load_calendar

REPO = Path(__file__).resolve().parents[2]

GOOD = """
papers_due_days_before_meeting = 10
statement_due_days_after_statistics = 28

[[panel_meetings]]
date = 2026-06-25
purpose = "The quarter to March"

[[panel_meetings]]
date = 2026-02-05
purpose = "Precept"

[[crime_statistics_releases]]
date = 2026-04-23
period = "year ending December 2025"

[[consultation_windows]]
name = "Precept consultation"
opens = 2026-11-16
closes = 2027-01-10
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.toml"
    path.write_text(text)
    return path


def test_the_shipped_calendar_reads_and_schedules_reports():
    calendar = load_calendar(REPO / "config" / "calendar.toml")
    runs = calendar.report_runs()
    assert runs and runs == sorted(runs)
    assert all(run.tzinfo is not None and (run.hour, run.minute) == (6, 0) for run in runs)


def test_report_runs_are_the_papers_due_days_and_the_next_dates_are_in_order(tmp_path):
    calendar = load_calendar(write(tmp_path, GOOD))
    # 10 days before each meeting, meetings given out of order.
    assert calendar.report_runs() == [datetime(2026, 1, 26, 6, tzinfo=timezone.utc),
                                      datetime(2026, 6, 15, 6, tzinfo=timezone.utc)]
    upcoming = calendar.upcoming(date(2026, 4, 1))
    assert [(e.day, e.what.split(" (")[0]) for e in upcoming] == [
        (date(2026, 4, 23), "Crime statistics released"),
        (date(2026, 5, 21), "NCPM statement due"),  # 28 days after the release
        (date(2026, 6, 15), "Papers due for the Panel meeting of 25 June 2026"),
        (date(2026, 6, 25), "Police and Crime Panel: The quarter to March"),
        (date(2026, 11, 16), "Precept consultation opens"),
        (date(2027, 1, 10), "Precept consultation closes"),
    ]
    assert calendar.upcoming(date(2027, 1, 11)) == []


@pytest.mark.parametrize("change, message", [
    (("papers_due_days_before_meeting = 10", "papers_due_days_before_meeting = -1"),
     "papers_due_days_before_meeting must be a whole number of days from 0 to 120, not -1"),
    (("date = 2026-06-25", 'date = "2026-06-25"'), "[[panel_meetings]] 1: date must be a date (YYYY-MM-DD, unquoted), not '2026-06-25'"),
    (("date = 2026-02-05", "date = 2026-06-25"), "more than one Panel meeting on 2026-06-25"),
    (("closes = 2027-01-10", "closes = 2026-01-10"), "(Precept consultation): closes 2026-01-10 before it opens 2026-11-16"),
    (('purpose = "Precept"', 'purpose = "Precept"\nroom = "Council chamber"'), "[[panel_meetings]] number 2: unknown key(s) ['room']"),
    (("statement_due_days_after_statistics = 28", "statement_due_days = 28"), "the top level: unknown key(s) ['statement_due_days']"),
    (("[[consultation_windows]]", "[[consultation_windows]"), "not valid TOML"),
])
def test_a_mistyped_calendar_is_refused_naming_the_file_and_the_entry(tmp_path, change, message):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CalendarError) as refused:
        load_calendar(path)
    assert str(path) in str(refused.value) and message in str(refused.value)


def test_a_missing_calendar_says_what_to_do(tmp_path):
    with pytest.raises(CalendarError, match="no calendar file"):
        load_calendar(tmp_path / "nowhere.toml")


def test_the_calendar_path_follows_the_environment(tmp_path):
    assert calendar_path({"OPCC_CALENDAR": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"
    assert calendar_path({"OPCC_ROOT": str(tmp_path)}) == REPO / "config" / "calendar.toml"  # data moves, config not
