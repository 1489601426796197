"""What the police.uk sample generators share: random streams, the seasonal cycle and trend, the files' headers."""

from __future__ import annotations

from devtools.sample import draws
from ingest.months import month_index
from ingest.sources.police_uk_contract import OUTCOMES, STOP_AND_SEARCH, STREET

STREAM_CRIMES, STREAM_STOP_SEARCH, STREAM_FORCE, STREAM_REPEATS = 1, 2, 3, 4

TREND_BASE_MONTH = "2023-01"

# Volume by calendar month (Feb is short and quiet, summer peaks).
SEASON = (0.96, 0.88, 0.98, 0.98, 1.04, 1.06, 1.10, 1.07, 1.02, 1.01, 0.97, 0.93)

def trend(force_id: str, month: str, salt: str) -> float:
    yearly = -0.02 + 0.06 * draws.unit(force_id, salt, "trend")  # -2% .. +4% a year
    years = (month_index(month) - month_index(TREND_BASE_MONTH)) / 12
    return (1 + yearly) ** years

HEADER = {ds.kind: draws.csv_fields(*ds.headers) + "\n" for ds in (STREET, OUTCOMES, STOP_AND_SEARCH)}
