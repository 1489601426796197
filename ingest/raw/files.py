"""A source's files: what is configured, landing them, spreadsheets as CSV, and the loop that loads them.

A source module drives a plain loop over its landed files (:class:`LoadRun`): each unit (a CSV,
a spreadsheet sheet, a zip member) is its own transaction, a refused unit keeps its previous
rows and is reported, the others still load, and the run fails at the end naming every refusal.

Spreadsheets (ODS, XLSX) are converted sheet by sheet to CSV with python-calamine at fetch
time, then loaded like any CSV.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from ingest.raw.contract import LoadError
from ingest.raw.landing import LandingError, ManifestRow, extract_member, fetch_to_landing, write_json_atomically

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

class MissingDependency(LoadError):
    """A spreadsheet cannot be read because its reader package is not installed."""


@dataclass(frozen=True)
class SourceFile:
    """One file a reference source fetches, as configured (``[[<source>.files]]``)."""

    source: str
    dataset: str  # which contract loads it
    name: str  # the landed file name (and the _source_file of its rows)
    url: str  # https://… or file://…
    year: int | None = None  # the vintage/period it belongs to (bounds a run's period)
    member: str | None = None  # a zip archive's member to load
    sheets: tuple[str, ...] = ()  # spreadsheet sheets to load
    sheet_pattern: str | None = None  # or: every sheet whose name matches
    options: dict[str, Any] = field(default_factory=dict)  # anything else the source reads (edition, sex, …)

    KNOWN = ("dataset", "name", "url", "year", "member", "sheets", "sheet_pattern")

    @classmethod
    def from_config(cls, source: str, entry: dict[str, Any], where: str) -> "SourceFile":
        try:
            name = str(entry["name"])
            dataset, url = str(entry["dataset"]), str(entry["url"])
        except KeyError as exc:
            raise LoadError(f"{where}: a file entry has no {exc} (entry: {entry})") from exc
        if "/" in name or "\\" in name or name.startswith("."):
            raise LoadError(f"{where}: file name {name!r} must be a plain file name")
        return cls(
            source=source, dataset=dataset, name=name, url=url,
            year=int(entry["year"]) if entry.get("year") is not None else None,
            member=entry.get("member"), sheets=tuple(entry.get("sheets", ())),
            sheet_pattern=entry.get("sheet_pattern"),
            options={k: v for k, v in entry.items() if k not in cls.KNOWN},
        )

    @property
    def is_spreadsheet(self) -> bool:
        return Path(self.member or self.name).suffix.lower() in {".ods", ".xlsx", ".xls", ".xlsm"}


@dataclass
class Unit:
    """One CSV to load: a landed CSV, a zip member, or a sheet converted to CSV."""

    dataset: str
    csv_path: str
    source_file: str  # file name, plus !member or !sheet
    sheet: str | None = None


@dataclass
class Landed:
    file: SourceFile
    path: str
    sha256: str
    status: str  # fetched | unchanged
    units: list[Unit] = field(default_factory=list)

    def to_json(self) -> dict:
        payload = asdict(self)
        payload["file"] = asdict(self.file)
        return payload

    @classmethod
    def from_json(cls, payload: dict) -> "Landed":
        file = payload["file"]
        file["sheets"] = tuple(file.get("sheets", ()))
        return cls(file=SourceFile(**file), path=payload["path"], sha256=payload["sha256"],
                   status=payload["status"], units=[Unit(**u) for u in payload.get("units", [])])


def landing_dir(landing_root: Path, source: str) -> Path:
    return landing_root / source


def land(
    file: SourceFile,
    landing_root: Path,
    *,
    max_bytes: int,
    timeout: float,
) -> Landed:
    """Fetch ``file`` to landing (skipped when unchanged) and prepare its CSV units.

    Spreadsheet sheets are converted to CSV here, at fetch time, so the DuckDB writer pool
    is not held while a spreadsheet is read. The list of units is written beside the file
    (``<name>.units.json``) for the load task.
    """
    folder = landing_dir(landing_root, file.source)
    target = folder / "files" / file.name
    row = fetch_to_landing(file.url, target, source=file.source, partition=f"{file.dataset}/{file.name}",
                           max_bytes=max_bytes, timeout=timeout)
    landed = Landed(file=file, path=str(target), sha256=row.sha256, status=row.status)
    extracted = folder / "extracted" / file.name
    source_path, source_label = target, file.name
    if file.member:
        if not zipfile.is_zipfile(target):
            raise LandingError(f"{file.url}: expected a zip archive holding {file.member}; got something else")
        source_path = extract_member(target, file.member, extracted / Path(file.member).name,
                                     max_member_bytes=max_bytes)
        source_label = f"{file.name}!{file.member}"
    if file.is_spreadsheet:
        names = spreadsheet_sheet_names(source_path)
        wanted = list(file.sheets) or [s for s in names if file.sheet_pattern and re.fullmatch(file.sheet_pattern, s)]
        absent = [s for s in file.sheets if s not in names]
        if absent or not wanted:
            raise LoadError(
                f"{source_label}: sheets {absent or file.sheet_pattern!r} not found; the workbook has {names}. "
                "Update the file's `sheets` or `sheet_pattern` in the configuration."
            )
        for sheet in wanted:
            out = extracted / (re.sub(r"[^A-Za-z0-9._-]+", "_", sheet) + ".csv")
            spreadsheet_sheet_to_csv(source_path, sheet, out)
            landed.units.append(Unit(file.dataset, str(out), f"{source_label}!{sheet}", sheet))
    else:
        landed.units.append(Unit(file.dataset, str(source_path), source_label))
    _write_units(folder, file.name, landed)
    return landed


def _write_units(folder: Path, name: str, landed: Landed) -> None:
    path = folder / "extracted" / f"{name}.units.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, landed.to_json(), indent=2)


def write_units(landing_root: Path, landed: Landed) -> None:
    """Record ``landed`` (after a source changed its units, e.g. split a CSV by year)."""
    _write_units(landing_dir(landing_root, landed.file.source), landed.file.name, landed)


def read_landed(landing_root: Path, file: SourceFile) -> Landed | None:
    path = landing_dir(landing_root, file.source) / "extracted" / f"{file.name}.units.json"
    if not path.exists():
        return None
    return Landed.from_json(json.loads(path.read_text()))


def record_manifest(con: "duckdb.DuckDBPyConnection", landed: Landed) -> None:
    row = ManifestRow.read(Path(landed.path))
    if row is not None:
        row.record(con)


CALAMINE_HINT = (
    "reading ODS/XLSX needs the python-calamine package (PyPI `python-calamine`, 0.9): add it to "
    "pyproject.toml and requirements.lock, or configure the publisher's CSV edition instead"
)


def _calamine():
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:
        raise MissingDependency(CALAMINE_HINT) from exc
    return CalamineWorkbook


def spreadsheet_sheet_names(path: Path) -> list[str]:
    workbook = _calamine().from_path(str(path))
    return list(workbook.sheet_names)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def spreadsheet_sheet_to_csv(path: Path, sheet: str, target: Path) -> Path:
    """Write one sheet as UTF-8 CSV (integral numbers without '.0', dates ISO); notes rows are kept."""
    workbook = _calamine().from_path(str(path))
    rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            writer.writerow([_cell_text(v) for v in row])
    os.replace(tmp, target)
    return target


def fetch_files(files: Sequence[SourceFile], landing_root: Path, section: dict[str, Any]) -> list[Landed]:
    """Land every file; one the publisher has not published (yet) is logged and skipped."""
    from ingest.raw.landing import NotPublished

    landed = []
    for file in files:
        try:
            landed.append(land(file, landing_root, max_bytes=int(section.get("max_file_bytes", 500_000_000)),
                               timeout=float(section.get("http_timeout_seconds", 120))))
        except NotPublished as exc:
            log.warning("%s: not published (%s); skipped", file.name, exc)
    return landed


def fetch_summary(landed: Sequence[Landed]) -> list[dict]:
    return [{"file": l.file.name, "status": l.status, "sha256": l.sha256, "units": [u.source_file for u in l.units]}
            for l in landed]


class LoadRun:
    """One run of a source's load over its landed files, a plain loop (``load_each``)::

        with DECLARED.run(settings, run_dir) as run:  # opens the warehouse, creates the raw tables
            run.load_each(files, _load_unit)          # each landed unit: _load_unit(con, landed, unit, results_dir)
        return run.summary

    (``DECLARED.load(settings, _load_unit, year, run_dir)`` is exactly those three lines.)

    Each unit is its own transaction (the source's load function owns it): a unit that raises is
    recorded and the loop goes on, so one refused file keeps its previous rows without holding
    back the others; leaving the ``with`` then raises :class:`LoadError` naming every refusal.
    """

    def __init__(self, settings: Any, source: str, run_dir: Path | None = None, contracts: Iterable = ()) -> None:
        self.settings = settings
        self.source = source
        self.contracts = list(contracts)  # the raw tables created (if missing) on entering
        self.results_dir = (run_dir or settings.paths.runs_dir / "gates") / source
        self.summary: dict[str, dict] = {}
        self.failures: list[str] = []
        self.con: "duckdb.DuckDBPyConnection | None" = None
        self._connection = None

    def __enter__(self) -> "LoadRun":
        from ingest.warehouse import connect

        self._connection = connect(self.settings)
        self.con = self._connection.__enter__()
        if self.contracts:
            from ingest.raw.contract import ensure_tables

            ensure_tables(self.con, self.contracts)
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self._connection.__exit__(kind, error, traceback)
        if kind is None:
            log.info("%s: %s", self.source, json.dumps(self.summary))
            if self.failures:
                raise LoadError(f"{self.source}: {len(self.failures)} file(s) not loaded (their previous rows "
                                "are kept):\n  " + "\n  ".join(self.failures))

    def units(self, files: Sequence["SourceFile"]) -> Iterator[tuple["Landed", "Unit"]]:
        """Each landed unit of ``files`` (its manifest recorded first); a file not landed is logged, not an error."""
        for file in files:
            landed = read_landed(self.settings.paths.landing_dir, file)
            if landed is None:
                log.warning("%s: nothing landed (not published yet, or fetch not run); skipped", file.name)
                self.summary[file.name] = {"status": "absent"}
                continue
            record_manifest(self.con, landed)
            for unit in landed.units:
                yield landed, unit

    @contextmanager
    def attempt(self, unit: "Unit") -> Iterator[None]:
        """Record an exception from loading ``unit`` as its refusal, and go on with the next."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - reported on leaving the run with every unit's outcome
            message = str(exc) if str(exc).startswith(unit.source_file) else f"{unit.source_file}: {exc}"
            log.error("not loaded: %s", message)
            self.failures.append(message)

    def load_each(self, files: Sequence["SourceFile"], load_unit: Callable[..., Any]) -> None:
        """Load every landed unit of ``files`` with ``load_unit(con, landed, unit, results_dir)``, each
        unit attempted on its own (a refusal is recorded and the loop goes on)."""
        for landed, unit in self.units(files):
            with self.attempt(unit):
                self.loaded(unit, load_unit(self.con, landed, unit, self.results_dir))

    def loaded(self, unit: "Unit", result: Any) -> None:
        self.summary[unit.source_file] = {
            "status": "loaded", "table": result.table, "partition": result.label,
            "rows_loaded": result.rows_loaded, "rows_rejected": result.rows_rejected,
            "raw_rows": result.raw_rows, "values_repaired": result.values_repaired,
            "gate_warnings": len(result.gate_warnings),
        }


@dataclass(frozen=True)
class FileSource:
    """A source of configured files, declared once: its name (the config section, landing folder and
    gate results are named by it) and the contracts of its raw tables. It gives the surface every
    file source exposes to its DAG, so a source module only writes what is its own (its load)::

        DECLARED = raw.FileSource(SOURCE, CONTRACTS)
        ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()
    """

    name: str
    contracts: dict

    def section(self, settings: Any) -> dict[str, Any]:
        return settings.source(self.name)

    def ensure_raw_tables(self, con: "duckdb.DuckDBPyConnection") -> None:
        """Create this source's raw tables (and the shared ones) if they do not exist."""
        from ingest.raw.contract import ensure_tables

        ensure_tables(con, self.contracts.values())

    def files_for(self, settings: Any, year: int | None = None) -> list["SourceFile"]:
        """The configured files, or those whose ``year`` is ``year`` or earlier (a yearly run's view)."""
        return configured_files(self.section(settings), self.name, self.contracts, year)

    def is_published(self, settings: Any, file: "SourceFile") -> bool:
        """Is ``file`` there to fetch (HEAD for HTTP, existence for file://), within the section's timeout?"""
        from ingest.raw.landing import is_published

        return is_published(file.url, timeout=float(self.section(settings).get("http_timeout_seconds", 60)))

    def fetch(self, settings: Any, year: int | None = None) -> list[dict]:
        """Land every file for the period (skipped when unchanged; not yet published: logged, skipped)."""
        return fetch_summary(fetch_files(self.files_for(settings, year), settings.paths.landing_dir,
                                         self.section(settings)))

    def run(self, settings: Any, run_dir: Path | None = None) -> "LoadRun":
        """A :class:`LoadRun` of this source, its raw tables created on entering."""
        return LoadRun(settings, self.name, run_dir, self.contracts.values())

    def load(self, settings: Any, load_unit: Callable[..., Any], year: int | None = None,
             run_dir: Path | None = None, files: Sequence["SourceFile"] | None = None) -> dict[str, dict]:
        """Load every landed unit of the period's files (or of ``files``) with ``load_unit``, one
        transaction each; the run's summary, or :class:`LoadError` naming every refused unit."""
        with self.run(settings, run_dir) as run:
            run.load_each(self.files_for(settings, year) if files is None else files, load_unit)
        return run.summary

    def surface(self):
        return self.ensure_raw_tables, self.files_for, self.is_published, self.fetch


def configured_files(section: dict[str, Any], source: str, datasets: Iterable[str], year: int | None) -> list[SourceFile]:
    """The section's ``files`` entries, checked, optionally only those of ``year`` or earlier."""
    known = sorted(datasets)
    files = [SourceFile.from_config(source, entry, f"[{source}] files") for entry in section.get("files", [])]
    for file in files:
        if file.dataset not in known:
            raise LoadError(f"[{source}] file {file.name}: unknown dataset {file.dataset!r}; expected one of {known}")
    return [f for f in files if year is None or f.year is None or f.year <= year]
