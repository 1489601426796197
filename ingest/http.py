"""The one HTTP layer every source uses: timeouts, retries, rate limits, conditional and verified downloads.

:func:`session` returns the process-wide :class:`ResilientSession`, a ``requests.Session``
whose every request (``get``, ``head``, ``request``) goes through the same policy:

* **timeouts** on connect and on read (the longest silence between bytes), from ``[http]``;
* **a token bucket per host** (data.police.uk: 15 requests/s, bursts of 30), shared by every
  thread of the process; ``processes`` in the configuration splits a host's limit between
  the processes of the Airflow pool that calls it;
* **retries** with exponential backoff and jitter on connection errors, timeouts, bodies cut
  off mid-stream and 5xx, at most ``max_attempts`` per request;
* **429** is not a failure but the publisher pacing us: every thread waits ``Retry-After``
  (the whole host is paused, not only the refused request), for at most
  ``max_throttled_seconds`` per request; a ``Retry-After`` longer than
  ``max_retry_after_seconds`` fails at once so a worker is not held for an hour;
* **a clear exception** (:class:`HttpError` and subclasses) naming the URL, the last status
  and the number of attempts when it gives up. They subclass ``requests.RequestException``,
  so code that caught requests' errors still catches them.

:meth:`ResilientSession.download` streams a file to disk with a conditional GET
(``If-None-Match`` / ``If-Modified-Since``: an unchanged file is not downloaded again),
checks its size against ``Content-Length`` and a limit, optionally its sha256, retries a
cut-off body, and renames it into place only when complete (atomic). :meth:`get_json`
does the same for JSON bodies (a body that does not parse is retried as a cut-off).

Why not urllib3's ``Retry``: it cannot retry a body that is cut off after the headers (the
common failure of a long download), knows nothing of a rate limit shared between threads,
and does not say how many attempts were made when it gives up.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter

from ingest.config import HttpSettings
from ingest.ratelimit import HostLimiters, TokenBucket

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})  # safe to send again
CHUNK_BYTES = 1 << 20
# Raised while sending or while reading a body: worth another attempt.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,  # refused, reset, DNS, and a read timeout while reading a body
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # body shorter than Content-Length, or a broken chunk
)
T = TypeVar("T")


# --------------------------------------------------------------------------- redaction

# Credentials a URL or a message may carry: a user and password before the host, a secret-looking query
# parameter, an Authorization header. Every URL this layer logs or puts in an error goes through
# redact(), so a token in the configuration never reaches the task log, an exception or the manifest.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]+@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&;][a-z0-9_.-]*(?:token|key|secret|password|passwd|pwd|signature|sig|auth|credential)[a-z0-9_.-]*=)"
    r"[^&#;\s'\"]+")
_AUTHORIZATION = re.compile(r"(?i)((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}")
REDACTED = "***"


def redact(text: Any) -> str:
    """``text`` with any credentials in URLs and Authorization headers replaced by ``***``."""
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", str(text))
    text = _SECRET_QUERY.sub(rf"\1{REDACTED}", text)
    text = _AUTHORIZATION.sub(rf"\1{REDACTED}", text)
    return _BEARER.sub(rf"\1 {REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Redacts a record's message: urllib3 logs each request line, query string included, at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


# A logger's filters do not apply to its children, so each urllib3 module that logs URLs gets one.
for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "urllib3.poolmanager"):
    logging.getLogger(_name).addFilter(RedactingFilter())


# --------------------------------------------------------------------------- errors


class HttpError(requests.RequestException):
    """A request that failed for good: the URL, why, the last status and how many attempts were made."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, attempts: int = 1) -> None:
        # Kept redacted: an exception's text ends up in task logs and in the Airflow UI.
        self.url, self.reason, self.status, self.attempts = redact(url), redact(reason), status, attempts
        super().__init__(str(self))

    def __reduce__(self):  # picklable despite the keyword-only __init__ (multiprocessing, task runners)
        return (self.__class__, (self.url, self.reason), {"status": self.status, "attempts": self.attempts})

    def __str__(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        plural = "" if self.attempts == 1 else "s"
        return f"{self.url}: {self.reason} (last: {status}; {self.attempts} attempt{plural})"


class HttpGaveUp(HttpError):
    """Every attempt allowed failed with a transient error (5xx, 429, timeout, cut-off body)."""


class HttpStatusError(HttpError, requests.HTTPError):
    """The publisher refused the request with a status that another attempt will not change (4xx).

    Also a ``requests.HTTPError``, so code written for ``raise_for_status()`` still catches it.
    """


class NotFound(HttpStatusError):
    """404: nothing at that address (a month not published yet, an unknown force)."""


class QueryTooLarge(HttpError):
    """503 again from an endpoint that answers 503 when a query would return too many results.

    data.police.uk answers 503 rather than more than 10,000 results; asking again gives the
    same answer, so the caller must narrow the query (by category, say) instead of retrying.
    """


class DownloadRefused(HttpError):
    """The body is larger than the configured limit: not downloaded (again)."""


class _RetryBody(Exception):
    """Raised by a response handler: the body was unusable (cut off, unparseable); try again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- helpers


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date. None when absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def backoff_seconds(failures: int, base: float, cap: float, rand: float) -> float:
    """Wait before the next attempt after ``failures`` failures: exponential, "equal jitter".

    Half of ``min(cap, base * 2**(failures-1))`` is fixed and half random, so a retry never
    follows a 5xx at once, and many workers that failed together do not retry together.
    """
    ceiling = min(cap, base * 2 ** max(failures - 1, 0))
    return ceiling / 2 + rand * ceiling / 2


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"body cut off mid-stream ({exc.__class__.__name__})"
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return f"timed out ({exc.__class__.__name__})"
    return f"connection failed ({exc.__class__.__name__}: {redact(exc)[:200]})"


def _cause(exc: BaseException) -> str:
    """The retry statistics' name for a transient error: timeout, body (cut off) or connection."""
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "body"
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return "timeout"
    return "connection"


def _host(url: str) -> str:
    return (urlparse(url).hostname or "").lower()


@dataclass
class RequestStats:
    """What a session did, for logs and reports: attempts sent, retries by cause, time spent waiting."""

    attempts: int = 0
    retries: dict[str, int] = field(default_factory=dict)  # cause -> count: 429, 5xx, timeout, body, connection
    rate_limit_wait_seconds: float = 0.0  # waiting for a token (or a Retry-After pause), summed over threads
    backoff_wait_seconds: float = 0.0  # waiting before a retry (5xx, connection), summed over threads
    gave_up: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, attribute: str, amount: float = 1) -> None:
        with self._lock:
            setattr(self, attribute, getattr(self, attribute) + amount)

    def retried(self, cause: str) -> None:
        with self._lock:
            self.retries[cause] = self.retries.get(cause, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "attempts": self.attempts,
                "retries": dict(self.retries),
                "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 3),
                "backoff_wait_seconds": round(self.backoff_wait_seconds, 3),
                "gave_up": self.gave_up,
            }


