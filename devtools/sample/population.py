"""Synthetic ONS population files for the sample districts, in the layouts ONS and Nomis publish.

For the forces given (the districts of :mod:`devtools.sample.geography`) it writes, under ``out_dir``:

* ``mye2-{persons,females,males}_mid{YEAR}_csv_export.csv`` — the MYE2 sheets of the mid-year
  estimates workbook exported to CSV, as the real ``mye2-persons_mid2022_csv_export.csv``:
  seven notes lines before ``Code,Name,Geography,All ages,0,…,89,90+``; country, region,
  county and district rows mixed; numbers as formatted text (``" \\t60,238,038 "``, small
  ones unquoted `` \\t992 ``, zero as `` \\t-   ``); CRLF line ends; no BOM.
* ``census2021-ts021.zip`` holding ``census2021-ts021-ltla.csv`` — Census 2021 ethnic group
  (TS021) by district in the Nomis bulk layout (``date,geography,geography code,Ethnic group:
  Total: All usual residents,…``; labels from seed ``census_ethnic_groups``).
* ``census2021-ts008.zip`` (sex, ``Sex: Female; measures: Value``) and ``census2021-ts038.zip``
  (disability under the Equality Act, ``Disability: Disabled under the Equality Act: …``), the
  same Nomis layout, members ``census2021-ts0NN-ltla.csv``: the consultation's weighting margins.

A district's population is the sum of its synthetic LSOAs' (about 4,000 each: the sample
has fewer, larger LSOAs than a real force), so rates on the sample police.uk data are of a
realistic size; ethnic shares follow each
force's shares in :mod:`devtools.sample.forces`, which also drive the sample stop and search.
Persons = females + males exactly; every aggregate row is the sum of its districts.
Pure function of (forces, mid-years).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import sys
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from devtools.sample.forces import FORCES, WELSH_FORCES
from devtools.sample.geography import SEED_DIR, District, districts_for, lookup_forces

log = logging.getLogger(__name__)

AGES = [str(a) for a in range(90)] + ["90+"]
HEADER = ["Code", "Name", "Geography", "All ages", *AGES]
NOTES = [
    "MYE2: {sex} by single year of age and sex for local authorities in England and Wales, mid-{year}",
    "This worksheet contains one table. Freeze panes are turned on. ",
    "To turn off freeze panes select the 'View' ribbon then 'Freeze Panes' then 'Unfreeze Panes' or use [Alt W, F]",
    "Please choose from the links presented in the cells below to e-mail us your opinion on this table: ",
    "This met my needs, please produce it next year",
    "I need something slightly different (please specify)",
    "This is not what I need at all (please specify)",
]
REGIONS = {  # police_forces seed region -> (code, MYE2 name)
    "North East": ("E12000001", "NORTH EAST"), "North West": ("E12000002", "NORTH WEST"),
    "Yorkshire and The Humber": ("E12000003", "YORKSHIRE AND THE HUMBER"),
    "East Midlands": ("E12000004", "EAST MIDLANDS"), "West Midlands": ("E12000005", "WEST MIDLANDS"),
    "East of England": ("E12000006", "EAST"), "London": ("E12000007", "LONDON"),
    "South East": ("E12000008", "SOUTH EAST"), "South West": ("E12000009", "SOUTH WEST"),
}
BASE_YEAR = 2022
GROWTH_PER_YEAR = 0.008
CENSUS_YEAR = 2021
CENSUS_ZIP = "census2021-ts021.zip"
CENSUS_MEMBER = "census2021-ts021-ltla.csv"
CENSUS_SEX_ZIP = "census2021-ts008.zip"
CENSUS_SEX_MEMBER = "census2021-ts008-ltla.csv"
CENSUS_DISABILITY_ZIP = "census2021-ts038.zip"
CENSUS_DISABILITY_MEMBER = "census2021-ts038-ltla.csv"
# Nomis TS008 keeps the "; measures: Value" suffix in its bulk CSV; TS038 does not.
SEX_LABELS = ("Sex: All persons; measures: Value", "Sex: Female; measures: Value", "Sex: Male; measures: Value")
DISABILITY_LABELS = (
    "Disability: Total: All usual residents",
    "Disability: Disabled under the Equality Act",
    "Disability: Disabled under the Equality Act: Day-to-day activities limited a lot",
    "Disability: Disabled under the Equality Act: Day-to-day activities limited a little",
    "Disability: Not disabled under the Equality Act",
    "Disability: Not disabled under the Equality Act: Has long term physical or mental health condition but "
    "day-to-day activities are not limited",
    "Disability: Not disabled under the Equality Act: No long term physical or mental health conditions",
)


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts (no global random state)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _age_weights(district: str) -> list[float]:
    """England-and-Wales-like age profile; towns with universities or young workers lean younger."""
    young = 0.8 + 0.5 * _unit(district, "young")
    weights = []
    for a in range(91):
        if a < 5:
            w = 1.05
        elif a < 18:
            w = 1.18
        elif a < 35:
            w = 1.25 * young
        elif a < 60:
            w = 1.30
        elif a < 70:
            w = 1.10
        elif a < 80:
            w = 0.90
        elif a < 85:
            w = 0.50
        elif a < 90:
            w = 0.30
        else:
            w = 0.90  # 90 and over, all together
        weights.append(w)
    return weights


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` into integers that add up to it (largest remainder)."""
    s = sum(weights)
    exact = [total * w / s for w in weights]
    out = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: -(exact[i] - out[i]))[: total - sum(out)]:
        out[i] += 1
    return out


