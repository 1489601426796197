"""Landing: fetch a published file exactly as shipped, verify it, and record a manifest.

Every landed file has a sidecar ``<file>.manifest.json`` (source, partition, url,
sha256, bytes, fetched_at, etag, last_modified). Downloads stream to a temporary
file in the same folder and are renamed only once complete and verified, so a
crash or a truncated download never replaces a good file.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
USER_AGENT = "opcc-evidence-platform/0.1 (+https://data.police.uk/ bulk archive consumer)"


class LandingError(RuntimeError):
    """A file could not be landed; the previous landed copy (if any) is untouched."""


class NotPublished(LandingError):
    """The publisher has no file at that address (yet)."""


@dataclass(frozen=True)
class ManifestRow:
    source: str
    partition: str
    url: str
    path: str
    sha256: str
    bytes: int
    fetched_at: str
    etag: str | None = None
    last_modified: str | None = None
    status: str = "fetched"  # fetched | unchanged

    @classmethod
    def read(cls, path: Path) -> "ManifestRow | None":
        sidecar = manifest_path(path)
        if not sidecar.exists() or not path.exists():
            return None
        return cls(**json.loads(sidecar.read_text()))

    def write(self, path: Path) -> None:
        """The sidecar manifest of landed file ``path``, replaced atomically."""
        write_json_atomically(manifest_path(path), asdict(self), indent=2, sort_keys=True)

    def record(self, con: "duckdb.DuckDBPyConnection") -> None:
        """This file's row in ``raw.landing_manifest`` (one row per source and partition)."""
        con.execute(
            "insert or replace into raw.landing_manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp)",
            [self.source, self.partition, self.url, self.path, self.sha256, self.bytes, self.fetched_at,
             self.etag, self.last_modified, self.status],
        )


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def write_json_atomically(path: Path, payload, **dumps_options) -> None:
    """Write ``payload`` as JSON to ``path`` by renaming a finished file into place: a reader sees the
    old file or the new one, never half of one. ``dumps_options`` go to :func:`json.dumps`. The
    temporary file is named per process (two writers do not share it) and removed on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, **dumps_options), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def swap_in(source: Path, target: Path) -> None:
    """Put folder ``source`` at ``target``, replacing any old folder in one step where the OS allows
    (Linux renameat2 RENAME_EXCHANGE), else by two renames a moment apart (the old folder put back
    if the second fails). Readers see the old folder or the new one, never half of either."""
    if not target.exists():
        os.rename(source, target)
        return
    if _exchange(source, target):
        shutil.rmtree(source)  # now holds the old folder
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(target, old)
    try:
        os.rename(source, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    # Python has no os.renameat2: call libc's, where there is one (glibc 2.28+).
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2  # <fcntl.h>, <linux/fs.h>
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def redact(url: str) -> str:
    """``url`` without credentials (``ingest.http.redact``; imported late: requests is heavy)."""
    from ingest.http import redact as redact_text

    return redact_text(url)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def is_published(url: str, timeout: float = 30.0) -> bool:
    """Does the publisher have a file at ``url``? (HEAD for http, existence for file://).

    Goes through the HTTP layer (rate limit, retries on 429/5xx/connection errors); raises
    ``ingest.http.HttpError`` naming the URL, status and attempts when it cannot tell.
    """
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).is_file()
    from ingest.http import HttpStatusError, session  # requests is only imported when a task needs it

    response = session().head(url, timeout=timeout, allow_redirects=True)
    response.close()
    if response.status_code == 404:
        return False
    if response.status_code >= 400:
        raise HttpStatusError(url, f"HTTP {response.status_code} {response.reason}", status=response.status_code)
    return True


def fetch_to_landing(
    url: str,
    target: Path,
    *,
    source: str,
    partition: str,
    max_bytes: int,
    verify: Callable[[Path], None] | None = None,
    timeout: float = 60.0,
) -> ManifestRow:
    """Land ``url`` at ``target``; skip when the publisher's copy is unchanged.

    ``verify`` is called on the complete temporary file before it replaces ``target``;
    it raises to refuse the file (a truncated zip, say).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = ManifestRow.read(target)
    parsed = urlparse(url)
    shown = redact(url)  # what logs, errors and the manifest say: never a credential in the URL
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if parsed.scheme == "file":
            etag, last_modified, unchanged = _copy_local(Path(unquote(parsed.path)), tmp, previous, max_bytes, shown)
        elif parsed.scheme in {"http", "https"}:
            etag, last_modified, unchanged = _download(url, tmp, previous, max_bytes, timeout)
        else:
            raise LandingError(f"{shown}: unsupported URL scheme {parsed.scheme!r} (use https:// or file://)")
        if unchanged and previous is not None:
            log.info("%s unchanged since %s; not fetched again", shown, previous.fetched_at)
            row = ManifestRow(**{**asdict(previous), "status": "unchanged"})
            return row
        if verify is not None:
            try:
                verify(tmp)
            except LandingError as exc:
                # The check ran on the download's temporary name: say which file it was.
                raise LandingError(str(exc).replace(tmp.name, target.name)) from exc
        digest = sha256_of(tmp)
        if previous is not None and previous.sha256 == digest:
            log.info("%s re-fetched with identical content (sha256 %s…)", shown, digest[:12])
        row = ManifestRow(
            source=source,
            partition=partition,
            url=shown,
            path=str(target),
            sha256=digest,
            bytes=tmp.stat().st_size,
            fetched_at=_now(),
            etag=etag,
            last_modified=last_modified,
        )
        os.replace(tmp, target)
        row.write(target)
        log.info("landed %s -> %s (%d bytes, sha256 %s…)", shown, target, row.bytes, digest[:12])
        return row
    finally:
        tmp.unlink(missing_ok=True)


def _copy_local(
    source: Path, tmp: Path, previous: ManifestRow | None, max_bytes: int, url: str
) -> tuple[str | None, str | None, bool]:
    if not source.is_file():
        raise NotPublished(f"{url}: no such file")
    stat = source.stat()
    # A local file's "ETag" is its size and modification time, as a web server's would be.
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    if previous is not None and previous.etag == etag:
        return etag, None, True
    if stat.st_size > max_bytes:
        raise LandingError(f"{url}: {stat.st_size} bytes is over the {max_bytes}-byte limit; refusing to land it")
    with source.open("rb") as src, tmp.open("wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK_BYTES)
    return etag, None, False


def _download(
    url: str, tmp: Path, previous: ManifestRow | None, max_bytes: int, timeout: float
) -> tuple[str | None, str | None, bool]:
    """Conditional, streamed, verified download through the HTTP layer (``ingest.http``).

    The layer retries a cut-off body, 5xx and 429 itself; what reaches here is final.
    """
    from ingest.http import DownloadRefused, HttpError, NotFound, session

    try:
        result = session().download(
            url,
            tmp,
            max_bytes=max_bytes,
            etag=previous.etag if previous else None,
            last_modified=previous.last_modified if previous else None,
            timeout=timeout,
        )
    except NotFound as exc:
        raise NotPublished(f"{redact(url)}: 404 Not Found (not published yet?)") from exc
    except DownloadRefused as exc:
        raise LandingError(str(exc)) from exc
    except HttpError as exc:
        raise LandingError(
            f"{exc}; the previous landed copy is kept, rerun the task to try again"
        ) from exc
    if result.status == "unchanged":
        return previous.etag if previous else None, previous.last_modified if previous else None, True
    return result.etag, result.last_modified, False


def verify_zip(path: Path) -> None:
    """Refuse a file that is not a whole zip archive (a truncated download, an HTML error page)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if not archive.infolist():
                raise LandingError(f"{path.name}: the zip archive is empty")
    except zipfile.BadZipFile as exc:
        raise LandingError(
            f"{path.name}: not a complete zip archive ({exc}); the download may be truncated. "
            "The previous landed copy is kept; rerun to fetch again."
        ) from exc


def extract_member(
    archive_path: Path,
    member: str,
    destination: Path,
    *,
    max_member_bytes: int,
    max_ratio: int = 200,
    utf8_text: bool | None = None,
) -> Path:
    """Extract one named member of a zip to ``destination``, streaming, with guards.

    Only the exact member name asked for is read: no path from the archive is used
    to build a file name (no zip-slip), the declared and the actual sizes are capped
    (no zip bomb), and the CRC is checked by ``zipfile`` as the member is read.

    ``utf8_text`` (default: for ``.csv`` members) refuses a member that is not UTF-8 text:
    a NUL byte or a byte sequence that is not UTF-8 (a cp1252 or UTF-16 file). DuckDB would
    otherwise load NUL bytes into raw silently and drop the non-UTF-8 rows one by one, so a
    file in the wrong encoding would lose exactly its rows with accented names.
    """
    with zipfile.ZipFile(archive_path) as archive:
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise
        if info.file_size > max_member_bytes:
            raise LandingError(
                f"{archive_path.name}!{member}: declares {info.file_size} bytes, over the "
                f"{max_member_bytes}-byte limit for one file"
            )
        if info.compress_size and info.file_size > 10 * CHUNK_BYTES and info.file_size / info.compress_size > max_ratio:
            raise LandingError(
                f"{archive_path.name}!{member}: compression ratio {info.file_size // info.compress_size}:1 "
                f"is over {max_ratio}:1 — refusing a likely zip bomb"
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        tmp = destination.with_name(f".{destination.name}.part")
        text = TextCheck(f"{archive_path.name}!{member}") if (
            utf8_text if utf8_text is not None else member.lower().endswith(".csv")) else None
        written = 0
        try:
            with archive.open(info) as src, tmp.open("wb") as dst:
                while chunk := src.read(CHUNK_BYTES):
                    written += len(chunk)
                    if written > max_member_bytes:
                        raise LandingError(
                            f"{archive_path.name}!{member}: more than {max_member_bytes} bytes when "
                            "decompressed; refusing a likely zip bomb"
                        )
                    if text is not None:
                        text.feed(chunk)
                    dst.write(chunk)
            if text is not None:
                text.finish()
        except zipfile.BadZipFile as exc:
            tmp.unlink(missing_ok=True)
            raise LandingError(f"{archive_path.name}!{member}: damaged member ({exc})") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, destination)
        return destination


def check_text_file(path: Path, label: str, chunk_size: int = 1 << 20) -> None:
    """Refuse ``path`` unless it is UTF-8 text without NUL bytes (see :class:`TextCheck`).

    For files landed as they are (not extracted from an archive, where the check runs as the
    member is written): one streaming read, the error naming ``label``, the line and the byte.
    """
    check = TextCheck(label)
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            check.feed(chunk)
    check.finish()


class TextCheck:
    """Streaming check that bytes are UTF-8 text without NUL bytes; errors name the line and byte.

    Fed chunk by chunk as a file is written, so a large member is read once. A UTF-8 BOM is
    allowed (it is valid UTF-8); a UTF-16 BOM is named as such.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0  # bytes fed before the current chunk
        self._lines = 0  # newlines in those bytes

    def feed(self, chunk: bytes) -> None:
        if self._offset == 0 and chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            self._refuse(0, "starts with a UTF-16 byte-order mark: the file is UTF-16, not UTF-8")
        nul = chunk.find(b"\x00")
        if nul >= 0:
            self._refuse(nul, "holds a NUL byte (0x00): not a text CSV (a damaged or binary file)", chunk)
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            # exc.object is the decoder's pending bytes from the last chunk followed by this chunk
            index = max(0, exc.start - (len(exc.object) - len(chunk)))
            self._refuse(index, f"is not UTF-8 (byte 0x{exc.object[exc.start]:02x} cannot start or continue a "
                                "UTF-8 character; a cp1252/latin-1 export?)", chunk)
        self._offset += len(chunk)
        self._lines += chunk.count(b"\n")

    def finish(self) -> None:
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            self._refuse(0, "ends in the middle of a UTF-8 character (truncated, or not UTF-8)")

    def _refuse(self, index: int, what: str, chunk: bytes = b"") -> None:
        line = self._lines + chunk.count(b"\n", 0, index) + 1
        raise LandingError(
            f"{self.label}: {what}, at line {line} (byte {self._offset + index}). The platform reads the "
            "publisher's files as UTF-8 text; nothing from this file was loaded and the previous rows are kept. "
            "Fetch the file again, or ask the publisher for a UTF-8 copy."
        )


def unsafe_member_names(archive_path: Path) -> list[str]:
    """Member names that would escape a folder if extracted naively (reported, never used)."""
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
    return [n for n in names if n.startswith(("/", "\\")) or ".." in Path(n).parts or ":" in n]