@dataclass(frozen=True)
class Download:
    """What :meth:`ResilientSession.download` did."""

    url: str
    status: str  # fetched | unchanged
    etag: str | None
    last_modified: str | None
    bytes: int
    sha256: str | None  # None when unchanged (nothing was downloaded)
    attempts: int


@dataclass(frozen=True)
class JsonResponse:
    url: str  # the final URL, with its query string
    body: Any
    attempts: int


# --------------------------------------------------------------------------- the session


class _Attempts:
    """The retry budget of one request: failures count against ``max_attempts``; 429s against time."""

    def __init__(self, owner: "ResilientSession", method: str, url: str) -> None:
        self.owner, self.method, self.url = owner, method, redact(url)  # only used in messages
        self.settings = owner.settings
        self.attempts = 0
        self.failures = 0
        self.throttles = 0
        self.statuses: list[int | None] = []
        self.first_throttled_at: float | None = None

    def begin(self) -> None:
        self.attempts += 1
        self.owner.stats.count("attempts")

    def give_up(self, error: type[HttpError], reason: str, status: int | None) -> HttpError:
        self.owner.stats.count("gave_up")
        return error(self.url, reason, status=status, attempts=self.attempts)

    def failed(self, reason: str, status: int | None, cause: str, retry_after: float | None = None) -> None:
        """A transient failure: wait and return (try again), or raise HttpGaveUp when out of attempts."""
        self.failures += 1
        self.statuses.append(status)
        if self.failures >= self.settings.max_attempts:
            log.error("%s %s: %s; giving up after %d attempts", self.method, self.url, reason, self.attempts)
            raise self.give_up(HttpGaveUp, reason, status)
        delay = backoff_seconds(
            self.failures, self.settings.backoff_base_seconds, self.settings.backoff_max_seconds, self.owner.rand()
        )
        if retry_after is not None:
            if retry_after > self.settings.max_retry_after_seconds:
                raise self.give_up(HttpGaveUp, f"{reason}; Retry-After asks for {retry_after:.0f} s, more than the "
                                   f"{self.settings.max_retry_after_seconds:.0f} s allowed ([http] "
                                   "max_retry_after_seconds): rerun later", status)
            delay = max(delay, retry_after)
        log.warning("%s %s: %s; attempt %d of %d failed, retrying in %.2f s",
                    self.method, self.url, reason, self.failures, self.settings.max_attempts, delay)
        self.owner.stats.retried(cause)
        self.owner.stats.count("backoff_wait_seconds", delay)
        self.owner.sleep(delay)

    def throttled(self, retry_after: float | None, bucket: TokenBucket | None) -> None:
        """A 429: pause the host for Retry-After (or a backoff), unless that is more than we allow."""
        self.throttles += 1
        self.statuses.append(429)
        now = self.owner.clock()
        if self.first_throttled_at is None:
            self.first_throttled_at = now
        if retry_after is None:
            wait = backoff_seconds(self.throttles, self.settings.backoff_base_seconds,
                                   self.settings.backoff_max_seconds, self.owner.rand())
        else:
            wait = retry_after
        if wait > self.settings.max_retry_after_seconds:
            raise self.give_up(HttpGaveUp, f"answered 429 Too Many Requests asking to wait {wait:.0f} s "
                               f"(Retry-After), more than the {self.settings.max_retry_after_seconds:.0f} s allowed "
                               "([http] max_retry_after_seconds): rerun later", 429)
        throttled_for = now + wait - self.first_throttled_at
        if throttled_for > self.settings.max_throttled_seconds:
            raise self.give_up(HttpGaveUp, f"still answered 429 Too Many Requests after {self.throttles} tries over "
                               f"{now - self.first_throttled_at:.0f} s ([http] max_throttled_seconds = "
                               f"{self.settings.max_throttled_seconds:.0f}): the publisher is limiting us; rerun later",
                               429)
        log.info("%s %s: 429 Too Many Requests; pausing requests to %s for %.2f s",
                 self.method, self.url, _host(self.url), wait)
        self.owner.stats.retried("429")
        if bucket is not None:
            bucket.pause(wait)  # the next acquire() waits, in this thread and every other
        else:
            self.owner.sleep(wait)


