"""Sample CSP strategic assessments in the formats councils publish: PDF, DOCX and HTML, plus the register.

For a few synthetic CSPs in Lancashire and West Midlands (the district names of
:mod:`devtools.sample.forces`) it writes a short strategic assessment per CSP and year:

* page 1 — title and scope (no theme words);
* page 2 — "Our priorities": one sentence per priority theme, each saying "Priority n";
* page 3 — other issues the partnership monitors: themes mentioned without priority language;
* page 4 — delivery and governance.

So the expected result is known by construction (:data:`ASSESSMENTS`): each CSP's priority
themes are found on page 2, the monitored themes on page 3 and are not priorities. PDFs are
written by hand (PDF 1.4, Helvetica, one content stream per page) so pypdf reads the text
back exactly; DOCX with python-docx (an explicit page break between pages); HTML as one page.
Every document says it is a SYNTHETIC SAMPLE. Deterministic: same input, same bytes.

    python -m devtools.sample.csp_assessments --out var/sample/csp_assessments
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from devtools.sample.forces import get_force
from devtools.sample.writing import fixed_zip, write_if_changed

log = logging.getLogger(__name__)

REGISTER = "register.csv"

# How each theme is put as a priority (page 2) and as a mention without priority language (page 3).
PRIORITY_TEXT = {
    "serious_violence": "Serious violence, including knife crime among young people.",
    "domestic_abuse": "Domestic abuse: supporting victims and challenging perpetrators.",
    "vawg": "Violence against women and girls, including stalking and sexual violence.",
    "asb": "Anti-social behaviour in town centres and on public transport.",
    "drugs": "Drugs, and the harm caused by drug supply in our neighbourhoods.",
    "exploitation": "Exploitation of children and vulnerable adults, including cuckooing and modern slavery.",
    "acquisitive_crime": "Neighbourhood crime: burglary, robbery and vehicle crime.",
    "road_safety": "Road safety: fewer people killed or seriously injured on our roads.",
    "hate_crime": "Hate crime and the community tensions behind it.",
    "reoffending": "Reducing reoffending through integrated offender management.",
    "fraud_and_cyber": "Fraud and scams targeting older residents.",
    "radicalisation": "Radicalisation and extremism, under the Prevent duty.",
}
MENTION_TEXT = {
    "serious_violence": "Knife crime remained below the regional average over the year.",
    "domestic_abuse": "Recorded domestic abuse incidents were similar to the year before.",
    "vawg": "Reports of stalking increased after a publicity campaign.",
    "asb": "Anti-social behaviour reports fell in most wards.",
    "drugs": "Drug-related offending rose slightly in the town centre.",
    "exploitation": "Partners remain alert to exploitation of young people.",
    "acquisitive_crime": "Burglary fell by six per cent compared with the previous year.",
    "road_safety": "Residents raised speeding on rural roads at community meetings.",
    "hate_crime": "Reported hate incidents were stable.",
    "reoffending": "The probation service reported reoffending rates in line with the national rate.",
    "fraud_and_cyber": "Fraud reports to Action Fraud increased.",
    "radicalisation": "Referrals under the Prevent duty were low.",
}


@dataclass(frozen=True)
class Assessment:
    force_id: str
    district: str  # a district of the force in devtools.sample.forces (the CSP's area)
    year: int
    fmt: str  # pdf | docx | html
    priorities: tuple[str, ...]  # themes, in priority order (page 2)
    mentions: tuple[str, ...]  # themes mentioned without priority language (page 3)

    @property
    def csp_name(self) -> str:
        return f"{self.district} Community Safety Partnership"

    @property
    def file_name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.district.lower()).strip("-")
        return f"{slug}-csp-strategic-assessment-{self.year}.{self.fmt}"


ASSESSMENTS: tuple[Assessment, ...] = (
    Assessment("lancashire", "Preston", 2024, "pdf", ("asb", "acquisitive_crime", "domestic_abuse"),
               ("serious_violence", "drugs")),
    Assessment("lancashire", "Preston", 2025, "pdf", ("serious_violence", "domestic_abuse", "asb", "drugs"),
               ("acquisitive_crime", "road_safety", "hate_crime")),
    Assessment("lancashire", "Blackpool", 2025, "docx", ("drugs", "exploitation", "domestic_abuse", "asb"),
               ("reoffending", "hate_crime")),
    Assessment("lancashire", "Burnley", 2025, "html", ("asb", "hate_crime", "exploitation"),
               ("drugs", "road_safety")),
    Assessment("west-midlands", "Birmingham", 2025, "pdf", ("serious_violence", "exploitation", "vawg", "reoffending"),
               ("acquisitive_crime", "fraud_and_cyber", "radicalisation")),
    Assessment("west-midlands", "Coventry", 2025, "docx", ("serious_violence", "vawg", "asb"), ("drugs",)),
    Assessment("west-midlands", "Walsall", 2025, "html", ("domestic_abuse", "acquisitive_crime", "road_safety"),
               ("asb", "serious_violence")),
)


def pages_of(a: Assessment) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) per page."""
    force = get_force(a.force_id).name
    return [
        (f"{a.csp_name}: Strategic Assessment {a.year}", [
            "SYNTHETIC SAMPLE document generated for the OPCC evidence platform demo; not a real assessment.",
            f"This strategic assessment reviews crime and disorder in {a.district} over the twelve months to "
            f"March {a.year}, using data from {force}, the council and partner agencies.",
            "It informs the partnership plan and the commissioning decisions of partners.",
        ]),
        (f"Our priorities for {a.year}/{(a.year + 1) % 100:02d}", [
            "Having weighed harm, volume, trend and public concern, the partnership has agreed the following "
            "strategic priorities:",
            *(f"Priority {n}: {PRIORITY_TEXT[t]}" for n, t in enumerate(a.priorities, start=1)),
        ]),
        ("Other issues we monitor", [
            "The partnership will keep the following under review through its quarterly performance reports.",
            *(MENTION_TEXT[t] for t in a.mentions),
        ]),
        ("Delivery and governance", [
            "Each priority has a lead agency and a delivery group that reports to the partnership board.",
            "Progress is reported to the board every quarter and summarised in the annual review.",
        ]),
    ]


