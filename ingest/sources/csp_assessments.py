"""Community Safety Partnership strategic assessments: PDF, DOCX or HTML documents, as page text.

Each council or CSP publishes its strategic assessment on its own website, so the office keeps
a register (``templates/csp_assessments/register_template.csv``, instructions beside it): one
row per document with its CSP, force, assessment year, URL, publisher and licence.

The same small surface as every source:
  * ``files_for`` / ``is_published`` — what there is for a year: the register's documents
    (the register itself is landed and read first);
  * ``fetch``  — land each document as published, and extract its text page by page (here,
    not in the load, so the DuckDB writer pool is not held while PDFs are parsed). A document
    that cannot be read (an encrypted PDF, a scanned one without text, an old .doc) is
    recorded as refused with the reason, naming the file;
  * ``load``   — replace each CSP × year partition of ``raw.csp_assessment_pages`` (one row
    per page), gate it and commit; a refused document fails its CSP-year (the previous rows
    are kept) and the task, naming the file, after the others have loaded.

Pages: a PDF's pages are its pages (pypdf). A DOCX has no pages until it is laid out: the
page is counted from the page breaks Word recorded when it last laid the document out
(``w:lastRenderedPageBreak``) where the file has them, otherwise from explicit page breaks,
"page break before" paragraphs and new-page section breaks. HTML has no pages: the whole
document is page 1. Themes and priorities are found in dbt (seed ``csp_theme_keywords``).

Only the standard library is imported at module level (DAG files import source modules).
"""

from __future__ import annotations

import csv
import html.parser
import json
import logging
import os
import re
import zipfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest import raw
from ingest.raw import Column, Contract

if TYPE_CHECKING:
    import duckdb

    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "csp_assessments"
REGISTER_COLUMNS = ("csp_name", "force", "assessment_year", "file_name", "url", "publisher", "licence", "notes")
REQUIRED_REGISTER_COLUMNS = ("csp_name", "force", "assessment_year", "url")
FORMATS = ("pdf", "docx", "html")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

PAGES = Contract(
    dataset="pages",
    table="csp_assessment_pages",
    description="CSP strategic assessment text, one row per document page, with the register's details.",
    columns=(
        Column("csp_name"),
        Column("force"),
        Column("assessment_year", duckdb_type="INTEGER"),
        Column("document_name"),
        Column("document_url"),
        Column("document_format"),
        Column("publisher", required=False),
        Column("licence", required=False),
        Column("page_count", duckdb_type="INTEGER"),
        Column("page_number", duckdb_type="INTEGER"),
        Column("page_text"),
    ),
    partition=("_csp", "_assessment_year"),
    header_starts_with=("csp_name",),
)
CONTRACTS: dict[str, Contract] = {PAGES.dataset: PAGES}


class DocumentRefused(raw.LoadError):
    """A document cannot be read as text; nothing from it (or its CSP-year) was loaded."""


class RegisterError(raw.LoadError):
    """The register of documents breaks its template."""


def ensure_raw_tables(con: "duckdb.DuckDBPyConnection") -> None:
    """Create this source's raw table (and the shared ones) if they do not exist."""
    raw.ensure_tables(con, CONTRACTS.values())


