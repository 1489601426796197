"""Landing: streaming, verification, manifest, skip-unchanged, and the zip guards."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile
from pathlib import Path

import pytest

from ingest.raw.landing import (
    LandingError,
    ManifestRow,
    NotPublished,
    extract_member,
    fetch_to_landing,
    is_published,
    manifest_path,
    verify_zip,
)
from ingest.sources.police_uk import verify_archive
from tests.conftest import write_zip


class ArchiveServer(http.server.ThreadingHTTPServer):
    """Serves one file at /archive.zip with an ETag; can cut the body short on demand."""

    def __init__(self, body: bytes):
        super().__init__(("127.0.0.1", 0), ArchiveHandler)
        self.body = body
        self.etag = '"v1"'
        self.truncate_to: int | None = None
        self.requests: list[tuple[str, str | None]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/archive.zip"


class ArchiveHandler(http.server.BaseHTTPRequestHandler):
    server: ArchiveServer

    def log_message(self, *args):  # keep test output quiet
        pass

    def _headers(self, status: int, length: int) -> None:
        self.send_response(status)
        self.send_header("ETag", self.server.etag)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def do_HEAD(self):
        self.server.requests.append(("HEAD", None))
        if self.path != "/archive.zip":
            self.send_error(404)
            return
        self._headers(200, len(self.server.body))

    def do_GET(self):
        self.server.requests.append(("GET", self.headers.get("If-None-Match")))
        if self.path != "/archive.zip":
            self.send_error(404)
            return
        if self.headers.get("If-None-Match") == self.server.etag:
            self.send_response(304)
            self.end_headers()
            return
        self._headers(200, len(self.server.body))
        body = self.server.body if self.server.truncate_to is None else self.server.body[: self.server.truncate_to]
        self.wfile.write(body)
        self.wfile.flush()
        if self.server.truncate_to is not None:
            self.close_connection = True


@pytest.fixture
def archive_bytes(tmp_path: Path) -> bytes:
    path = write_zip(tmp_path / "src.zip", {"2024-03/2024-03-lancashire-street.csv": "a,b\n1,2\n" * 1000})
    return path.read_bytes()


@pytest.fixture
def server(archive_bytes: bytes):
    srv = ArchiveServer(archive_bytes)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_http_fetch_lands_file_with_manifest_and_skips_unchanged(tmp_path, server, archive_bytes):
    target = tmp_path / "landing" / "2024-03.zip"
    first = fetch_to_landing(server.url, target, source="police_uk", partition="2024-03", max_bytes=10**7, verify=verify_zip)
    assert first.status == "fetched"
    assert first.sha256 == hashlib.sha256(archive_bytes).hexdigest()
    assert first.bytes == len(archive_bytes) and first.etag == '"v1"'
    assert json.loads(manifest_path(target).read_text())["sha256"] == first.sha256

    second = fetch_to_landing(server.url, target, source="police_uk", partition="2024-03", max_bytes=10**7, verify=verify_zip)
    assert second.status == "unchanged"
    assert server.requests[-1] == ("GET", '"v1"')  # a conditional GET, answered 304

    server.etag = '"v2"'  # the publisher re-issues the month
    third = fetch_to_landing(server.url, target, source="police_uk", partition="2024-03", max_bytes=10**7, verify=verify_zip)
    assert third.status == "fetched" and third.etag == '"v2"'
    assert not list(target.parent.glob("*.part"))


def test_truncated_download_keeps_previous_copy(tmp_path, server, archive_bytes):
    target = tmp_path / "2024-03.zip"
    good = fetch_to_landing(server.url, target, source="police_uk", partition="2024-03", max_bytes=10**7, verify=verify_zip)
    server.etag = '"v2"'
    server.truncate_to = len(archive_bytes) // 2
    with pytest.raises(LandingError, match=r"archive\.zip: download truncated after \d+ of \d+ bytes"):
        fetch_to_landing(server.url, target, source="police_uk", partition="2024-03", max_bytes=10**7, verify=verify_zip)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == good.sha256
    assert ManifestRow.read(target).sha256 == good.sha256
    assert not list(tmp_path.glob("*.part"))


def test_missing_archive_is_not_published(tmp_path, server):
    assert is_published(server.url)
    assert not is_published(server.url.replace("archive.zip", "2099-01.zip"))
    assert not is_published(f"file://{tmp_path}/nothing.zip")
    with pytest.raises(NotPublished):
        fetch_to_landing(f"file://{tmp_path}/nothing.zip", tmp_path / "x.zip", source="s", partition="p", max_bytes=10)


def test_file_url_is_copied_and_oversize_refused(tmp_path, archive_bytes):
    source = tmp_path / "pub" / "2024-03.zip"
    source.parent.mkdir()
    source.write_bytes(archive_bytes)
    target = tmp_path / "landing" / "2024-03.zip"
    row = fetch_to_landing(f"file://{source}", target, source="police_uk", partition="2024-03", max_bytes=10**7)
    assert target.read_bytes() == archive_bytes and row.status == "fetched"
    assert fetch_to_landing(f"file://{source}", target, source="police_uk", partition="2024-03", max_bytes=10**7).status == "unchanged"
    other = tmp_path / "landing2" / "2024-03.zip"
    with pytest.raises(LandingError, match="over the 10-byte limit"):
        fetch_to_landing(f"file://{source}", other, source="police_uk", partition="2024-03", max_bytes=10)
    assert not other.exists()


def test_truncated_zip_is_refused_by_name(tmp_path, archive_bytes):
    broken = tmp_path / "2024-03.zip"
    broken.write_bytes(archive_bytes[: len(archive_bytes) // 2])
    with pytest.raises(LandingError, match=r"2024-03\.zip: not a complete zip archive"):
        verify_zip(broken)


def test_zip_slip_archive_is_refused(tmp_path):
    hostile = write_zip(tmp_path / "2024-03.zip", {"../../etc/evil.csv": "x", "2024-03/ok.csv": "a"})
    with pytest.raises(LandingError, match=r"outside its folder.*\.\./\.\./etc/evil\.csv"):
        verify_archive(hostile)


def test_zip_bomb_member_is_refused(tmp_path):
    bomb = tmp_path / "2024-03.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2024-03/2024-03-lancashire-street.csv", b"0" * (50 * 1024 * 1024))
    with pytest.raises(LandingError, match="zip bomb"):
        extract_member(bomb, "2024-03/2024-03-lancashire-street.csv", tmp_path / "out.csv", max_member_bytes=10**9)
    with pytest.raises(LandingError, match="over the 1000-byte limit"):
        extract_member(bomb, "2024-03/2024-03-lancashire-street.csv", tmp_path / "out.csv", max_member_bytes=1000)
    assert not (tmp_path / "out.csv").exists()


def test_extract_member_uses_only_the_name_asked_for(tmp_path):
    archive = write_zip(tmp_path / "a.zip", {"2024-03/2024-03-lancashire-street.csv": "h\n1\n"})
    out = extract_member(archive, "2024-03/2024-03-lancashire-street.csv", tmp_path / "x" / "street.csv", max_member_bytes=100)
    assert out.read_text() == "h\n1\n"
    with pytest.raises(KeyError):
        extract_member(archive, "2024-03/2024-03-cumbria-street.csv", tmp_path / "y.csv", max_member_bytes=100)
