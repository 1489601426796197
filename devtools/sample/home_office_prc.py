"""Synthetic Home Office police recorded crime tables, consistent with the sample police.uk archive.

For the sample forces and months it writes, under ``out_dir``:

* ``prc-csp-<first>-<last>-tables-<ddmmyy>.ods`` — the CSP open data table as the Home Office
  now ships it: a ``Notes`` sheet (with an ``Updated:`` date), then one sheet per financial
  year named ``2023_24``, each with the header ``Financial Year, Financial Quarter, Force Name,
  CSP Name, Offence Description, Offence Group, Offence Subgroup, Offence Code, Number of
  Offences``. Years before 2023/24 use the older labels (``Theft Offences``, ``Stalking and
  Harassment``, ``Other theft offences``), as the real tables drift.
* ``prc-csp-<first>-<last>-tables.csv`` — the same rows as one CSV (the CSV editions the Home
  Office published for earlier years); the demo loads this one until python-calamine is installed.
* ``prc-pfa-<first>-onwards-tables-<ddmmyy>.ods`` — the PFA open data table (the real one is
  ``prc-pfa-mar2013-onwards-tables-<ddmmyy>.ods``): the CSP table's long layout without ``CSP
  Name`` (``Financial Year, Financial Quarter, Force Name, Offence Description, Offence Group,
  Offence Subgroup, Offence Code, Number of Offences``), a ``Notes`` sheet and one sheet per
  financial year. The same forces and quarters as the CSP table (each force's CSPs summed,
  ``Unassigned`` included), plus the rows the real table carries for bodies that are not
  force areas: British Transport Police (from the sample police.uk BTP crimes) and the
  national fraud bodies Action Fraud, CIFAS and UK Finance (``Fraud offences``).
* ``rec-crime-pfa.csv`` — the force-level rolling-year layout of the real ``rec-crime-pfa.csv``
  (``12 months ending,PFA,Region,Offence,Rolling year total number of offences``, dd-mm-yyyy,
  CRLF), computed from the same quarters.

The counts are the sample police.uk crimes (:func:`devtools.sample.police_uk.generate_crimes`,
anti-social behaviour left out), by the CSP of the crime's LSOA, split into Home Office
offence codes, and scaled up by 0–2.5% (recorded crime is a little above what police.uk maps).
Crimes police.uk could not locate go to the force's ``Unassigned <force>`` pseudo-CSP. One
force-quarter carries 20% more violence than police.uk shows, so the reconciliation has a
gap to flag. CSP names are written as the Home Office spells them (``Bristol``, not ONS's
``Bristol, City of``; ``Blackburn With Darwen``), so the alias seed and the name matching are
exercised. Only whole quarters inside the police.uk window are written.

The ODS file is written with the standard library (a zip of OpenDocument XML); reading ODS
back needs python-calamine (see ``ingest.raw.files``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import sys
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from devtools.sample.geography import all_districts, force_areas
from devtools.sample.police_uk import generate_crimes, geography, month_range
from ingest.sources.police_uk_contract import CRIME_TYPES

log = logging.getLogger(__name__)

HEADER = ["Financial Year", "Financial Quarter", "Force Name", "CSP Name", "Offence Description",
          "Offence Group", "Offence Subgroup", "Offence Code", "Number of Offences"]
PFA_HEADER = [h for h in HEADER if h != "CSP Name"]
BTP = ("btp", "British Transport Police")
# The national fraud bodies' rows in the PFA table: (name, offences a quarter at scale 1.0, sample
# offence code). Counts and codes are sample data of a plausible size, not a reference.
FRAUD_BODIES = (("Action Fraud", 80_000, "53A"), ("CIFAS", 75_000, "53B"), ("UK Finance", 20_000, "53C"))
ROLLING_HEADER = ["12 months ending", "PFA", "Region", "Offence", "Rolling year total number of offences"]
VAP, SEX, THEFT = "Violence against the person", "Sexual offences", "Theft offences"
# police.uk crime type -> Home Office offences it is recorded as: (share, group, subgroup, code, description).
# Codes and descriptions are modelled on the Home Office's; they are sample data, not a reference.
OFFENCES: dict[str, tuple[tuple[float, str, str, str, str], ...]] = {
    "Violence and sexual offences": (
        (0.33, VAP, "Violence with injury", "8N", "Assault with injury"),
        (0.02, VAP, "Violence with injury", "5D", "Assault with intent to cause serious harm"),
        (0.30, VAP, "Violence without injury", "105A", "Assault without injury"),
        (0.03, VAP, "Violence without injury", "3A", "Threats to kill"),
        (0.12, VAP, "Stalking and harassment", "8L", "Harassment"),
        (0.08, VAP, "Stalking and harassment", "8R", "Malicious communications"),
        (0.03, VAP, "Stalking and harassment", "8Q", "Stalking"),
        (0.0005, VAP, "Homicide", "1", "Murder"),
        (0.0007, VAP, "Death or serious injury caused by unlawful driving", "4.4", "Causing death by dangerous driving"),
        (0.03, SEX, "Rape", "19C", "Rape of a female aged 16 and over"),
        (0.05, SEX, "Other sexual offences", "17A", "Sexual assault on a female aged 13 and over"),
    ),
    "Robbery": ((0.9, "Robbery", "Robbery of personal property", "34B", "Robbery of personal property"),
                (0.1, "Robbery", "Robbery of business property", "34A", "Robbery of business property")),
    "Burglary": ((0.7, THEFT, "Residential burglary", "28E", "Residential burglary of a home"),
                 (0.3, THEFT, "Non-residential burglary", "30C", "Non-residential burglary")),
    "Vehicle crime": ((0.55, THEFT, "Vehicle offences", "45", "Theft from a vehicle"),
                      (0.30, THEFT, "Vehicle offences", "48", "Theft or unauthorised taking of a motor vehicle"),
                      (0.15, THEFT, "Vehicle offences", "126", "Interfering with a motor vehicle")),
    "Theft from the person": ((1.0, THEFT, "Theft from the person", "39", "Theft from the person"),),
    "Bicycle theft": ((1.0, THEFT, "Bicycle theft", "44", "Theft or unauthorised taking of a pedal cycle"),),
    "Shoplifting": ((1.0, THEFT, "Shoplifting", "46", "Shoplifting"),),
    "Other theft": ((1.0, THEFT, "All other theft offences", "49", "Other theft"),),
    "Criminal damage and arson": (
        (0.40, "Criminal damage and arson", "Criminal damage", "58A", "Criminal damage to a dwelling"),
        (0.45, "Criminal damage and arson", "Criminal damage", "58C", "Criminal damage to a vehicle"),
        (0.15, "Criminal damage and arson", "Arson", "56B", "Arson not endangering life")),
    "Drugs": ((0.20, "Drug offences", "Trafficking of drugs", "92A", "Trafficking in controlled drugs"),
              (0.55, "Drug offences", "Possession of drugs", "92D", "Possession of cannabis"),
              (0.25, "Drug offences", "Possession of drugs", "92E", "Possession of other controlled drugs")),
    "Possession of weapons": (
        (0.7, "Possession of weapons offences", "Possession of weapons offences", "10D",
         "Possession of article with blade or point"),
        (0.3, "Possession of weapons offences", "Possession of weapons offences", "10C", "Possession of other weapons")),
    "Public order": ((0.8, "Public order offences", "Public order offences", "9A", "Public fear, alarm or distress"),
                     (0.2, "Public order offences", "Public order offences", "62A", "Violent disorder")),
    "Other crime": ((1.0, "Miscellaneous crimes against society", "Miscellaneous crimes against society", "99",
                     "Other notifiable offences"),),
}
# Labels before 2023/24, as the real tables drift (the alias seed maps them back).
OLD_LABELS = {"Theft offences": "Theft Offences", "Stalking and harassment": "Stalking and Harassment",
              "All other theft offences": "Other theft offences"}
NEW_LABELS_FROM = 2023
HOME_OFFICE_CSP_NAMES = {"Bristol, City of": "Bristol", "Kingston upon Hull, City of": "Kingston upon Hull",
                         "Herefordshire, County of": "Herefordshire", "North Devon": "Northern Devon",
                         "Blackburn with Darwen": "Blackburn With Darwen"}
HOME_OFFICE_FORCE_NAMES = {"Devon and Cornwall": "Devon & Cornwall"}
# rec-crime-pfa.csv offence names for the Home Office subgroups.
ROLLING_OFFENCE = {"Rape": "Sexual offences", "Other sexual offences": "Sexual offences",
                   "Criminal damage": "Criminal damage and arson", "Arson": "Criminal damage and arson",
                   "Trafficking of drugs": "Drug offences", "Possession of drugs": "Drug offences",
                   "Robbery of personal property": "Robbery", "Robbery of business property": "Robbery",
                   "Death or serious injury caused by unlawful driving": "Death or serious injury caused by illegal driving"}
RECORDING_UPLIFT = 0.025  # at most: recorded crime is a little above what police.uk maps
GAP_UPLIFT = 1.20  # the one force-quarter whose violence police.uk under-shows
_ASB = CRIME_TYPES.index("Anti-social behaviour")


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def financial_quarter(month: str) -> tuple[str, int]:
    """``2024-03`` -> (``2023/24``, 4): financial years start in April."""
    year, m = map(int, month.split("-"))
    start = year if m >= 4 else year - 1
    return f"{start}/{(start + 1) % 100:02d}", (m - 4) % 12 // 3 + 1


def _point_districts(force_id: str) -> list[str | None]:
    """The district of each of the force's map points (None for the 'No Location' point)."""
    geo = geography(force_id)
    by_code = {lsoa.code: lsoa.district for lsoa in geo.lsoas}
    out: list[str | None] = []
    for block in geo.street_block.tolist():
        fields = next(csv.reader([block])) if block else []
        code = fields[3] if len(fields) >= 5 else ""
        out.append(by_code.get(code))
    return out


