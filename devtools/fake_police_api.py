"""A fake data.police.uk on 127.0.0.1, serving the generated sample in the publisher's real shapes, misbehaving on demand.

Serves, from the output folder of :func:`devtools.sample.police_uk.generate_archive`:

* ``/data/archive/{month}.zip`` — the sample zips, with ``ETag``/``Last-Modified``, conditional
  GET (``If-None-Match``, ``If-Modified-Since`` → 304) and ``HEAD``;
* the JSON API under ``/api``: ``/forces``, ``/forces/{id}``, ``/forces/{id}/people``,
  ``/crime-last-updated``, ``/crimes-street-dates``, ``/crime-categories``,
  ``/{force}/neighbourhoods``, ``/{force}/{id}``, ``/{force}/{id}/priorities``, ``/stops-force``,
  ``/crimes-no-location``, ``/outcomes-for-crime/{id}``. Months, forces and stop-and-search
  availability come from ``index.json``; searches and crimes from the zips; neighbourhoods from
  ``lsoa_lookup.csv`` (one to three per district); senior officers and priorities are generated
  from hashes of the names, so every run serves the same bytes. Priorities are HTML fragments
  as the real API's are (``<p>Tackle anti-social behaviour on the Deepdale estate</p>``).

Faults, queued with :meth:`FakePoliceApi.inject` and consumed one per matching request:
``429`` (with ``Retry-After``), ``500``, ``502``, ``503``, ``truncate`` (the body is cut off
mid-stream), ``slow`` (no answer for ``delay`` seconds: past the client's read timeout) and
``reset`` (the connection is closed without an answer). :meth:`reissue` gives an archive a new
ETag, as the publisher does when it re-issues a month. ``max_results`` makes list endpoints
answer 503 above it, as the real API does over 10,000 results. ``enforce_rate_limit`` makes
the server answer 429 when a client goes over a leaky bucket, like the real API. Every request
is recorded with its arrival time (:attr:`FakePoliceApi.requests`).

    with FakePoliceApi(sample_dir) as server:
        server.inject("429", count=50, retry_after=1)
        ... settings with api_url=server.api_url, archive_url=server.archive_url ...

CLI (for a demo against a local "publisher")::

    python -m devtools.fake_police_api --sample var/sample/police_uk --port 8765
"""

from __future__ import annotations

import argparse
import email.utils
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from devtools.fake_police_data import CRIME_CATEGORIES, PublisherData  # noqa: F401 - re-exported for callers

log = logging.getLogger(__name__)

FAULT_KINDS = ("429", "500", "502", "503", "truncate", "slow", "reset")
CHUNK = 64 * 1024













# --------------------------------------------------------------------------- the publisher's data








# --------------------------------------------------------------------------- faults and records


@dataclass
class Fault:
    kind: str
    remaining: int
    retry_after: str | None = None
    delay: float = 0.0
    path: re.Pattern[str] | None = None  # only requests whose path this matches (from its start)


@dataclass
class RequestRecord:
    """One request, recorded on arrival; its status is set before any byte of the answer is sent."""

    at: float  # time.monotonic() when the request line was read
    method: str
    path: str  # without the query string
    query: str
    status: int = 0  # 0: no answer (a "reset")
    fault: str | None = None  # the injected fault that answered it, or "rate-limit"


@dataclass
class _Archive:
    version: int = 1
    modified: float = field(default_factory=lambda: 1_700_000_000.0)  # a fixed Last-Modified per month