def csp_key(name: str) -> str:
    """``Blackburn with Darwen`` → ``blackburn-with-darwen`` (the partition key and landing folder)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


# --------------------------------------------------------------------------- text extraction


def detect_format(path: Path, label: str) -> str:
    """``pdf``, ``docx`` or ``html`` from the file's content (not its name), or :class:`DocumentRefused`."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "word/document.xml" in archive.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        raise DocumentRefused(f"{label}: a zip file that is not a Word .docx document; save it as .docx or PDF")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentRefused(f"{label}: an old Word .doc (or other OLE) file, which this loader does not read; "
                              "save it as .docx or PDF and update the register")
    text = head.decode("utf-8", errors="replace").lower()
    if "<html" in text or "<!doctype html" in text or "<body" in text:
        return "html"
    raise DocumentRefused(f"{label}: not a PDF, DOCX or HTML document (it starts {head[:16]!r}); "
                          "check the register's URL points at the document itself, not a web page about it")


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def pdf_pages(path: Path, label: str) -> list[str]:
    """Text of each page. A PDF that needs a password to open is refused, naming the file.

    A PDF encrypted only to restrict printing or copying (an empty user password, common on
    council websites) opens without a password and is read.
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise DocumentRefused(f"{label}: the PDF is encrypted with a method this installation cannot "
                                      f"open ({exc}); ask the publisher for an unencrypted copy") from exc
            if not opened:
                raise DocumentRefused(
                    f"{label}: the PDF is encrypted and needs a password to open, so its text cannot be read. "
                    "Nothing was loaded for this CSP and year. Ask the publisher for an unprotected copy (or save "
                    "one with the password), put it where the register's URL points, and rerun."
                )
            log.info("%s: encrypted with an empty user password (restrictions only); read as normal", label)
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            try:
                pages.append(_clean(page.extract_text() or ""))
            except Exception as exc:  # noqa: BLE001 - one unreadable page must not lose the document
                log.warning("%s: page %d could not be read (%s); kept as an empty page", label, number, exc)
                pages.append("")
    except DocumentRefused:
        raise
    except (PdfReadError, OSError, ValueError) as exc:
        raise DocumentRefused(f"{label}: not a readable PDF ({exc.__class__.__name__}: {exc}); "
                              "the download may be truncated, or the file damaged") from exc
    return pages


def docx_pages(path: Path, label: str) -> list[str]:
    """Text of each page as Word last laid it out (or by explicit breaks); tables as ``a | b`` lines."""
    import docx

    try:
        body = docx.Document(str(path)).element.body
    except Exception as exc:  # noqa: BLE001 - python-docx raises several classes for a damaged file
        raise DocumentRefused(f"{label}: not a readable .docx ({exc.__class__.__name__}: {exc})") from exc
    rendered = next(body.iter(f"{_W}lastRenderedPageBreak"), None) is not None
    pages: list[list[str]] = [[]]
    line: list[str] = []

    def end_line() -> None:
        text = "".join(line).strip()
        if text:
            pages[-1].append(text)
        line.clear()

    def new_page() -> None:
        end_line()
        if pages[-1]:
            pages.append([])

    for block in body.iterchildren():
        if block.tag == f"{_W}tbl":
            for row in block.iter(f"{_W}tr"):
                cells = ["".join(t.text or "" for t in cell.iter(f"{_W}t")).strip() for cell in row.iter(f"{_W}tc")]
                text = " | ".join(c for c in cells if c)
                if text:
                    pages[-1].append(text)
            continue
        if block.tag != f"{_W}p":
            continue
        properties = block.find(f"{_W}pPr")
        if not rendered and properties is not None and properties.find(f"{_W}pageBreakBefore") is not None:
            new_page()
        for element in block.iter():
            if element.tag == f"{_W}t":
                line.append(element.text or "")
            elif element.tag in (f"{_W}tab",):
                line.append(" ")
            elif element.tag == f"{_W}br":
                if element.get(f"{_W}type") == "page":
                    if not rendered:
                        new_page()
                else:
                    end_line()
            elif element.tag == f"{_W}lastRenderedPageBreak" and rendered:
                new_page()
        end_line()
        section = properties.find(f"{_W}sectPr") if properties is not None else None
        if not rendered and section is not None:
            kind = section.find(f"{_W}type")
            if kind is None or kind.get(f"{_W}val") != "continuous":
                new_page()
    return [_clean("\n".join(p)) for p in pages] if any(pages) else [""]


class _HtmlText(html.parser.HTMLParser):
    SKIP = {"script", "style", "head", "noscript", "template", "svg", "nav", "footer"}  # menus: false mentions
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table",
             "ul", "ol", "header", "footer", "main", "blockquote", "dt", "dd", "figcaption"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_pages(path: Path, label: str) -> list[str]:
    """The visible text of an HTML page, as page 1 (scripts, styles and the head left out)."""
    data = path.read_bytes()
    declared = re.search(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", data[:4096], flags=re.I)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    joined = re.sub(r"[ \t]+", " ", "".join(parser.parts))
    return [_clean(re.sub(r"\n\s*\n+", "\n\n", joined))]


def extract_pages(path: Path, label: str, max_pages: int = 500) -> tuple[str, list[str]]:
    """(format, text of each page) of a document, or :class:`DocumentRefused` naming the file and why."""
    kind = detect_format(path, label)
    pages = {"pdf": pdf_pages, "docx": docx_pages, "html": html_pages}[kind](path, label)
    if len(pages) > max_pages:
        raise DocumentRefused(f"{label}: {len(pages)} pages, over the {max_pages}-page limit ([{SOURCE}] max_pages); "
                              "is this the strategic assessment?")
    if not any(p.strip() for p in pages):
        raise DocumentRefused(f"{label}: no text could be extracted from the {kind.upper()} ({len(pages)} page(s)); "
                              "a scanned document needs OCR first (save a searchable PDF)")
    return kind, pages


# --------------------------------------------------------------------------- the register


@dataclass(frozen=True)
class Document:
    """One register row: a document to fetch."""

    csp_name: str
    force: str
    assessment_year: int
    file_name: str
    url: str
    publisher: str = ""
    licence: str = ""
    line: int = 0

    @property
    def key(self) -> tuple[str, int]:
        return csp_key(self.csp_name), self.assessment_year


def read_register(path: Path, label: str, base_url: str | None = None) -> list[Document]:
    """The register's documents; refused whole (naming each line at fault) when a row breaks the template.

    A ``url`` may be relative to the register's own address (``base_url``): a register kept
    beside the documents it lists can then move with them.
    """
    from urllib.parse import urljoin

    from ingest.force_names import resolve_force

    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(row for row in handle if not row.startswith("#"))
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_REGISTER_COLUMNS if c not in header]
        unknown = [c for c in header if c not in REGISTER_COLUMNS]
        if missing or unknown:
            raise RegisterError(f"{label}: the register's columns are {header}; missing {missing}, unexpected {unknown}. "
                                f"Expected: {','.join(REGISTER_COLUMNS)} (templates/csp_assessments/README.md)")
        documents, problems, names = [], [], set()
        for row in reader:
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if not any(row.values()):
                continue
            where = f"line {reader.line_num}"
            empty = [c for c in REQUIRED_REGISTER_COLUMNS if not row.get(c)]
            if empty:
                problems.append(f"{where}: {', '.join(empty)} empty")
                continue
            if resolve_force(row["force"]) is None:
                problems.append(f"{where}: force {row['force']!r} is not a force the platform knows "
                                "(use e.g. 'Lancashire Constabulary' or 'lancashire')")
            if not re.fullmatch(r"(19|20)\d{2}", row["assessment_year"]):
                problems.append(f"{where}: assessment_year {row['assessment_year']!r} is not a year like 2025")
                continue
            name = row.get("file_name") or row["url"].rstrip("/").rsplit("/", 1)[-1]
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,150}", name) or ".." in name:
                problems.append(f"{where}: file_name {name!r} must be a plain file name (letters, digits, . _ -)")
                continue
            if name in names:
                problems.append(f"{where}: file_name {name!r} is already used on another line; names must be unique")
            names.add(name)
            url = urljoin(base_url, row["url"]) if base_url else row["url"]
            documents.append(Document(row["csp_name"], row["force"], int(row["assessment_year"]), name, url,
                                      row.get("publisher", ""), row.get("licence", ""), reader.line_num))
    if problems:
        raise RegisterError(f"{label}: {len(problems)} problem(s) in the register; nothing was fetched:\n  "
                            + "\n  ".join(problems[:20]) + "\nFix the register and rerun.")
    return documents


def _section(settings: "Settings") -> dict[str, Any]:
    return settings.source(SOURCE)


def _landing(settings: "Settings") -> Path:
    return settings.paths.landing_dir / SOURCE


def land_register(settings: "Settings") -> Path:
    from ingest.raw.landing import fetch_to_landing

    section = _section(settings)
    target = _landing(settings) / "register.csv"
    fetch_to_landing(str(section["register_url"]), target, source=SOURCE, partition="register",
                     max_bytes=10_000_000, timeout=float(section.get("http_timeout_seconds", 60)))
    return target


def files_for(settings: "Settings", year: int | None = None) -> list[Document]:
    """The register's documents for ``year`` and earlier (all of them when ``year`` is None).

    Lands the register first (skipped when unchanged); a register not there yet means nothing to fetch.
    """
    from ingest.raw.landing import NotPublished

    try:
        register = land_register(settings)
    except NotPublished as exc:
        log.warning("CSP assessments: no register yet (%s); nothing to fetch", exc)
        return []
    register_url = str(_section(settings)["register_url"])
    documents = read_register(register, register_url, base_url=register_url)
    return [d for d in documents if year is None or d.assessment_year <= year]


def is_published(settings: "Settings", document: Document) -> bool:
    from ingest.raw.landing import is_published as published

    return published(document.url, timeout=float(_section(settings).get("http_timeout_seconds", 60)))


# --------------------------------------------------------------------------- fetch


@dataclass
class Unit:
    """One CSP × year: its documents' pages as one CSV, or why it was refused."""

    csp_name: str
    assessment_year: int
    csv_path: str | None
    documents: list[dict[str, Any]] = field(default_factory=list)  # name, sha256, format, pages, status
    refused: str | None = None

    @property
    def partition(self) -> dict[str, str]:
        return {"_csp": csp_key(self.csp_name), "_assessment_year": str(self.assessment_year)}