# --------------------------------------------------------------------------- writers


def _pdf_text(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("cp1252")


def pdf_bytes(pages: list[tuple[str, list[str]]], title: str) -> bytes:
    """A minimal PDF 1.4: Helvetica (WinAnsi), one content stream per page, text wrapped at 90 characters."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree's number is known
    tree = add(b"")
    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids = []
    for heading, paragraphs in pages:
        ops = [b"BT", b"/F2 15 Tf", b"16 TL", b"56 780 Td", b"(" + _pdf_text(heading) + b") Tj", b"T*", b"/F1 11 Tf",
               b"14 TL"]
        for paragraph in paragraphs:
            ops.append(b"T*")
            for line in textwrap.wrap(paragraph, 90):
                ops.append(b"(" + _pdf_text(line) + b") Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>" % (tree, content, regular, bold)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids)
                         + b"] /Count %d >>" % len(page_ids))
    info = add(b"<< /Title (" + _pdf_text(title) + b") /Producer (opcc-evidence-platform sample) >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, catalog, info, xref))
    return out.getvalue()


def docx_bytes(pages: list[tuple[str, list[str]]], title: str) -> bytes:
    """A .docx with a heading and paragraphs per page and an explicit page break between pages."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "opcc-evidence-platform sample"
    document.core_properties.revision = 1
    for index, (heading, paragraphs) in enumerate(pages):
        if index:
            document.add_page_break()
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return fixed_zip(buffer.getvalue())


def html_bytes(pages: list[tuple[str, list[str]]], title: str) -> bytes:
    """A council web page: navigation and a script the extractor must leave out, then the assessment."""
    from html import escape

    body = []
    for heading, paragraphs in pages:
        body.append(f"<section>\n<h2>{escape(heading)}</h2>")
        body += [f"<p>{escape(p)}</p>" for p in paragraphs]
        body.append("</section>")
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n<style>body {{ font-family: sans-serif; }}</style>\n</head>\n<body>\n"
        "<nav><a href=\"/\">Home</a> | <a href=\"/community-safety\">Community safety</a></nav>\n"
        "<script>var tracking = 'priority: ignore me';</script>\n<main>\n" + "\n".join(body) + "\n</main>\n"
        "<footer>Council offices, Town Hall</footer>\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def document_bytes(a: Assessment) -> bytes:
    pages = pages_of(a)
    title = f"{a.csp_name} Strategic Assessment {a.year}"
    return {"pdf": pdf_bytes, "docx": docx_bytes, "html": html_bytes}[a.fmt](pages, title)


def register_rows(assessments: Sequence[Assessment]) -> list[list[str]]:
    """The register's rows; each URL is relative to the register (the documents sit beside it)."""
    return [[a.csp_name, get_force(a.force_id).name, str(a.year), a.file_name, a.file_name,
             f"{a.district} Council (SYNTHETIC SAMPLE)", "Open Government Licence v3.0", "sample document"]
            for a in assessments]


def generate(out_dir: Path, forces: Sequence[str] | None = None) -> dict[str, bool]:
    """Write the documents and the register under ``out_dir``; returns {file name: changed}."""
    chosen = [a for a in ASSESSMENTS if forces is None or a.force_id in forces]
    written = {a.file_name: write_if_changed(out_dir / a.file_name, document_bytes(a)) for a in chosen}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["csp_name", "force", "assessment_year", "file_name", "url", "publisher", "licence", "notes"])
    writer.writerows(register_rows(chosen))
    written[REGISTER] = write_if_changed(out_dir / REGISTER, buffer.getvalue().encode("utf-8"))
    log.info("CSP assessment sample in %s: %s", out_dir, written)
    return written


def generate_sample(settings) -> Path:
    """The demo's documents and register in ``var/sample/csp_assessments`` (config/demo.toml)."""
    out_dir = settings.root / "var" / "sample" / "csp_assessments"
    generate(out_dir, list(settings.police_uk.forces))
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("var/sample/csp_assessments"))
    parser.add_argument("--forces", nargs="*", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate(args.out, args.forces)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
