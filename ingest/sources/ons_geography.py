"""ONS Open Geography Portal lookups: LSOA → ward → local authority, local authority → CSP → police force area.

The same small surface as every source:
  * ``files_for`` / ``is_published`` — what there is to fetch for a period (a year);
  * ``fetch``  — land each configured file as published (conditional GET, manifest);
  * ``load``   — replace each file's partition in ``raw.*``, gate it, commit.

Every file is a *vintage*: the year is in its column names (``LAD19CD``, ``LSOA11CD``) and
becomes the partition (``_vintage``, or ``_lsoa_vintage`` + ``_lad_vintage`` for the LSOA
lookup), so the 2016–2019 lookups sit side by side and a re-issued vintage replaces only
itself. Columns are matched by pattern, not position: ONS exports put ``FID`` first or last
and newer ones use ``ObjectId``. Names double-encoded in the export (``Ynys MÃ´n``) are
repaired as they are loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.raw import Clean, Column, Contract

if TYPE_CHECKING:
    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "ons_geography"


def area_columns(area: str, prefix: str, vintage: str | None = "vintage", code_required: bool = True) -> tuple[Column, ...]:
    """One geography's code, name and (optional) Welsh name columns, as ONS heads them: ``CSP24CD``,
    ``CSP24NM``, ``CSP24NMW``; the two-digit year is captured as ``vintage`` (None: not captured)."""
    year = rf"(?P<{vintage}>\d{{2}})" if vintage else r"\d{2}"
    return (Column(f"{area}_code", rf"{prefix}{year}CD", required=code_required),
            Column(f"{area}_name", rf"{prefix}{year}NM", required=code_required, clean=Clean.REPAIR_TEXT),
            Column(f"{area}_name_welsh", rf"{prefix}{year}NMW", required=False, clean=Clean.REPAIR_TEXT))


LSOA_LAD_LOOKUP = Contract(
    dataset="lsoa_lad_lookup",
    table="ons_lsoa_lad_lookup",
    description="Lower layer super output area → (ward →) local authority district, one row per LSOA.",
    columns=(
        *area_columns("lsoa", "LSOA", "lsoa_vintage"),
        *area_columns("ward", "WD", None, code_required=False),
        *area_columns("lad", "LAD", "lad_vintage"),
    ),
    partition=("_lsoa_vintage", "_lad_vintage"),
    other_layouts=(
        ("the LSOA 2011 → 2021 change lookup (two LSOA vintages and CHGIND; one LSOA can appear on several rows)",
         r"(^|,)CHGIND(,|$)"),
    ),
)

LAD_CSP_PFA_LOOKUP = Contract(
    dataset="lad_csp_pfa_lookup",
    table="ons_lad_csp_pfa_lookup",
    description="Local authority district → community safety partnership → police force area, one row per LAD.",
    columns=(*area_columns("lad", "LAD"), *area_columns("csp", "CSP"), *area_columns("pfa", "PFA")),
    partition=("_vintage",),
)

def _names(area: str, prefix: str, description: str) -> Contract:
    """An ONS names-and-codes file of one geography, one row per area, partitioned by its vintage."""
    return Contract(dataset=f"{area}_names", table=f"ons_{area}_names", description=description,
                    columns=area_columns(area, prefix), partition=("_vintage",))


CSP_NAMES = _names("csp", "CSP", "Community safety partnership names and codes (English and Welsh), one row per CSP.")
PFA_NAMES = _names("pfa", "PFA", "Police force area names and codes, one row per PFA (UK files add Scotland, NI "
                   "and placeholders).")

CONTRACTS: dict[str, Contract] = {c.dataset: c for c in (LSOA_LAD_LOOKUP, LAD_CSP_PFA_LOOKUP, CSP_NAMES, PFA_NAMES)}

# The surface every file source exposes to its DAG (what is there, fetch, the raw tables), from the
# declaration; this module writes only what is its own: how a landed file is loaded.
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


# --------------------------------------------------------------------------- what is there


# --------------------------------------------------------------------------- fetch and load


def _load_unit(con, landed: raw.Landed, unit: raw.Unit, results_dir: Path) -> raw.LoadResult:
    file = landed.file
    expected: dict[str, str] = {}
    if file.year is not None:
        # The configured year must agree with the header's (LAD19CD in a file configured as 2019).
        expected = {("lad_vintage" if file.dataset == LSOA_LAD_LOOKUP.dataset else "vintage"): str(file.year)}
    return raw.load_file(con, CONTRACTS[unit.dataset], Path(unit.csv_path), partition={},
                        source_file=unit.source_file, file_sha256=landed.sha256, results_dir=results_dir,
                        expect_captured=expected)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed file for the period; each file is its own transaction (see ingest/raw/files.py LoadRun)."""
    return DECLARED.load(settings, _load_unit, year, run_dir)
