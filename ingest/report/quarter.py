"""Calendar quarters, the report's unit of time, and the errors every part of the report raises.

No I/O here: a quarter is parsed, named and bounded the same way by the command line, the DAG's
gate, the SQL reads and the sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

QUARTER = re.compile(r"^(?P<year>\d{4})\s*-?\s*Q(?P<quarter>[1-4])$", re.I)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


class ReportError(RuntimeError):
    """The report cannot be rendered; the message says what to look at."""


class ReportNotReady(ReportError):
    """The published data does not (yet) complete the quarter asked for; nothing was replaced."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = QUARTER.match(text.strip())
        if not match:
            raise ReportError(f"quarter {text!r} is not like 2024Q2 (a calendar quarter: Q1 = January to March)")
        return cls(int(match["year"]), int(match["quarter"]))

    @classmethod
    def containing(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_complete_before(cls, day: date) -> "Quarter":
        """The latest quarter that ended before ``day`` (a run on 2025-11-15 reports 2025Q3)."""
        return cls.containing(day).previous()

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def first_month(self) -> str:
        """'July' for 2025Q3."""
        return MONTHS[3 * self.number - 3]

    @property
    def last_month(self) -> str:
        """'September 2025' for 2025Q3: how a twelve-month window ending with the quarter is named."""
        return f"{MONTHS[3 * self.number - 1]} {self.year}"

    @property
    def words(self) -> str:
        """July to September 2025."""
        return f"{self.first_month} to {self.last_month}"

    def __str__(self) -> str:
        return self.label
