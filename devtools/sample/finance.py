"""Sample finance files in the real formats: filled-in plan workbooks and the settlement CSV.

* ``<force_id>-finance-plan-2025-26.xlsx`` per force: the committed template
  (``templates/finance/finance_plan_template.xlsx``) filled in as a finance team would,
  with a four-year Medium Term Financial Plan from 2025/26. The figures are SYNTHETIC
  (plausible sizes, balanced budgets, reserves that add up) except the 2025/26 police grant,
  which is the force's real settlement, so the funding mart can be checked against it.
* ``police-grant-2025-26.csv``: the Home Office settlement per force in the CSV edition's
  layout (``#`` notes, then ``force,budget_gbp``), with the real 2025-26 values
  (Police Grant Report 2025-26, 'Overall Total'; see shared/data/finance/SOURCES.md).

Deterministic: the same seed writes the same bytes (and an unchanged file is not rewritten).

    python -m devtools.sample.finance --out var/sample/finance --forces lancashire west-midlands
"""

from __future__ import annotations

import argparse
import logging
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

from devtools.sample.writing import write_if_changed, write_xlsx_deterministically
from ingest.sources import finance

log = logging.getLogger(__name__)

PLAN_YEARS = ("2025/26", "2026/27", "2027/28", "2028/29")
SETTLEMENT_FILE = "police-grant-2025-26.csv"

# Police Grant Report 2025-26, per-force 'Overall Total' (integer pounds), as in the CSV edition.
SETTLEMENT_2025_26: dict[str, int] = {
    "Avon and Somerset": 231607316, "Bedfordshire": 89796074, "Cambridgeshire": 104239821,
    "Cheshire": 150680231, "City of London": 68842409, "Cleveland": 121078242, "Cumbria": 84899111,
    "Derbyshire": 142436827, "Devon and Cornwall": 238109971, "Dorset": 86023913, "Durham": 112902355,
    "Dyfed-Powys": 38930060, "Essex": 226496040, "Gloucestershire": 78049635, "Greater Manchester": 573965227,
    "Gwent": 58261643, "Hampshire": 258895787, "Hertfordshire": 155245239, "Humberside": 162844543,
    "Kent": 245418856, "Lancashire": 253239560, "Leicestershire": 149398893, "Lincolnshire": 85506516,
    "Merseyside": 331638676, "Metropolitan Police": 2293667499, "Norfolk": 115480008, "North Wales": 56384956,
    "North Yorkshire": 99967235, "Northamptonshire": 96686118, "Northumbria": 300591884,
    "Nottinghamshire": 178948808, "South Wales": 135114023, "South Yorkshire": 250092807,
    "Staffordshire": 154682190, "Suffolk": 92286811, "Surrey": 132132164, "Sussex": 216775293,
    "Thames Valley": 304039970, "Warwickshire": 70314436, "West Mercia": 159104841, "West Midlands": 598077146,
    "West Yorkshire": 420762883, "Wiltshire": 82937470,
}
SETTLEMENT_NOTES = (
    "# Police Grant Report 2025-26 — central government grant per Police Force",
    "# Area, England and Wales. Source: Home Office, gov.uk. The figures are the",
    "# 'Overall Total' column of the Police Grant Report 2025-26 per-force table:",
    "# Police Main Grant + ex-DCLG Formula Funding + Legacy Council Tax Grants +",
    "# Welsh Top-Up (where applicable). Council tax precept is locally raised and excluded.",
    "#",
    "# Welsh forces carry only Police Main Grant + Welsh Top-Up (other streams are routed",
    "# through the Welsh Government); compare them with English forces with care.",
    "#",
    "# Sample copy written by devtools.sample.finance for the offline demo.",
)


@dataclass(frozen=True)
class ForceFinance:
    """The few numbers a synthetic plan is grown from (rough sizes of the real forces)."""

    band_d_gbp: float
    tax_base: float  # Band D equivalent properties
    other_grants_gbp: int
    districts: tuple[str, ...]


