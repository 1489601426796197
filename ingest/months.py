"""Calendar months as the publishers write them (``YYYY-MM``): checked, counted, ranged."""

from __future__ import annotations

import re

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_month(month: str) -> str:
    if not isinstance(month, str) or not MONTH_RE.match(month):
        raise ValueError(f"expected a month as YYYY-MM, found {month!r}")
    return month


def month_index(month: str) -> int:
    """Months since year 0: ``2024-03`` -> 2024*12 + 2."""
    check_month(month)
    return int(month[:4]) * 12 + int(month[5:]) - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive, as ``YYYY-MM``."""
    lo, hi = month_index(first), month_index(last)
    if hi < lo:
        raise ValueError(f"last month {last} is before first month {first}")
    return [month_from_index(i) for i in range(lo, hi + 1)]