class ResilientSession(requests.Session):
    """A ``requests.Session`` with the platform's timeouts, per-host rate limits and retry policy."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        super().__init__()
        self.settings = settings or HttpSettings()
        self.clock, self.sleep, self.rand = clock, sleep, rand
        # Our own retries replace urllib3's (max_retries=0): one policy, one attempt count.
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(10, 2 * self.settings.concurrency), max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = self.settings.user_agent

        def limit(host: str) -> tuple[float, int] | None:
            found = self.settings.limit_for(host)
            return None if found is None else (found.rate_per_process, found.burst_per_process)

        self.limiters = HostLimiters(limit, clock=clock, sleep=sleep)
        self.stats = RequestStats()

    # -- the policy ------------------------------------------------------------------------

    def _timeout(self, timeout: Any) -> Any:
        if timeout is None:
            return (self.settings.connect_timeout_seconds, self.settings.read_timeout_seconds)
        if isinstance(timeout, (int, float)):
            # A caller's single number is its read timeout; connecting never needs longer than configured.
            return (min(self.settings.connect_timeout_seconds, float(timeout)), float(timeout))
        return timeout

    def _wait_for_token(self, url: str) -> TokenBucket | None:
        bucket = self.limiters.bucket(_host(url))
        if bucket is not None:
            waited = bucket.acquire()
            if waited:
                self.stats.count("rate_limit_wait_seconds", waited)
        return bucket

    def _with_retries(
        self,
        method: str,
        url: str,
        handle: Callable[[requests.Response, _Attempts], T],
        *,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        too_large_on_503: bool = False,
        **kwargs: Any,
    ) -> T:
        kwargs["timeout"] = self._timeout(kwargs.get("timeout"))
        attempts = _Attempts(self, method, url)
        while True:
            attempts.begin()
            bucket = self._wait_for_token(url)
            try:
                response = super().request(method, url, **kwargs)
            except TRANSIENT_ERRORS as exc:
                attempts.failed(_describe(exc), None, _cause(exc))
                continue
            status = response.status_code
            if status in retry_statuses:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                reason = f"HTTP {status} {response.reason or ''}".strip()
                response.close()
                if status == 429:
                    attempts.throttled(retry_after, bucket)
                    continue
                if status == 503 and too_large_on_503 and 503 in attempts.statuses:
                    raise attempts.give_up(
                        QueryTooLarge,
                        "503 Service Unavailable twice: this endpoint answers 503 when a query would return more "
                        "than 10,000 results; narrow the query (e.g. by crime category) rather than retry",
                        503,
                    )
                attempts.failed(reason, status, "5xx", retry_after)
                continue
            try:
                return handle(response, attempts)
            except _RetryBody as exc:
                response.close()
                attempts.failed(exc.reason, status, "body")
            except TRANSIENT_ERRORS as exc:
                response.close()
                attempts.failed(_describe(exc), status, _cause(exc))

    # -- requests.Session API -----------------------------------------------------------------

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Every ``get``/``head``/``post`` of the session: limited, retried, and timed out as configured.

        Returns the response for any status that is not retried (check it, or call
        ``raise_for_status``); raises :class:`HttpGaveUp` when the retries run out. With
        ``stream=True`` only the headers are covered: a body cut off later is the caller's
        to retry (``download`` does).
        """
        if args:  # requests' positional parameters after url: params, data
            for name, value in zip(("params", "data"), args):
                kwargs.setdefault(name, value)
        retry_statuses = frozenset(kwargs.pop("retry_statuses", RETRY_STATUSES))
        too_large_on_503 = bool(kwargs.pop("too_large_on_503", False))
        if method.upper() not in IDEMPOTENT:
            # A POST may have taken effect before it failed: limited and timed out, never repeated.
            self._wait_for_token(url)
            kwargs["timeout"] = self._timeout(kwargs.get("timeout"))
            return super().request(method, url, **kwargs)
        return self._with_retries(method.upper(), url, lambda response, _: response,
                                  retry_statuses=retry_statuses, too_large_on_503=too_large_on_503, **kwargs)

    # -- JSON and files ----------------------------------------------------------------------------

    def get_json(self, url: str, params: dict[str, str] | None = None, *, too_large_on_503: bool = False,
                 timeout: Any = None) -> JsonResponse:
        """GET a JSON body. 404 raises :class:`NotFound`; another 4xx :class:`HttpStatusError`."""

        def handle(response: requests.Response, attempts: _Attempts) -> JsonResponse:
            final_url = response.url or url
            if response.status_code == 404:
                raise NotFound(final_url, "404 Not Found", status=404, attempts=attempts.attempts)
            if response.status_code >= 400:
                raise HttpStatusError(final_url, f"HTTP {response.status_code} {response.reason}",
                                      status=response.status_code, attempts=attempts.attempts)
            try:
                body = response.json()
            except ValueError as exc:
                # With no Content-Length a cut-off body arrives "complete" but does not parse.
                raise _RetryBody(f"body is not valid JSON ({len(response.content)} bytes; cut off?): {exc}") from exc
            return JsonResponse(url=redact(final_url), body=body, attempts=attempts.attempts)

        return self._with_retries("GET", url, handle, params=params, too_large_on_503=too_large_on_503,
                                  timeout=timeout)

    def download(
        self,
        url: str,
        destination: Path,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        expected_sha256: str | None = None,
        timeout: Any = None,
    ) -> Download:
        """Stream ``url`` to ``destination``, replacing it only once complete and verified.

        With ``etag``/``last_modified`` of the copy we hold, the GET is conditional and a 304
        returns ``status="unchanged"`` without touching ``destination``. The body goes to a
        ``.part`` file beside ``destination``; its length must match ``Content-Length`` and,
        when given, its sha256 must be ``expected_sha256``; a body cut off or not matching is
        downloaded again (up to ``max_attempts``). Over ``max_bytes`` is refused at once.
        """
        destination.parent.mkdir(parents=True, exist_ok=True)
        part = destination.with_name(f".{destination.name}.part")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        def handle(response: requests.Response, attempts: _Attempts) -> Download:
            with response:
                if response.status_code == 304:
                    return Download(redact(url), "unchanged", etag, last_modified, 0, None, attempts.attempts)
                if response.status_code == 404:
                    raise NotFound(url, "404 Not Found (not published yet?)", status=404, attempts=attempts.attempts)
                if response.status_code >= 400:
                    raise HttpStatusError(url, f"HTTP {response.status_code} {response.reason}",
                                          status=response.status_code, attempts=attempts.attempts)
                declared_text = response.headers.get("Content-Length")
                declared = int(declared_text) if declared_text and declared_text.isdigit() else None
                if declared is not None and declared > max_bytes:
                    raise DownloadRefused(url, f"Content-Length {declared} is over the {max_bytes}-byte limit",
                                          status=response.status_code, attempts=attempts.attempts)
                digest = hashlib.sha256()
                written = 0
                try:
                    with part.open("wb") as handle_out:
                        for chunk in response.iter_content(CHUNK_BYTES):
                            written += len(chunk)
                            if written > max_bytes:
                                raise DownloadRefused(url, f"more than {max_bytes} bytes; refusing to land it",
                                                      status=response.status_code, attempts=attempts.attempts)
                            digest.update(chunk)
                            handle_out.write(chunk)
                except TRANSIENT_ERRORS as exc:
                    raise _RetryBody(f"download truncated after {written} of {declared or 'unknown'} bytes "
                                     f"({exc.__class__.__name__})") from exc
                if declared is not None and written != declared:
                    raise _RetryBody(f"download truncated: received {written} of {declared} bytes")
                found = digest.hexdigest()
                if expected_sha256 and found != expected_sha256.lower():
                    raise _RetryBody(f"sha256 {found} is not the expected {expected_sha256}")
                os.replace(part, destination)
                return Download(redact(url), "fetched", response.headers.get("ETag"), response.headers.get("Last-Modified"),
                                written, found, attempts.attempts)

        try:
            return self._with_retries("GET", url, handle, headers=headers, stream=True, timeout=timeout)
        finally:
            part.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the process-wide session

_default: ResilientSession | None = None
_default_lock = threading.Lock()


def configure(settings: HttpSettings) -> ResilientSession:
    """Make the process-wide session follow ``settings`` (a task that loaded its own configuration; tests)."""
    global _default
    with _default_lock:
        if _default is None or _default.settings != settings:
            _default = ResilientSession(settings)
        return _default


def session() -> ResilientSession:
    """The process-wide session: one token bucket per host for every caller in this process.

    Built on first use from ``[http]`` of the platform configuration (``load_settings()``).
    """
    global _default
    with _default_lock:
        if _default is None:
            from ingest.config import load_settings

            _default = ResilientSession(load_settings().http)
        return _default


def reset() -> None:
    """Forget the process-wide session (tests)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = None