PROFILES: dict[str, ForceFinance] = {
    "lancashire": ForceFinance(286.45, 445_210.0, 21_400_000,
                               ("Blackburn with Darwen", "Blackpool", "Burnley", "Lancaster", "Preston", "Pendle")),
    "west-midlands": ForceFinance(254.62, 761_840.0, 46_900_000,
                                  ("Birmingham", "Coventry", "Dudley", "Sandwell", "Walsall", "Wolverhampton")),
}
# Shares of gross expenditure by budget line (the Income line is what balances the budget).
LINE_SHARES = {
    "Police officer pay": 0.52, "Police staff pay": 0.22, "PCSO pay": 0.03, "Overtime": 0.025,
    "Premises": 0.04, "Transport": 0.025, "Supplies and services": 0.08, "Third-party payments": 0.03,
    "Office of the PCC": 0.005, "Commissioned services": 0.012, "Capital financing": 0.013,
}
COST_GROWTH, GRANT_GROWTH, PRECEPT_GROWTH, TAX_BASE_GROWTH = 0.045, 0.02, 0.03, 0.008


def _short_name(force_id: str) -> str:
    from ingest.force_names import resolve_force

    for name in finance.FORCE_NAMES:
        if resolve_force(name) == force_id:
            return name
    raise ValueError(f"{force_id!r} is not one of the 43 territorial forces of the settlement")


def plan_rows(force_id: str, seed: int = 2011) -> dict[str, list[list]]:
    """The rows of each sheet, in the template's column order (Plan: the values of B2…)."""
    profile = PROFILES.get(force_id)
    if profile is None:
        raise ValueError(f"no sample finance profile for {force_id!r}; add one to PROFILES ({sorted(PROFILES)})")
    rng = random.Random(f"{seed}:{force_id}:finance")
    name = _short_name(force_id)
    grant0 = SETTLEMENT_2025_26[name]
    rows: dict[str, list[list]] = {s.dataset: [] for s in finance.SHEETS}
    rows["plans"] = [[name, f"Medium Term Financial Plan 2025/26 to 2028/29 (SYNTHETIC SAMPLE, {name})", "2025/26",
                      date(2025, 2, 6), "OPCC finance team (sample)", f"https://example.org/{force_id}/mtfp-2025-26"]]
    net0 = None
    for i, year in enumerate(PLAN_YEARS):
        grant = round(grant0 * (1 + GRANT_GROWTH) ** i)
        band_d = round(profile.band_d_gbp * (1 + PRECEPT_GROWTH) ** i, 2)
        tax_base = round(profile.tax_base * (1 + TAX_BASE_GROWTH) ** i, 1)
        precept = round(band_d * tax_base)
        other = round(profile.other_grants_gbp * (1 + 0.01 * i))
        funding = grant + precept + other
        rows["funding"].append([year, grant, precept, other, band_d, tax_base, "sample figures" if i else None])
        # Costs grow faster than funding: the gap is the savings required; the budget is balanced after savings.
        net0 = net0 or funding
        pressure = round(net0 * (1 + COST_GROWTH) ** i)
        required = max(pressure - funding, 0) + (round(funding * 0.02) if i == 0 else 0)
        identified = required if i == 0 else round(required * (0.75 - 0.2 * (i - 1)))
        rows["savings_plan"].append([year, required, identified, None, None if i else "balanced after savings"])
        gross = round(funding / (1 - 0.085))  # income is about 8.5% of gross expenditure
        lines = {line: round(gross * share * rng.uniform(0.97, 1.03)) for line, share in LINE_SHARES.items()}
        lines["Income"] = sum(lines.values()) - funding  # balanced: expenditure - income = funding
        for line in finance.budget_lines():
            rows["revenue_budget"].append([year, line, lines[line], None])
    # Reserves: a general reserve at about 3% of the net budget, three earmarked reserves drawn down.
    reserves = [("General reserve", "General", round(net0 * 0.03), 0, 0),
                ("Budget resilience reserve", "Earmarked", round(net0 * 0.025), 0, round(net0 * 0.004)),
                ("Capital financing reserve", "Earmarked", round(net0 * 0.02), round(net0 * 0.002), round(net0 * 0.005)),
                ("PCC community safety reserve", "Earmarked", round(net0 * 0.002), 0, round(net0 * 0.0004))]
    for reserve, kind, opening, contribution, use in reserves:
        for year in PLAN_YEARS:
            closing = opening + contribution - use
            rows["reserves"].append([year, reserve, kind, opening, contribution or None, use or None, closing, None])
            opening = closing
    for year, with_outcome in (("2024/25", True), ("2025/26", False)):
        for k, district in enumerate(profile.districts):
            amount = 25_000 * rng.randint(2, 6)
            rows["crime_reduction_grants"].append([
                year, f"{district} Community Safety Partnership", "Community Safety Partnership",
                f"{district} Community Safety Partnership",
                ("Serious violence prevention: youth outreach and diversion" if k % 2 == 0
                 else "Anti-social behaviour problem-solving in hotspot neighbourhoods"),
                amount, "Quarterly monitoring returns; spend within the financial year; match funding not required",
                "Delivered: 120 young people engaged; evaluation report received" if with_outcome else None,
                date(int(year[:4]), 4, 1 + k),
            ])
        rows["crime_reduction_grants"].append([
            year, "Victim Support (sample)", "Charity or voluntary organisation", None,
            "Domestic abuse advocacy (IDVA) service", 180_000,
            "Outcomes framework reporting to the OPCC; safeguarding policy in place",
            "Delivered: 640 victims supported" if with_outcome else None, date(int(year[:4]), 4, 1),
        ])
    return rows