def police_uk_counts(force_ids: Sequence[str], first_month: str, last_month: str, seed: int, scale: float
                     ) -> dict[tuple[str, int, str, str | None], np.ndarray]:
    """(financial year, quarter, force, district or None) -> crimes by police.uk type, whole quarters only."""
    months = month_range(first_month, last_month)
    per_quarter: dict[tuple[str, int], list[str]] = defaultdict(list)
    for month in months:
        per_quarter[financial_quarter(month)].append(month)
    counts: dict[tuple[str, int, str, str | None], np.ndarray] = {}
    for force_id in force_ids:
        if force_id not in force_areas():
            continue  # British Transport Police is not in the CSP tables
        districts = _point_districts(force_id)
        names = sorted({d for d in districts if d}) + [None]
        index = {d: i for i, d in enumerate(names)}
        point_to_row = np.array([index[d] for d in districts])
        for (fy, quarter), quarter_months in per_quarter.items():
            if len(quarter_months) != 3:
                continue
            table = np.zeros((len(names), len(CRIME_TYPES)), dtype=np.int64)
            for month in quarter_months:
                crimes = generate_crimes(force_id, month, seed, scale)
                keep = crimes.crime_type != _ASB
                np.add.at(table, (point_to_row[crimes.point[keep]], crimes.crime_type[keep]), 1)
            for district, row in zip(names, table):
                counts[(fy, quarter, force_id, district)] = row
    return counts