class _ServerBucket:
    """The real API's leaky bucket, server side: answer 429 rather than wait."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


# --------------------------------------------------------------------------- the server


class FakePoliceApi:
    """The fake publisher: ``start()`` serves on 127.0.0.1 (port 0: any free port) in a thread; ``stop()``."""

    def __init__(self, sample_dir: Path, *, host: str = "127.0.0.1", port: int = 0, max_results: int = 10_000) -> None:
        self.data = PublisherData(sample_dir)
        self.max_results = max_results
        self._faults: list[Fault] = []
        self._records: list[RequestRecord] = []
        self._archives: dict[str, _Archive] = {m: _Archive(modified=1_700_000_000.0 + i * 86_400)
                                               for i, m in enumerate(self.data.months)}
        self._bucket: _ServerBucket | None = None
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FakePoliceApi":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-police-api", daemon=True)
        self._thread.start()
        log.info("fake data.police.uk serving %s at %s", self.data.sample_dir, self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakePoliceApi":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def archive_url(self) -> str:
        return f"{self.url}/data/archive/{{month}}.zip"

    # -- misbehaviour ------------------------------------------------------------------------

    def inject(self, kind: str, count: int = 1, *, retry_after: int | str | None = None, delay: float = 2.0,
               path: str | None = None) -> None:
        """Answer the next ``count`` requests with fault ``kind``.

        ``path``: only requests whose path matches this regular expression from its start (a
        plain prefix such as ``/api/lancashire/`` works as one).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULT_KINDS}")
        pattern = None if path is None else re.compile(path)
        with self._lock:
            self._faults.append(Fault(kind, count, None if retry_after is None else str(retry_after), delay, pattern))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def reissue(self, month: str) -> str:
        """The publisher re-issues ``month``: a new ETag and Last-Modified (same bytes). Returns the ETag."""
        with self._lock:
            archive = self._archives[month]
            archive.version += 1
            archive.modified += 3600
        return self.etag(month)

    def enforce_rate_limit(self, requests_per_second: float | None, burst: int = 30) -> None:
        """Answer 429 (Retry-After: 1) to requests over a leaky bucket, as data.police.uk does; None: off."""
        self._bucket = None if requests_per_second is None else _ServerBucket(requests_per_second, burst)

    # -- what happened ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far, in order of arrival."""
        with self._lock:
            return list(self._records)

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.path is None or fault.path.match(path)):
                    fault.remaining -= 1
                    return fault
            self._faults = [f for f in self._faults if f.remaining > 0]
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    # -- archives ---------------------------------------------------------------------------------

    def etag(self, month: str) -> str:
        sha = self.data.archives[month]["sha256"]
        return f'"{sha[:16]}-v{self._archives[month].version}"'

    def last_modified(self, month: str) -> str:
        return email.utils.formatdate(self._archives[month].modified, usegmt=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler sleeping in a "slow" fault must not hold up stop()

    def __init__(self, address: tuple[str, int], handler: type, owner: FakePoliceApi) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server: the client reuses connections

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive response (real servers set it too).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("fake data.police.uk: " + format, *args)

    # -- plumbing ----------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json", send_body: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, send_body: bool = True) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), send_body=send_body)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Recorded before the answer leaves: a client that reacts at once still finds it in the log.
        self._record.status = code
        super().send_response(code, message)

    def _handle(self, method: str) -> None:
        owner = self.server.owner
        parsed = urlparse(self.path)
        path, query = parsed.path, parsed.query
        self._record = RequestRecord(time.monotonic(), method, path, query)
        owner._record(self._record)
        try:
            fault = owner._take_fault(path)
            if fault is not None:
                self._record.fault = fault.kind
                self._misbehave(fault, method, path, parse_qs(query))
            elif owner._bucket is not None and not owner._bucket.take():
                self._record.fault = "rate-limit"
                self._send(429, b"", {"Retry-After": "1"})
            else:
                self._serve(method, path, parse_qs(query))
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True  # the client gave up on us (a "slow" fault past its timeout)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    # -- faults -------------------------------------------------------------------------------------

    def _misbehave(self, fault: Fault, method: str, path: str, params: dict[str, list[str]]) -> int:
        if fault.kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(429, b'{"error": "Too Many Requests"}', headers)
            return 429
        if fault.kind in ("500", "502", "503"):
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(int(fault.kind), b"", headers, content_type="text/html")
            return int(fault.kind)
        if fault.kind == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return 0
        if fault.kind == "slow":
            time.sleep(fault.delay)  # past the client's read timeout: it gives up before we answer
            return self._serve(method, path, params)
        if fault.kind == "truncate":
            status, body, headers, content_type = self._response(method, path, params)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True  # the rest never comes
            return status
        raise AssertionError(fault.kind)

    # -- routes -------------------------------------------------------------------------------------

    def _serve(self, method: str, path: str, params: dict[str, list[str]]) -> int:
        status, body, headers, content_type = self._response(method, path, params)
        if status == 200 and path.startswith("/data/archive/") and method == "GET":
            # Stream archives in chunks, as a file server does, instead of one write.
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            for start in range(0, len(body), CHUNK):
                self.wfile.write(body[start:start + CHUNK])
            return 200
        self._send(status, body, headers, content_type, send_body=method != "HEAD")
        return status

    def _response(self, method: str, path: str, params: dict[str, list[str]]) -> tuple[int, bytes, dict[str, str], str]:
        """(status, body, headers, content type) for a well-behaved answer."""
        owner = self.server.owner
        data = owner.data
        archive = re.fullmatch(r"/data/archive/(\d{4}-\d{2})\.zip", path)
        if archive:
            return self._archive(archive.group(1))
        if not path.startswith("/api/"):
            return 404, b"Not Found", {}, "text/plain"
        route = path[len("/api/"):].rstrip("/")
        arg = {k: v[0] for k, v in params.items() if v}
        routes: list[tuple[str, Callable[..., Any]]] = [
            (r"forces", lambda: data.forces()),
            (r"forces/([a-z0-9-]+)", lambda f: data.force(f)),
            (r"forces/([a-z0-9-]+)/people", lambda f: data.people(f)),
            (r"crime-last-updated", lambda: data.last_updated()),
            (r"crimes-street-dates", lambda: data.street_dates()),
            (r"crime-categories", lambda: [{"url": "all-crime", "name": "All crime"}]
             + [{"url": slug, "name": name} for name, slug in CRIME_CATEGORIES.items()]),
            (r"stops-force", lambda: self._limited(data.stops(arg.get("force", ""), arg.get("date", max(data.months))))),
            (r"crimes-no-location", lambda: self._limited(data.crimes_no_location(
                arg.get("force", ""), arg.get("date", max(data.months)), arg.get("category", "all-crime")))),
            (r"outcomes-for-crime/([0-9a-f]{64})", lambda c: data.outcomes_for_crime(c)),
            (r"([a-z0-9-]+)/neighbourhoods", lambda f: data.neighbourhoods(f)),
            (r"([a-z0-9-]+)/([A-Za-z0-9_.-]+)/priorities", lambda f, n: data.priorities(f, n)),
            (r"([a-z0-9-]+)/([A-Za-z0-9_.-]+)", lambda f, n: data.neighbourhood(f, n)),
        ]
        for pattern, build in routes:
            match = re.fullmatch(pattern, route)
            if match:
                payload = build(*match.groups())
                if payload is None:
                    return 404, b'{"error": "Not Found"}', {}, "application/json"
                if isinstance(payload, _TooMany):
                    return 503, b"", {}, "text/html"  # the real API: 503, no explanation
                return 200, json.dumps(payload, ensure_ascii=False).encode("utf-8"), {}, "application/json"
        return 404, b'{"error": "Not Found"}', {}, "application/json"

    def _limited(self, rows: list[dict] | None) -> "list[dict] | _TooMany | None":
        if rows is not None and len(rows) > self.server.owner.max_results:
            return _TooMany()
        return rows

    def _archive(self, month: str) -> tuple[int, bytes, dict[str, str], str]:
        owner = self.server.owner
        if month not in owner.data.archives:
            return 404, b"Not Found", {}, "text/plain"
        etag, modified = owner.etag(month), owner.last_modified(month)
        headers = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "none"}
        if_none_match = self.headers.get("If-None-Match")
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_none_match is not None:
            if etag in [t.strip() for t in if_none_match.split(",")]:
                return 304, b"", headers, "application/zip"
        elif if_modified_since is not None:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                since = None
            if since is not None and owner._archives[month].modified <= since:
                return 304, b"", headers, "application/zip"
        body = (owner.data.archive_dir / f"{month}.zip").read_bytes()
        return 200, body, headers, "application/zip"


class _TooMany:
    """Marker: the query would return more rows than ``max_results``."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.fake_police_api", description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=Path, default=Path("var/sample/police_uk"),
                        help="output folder of python -m devtools.sample.police_uk")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = FakePoliceApi(args.sample, port=args.port).start()
    log.info("OPCC_POLICE_UK__API_URL=%s OPCC_POLICE_UK__ARCHIVE_URL='%s' (Ctrl-C stops)",
             server.api_url, server.archive_url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