def write_plan(path: Path, force_id: str, seed: int = 2011, template: Path = finance.TEMPLATE_PATH) -> bool:
    """Fill the committed template with the force's sample plan; True when the file changed."""
    import openpyxl

    wb = openpyxl.load_workbook(template)
    rows = plan_rows(force_id, seed)
    for spec in finance.SHEETS:
        ws = wb[spec.sheet]
        if spec.layout == "fields":
            for offset, value in enumerate(rows[spec.dataset][0]):
                ws.cell(row=offset + 2, column=2, value=value)
            continue
        for r, values in enumerate(rows[spec.dataset], start=2):
            for c, (column, value) in enumerate(zip(spec.columns, values), start=1):
                cell = ws.cell(row=r, column=c, value=value)
                if column.kind == "money":
                    cell.number_format = "#,##0;[Red]-#,##0"
                elif column.kind == "date":
                    cell.number_format = "yyyy-mm-dd"
    return write_xlsx_deterministically(wb, path)


def write_settlement(path: Path) -> bool:
    """The settlement CSV as the CSV edition lays it out; True when the file changed."""
    lines = [*SETTLEMENT_NOTES, "force,budget_gbp", *(f"{f},{v}" for f, v in SETTLEMENT_2025_26.items())]
    content = ("\n".join(lines) + "\n").encode("utf-8")
    return write_if_changed(path, content)


def generate(out_dir: Path, forces: Sequence[str], seed: int = 2011) -> dict[str, bool]:
    """Write every sample file under ``out_dir``; returns {file name: changed}."""
    written = {SETTLEMENT_FILE: write_settlement(out_dir / SETTLEMENT_FILE)}
    for force_id in forces:
        name = f"{force_id}-finance-plan-2025-26.xlsx"
        written[name] = write_plan(out_dir / name, force_id, seed)
    log.info("finance sample in %s: %s", out_dir, written)
    return written


def generate_sample(settings) -> Path:
    """The demo's finance files, for the configured forces, in ``var/sample/finance`` (config/demo.toml)."""
    out_dir = settings.root / "var" / "sample" / "finance"
    generate(out_dir, [f for f in settings.police_uk.forces if f in PROFILES],
             int(settings.sample.get("seed", 2011)))
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("var/sample/finance"))
    parser.add_argument("--forces", nargs="+", default=sorted(PROFILES))
    parser.add_argument("--seed", type=int, default=2011)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate(args.out, args.forces, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