def _gap_quarter(quarters: list[tuple[str, int]]) -> tuple[str, int] | None:
    return quarters[len(quarters) // 2] if quarters else None


def recorded_rows(force_ids: Sequence[str], first_month: str, last_month: str, seed: int = 2011,
                  scale: float = 1.0) -> list[list[object]]:
    """The CSP table's rows (current labels), sorted by year, quarter, force, CSP and offence code."""
    counts = police_uk_counts(force_ids, first_month, last_month, seed, scale)
    quarters = sorted({(fy, q) for fy, q, _, _ in counts})
    territorial = sorted({f for _, _, f, _ in counts})
    gap = (territorial[-1], *_gap_quarter(quarters)) if territorial and quarters else None
    districts = all_districts()
    rows: list[list[object]] = []
    for (fy, quarter, force_id, district), by_type in counts.items():
        pfa_name = force_areas()[force_id][1]
        force_name = HOME_OFFICE_FORCE_NAMES.get(pfa_name, pfa_name)
        if district is None:
            csp = f"Unassigned {pfa_name}"
        else:
            ons = districts[district].csp_name
            csp = HOME_OFFICE_CSP_NAMES.get(ons, ons)
        for description, group, subgroup, code, k in _offence_split(by_type, seed, force_id, district, fy, quarter,
                                                                     gap == (force_id, fy, quarter)):
            rows.append([fy, quarter, force_name, csp, description, group, subgroup, code, k])
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3], r[7]))
    return _merge_same_code(rows)


