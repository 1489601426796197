"""Force names as publishers write them → data.police.uk force ids (seed ``force_name_aliases``).

The HMICFRS grades, the finance plans and the CSP assessment register all name forces in
words ("Lancashire Constabulary", "Avon & Somerset"); this is the one lookup they share.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from ingest.config import PROJECT_ROOT

FORCE_ALIASES_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "force_name_aliases.csv"


@lru_cache(maxsize=1)
def force_aliases() -> dict[str, str]:
    """Lower-cased force names and ids → data.police.uk force id."""
    with FORCE_ALIASES_SEED.open(newline="", encoding="utf-8") as handle:
        return {row["alias"].strip().lower(): row["force_id"] for row in csv.DictReader(handle)}


def resolve_force(name: str) -> str | None:
    """``Lancashire Constabulary``, ``lancashire`` or ``Lancashire`` → ``lancashire``; None if unknown."""
    return force_aliases().get(" ".join(name.split()).lower())