def _unit_path(settings: "Settings", key: tuple[str, int]) -> Path:
    return _landing(settings) / "extracted" / f"{key[0]}__{key[1]}.json"


def _write_pages_csv(path: Path, rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.name for c in PAGES.columns])
        writer.writerows(rows)
    os.replace(tmp, path)


def fetch(settings: "Settings", year: int | None = None) -> list[dict]:
    """Land each registered document and extract its pages; one unit (CSV of pages) per CSP and year.

    A document that cannot be read is logged as an error and its CSP-year recorded as refused
    (the load reports it); fetching raises only for what a retry can fix (the network).
    """
    from ingest.raw.landing import NotPublished, fetch_to_landing

    section = _section(settings)
    documents = files_for(settings, year)
    by_unit: dict[tuple[str, int], list[Document]] = {}
    for document in documents:
        by_unit.setdefault(document.key, []).append(document)
    summary = []
    for key, docs in sorted(by_unit.items()):
        unit = Unit(csp_name=docs[0].csp_name, assessment_year=key[1], csv_path=None)
        rows: list[list[Any]] = []
        for document in docs:
            target = _landing(settings) / "files" / document.file_name
            try:
                manifest = fetch_to_landing(document.url, target, source=SOURCE,
                                            partition=f"{key[0]}/{key[1]}/{document.file_name}",
                                            max_bytes=int(section.get("max_file_bytes", 100_000_000)),
                                            timeout=float(section.get("http_timeout_seconds", 60)))
            except NotPublished as exc:
                unit.refused = f"{document.file_name} (register line {document.line}): not found at {document.url} ({exc})"
                break
            try:
                kind, pages = extract_pages(target, document.file_name, int(section.get("max_pages", 500)))
            except DocumentRefused as exc:
                unit.refused = f"{exc} (register line {document.line}, {document.url})"
                log.error("%s", unit.refused)
                break
            unit.documents.append({"name": document.file_name, "url": document.url, "sha256": manifest.sha256,
                                   "format": kind, "pages": len(pages), "status": manifest.status})
            rows += [[document.csp_name, document.force, document.assessment_year, document.file_name, document.url,
                      kind, document.publisher, document.licence, len(pages), number, text]
                     for number, text in enumerate(pages, start=1)]
        if unit.refused is None:
            csv_path = _unit_path(settings, key).with_suffix(".csv")
            _write_pages_csv(csv_path, rows)
            unit.csv_path = str(csv_path)
        path = _unit_path(settings, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(unit), indent=2))
        summary.append({"csp": unit.csp_name, "year": unit.assessment_year, "refused": unit.refused,
                        "documents": [(d["name"], d["format"], d["pages"]) for d in unit.documents]})
    log.info("%s fetched: %s", SOURCE, json.dumps(summary))
    return summary