def _offence_split(by_type: np.ndarray, seed: int, force_id: str, district: str | None, fy: str, quarter: int,
                   is_gap: bool) -> list[tuple[str, str, str, str, int]]:
    """One force-area-quarter's police.uk crimes as recorded offences: (description, group, subgroup, code, count)."""
    uplift = 1 + RECORDING_UPLIFT * _unit(seed, force_id, fy, quarter)
    out = []
    for t, n in enumerate(by_type.tolist()):
        crime_type = CRIME_TYPES[t]
        if n == 0 or crime_type not in OFFENCES:
            continue
        factor = uplift * (GAP_UPLIFT if is_gap and crime_type.startswith("Violence") else 1)
        recorded = int(round(n * factor))
        offences = OFFENCES[crime_type]
        rng = np.random.default_rng([seed, int(_unit(force_id, district, fy, quarter, t) * 2**32)])
        shares = np.array([o[0] for o in offences])
        split = rng.multinomial(recorded, shares / shares.sum())
        for (_, group, subgroup, code, description), k in zip(offences, split.tolist()):
            if k:
                out.append((description, group, subgroup, code, k))
    return out


def pfa_rows(csp_rows: list[list[object]], first_month: str, last_month: str, seed: int = 2011,
             scale: float = 1.0) -> list[list[object]]:
    """The PFA table's rows (current labels) for the CSP table's quarters: its forces, then BTP and the fraud bodies.

    A territorial force's row is the sum of its CSPs' rows (Unassigned included), as the
    Home Office's force total is. British Transport Police's crimes are the sample police.uk
    BTP crimes, recorded the same way; the fraud bodies' counts are drawn around
    :data:`FRAUD_BODIES`.
    """
    totals: dict[tuple, int] = defaultdict(int)
    labels: dict[str, tuple[str, str, str]] = {}
    for fy, quarter, force_name, _, description, group, subgroup, code, n in csp_rows:
        totals[(str(fy), int(quarter), str(force_name), str(code))] += int(n)
        labels[str(code)] = (str(description), str(group), str(subgroup))
    quarters = sorted({(fy, q) for fy, q, _, _ in totals})
    rows = [[fy, q, force, *labels[code], code, n] for (fy, q, force, code), n in totals.items()]
    months = set(month_range(first_month, last_month))
    for fy, quarter in quarters:
        start = int(fy[:4])
        first = (start if quarter < 4 else start + 1, (3 * (quarter - 1) + 3) % 12 + 1)
        quarter_months = [f"{first[0]}-{first[1] + i:02d}" for i in range(3)]
        if not months.issuperset(quarter_months):
            continue  # the CSP table only has whole quarters inside the window; so has this
        by_type = np.zeros(len(CRIME_TYPES), dtype=np.int64)
        for month in quarter_months:
            by_type += np.bincount(generate_crimes(BTP[0], month, seed, scale).crime_type, minlength=len(CRIME_TYPES))
        for description, group, subgroup, code, k in _offence_split(by_type, seed, BTP[0], None, fy, quarter, False):
            rows.append([fy, quarter, BTP[1], description, group, subgroup, code, k])
        for body, per_quarter, code in FRAUD_BODIES:
            n = int(round(per_quarter * scale * (0.9 + 0.2 * _unit(seed, body, fy, quarter))))
            rows.append([fy, quarter, body, f"Fraud recorded by {body}", "Fraud offences", f"Fraud: {body}", code, n])
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[6]))
    return rows


