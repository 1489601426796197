"""Home Office police recorded crime: the quarterly CSP and PFA open data tables, and the force-level rolling year.

The same small surface as every source:
  * ``files_for`` / ``is_published`` — what there is to fetch (the current release's files,
    discovered on the gov.uk page because their names carry the release date, plus any
    configured files);
  * ``fetch``  — land each file; ODS/XLSX sheets (one per financial year) and multi-year
    CSV editions become one CSV per financial year here;
  * ``load``   — replace each financial year's partition in ``raw.home_office_prc_csp`` (CSP
    table) or ``raw.home_office_prc_pfa_quarterly`` (PFA table), and the rolling-year table's
    edition in ``raw.home_office_prc_pfa_rolling_year``; gate; commit.

This is the official statistic (police.uk is for maps and local detail). Labels drift
between years ("Theft Offences"/"Theft offences"), CSP names are not ONS's ("Northern
Devon"), and columns are renamed between vintages (``Force Name``/``Police Force``,
``Number of Offences``/``Offence Count``, see :data:`HEADER_VARIANTS`): columns are found by
pattern, a header cell that two columns' patterns would both take is refused naming both,
and staging maps labels and names through curated seeds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import raw
from ingest.raw import Clean, Column, Contract

if TYPE_CHECKING:
    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "home_office_prc"
FINANCIAL_YEAR = re.compile(r"^(?P<start>(?:19|20)\d{2})\s*[-_/]\s*(?P<end>\d{2})$")
DEFAULT_SHEET_PATTERN = r"(?:19|20)\d{2}\s*[-_]\s*\d{2}"  # 2002-03 (older files), 2015_16 (newer)

# Every header spelling documented across vintages, 2002-03 to the current ODS (shared/data/
# home_office_prc/SOURCES.md, shared/data-contracts.md). The patterns below accept each of them
# and no cell matches two columns' patterns (tests/unit/test_home_office_formats.py holds both).
HEADER_VARIANTS: dict[str, tuple[str, ...]] = {
    "financial_year": ("Financial Year",),
    "financial_quarter": ("Financial Quarter",),
    # "Force Name" in most vintages, "Police Force" in the 2024-25 release (prc-csp-mar16-dec24-tables-*.xlsx),
    # "PFA Name" in some; "PFA" is the rolling-year table's spelling.
    "force_name": ("Force Name", "Police Force", "PFA Name", "Police Force Name", "Police Force Area", "PFA"),
    "csp_name": ("CSP Name", "Community Safety Partnership", "Community Safety Partnership Name"),
    "offence_description": ("Offence Description",),
    "offence_group": ("Offence Group",),
    "offence_subgroup": ("Offence Subgroup", "Offence Sub-group", "Offence Sub group"),
    "offence_code": ("Offence Code",),
    # "Number of Offences" in most vintages, "Offence Count" in the 2024-25 release.
    "offence_count": ("Number of Offences", "Offence Count", "Offences"),
}

_FINANCIAL_YEAR = Column("financial_year", r"Financial\s*Year", clean=Clean.FINANCIAL_YEAR)
_FINANCIAL_QUARTER = Column("financial_quarter", r"Financial\s*Quarter", "INTEGER", clean=Clean.INTEGER_TEXT)
_FORCE_NAME = Column("force_name", r"(?:Police\s*)?Force(?:\s*Name)?|Police\s*Force\s*Area(?:\s*Name)?|PFA(?:\s*Name)?",
                     clean=Clean.REPAIR_TEXT)
_CSP_NAME = Column("csp_name", r"CSP\s*Name|Community\s*Safety\s*Partnership(?:\s*Name)?", clean=Clean.REPAIR_TEXT)
_OFFENCE_COLUMNS = (
    Column("offence_description", r"Offence\s*Description"),
    Column("offence_group", r"Offence\s*Group"),
    Column("offence_subgroup", r"Offence\s*Sub\s*-?\s*group"),
    Column("offence_code", r"Offence\s*Code"),
    Column("offence_count", r"Number\s*of\s*Offences|Offence\s*Count|Offences", "BIGINT", clean=Clean.INTEGER_TEXT),
)

CSP_QUARTERLY = Contract(
    dataset="csp_quarterly",
    table="home_office_prc_csp",
    description="Police recorded crime by community safety partnership, financial quarter and offence code.",
    columns=(_FINANCIAL_YEAR, _FINANCIAL_QUARTER, _FORCE_NAME, _CSP_NAME, *_OFFENCE_COLUMNS),
    partition=("_financial_year",),
    header_starts_with=("Financial Year",),
)

# prc-pfa-mar2013-onwards-tables-<ddmmyy>.ods: the CSP table's long layout without a CSP column,
# with rows for British Transport Police, Action Fraud, CIFAS and UK Finance besides the 43 forces.
PFA_QUARTERLY = Contract(
    dataset="pfa_quarterly",
    table="home_office_prc_pfa_quarterly",
    description="Police recorded crime by police force area (and national body), financial quarter and offence code.",
    columns=(_FINANCIAL_YEAR, _FINANCIAL_QUARTER, _FORCE_NAME, *_OFFENCE_COLUMNS),
    partition=("_financial_year",),
    header_starts_with=("Financial Year",),
    other_layouts=(("the CSP-level table (it has a CSP Name column; configure it as dataset csp_quarterly)",
                    r"(?i)(?:^|,)\s*(?:CSP\s*Name|Community\s*Safety\s*Partnership(?:\s*Name)?)\s*(?:,|$)"),),
)
QUARTERLY = (CSP_QUARTERLY, PFA_QUARTERLY)  # one partition per financial year

PFA_ROLLING_YEAR = Contract(
    dataset="pfa_rolling_year",
    table="home_office_prc_pfa_rolling_year",
    description="Recorded crime by police force area and offence, rolling 12-month totals (to December 2018).",
    columns=(
        Column("period_end_date", r"12\s*months\s*ending", "DATE", clean=Clean.DATE_TEXT),
        Column("pfa_name", r"PFA", clean=Clean.REPAIR_TEXT),
        Column("region", r"Region"),
        Column("offence", r"Offence"),
        Column("offence_count", r"Rolling\s*year\s*total\s*number\s*of\s*offences", "BIGINT", clean=Clean.INTEGER_TEXT),
    ),
    partition=("_edition",),
)

CONTRACTS: dict[str, Contract] = {c.dataset: c for c in (CSP_QUARTERLY, PFA_QUARTERLY, PFA_ROLLING_YEAR)}


# The raw tables and "is it published?" come from the declaration; what to fetch and how is this module's own.
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, is_published = DECLARED.ensure_raw_tables, DECLARED.is_published


def refuse_ambiguous_header(header: list[str] | tuple[str, ...], contract: Contract, label: str) -> None:
    """Refuse a header cell that two of the contract's columns would both take, naming both.

    ``raw.match_header`` gives a cell to the first column whose pattern matches;
    with patterns as generous as these, a new spelling could fit two, and taking the first
    would load it into the wrong column without a word. Two cells for one column
    (``Force Name`` and ``Police Force`` side by side) are refused by ``match_header`` itself.
    """
    clashes = []
    for cell in header:
        columns = [c for c in contract.columns if re.fullmatch(c.pattern, cell, flags=re.IGNORECASE)]
        if len(columns) > 1:
            clashes.append(f"{cell!r} would be both " + " and ".join(
                f"{c.name} (like {raw.readable_pattern(c.pattern)})" for c in columns))
    if clashes:
        raise raw.HeaderError(
            f"{label}: ambiguous header for raw.{contract.table}: {'; '.join(clashes)}. Found: {list(header)}. "
            f"Nothing was loaded from this file; make the {contract.dataset} contract's patterns tell them apart."
        )


def financial_year_label(text: str) -> str:
    """``2023_24``, ``2023-24`` or ``2023/24`` → ``2023/24`` (the tables' own spelling)."""
    m = FINANCIAL_YEAR.match(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a financial year like 2023/24")
    start, end = int(m.group("start")), int(m.group("end"))
    if (start + 1) % 100 != end:
        raise ValueError(f"{text!r} is not a financial year: {end:02d} does not follow {start}")
    return f"{start}/{end:02d}"


# --------------------------------------------------------------------------- what is there


def discover_links(page_html: str, page_url: str, link_pattern: str) -> list[str]:
    """Absolute URLs of the page's links whose file name matches ``link_pattern`` (in page order, no repeats)."""
    from urllib.parse import urljoin

    found: list[str] = []
    for href in re.findall(r"""href\s*=\s*["']([^"']+)["']""", page_html, flags=re.I):
        url = urljoin(page_url, href)
        if re.fullmatch(link_pattern, url.rsplit("/", 1)[-1]) and url not in found:
            found.append(url)
    return found


def files_for(settings: "Settings", quarter: str | None = None) -> list[raw.SourceFile]:
    """The configured files plus those discovered on the publisher's page.

    The CSP tables' names change with every release (``prc-csp-mar21-sep25-tables-290126.ods``),
    so the ``discover`` entries name a link pattern on ``page_url`` rather than a URL.
    ``quarter`` (``YYYY-Qn``) does not narrow the list: a release revises every year it holds.
    """
    section = DECLARED.section(settings)
    files = raw.configured_files(section, SOURCE, CONTRACTS, None)
    discover = section.get("discover", [])
    if discover:
        from ingest.http import session

        page_url = str(section["page_url"])
        response = session().get(page_url, timeout=float(section.get("http_timeout_seconds", 120)))
        response.raise_for_status()
        for rule in discover:
            links = discover_links(response.text, page_url, str(rule["link_pattern"]))
            if not links:
                raise raw.LoadError(
                    f"{page_url}: no link matching {rule['link_pattern']!r}; the page layout or the file names "
                    f"changed. Update [{SOURCE}] discover, or list the files under [{SOURCE}] files."
                )
            for url in links:
                entry = {"dataset": rule["dataset"], "name": url.rsplit("/", 1)[-1], "url": url,
                         **{k: v for k, v in rule.items() if k not in {"dataset", "link_pattern"}}}
                files.append(raw.SourceFile.from_config(SOURCE, entry, f"[{SOURCE}] discover"))
    files = with_year_sheets(files)
    log.info("%s files for %s: %s", SOURCE, quarter or "now", [f.name for f in files])
    return files


def with_year_sheets(files: list[raw.SourceFile]) -> list[raw.SourceFile]:
    """A CSP or PFA workbook with no sheets configured loads every financial-year sheet (not Notes)."""
    quarterly = {c.dataset for c in QUARTERLY}
    return [
        dataclasses.replace(f, sheet_pattern=DEFAULT_SHEET_PATTERN)
        if f.dataset in quarterly and f.is_spreadsheet and not (f.sheets or f.sheet_pattern) else f
        for f in files
    ]


# --------------------------------------------------------------------------- fetch


def fetch(settings: "Settings", quarter: str | None = None, files: list[raw.SourceFile] | None = None) -> list[dict]:
    """Land every file; a multi-year CSP or PFA CSV is split into one CSV per financial year."""
    files = with_year_sheets(files) if files is not None else files_for(settings, quarter)
    landed = raw.fetch_files(files, settings.paths.landing_dir, DECLARED.section(settings))
    quarterly = {c.dataset for c in QUARTERLY}
    for item in landed:
        if item.file.dataset in quarterly and not item.file.is_spreadsheet:
            item.units = [u for unit in item.units for u in split_by_financial_year(unit)]
            raw.write_units(settings.paths.landing_dir, item)
    return raw.fetch_summary(landed)


def split_by_financial_year(unit: raw.Unit) -> list[raw.Unit]:
    """One CSV per financial year of a CSP or PFA CSV edition, so each year is its own partition.

    DuckDB splits the file (columns read as text, header and notes kept as published).
    A line DuckDB cannot read stops the split with its line number: splitting past it could
    drop the row silently. The years' files together hold exactly the file's rows (checked).
    """
    import duckdb

    contract = CONTRACTS[unit.dataset]
    source = Path(unit.csv_path)
    header, header_line = raw.read_header(source, contract, unit.source_file)
    refuse_ambiguous_header(header, contract, unit.source_file)
    match = raw.match_header(header, contract, unit.source_file, header_line)
    fy = f"c{match.positions()['financial_year']}"
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    with source.open("rb") as handle:
        # DuckDB writes the rows with LF: end the notes and header lines the same way.
        head_lines = [handle.readline().rstrip(b"\r\n") + b"\n" for _ in range(header_line + 1)]
    out_dir = source.parent / f"{source.stem}.by_year"
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(
            f"""create table t as select row_number() over () as _row, * from read_csv(
                ?, header = true, skip = {header_line}, auto_detect = false, delim = ',', quote = '"', escape = '"',
                columns = {columns}, store_rejects = true, rejects_table = 'rej', rejects_scan = 'rej_scan')""",
            [str(source)],
        )
        bad = con.execute("select line, error_message from rej order by line limit 5").fetchall()
        if bad:
            raise raw.LoadError(
                f"{unit.source_file}: cannot split by financial year: DuckDB could not read line(s) "
                f"{[b[0] for b in bad]} ({bad[0][1]}). Nothing was loaded; check the published file."
            )
        (rows_in,) = con.execute("select count(*) from t").fetchall()[0]
        # One file per financial year, however each row spells it (2002-03 and 2002/03 are one year).
        spellings: dict[str, list[str]] = {}
        for (raw_year,) in con.execute(f"select distinct trim({fy}) from t order by 1").fetchall():
            try:
                label = financial_year_label(raw_year or "")
            except ValueError as exc:
                raise raw.LoadError(f"{unit.source_file}: Financial Year {raw_year!r} is not a financial year "
                                   "like 2023/24; nothing was loaded") from exc
            spellings.setdefault(label, []).append(raw_year)
        rows_out = 0
        units = []
        for label, raw_years in sorted(spellings.items()):
            body = out_dir / f".{label.replace('/', '_')}.body"
            (written,) = con.execute(
                f"copy (select * exclude (_row) from t where list_contains(?, trim({fy})) order by _row) "
                "to ? (header false, delimiter ',', quote '\"')",
                [raw_years, str(body)],
            ).fetchall()[0]
            rows_out += int(written)
            target = out_dir / f"{label.replace('/', '_')}.csv"
            tmp = target.with_name(f".{target.name}.part")
            with tmp.open("wb") as out, body.open("rb") as rows:
                out.writelines(head_lines)
                while chunk := rows.read(1 << 20):
                    out.write(chunk)
            os.replace(tmp, target)
            body.unlink()
            units.append(raw.Unit(unit.dataset, str(target), f"{unit.source_file} [{label}]", label))
        if rows_out != rows_in:
            raise raw.LoadError(f"{unit.source_file}: split by financial year wrote {rows_out} of its {rows_in} data rows; "
                               "nothing was loaded")
    finally:
        con.close()
    return units


# --------------------------------------------------------------------------- load


def _load_unit(con, landed: raw.Landed, unit: raw.Unit, results_dir: Path) -> raw.LoadResult:
    contract = CONTRACTS[unit.dataset]
    if unit.dataset in {c.dataset for c in QUARTERLY}:
        header, _ = raw.read_header(Path(unit.csv_path), contract, unit.source_file)
        refuse_ambiguous_header(header, contract, unit.source_file)
        if unit.sheet is None:
            raise raw.LoadError(f"{unit.source_file}: no financial year for this unit; run fetch again")
        partition = {"_financial_year": financial_year_label(unit.sheet)}
    else:
        edition = landed.file.options.get("edition") or Path(landed.file.name).stem
        partition = {"_edition": str(edition)}
    return raw.load_file(con, contract, Path(unit.csv_path), partition=partition, source_file=unit.source_file,
                        file_sha256=landed.sha256, results_dir=results_dir)


def load(settings: "Settings", quarter: str | None = None, run_dir: Path | None = None,
         names: list[str] | None = None) -> dict[str, dict]:
    """Load landed files; each financial year (and the rolling-year edition) is its own transaction.

    ``names`` are the file names a fetch returned (the DAG passes them, so a release discovered
    on the page is loaded without reading the page again, and an older release's files left in
    landing are not). Without ``names``: the files listed under ``[home_office_prc] files``.
    """
    if names is None:
        files = raw.configured_files(DECLARED.section(settings), SOURCE, CONTRACTS, None)
    else:
        files = []
        for name in names:
            landed = raw.read_landed(settings.paths.landing_dir, raw.SourceFile(SOURCE, "", name, ""))
            if landed is None:
                raise raw.LoadError(f"{name}: not in landing; run fetch first")
            files.append(landed.file)
    return DECLARED.load(settings, _load_unit, run_dir=run_dir, files=files)