# --------------------------------------------------------------------------- load


def _record_manifests(con: "duckdb.DuckDBPyConnection", settings: "Settings", unit: Unit) -> None:
    from ingest.raw.landing import ManifestRow

    for document in unit.documents:
        row = ManifestRow.read(_landing(settings) / "files" / document["name"])
        if row is not None:
            replace(row, status=document.get("status", row.status)).record(con)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Replace each fetched CSP × year (all its pages) in one transaction each; raise at the end naming refusals."""
    from ingest.warehouse import connect

    results_dir = (run_dir or settings.paths.runs_dir / "gates") / SOURCE
    keys = sorted({d.key for d in files_for(settings, year)})
    summary: dict[str, dict] = {}
    failures: list[str] = []
    with connect(settings) as con:
        ensure_raw_tables(con)
        for key in keys:
            path = _unit_path(settings, key)
            label = f"{key[0]} {key[1]}"
            if not path.exists():
                summary[label] = {"status": "absent"}
                log.warning("%s: not fetched yet; skipped", label)
                continue
            unit = Unit(**json.loads(path.read_text()))
            if unit.refused:
                failures.append(unit.refused)
                continue
            _record_manifests(con, settings, unit)
            documents = ", ".join(d["name"] for d in unit.documents)
            sha = ",".join(d["sha256"] for d in unit.documents)
            try:
                result = raw.load_file(con, PAGES, Path(unit.csv_path or ""), partition=unit.partition,
                                      source_file=documents, file_sha256=sha, results_dir=results_dir)
            except raw.LoadError as exc:
                failures.append(f"{label}: {exc}")
                continue
            summary[label] = {"status": "loaded", "documents": documents, "pages": result.rows_loaded,
                              "rows_rejected": result.rows_rejected}
    log.info("%s loaded: %s", SOURCE, json.dumps(summary))
    if failures:
        raise raw.LoadError(f"{SOURCE}: {len(failures)} CSP assessment(s) not loaded (their previous rows are kept):\n  "
                           + "\n  ".join(failures))
    return summary