@lru_cache(maxsize=8)
def _lsoa_population(force_ids: tuple[str, ...]) -> dict[str, int]:
    """Mid-2022 persons per district: the sum of its LSOAs (3,200-4,800 each).

    A real LSOA has about 1,700 residents, but the sample has fewer LSOAs than a real force
    (375 for Lancashire against about 940), so each stands for two or three: force totals,
    and so crime rates, come out near the real ones.
    """
    from devtools.sample.police_uk import lsoa_lookup

    totals: dict[str, int] = {}
    for lsoa in lsoa_lookup(lookup_forces(force_ids)):
        totals[lsoa.district] = totals.get(lsoa.district, 0) + 3200 + int(1600 * _unit(lsoa.code, "people"))
    return totals


def district_ages(district: District, year: int, force_ids: Sequence[str]) -> dict[str, list[int]]:
    """persons, female and male counts by age (0…89, 90+) for a district and mid-year."""
    base = _lsoa_population(tuple(force_ids))[district.name]
    total = round(base * (1 + GROWTH_PER_YEAR) ** (year - BASE_YEAR))
    persons = _allocate(total, _age_weights(district.name))
    female = [round(n * (0.49 + 0.13 * max(0, a - 60) / 30)) for a, n in enumerate(persons)]
    return {"persons": persons, "female": female, "male": [p - f for p, f in zip(persons, female)]}


def _number(n: int) -> str:
    """As the workbook's accounting format exports: leading space and tab, separators, zero as '-'."""
    return " \t-   " if n == 0 else f" \t{n:,} "


def _mye_rows(districts: list[District], year: int, sex: str, force_ids: Sequence[str]) -> list[list[str]]:
    ages = {d.name: district_ages(d, year, force_ids)[sex] for d in districts}

    def row(code: str, name: str, level: str, members: list[District]) -> list[str]:
        values = [sum(ages[d.name][a] for d in members) for a in range(91)]
        return [code, name, level, _number(sum(values)), *(_number(v) for v in values)]

    english = [d for d in districts if d.force_id not in WELSH_FORCES]
    welsh = [d for d in districts if d.force_id in WELSH_FORCES]
    from devtools.sample.geography import force_areas

    rows = [row("K04000001", "ENGLAND AND WALES", "Country", districts),
            row("E92000001", "ENGLAND", "Country", english)]
    regions = force_regions()
    for region, (code, name) in REGIONS.items():
        in_region = [d for d in english if regions[d.force_id] == region]
        if not in_region:
            continue
        rows.append(row(code, name, "Region", in_region))
        for force_id in sorted({d.force_id for d in in_region}):
            members = [d for d in in_region if d.force_id == force_id]
            pfa_code = force_areas()[force_id][0]
            number = int(pfa_code[-2:])
            unitary = [d for d in members if d.level == "Unitary Authority"]
            rows += [row(d.lad_code, d.ons_name, d.level, [d]) for d in unitary]
            rest = [d for d in members if d not in unitary]
            if rest and rest[0].level == "Metropolitan District":
                rows.append(row(f"E119{number:05d}", f"{FORCES[force_id].name.split(' Police')[0]} (Met County)",
                                "Metropolitan County", rest))
            elif rest and rest[0].level == "Non-metropolitan District":
                rows.append(row(f"E109{number:05d}", force_areas()[force_id][1], "County", rest))
            rows += [row(d.lad_code, d.ons_name, d.level, [d]) for d in rest]
    if welsh:
        rows.append(row("W92000004", "WALES", "Country", welsh))
        rows += [row(d.lad_code, d.ons_name, d.level, [d]) for d in welsh]
    return rows


