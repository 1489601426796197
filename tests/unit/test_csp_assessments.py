"""CSP strategic assessments: page text from PDF, DOCX and HTML; refusals name the file; the register."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from devtools.sample import csp_assessments as sample
from ingest.sources import csp_assessments as csp
from ingest.sources.csp_assessments import DocumentRefused, RegisterError, extract_pages, read_register

PRESTON_2025 = next(a for a in sample.ASSESSMENTS if a.district == "Preston" and a.year == 2025)
BLACKPOOL_2025 = next(a for a in sample.ASSESSMENTS if a.district == "Blackpool")
BURNLEY_2025 = next(a for a in sample.ASSESSMENTS if a.district == "Burnley")


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_pdf_pages_come_back_with_their_numbers(tmp_path):
    path = _write(tmp_path, PRESTON_2025.file_name, sample.document_bytes(PRESTON_2025))
    kind, pages = extract_pages(path, path.name)
    assert kind == "pdf" and len(pages) == 4
    assert pages[0].startswith("Preston Community Safety Partnership: Strategic Assessment 2025")
    assert "Priority 1: Serious violence, including knife crime among young people." in pages[1]
    assert "Burglary fell by six per cent" in pages[2]


def test_docx_pages_follow_its_page_breaks(tmp_path):
    path = _write(tmp_path, BLACKPOOL_2025.file_name, sample.document_bytes(BLACKPOOL_2025))
    kind, pages = extract_pages(path, path.name)
    assert kind == "docx" and len(pages) == 4
    assert pages[1].splitlines()[0] == "Our priorities for 2025/26"
    assert "Priority 2: Exploitation of children" in pages[1]


def test_docx_pages_as_word_last_laid_them_out(tmp_path):
    """Where Word recorded its own page breaks (w:lastRenderedPageBreak), they win over explicit breaks."""
    import docx
    from docx.oxml import OxmlElement

    document = docx.Document()
    document.add_paragraph("page one text")
    document.add_paragraph("still page one")
    spill = document.add_paragraph("page two after Word's layout")
    spill.runs[0]._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
    document.add_paragraph("also page two")
    buffer = io.BytesIO()
    document.save(buffer)
    _, pages = extract_pages(_write(tmp_path, "laid-out.docx", buffer.getvalue()), "laid-out.docx")
    assert pages == ["page one text\nstill page one", "page two after Word's layout\nalso page two"]


def test_docx_tables_are_read_as_rows(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    for r, (a, b) in enumerate([("Theme", "Trend"), ("Burglary", "down 6%")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    buffer = io.BytesIO()
    document.save(buffer)
    _, pages = extract_pages(_write(tmp_path, "table.docx", buffer.getvalue()), "table.docx")
    assert pages == ["Theme | Trend\nBurglary | down 6%"]


def test_html_is_one_page_without_navigation_or_scripts(tmp_path):
    path = _write(tmp_path, BURNLEY_2025.file_name, sample.document_bytes(BURNLEY_2025))
    kind, pages = extract_pages(path, path.name)
    assert kind == "html" and len(pages) == 1
    assert "Priority 2: Hate crime and the community tensions behind it." in pages[0]
    assert "ignore me" not in pages[0] and "Home |" not in pages[0] and "Town Hall" not in pages[0]


def _encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(sample.document_bytes(PRESTON_2025))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_an_encrypted_pdf_is_refused_naming_the_file(tmp_path):
    path = _write(tmp_path, "preston-sa-2025-protected.pdf", _encrypted_pdf("secret"))
    with pytest.raises(DocumentRefused) as refused:
        extract_pages(path, path.name)
    message = str(refused.value)
    assert message.startswith("preston-sa-2025-protected.pdf: the PDF is encrypted and needs a password to open")
    assert "unprotected copy" in message


def test_a_pdf_encrypted_only_against_copying_is_read(tmp_path):
    path = _write(tmp_path, "restricted.pdf", _encrypted_pdf(""))
    kind, pages = extract_pages(path, path.name)
    assert kind == "pdf" and "Priority 1: Serious violence" in pages[1]


@pytest.mark.parametrize("content, expected", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "an old Word .doc"),
    (b"PK\x03\x04not really a zip", "a zip file that is not a Word .docx document"),
    (b"Strategic assessment, plain text", "not a PDF, DOCX or HTML document"),
    (b"%PDF-1.4\ntruncated", "not a readable PDF"),
])
def test_unreadable_documents_are_refused_naming_the_file(tmp_path, content, expected):
    path = _write(tmp_path, "assessment.bin", content)
    with pytest.raises(DocumentRefused) as refused:
        extract_pages(path, path.name)
    assert str(refused.value).startswith("assessment.bin: ") and expected in str(refused.value)


def test_a_pdf_without_text_is_refused_as_scanned(tmp_path):
    path = _write(tmp_path, "scanned.pdf", sample.pdf_bytes([(" ", [])], "scan"))  # a page with no text on it
    with pytest.raises(DocumentRefused) as refused:
        extract_pages(path, path.name)
    assert "scanned.pdf: no text could be extracted from the PDF" in str(refused.value)


def test_too_many_pages_is_refused(tmp_path):
    path = _write(tmp_path, PRESTON_2025.file_name, sample.document_bytes(PRESTON_2025))
    with pytest.raises(DocumentRefused, match="4 pages, over the 3-page limit"):
        extract_pages(path, path.name, max_pages=3)


def test_register_urls_are_relative_to_the_register(tmp_path):
    sample.generate(tmp_path)
    documents = read_register(tmp_path / "register.csv", "register.csv", base_url=(tmp_path / "register.csv").as_uri())
    assert len(documents) == len(sample.ASSESSMENTS)
    preston = [d for d in documents if d.csp_name.startswith("Preston")]
    assert [d.assessment_year for d in preston] == [2024, 2025]
    assert preston[1].url == (tmp_path / PRESTON_2025.file_name).as_uri()
    assert preston[1].key == ("preston-community-safety-partnership", 2025)


def test_a_bad_register_row_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "csp_name,force,assessment_year,file_name,url,publisher,licence,notes\n"
        "Preston CSP,Lancs,2025,,https://example.org/a.pdf,,,\n"
        "Preston CSP,lancashire,25,,https://example.org/b.pdf,,,\n"
        "Preston CSP,lancashire,2025,,,,,\n"
        "Burnley CSP,lancashire,2025,../a.pdf,https://example.org/c.pdf,,,\n"
    )
    with pytest.raises(RegisterError) as refused:
        read_register(path, "register.csv")
    message = str(refused.value)
    assert "line 2: force 'Lancs' is not a force the platform knows" in message
    assert "line 3: assessment_year '25' is not a year like 2025" in message
    assert "line 4: url empty" in message
    assert "line 5: file_name '../a.pdf' must be a plain file name" in message


def test_register_with_wrong_columns_is_refused(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text("csp,force,year,url\n")
    with pytest.raises(RegisterError, match="missing \\['csp_name', 'assessment_year'\\]"):
        read_register(path, "register.csv")


def test_sample_is_deterministic_and_regenerates_nothing_when_unchanged(tmp_path):
    first = sample.generate(tmp_path)
    assert all(first.values())
    assert not any(sample.generate(tmp_path).values())
    assert csp.csp_key("Blackburn with Darwen Community Safety Partnership") == \
        "blackburn-with-darwen-community-safety-partnership"
