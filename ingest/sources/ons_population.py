"""ONS population: mid-year estimates by local authority, age and sex (MYE2), and Census ethnic group (Nomis).

The same small surface as every source:
  * ``files_for`` / ``is_published`` — what there is to fetch for a period (a year);
  * ``fetch``  — land each configured file (the MYE workbook's sheets become CSVs here);
  * ``load``   — replace each file's partition in ``raw.*``, gate it, commit.

Mid-year estimates (``raw.ons_mid_year_population``): ONS publishes the MYE2 tables as
sheets of a workbook (``MYE2 - Persons``, ``- Females``, ``- Males``); exported to CSV they
keep the notes lines above the ``Code,Name,Geography,All ages,0,…,90+`` header and write
numbers as formatted text (``" \\t60,238,038 "``). Every age column becomes a row (``age``,
``population``), so the file's shape is kept without a column per age. The partition is
(``_mid_year``, ``_sex``), read from the sheet's title line (``MYE2: Persons by single year
of age and sex …, mid-2022``); a configured ``mid_year``/``sex`` must agree with it. The
rows mix geography levels (country, region, county, district): staging says which are
local authorities, so nothing is summed twice.

Census ethnic group (``raw.ons_census_ethnic_group``): Nomis tables (Census 2011 QS201EW,
Census 2021 TS021) with one column per ethnic group, whose labels differ between
censuses (``Ethnic Group: White; measures: Value`` and ``Ethnic group: White``). Each such
column becomes a row (``ethnic_group_label``, ``population``); the seed
``census_ethnic_groups`` maps both censuses' labels to the groups police.uk uses.

Census sex (``raw.ons_census_sex``, Nomis TS008) and disability (``raw.ons_census_disability``,
TS038): the same Nomis layout (``Sex: Female; measures: Value``, ``Disability: Disabled under
the Equality Act``), one row per area and category column. With ethnic group and the mid-year
estimates they give the margins the public consultation is weighted to. These Census tables
count all usual residents (every age); the consultation's age margins come from the mid-year
estimates for ages 16 and over.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.raw import Clean, Column, Contract, Measures

if TYPE_CHECKING:
    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "ons_population"
SEXES = {"persons": "persons", "females": "female", "males": "male", "female": "female", "male": "male"}
# "MYE2: Persons by single year of age and sex for local authorities in England and Wales, mid-2022"
# (also "MYE2 - Females" as a sheet name).
_MYE_TITLE = re.compile(r"MYE\s*2\s*[:-]\s*(?P<sex>Persons|Females|Males)\b(?:.*?\bmid-?(?P<year>\d{4}))?", re.I)

MID_YEAR_ESTIMATES = Contract(
    dataset="mid_year_estimates",
    table="ons_mid_year_population",
    description="ONS mid-year population estimates (MYE2) by area and single year of age, one row per area and age.",
    columns=(
        Column("area_code", r"Code"),
        Column("area_name", r"Name", clean=Clean.REPAIR_TEXT),
        Column("geography_level", r"Geography"),
    ),
    measures=Measures(
        pattern=r"All ages|\d{1,3}\+?", label_column="age", value_column="population",
        duckdb_type="BIGINT", clean=Clean.ACCOUNTING_INTEGER, min_columns=2,
    ),
    partition=("_mid_year", "_sex"),
    header_starts_with=("Code", "Name", "Geography"),
)


def _census_contract(dataset: str, table: str, variable: str, label_column: str, description: str) -> Contract:
    """A Nomis census table by local authority: its date and area, then one column per category of
    ``variable``.

    Nomis writes the 2011 style ``Ethnic Group: White; measures: Value`` (with a ``Rural Urban``
    column) and the 2021 bulk style ``Ethnic group: White``; both are taken, and staging drops the
    suffix.
    """
    return Contract(
        dataset=dataset,
        table=table,
        description=description,
        columns=(
            Column("census_date", r"date"),
            Column("area_name", r"geography", clean=Clean.REPAIR_TEXT),
            Column("area_code", r"geography\s*code"),
            Column("rural_urban", r"Rural\s*Urban", required=False),
        ),
        measures=Measures(
            pattern=rf"{variable}:\s*.+", label_column=label_column, value_column="population",
            duckdb_type="BIGINT", clean=Clean.INTEGER_TEXT, min_columns=2,
        ),
        partition=("_census_year",),
    )


CENSUS_ETHNIC_GROUP = _census_contract(
    "census_ethnic_group", "ons_census_ethnic_group", r"Ethnic\s*group", "ethnic_group_label",
    "Census usual residents by ethnic group and local authority (Nomis), one row per area and group.",
)
# Census 2021 sex (TS008) and disability (TS038): with ethnic group, the margins the public
# consultation is weighted to (models/intermediate/int_consultation__census_margins.sql).
CENSUS_SEX = _census_contract(
    "census_sex", "ons_census_sex", "Sex", "sex_label",
    "Census usual residents by sex and local authority (Nomis TS008), one row per area and sex column.",
)
CENSUS_DISABILITY = _census_contract(
    "census_disability", "ons_census_disability", "Disability", "disability_label",
    "Census usual residents by disability (Equality Act) and local authority (Nomis TS038), one row per area "
    "and category column.",
)

CONTRACTS: dict[str, Contract] = {
    c.dataset: c for c in (MID_YEAR_ESTIMATES, CENSUS_ETHNIC_GROUP, CENSUS_SEX, CENSUS_DISABILITY)
}

# The surface every file source exposes to its DAG (what is there, fetch, the raw tables), from the
# declaration; this module writes only what is its own: how a landed file is loaded.
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


# --------------------------------------------------------------------------- partitions


def mye_partition(csv_path: Path, sheet: str | None, file: raw.SourceFile, label: str) -> dict[str, str]:
    """(``_mid_year``, ``_sex``) from the title line or sheet name; the configuration must agree."""
    header, header_line = raw.read_header(csv_path, MID_YEAR_ESTIMATES, label)
    with csv_path.open(encoding="utf-8-sig", errors="replace") as handle:
        notes = [next(handle, "") for _ in range(header_line)]
    found_sex = found_year = None
    for text in [sheet or "", *notes]:
        if m := _MYE_TITLE.search(text):
            found_sex = found_sex or SEXES[m.group("sex").lower()]
            found_year = found_year or m.group("year")
    configured_sex = file.options.get("sex")
    configured_year = file.options.get("mid_year", file.year)
    if configured_sex is not None:
        configured_sex = SEXES.get(str(configured_sex).lower())
        if configured_sex is None:
            raise raw.LoadError(f"{label}: configured sex {file.options['sex']!r} is not persons, females or males")
    for what, found, configured in (("sex", found_sex, configured_sex), ("mid-year", found_year, configured_year)):
        if found and configured and str(found) != str(configured):
            raise raw.LoadError(
                f"{label}: the title says {what} {found} but the configuration says {configured}. Nothing was "
                "loaded; fix the file's entry (mid_year / sex) or fetch the right sheet."
            )
    sex, year = found_sex or configured_sex, found_year or configured_year
    if not sex or not year:
        raise raw.LoadError(
            f"{label}: cannot tell the mid-year and sex: no 'MYE2: <Persons|Females|Males> … mid-YYYY' title "
            "above the header and none configured. Add mid_year and sex to the file's entry."
        )
    return {"_mid_year": str(year), "_sex": sex}


def _load_unit(con, landed: raw.Landed, unit: raw.Unit, results_dir: Path) -> raw.LoadResult:
    file, path = landed.file, Path(unit.csv_path)
    contract = CONTRACTS[unit.dataset]
    if contract is MID_YEAR_ESTIMATES:
        partition = mye_partition(path, unit.sheet, file, unit.source_file)
    else:
        year = file.options.get("census_year", file.year)
        if year is None:
            raise raw.LoadError(f"{unit.source_file}: configure the census year (year = 2021) for this file")
        partition = {"_census_year": str(year)}
    return raw.load_file(con, contract, path, partition=partition, source_file=unit.source_file,
                        file_sha256=landed.sha256, results_dir=results_dir)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed file for the period; each sheet or file is its own transaction."""
    return DECLARED.load(settings, _load_unit, year, run_dir)