def _merge_same_code(rows: list[list[object]]) -> list[list[object]]:
    """Two police.uk types can land on one offence code only if the catalogue says so; keep one row per key."""
    merged: dict[tuple, list[object]] = {}
    for row in rows:
        key = (row[0], row[1], row[2], row[3], row[7])
        if key in merged:
            merged[key][8] += row[8]
        else:
            merged[key] = list(row)
    return list(merged.values())


def _labelled(row: list[object]) -> list[object]:
    """Older years carry the older labels."""
    if int(str(row[0])[:4]) >= NEW_LABELS_FROM:
        return row
    return [*row[:5], OLD_LABELS.get(row[5], row[5]), OLD_LABELS.get(row[6], row[6]), *row[7:]]


def csp_csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(_labelled(r) for r in rows)
    return buf.getvalue().encode("utf-8")


def _ods_cell(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    text = escape(str(value))
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def ods_bytes(sheets: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> bytes:
    """A minimal OpenDocument spreadsheet (mimetype first and stored, manifest, content.xml)."""
    tables = []
    for name, rows in sheets:
        body = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows)
        tables.append(f'<table:table table:name="{escape(name)}">{body}</table:table>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    stamp = (2026, 1, 29, 9, 30, 0)
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data, method in (("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED),
                                   ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED),
                                   ("content.xml", content, zipfile.ZIP_DEFLATED)):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = method
            archive.writestr(info, data)
    return buf.getvalue()


def csp_ods(rows: list[list[object]], updated: str) -> bytes:
    by_year: dict[str, list[list[object]]] = defaultdict(list)
    for row in rows:
        by_year[str(row[0])].append(_labelled(row))
    notes = [["Police recorded crime by Community Safety Partnership: open data table (sample)"],
             [f"Updated: {updated}"],
             ["Crimes that could not be assigned to a CSP are shown against 'Unassigned <force>'."]]
    sheets = [("Notes", notes)] + [(fy.replace("/", "_"), [HEADER, *by_year[fy]]) for fy in sorted(by_year)]
    return ods_bytes(sheets)


def pfa_ods(rows: list[list[object]], updated: str) -> bytes:
    """The PFA table as ODS: a Notes sheet, then one sheet per financial year named ``2023_24``."""
    by_year: dict[str, list[list[object]]] = defaultdict(list)
    for row in rows:
        labelled = _labelled([*row[:3], "", *row[3:]])  # older years carry the older labels, as in the CSP table
        by_year[str(row[0])].append([*labelled[:3], *labelled[4:]])
    notes = [["Police recorded crime by Police Force Area: open data table (sample)"],
             [f"Updated: {updated}"],
             ["British Transport Police, Action Fraud, CIFAS and UK Finance are shown as rows of their own."]]
    sheets = [("Notes", notes)] + [(fy.replace("/", "_"), [PFA_HEADER, *by_year[fy]]) for fy in sorted(by_year)]
    return ods_bytes(sheets)


def rolling_year_csv(rows: list[list[object]]) -> bytes:
    """Rolling 12-month totals by force area and offence at each quarter end with four quarters behind it.

    The real table runs back to 2003, so it carries the national baseline year (the 12 months to
    June 2019) and every force area. The sample does too: the sample forces' points inside the
    police.uk window are computed from their quarters; the quarter ends from
    :data:`HISTORY_FIRST_END` up to the window are drawn around the first computed point, and
    every other territorial force area gets a series drawn around the sample forces' mean, scaled
    by a size drawn per force (sample data of a plausible shape, not a reference).
    """
    regions = _regions()
    names = {v[1]: k for k, v in force_areas().items()} | {HOME_OFFICE_FORCE_NAMES.get(v[1], v[1]): k
                                                            for k, v in force_areas().items()}
    quarterly: dict[tuple[str, str], dict[tuple[str, int], int]] = defaultdict(lambda: defaultdict(int))
    for fy, quarter, force_name, _, _, _, subgroup, _, n in rows:
        force_id = names[str(force_name)]
        offence = ROLLING_OFFENCE.get(str(subgroup), str(subgroup))
        quarterly[(force_id, offence)][(str(fy), int(quarter))] += int(n)
    quarters = sorted({q for series in quarterly.values() for q in series})
    computed: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)  # (force, offence) -> quarter end -> total
    ends: list[str] = []
    for i in range(3, len(quarters)):
        window = quarters[i - 3: i + 1]
        end = _quarter_end(*quarters[i])
        ends.append(end)
        for (force_id, offence) in sorted(quarterly):
            computed[(force_id, offence)][end] = sum(quarterly[(force_id, offence)].get(q, 0) for q in window)
    series = _with_history(computed, ends)
    all_ends = sorted({e for s in series.values() for e in s}, key=_end_key)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(ROLLING_HEADER)
    for end in all_ends:
        for (force_id, offence) in sorted(series):
            if end in series[(force_id, offence)]:
                writer.writerow([end, force_areas()[force_id][1], regions[force_id], offence,
                                 series[(force_id, offence)][end]])
    return buf.getvalue().encode("utf-8")


HISTORY_FIRST_END = (2017, 3)  # the first quarter end the sample's rolling-year table goes back to


def _end_key(end: str) -> tuple[int, int]:
    return int(end[-4:]), int(end[3:5])


def _history_ends(first: str) -> list[str]:
    """Quarter ends (dd-mm-yyyy) from HISTORY_FIRST_END up to, not including, ``first``."""
    year, month = HISTORY_FIRST_END
    out = []
    while (year, month) < _end_key(first):
        out.append(f"{30 if month in (6, 9) else 31:02d}-{month:02d}-{year}")
        year, month = (year + 1, 3) if month == 12 else (year, month + 3)
    return out


def _with_history(computed: dict[tuple[str, str], dict[str, int]], ends: list[str]
                  ) -> dict[tuple[str, str], dict[str, int]]:
    if not ends:
        return computed
    history = _history_ends(ends[0])
    out: dict[tuple[str, str], dict[str, int]] = {}
    for key, points in computed.items():
        first = points[ends[0]]
        drift = 2 * _unit(*key, "drift") - 1  # the series' slope over the years before the window
        past = {end: max(0, int(round(first * (1 + 0.04 * drift * (len(history) - i) / 4
                                                + 0.02 * (2 * _unit(*key, end) - 1)))))
                for i, end in enumerate(history)}
        out[key] = past | points
    sample_forces = sorted({f for f, _ in computed})
    offences = sorted({o for _, o in computed})
    for force_id in sorted(force_areas()):
        if force_id in sample_forces:
            continue
        size = 0.25 + 1.5 * _unit(force_id, "size")
        for offence in offences:
            reference = [out[(f, offence)] for f in sample_forces if (f, offence) in out]
            if not reference:
                continue
            out[(force_id, offence)] = {
                end: max(0, int(round(size * sum(r.get(end, 0) for r in reference) / len(reference)
                                      * (1 + 0.03 * (2 * _unit(force_id, offence, end) - 1)))))
                for end in history + ends}
    return out


def _quarter_end(fy: str, quarter: int) -> str:
    start = int(fy[:4])
    return {1: f"30-06-{start}", 2: f"30-09-{start}", 3: f"31-12-{start}", 4: f"31-03-{start + 1}"}[quarter]


def _regions() -> dict[str, str]:
    from devtools.sample.population import force_regions

    return force_regions()


def pfa_file_name(rows: list[list[object]]) -> str:
    """``prc-pfa-dec2022-onwards-tables-290126.ods``: the real name's shape (``prc-pfa-mar2013-onwards-…``)."""
    first = _quarter_end(*min((str(r[0]), int(r[1])) for r in rows))
    months = ("mar", "jun", "sep", "dec")
    _, release = file_stem(rows)
    return f"prc-pfa-{months[int(first[3:5]) // 3 - 1]}{first[-4:]}-onwards-tables-{release}.ods"


def file_stem(rows: list[list[object]]) -> tuple[str, str]:
    """(``prc-csp-dec22-sep25-tables``, release ``ddmmyy``) for the quarters in ``rows``."""
    quarters = sorted({(str(r[0]), int(r[1])) for r in rows})
    months = ("mar", "jun", "sep", "dec")

    def tag(fy: str, quarter: int) -> str:
        end = _quarter_end(fy, quarter)
        return f"{months[int(end[3:5]) // 3 - 1]}{end[-2:]}"

    last_end = _quarter_end(*quarters[-1])
    month = int(last_end[3:5]) + 4
    year = int(last_end[-4:]) + (month > 12)
    return f"prc-csp-{tag(*quarters[0])}-{tag(*quarters[-1])}-tables", f"29{(month - 1) % 12 + 1:02d}{year % 100:02d}"


def generate(out_dir: Path, force_ids: Sequence[str], first_month: str, last_month: str, seed: int = 2011,
             scale: float = 1.0) -> dict:
    """Write the CSP table (ODS and CSV), the PFA table (ODS) and the rolling-year table; returns file names and rows."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = recorded_rows(force_ids, first_month, last_month, seed, scale)
    if not rows:
        raise ValueError(f"no whole financial quarter between {first_month} and {last_month}: nothing to write")
    stem, release = file_stem(rows)
    updated = f"{release[:2]}/{release[2:4]}/20{release[4:]}"
    pfa = pfa_rows(rows, first_month, last_month, seed, scale)
    pfa_name = pfa_file_name(rows)
    files = {f"{stem}-{release}.ods": csp_ods(rows, updated), f"{stem}.csv": csp_csv(rows), pfa_name: pfa_ods(pfa, updated)}
    rolling = rolling_year_csv(rows)
    rolling_rows = rolling.count(b"\r\n") - 1
    if rolling_rows:  # a rolling year needs four quarters; the publisher never ships an empty table
        files["rec-crime-pfa.csv"] = rolling
    else:
        (out_dir / "rec-crime-pfa.csv").unlink(missing_ok=True)
    for name, body in files.items():
        (out_dir / name).write_bytes(body)
    summary = {"csp_rows": len(rows), "files": sorted(files), "ods": f"{stem}-{release}.ods", "csv": f"{stem}.csv",
               "pfa_ods": pfa_name, "pfa_rows": len(pfa), "rolling_year_rows": rolling_rows}
    log.info("Home Office PRC sample: %s", summary)
    return summary


def generate_sample(settings) -> Path:
    """The demo's Home Office tables, matching the police.uk sample archive (same forces, months, seed, scale)."""
    section = settings.source("home_office_prc")
    out_dir = settings.root / section.get("sample_dir", "var/sample/home_office_prc")
    generate(out_dir, list(settings.police_uk.forces), settings.police_uk.first_month, settings.police_uk.last_month,
             seed=int(settings.sample.get("seed", 2011)), scale=float(settings.sample.get("scale", 1.0)))
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.sample.home_office_prc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--forces", nargs="+", required=True)
    parser.add_argument("--first", required=True)
    parser.add_argument("--last", required=True)
    parser.add_argument("--seed", type=int, default=2011)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    print(generate(args.out, args.forces, args.first, args.last, args.seed, args.scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