@lru_cache(maxsize=1)
def force_regions() -> dict[str, str]:
    with (SEED_DIR / "police_forces.csv").open(newline="", encoding="utf-8") as handle:
        return {r["force_id"]: r["region"] for r in csv.DictReader(handle)}


def mye_csv(districts: list[District], year: int, sex: str, force_ids: Sequence[str]) -> bytes:
    label = {"persons": "Persons", "female": "Females", "male": "Males"}[sex]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for note in NOTES:
        writer.writerow([note.format(sex=label, year=year)] + [""] * (len(HEADER) - 1))
    writer.writerow(HEADER)
    writer.writerows(_mye_rows(districts, year, sex, force_ids))
    return buf.getvalue().removesuffix("\r\n").encode("utf-8")  # the real export has no final line end


@lru_cache(maxsize=1)
def census_labels() -> list[tuple[str, str, str]]:
    """(label, level, ethnic group) of Census 2021 TS021, in Nomis column order, from the seed."""
    with (SEED_DIR / "census_ethnic_groups.csv").open(newline="", encoding="utf-8") as handle:
        return [(r["label"], r["level"], r["ethnic_group"]) for r in csv.DictReader(handle) if r["census_year"] == "2021"]


_GROUP_ORDER = ("White", "Black", "Asian", "Mixed", "Other")  # the order of Force.ethnicity


def census_counts(district: District, force_ids: Sequence[str]) -> dict[str, int]:
    """Residents by TS021 label for one district (detailed groups add up to broad, broad to total)."""
    total = round(_lsoa_population(tuple(force_ids))[district.name] / (1 + GROWTH_PER_YEAR))
    shares = list(FORCES[district.force_id].ethnicity)
    spread = [1.0] + [0.7 + 0.6 * _unit(district.name, g) for g in _GROUP_ORDER[1:]]
    broad = dict(zip(_GROUP_ORDER, _allocate(total, [s * f for s, f in zip(shares, spread)])))
    counts: dict[str, int] = {}
    labels = census_labels()
    for group in _GROUP_ORDER:
        detailed = [label for label, level, g in labels if level == "detailed" and g == group]
        weights = [0.82 if i == 0 and group == "White" else 1.0 / (1 + i) for i in range(len(detailed))]
        counts.update(zip(detailed, _allocate(broad[group], weights)))
        counts[next(label for label, level, g in labels if level == "broad" and g == group)] = broad[group]
    counts[next(label for label, level, _ in labels if level == "total")] = total
    return counts


def census_total(district: District, force_ids: Sequence[str]) -> int:
    """Usual residents on Census day 2021 (the mid-2022 estimate less a year's growth)."""
    return round(_lsoa_population(tuple(force_ids))[district.name] / (1 + GROWTH_PER_YEAR))


def census_sex_counts(district: District, force_ids: Sequence[str]) -> dict[str, int]:
    """TS008 counts: all persons, female, male (the mid-2022 female share applied to the census total)."""
    total = census_total(district, force_ids)
    ages = district_ages(district, BASE_YEAR, force_ids)
    female = round(total * sum(ages["female"]) / sum(ages["persons"]))
    return dict(zip(SEX_LABELS, (total, female, total - female)))


def census_disability_counts(district: District, force_ids: Sequence[str]) -> dict[str, int]:
    """TS038 counts: about 16-22% disabled under the Equality Act (England 17.7%), 42% of them limited a lot."""
    total = census_total(district, force_ids)
    disabled = round(total * (0.16 + 0.06 * _unit(district.name, "disabled")))
    a_lot = round(disabled * 0.42)
    not_disabled = total - disabled
    condition = round(not_disabled * 0.07)
    values = (total, disabled, a_lot, disabled - a_lot, not_disabled, condition, not_disabled - condition)
    return dict(zip(DISABILITY_LABELS, values))


def _nomis_csv(districts: list[District], labels: Sequence[str], counts) -> bytes:
    """The Nomis bulk layout: date, geography, geography code, then one column per category."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["date", "geography", "geography code", *labels])
    for d in districts:
        values = counts(d)
        writer.writerow([CENSUS_YEAR, d.ons_name, d.lad_code, *(values[label] for label in labels)])
    return buf.getvalue().encode("utf-8")


def _write_zip(path: Path, member: str, body: bytes) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(member, date_time=(2022, 11, 29, 9, 30, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, body)


def census_csv(districts: list[District], force_ids: Sequence[str]) -> bytes:
    labels = [label for label, _, _ in census_labels()]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["date", "geography", "geography code", *(f"Ethnic group: {label}" for label in labels)])
    for d in districts:
        counts = census_counts(d, force_ids)
        writer.writerow([CENSUS_YEAR, d.ons_name, d.lad_code, *(counts[label] for label in labels)])
    return buf.getvalue().encode("utf-8")


def mye_file_name(sex: str, year: int) -> str:
    return f"mye2-{ {'persons': 'persons', 'female': 'females', 'male': 'males'}[sex] }_mid{year}_csv_export.csv".replace(" ", "")


def generate(out_dir: Path, force_ids: Sequence[str], mid_years: Sequence[int] = (2022, 2023)) -> dict:
    """Write the MYE2 exports for each mid-year and sex, and the Census 2021 TS021 zip."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    districts = districts_for(force_ids)
    summary: dict[str, int] = {}
    for year in mid_years:
        for sex in ("persons", "female", "male"):
            name = mye_file_name(sex, int(year))
            body = mye_csv(districts, int(year), sex, force_ids)
            (out_dir / name).write_bytes(body)
            summary[name] = body.count(b"\r\n") - len(NOTES)
    body = census_csv(districts, force_ids)
    _write_zip(out_dir / CENSUS_ZIP, CENSUS_MEMBER, body)
    summary[f"{CENSUS_ZIP}!{CENSUS_MEMBER}"] = body.count(b"\n") - 1
    for zip_name, member, labels, counts in (
        (CENSUS_SEX_ZIP, CENSUS_SEX_MEMBER, SEX_LABELS, census_sex_counts),
        (CENSUS_DISABILITY_ZIP, CENSUS_DISABILITY_MEMBER, DISABILITY_LABELS, census_disability_counts),
    ):
        body = _nomis_csv(districts, labels, lambda d, counts=counts: counts(d, force_ids))
        _write_zip(out_dir / zip_name, member, body)
        summary[f"{zip_name}!{member}"] = body.count(b"\n") - 1
    log.info("ONS population sample: %s", summary)
    return summary


def generate_sample(settings) -> Path:
    """The demo's population files, where ``[ons_population] sample_dir`` says (see config/demo.toml),
    for every force the police.uk sample has: the peers' rates per 1,000 residents need theirs."""
    section = settings.source("ons_population")
    out_dir = settings.root / section.get("sample_dir", "var/sample/ons_population")
    generate(out_dir, list(settings.police_uk.forces_to_load), section.get("sample_mid_years", [2022, 2023]))
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.sample.population", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--forces", nargs="+", required=True)
    parser.add_argument("--mid-years", nargs="+", type=int, default=[2022, 2023])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    generate(args.out, args.forces, args.mid_years)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
