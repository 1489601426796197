"""The HTTP layer: token bucket arithmetic, Retry-After, backoff, the retry policy and its errors.

The bucket is driven by a fake clock (exact, no sleeping); the session by a tiny scripted
server on 127.0.0.1 that answers each request with the next scripted response.
"""

from __future__ import annotations

import email.utils
import http.server
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from ingest.config import ConfigError, HostLimit, HttpSettings, load_settings
from ingest.http import (
    HttpError,
    HttpGaveUp,
    NotFound,
    QueryTooLarge,
    ResilientSession,
    backoff_seconds,
    parse_retry_after,
)
from ingest.ratelimit import TokenBucket


class FakeClock:
    """time.monotonic and time.sleep for a bucket: sleeping moves time on, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


# --------------------------------------------------------------------------- the token bucket


def test_bucket_sends_a_burst_then_paces_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(15, 30, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(60):
        bucket.acquire()
        sent.append(clock.now)
    assert sent[:30] == [0.0] * 30  # the burst
    assert sent[30] == pytest.approx(1 / 15)  # then one token every 1/15 s
    assert sent[59] == pytest.approx(30 / 15)
    # Token-bucket conformance: any run of requests fits burst + rate x its duration.
    for i in range(len(sent)):
        for j in range(i, len(sent)):
            assert j - i + 1 <= 30 + 15 * (sent[j] - sent[i]) + 1e-6


def test_bucket_refills_while_idle_but_never_above_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(10, 5, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.acquire()
    clock.now = 100.0  # a long idle: still only 5 tokens
    waits = [bucket.acquire() for _ in range(6)]
    assert waits[:5] == [0.0] * 5 and waits[5] == pytest.approx(0.1)


def test_pause_stops_every_caller_and_restarts_from_an_empty_bucket():
    clock = FakeClock()
    bucket = TokenBucket(15, 30, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now = 10.0
    bucket.pause(2.0)  # a 429 with Retry-After: 2
    bucket.acquire()
    assert clock.now == pytest.approx(12.0)  # nobody before Retry-After has passed
    # Empty at the 429, refilled for 2 s while paused: 30 tokens (the burst) at most.
    sent = [clock.now]
    for _ in range(31):
        bucket.acquire()
        sent.append(clock.now)
    assert sent[29] == pytest.approx(12.0) and sent[30] == pytest.approx(12.0 + 1 / 15)


def test_a_pause_during_a_reserved_wait_voids_the_reservation():
    clock = FakeClock()
    bucket = TokenBucket(1, 1, clock=clock, sleep=clock.sleep)
    bucket.acquire()  # the only token

    def sleep_then_paused(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now < 5:
            bucket.pause(5.0)  # another thread got a 429 while we slept

    bucket.sleep = sleep_then_paused
    bucket.acquire()
    assert clock.now >= 6.0  # waited out the pause instead of sending at t=1


def test_bucket_refuses_a_nonsense_limit():
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(0, 30)


# --------------------------------------------------------------------------- helpers


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    later = email.utils.format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


@pytest.mark.parametrize("failures, low, high", [(1, 0.25, 0.5), (2, 0.5, 1.0), (3, 1.0, 2.0), (10, 15.0, 30.0)])
def test_backoff_is_exponential_with_equal_jitter_and_capped(failures, low, high):
    assert backoff_seconds(failures, 0.5, 30.0, 0.0) == pytest.approx(low)
    assert backoff_seconds(failures, 0.5, 30.0, 1.0) == pytest.approx(high)


# --------------------------------------------------------------------------- configuration


def test_http_settings_come_from_the_configuration_with_per_host_limits():
    settings = load_settings(environ={})
    limit = settings.http.limit_for("data.police.uk")
    assert (limit.requests_per_second, limit.burst) == (15, 30)
    # Split between the processes of the police_uk_api pool, so together they keep to the limit.
    assert limit.rate_per_process * limit.processes == pytest.approx(15)
    assert settings.http.limit_for("www.ons.gov.uk") == settings.http.limit_for("default")
    assert "opcc-evidence-platform" in settings.http.user_agent


def test_the_api_pool_has_as_many_slots_as_the_rate_limit_is_split_between():
    from ingest.airflow_home import POOLS

    limit = load_settings(environ={}).http.limit_for("data.police.uk")
    assert POOLS["police_uk_api"][0] == limit.processes


def test_a_bad_http_setting_names_itself(tmp_path: Path):
    overlay = tmp_path / "o.toml"
    overlay.write_text('[http.rate_limits."data.police.uk"]\nrequests_per_second = 0\nburst = 30\n')
    with pytest.raises(ConfigError, match=r"rate_limits.'data.police.uk'.*requests_per_second.*greater than 0"):
        load_settings(environ={"OPCC_CONFIG": str(overlay)})
    overlay.write_text("[http]\nmax_attemps = 3\n")
    with pytest.raises(ConfigError, match=r"unknown settings \['max_attemps'\]"):
        load_settings(environ={"OPCC_CONFIG": str(overlay)})
    assert load_settings(environ={"OPCC_HTTP__MAX_ATTEMPTS": "2"}).http.max_attempts == 2


# --------------------------------------------------------------------------- the session


class ScriptedServer(http.server.ThreadingHTTPServer):
    """Answers request n with script[n] (the last one repeats); records paths and headers."""

    def __init__(self, script: list[tuple[int, dict[str, str], bytes]]):
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.script = script
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def url(self, path: str = "/x") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    server: ScriptedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            n = len(self.server.seen)
            self.server.seen.append((self.path, dict(self.headers)))
            status, headers, body = self.server.script[min(n, len(self.server.script) - 1)]
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.do_GET()


@pytest.fixture
def scripted():
    servers = []

    def start(*script: tuple[int, dict[str, str], bytes]) -> ScriptedServer:
        server = ScriptedServer(list(script))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


FAST = HttpSettings(backoff_base_seconds=0.01, backoff_max_seconds=0.05, max_attempts=4, connect_timeout_seconds=1,
                    read_timeout_seconds=1, max_retry_after_seconds=5, rate_limits=(("127.0.0.1", HostLimit(500, 50)),))
OK = (200, {"Content-Type": "application/json"}, b'{"ok": true}')


def test_5xx_is_retried_until_it_succeeds(scripted):
    server = scripted((500, {}, b""), (502, {}, b""), OK)
    session = ResilientSession(FAST)
    answer = session.get_json(server.url("/forces"))
    assert answer.body == {"ok": True} and answer.attempts == 3
    assert session.stats.snapshot()["retries"] == {"5xx": 2}
    assert server.seen[0][1]["User-Agent"].startswith("opcc-evidence-platform/")


def test_giving_up_names_the_url_the_status_and_the_attempts(scripted):
    server = scripted((503, {}, b""))
    session = ResilientSession(FAST)
    with pytest.raises(HttpGaveUp) as caught:
        session.get_json(server.url("/forces"))
    message = str(caught.value)
    assert server.url("/forces") in message and "HTTP 503" in message and "4 attempts" in message
    assert (caught.value.status, caught.value.attempts) == (503, 4) and len(server.seen) == 4
    # Callers that caught requests' own errors still catch ours.
    assert isinstance(caught.value, requests.RequestException)


def test_errors_survive_pickling_and_fit_requests_hierarchy():
    import pickle

    error = pickle.loads(pickle.dumps(HttpGaveUp("https://x/forces", "HTTP 503", status=503, attempts=4)))
    assert (str(error), error.status, error.attempts) == ("https://x/forces: HTTP 503 (last: HTTP 503; 4 attempts)", 503, 4)
    assert isinstance(NotFound("u", "404", status=404), requests.HTTPError)


def test_a_404_is_not_retried(scripted):
    server = scripted((404, {}, b"{}"))
    with pytest.raises(NotFound, match=r"/forces/nowhere: 404 Not Found \(last: HTTP 404; 1 attempt\)"):
        ResilientSession(FAST).get_json(server.url("/forces/nowhere"))
    assert len(server.seen) == 1


def test_429_waits_for_retry_after_and_does_not_use_up_attempts(scripted):
    server = scripted(*([(429, {"Retry-After": "0"}, b"")] * 6), OK)
    session = ResilientSession(FAST)
    assert session.get_json(server.url()).attempts == 7  # 6 throttles > max_attempts, and still fine
    assert session.stats.snapshot()["retries"] == {"429": 6}


def test_a_retry_after_longer_than_allowed_fails_at_once(scripted):
    server = scripted((429, {"Retry-After": "3600"}, b""), OK)
    with pytest.raises(HttpGaveUp, match=r"asking to wait 3600 s .*max_retry_after_seconds.*HTTP 429; 1 attempt"):
        ResilientSession(FAST).get_json(server.url())
    assert len(server.seen) == 1


def test_endless_429_gives_up_after_the_throttle_budget(scripted):
    server = scripted((429, {"Retry-After": "0"}, b""))
    settings = HttpSettings(**{**FAST.__dict__, "max_throttled_seconds": 0.3})
    with pytest.raises(HttpGaveUp, match=r"still answered 429 Too Many Requests after \d+ tries"):
        ResilientSession(settings).get_json(server.url())


def test_503_on_a_size_limited_endpoint_is_asked_twice_then_called_too_large(scripted):
    server = scripted((503, {}, b""))
    with pytest.raises(QueryTooLarge, match=r"more than 10,000 results.*2 attempts"):
        ResilientSession(FAST).get_json(server.url("/crimes-no-location"), too_large_on_503=True)
    assert len(server.seen) == 2


def test_a_body_that_does_not_parse_is_fetched_again(scripted):
    server = scripted((200, {}, b'[{"id": "lanc'), OK)
    assert ResilientSession(FAST).get_json(server.url()).attempts == 2


def test_connection_refused_gives_up_with_no_response(scripted):
    server = scripted(OK)
    url = server.url()
    server.shutdown()
    server.server_close()
    with pytest.raises(HttpGaveUp, match=r"connection failed .*\(last: no response; 4 attempts\)"):
        ResilientSession(FAST).get(url)


def test_plain_session_calls_keep_working(scripted):
    # ingest.sources.home_office_prc uses session().get(url, timeout=...) and raise_for_status().
    server = scripted((500, {}, b""), (200, {}, b"<html>links</html>"), (403, {}, b""))
    session = ResilientSession(FAST)
    page = session.get(server.url("/page"), timeout=5)
    assert page.status_code == 200 and page.text == "<html>links</html>"
    with pytest.raises(requests.HTTPError):
        session.get(server.url("/forbidden")).raise_for_status()


def test_a_post_is_never_sent_twice(scripted):
    server = scripted((503, {}, b""))
    assert ResilientSession(FAST).post(server.url("/submit"), data=b"x").status_code == 503
    assert len(server.seen) == 1


def test_download_is_conditional_verified_and_atomic(scripted, tmp_path: Path):
    body = b"zip bytes " * 1000
    server = scripted((200, {"ETag": '"v1"'}, body), (304, {"ETag": '"v1"'}, b""))
    session = ResilientSession(FAST)
    target = tmp_path / "a.zip"
    first = session.download(server.url("/a.zip"), target, max_bytes=10**6)
    assert (first.status, first.etag, first.bytes) == ("fetched", '"v1"', len(body)) and target.read_bytes() == body
    second = session.download(server.url("/a.zip"), target, max_bytes=10**6, etag=first.etag)
    assert second.status == "unchanged" and server.seen[1][1]["If-None-Match"] == '"v1"'
    assert not list(tmp_path.glob(".*part"))


def test_download_with_the_wrong_checksum_is_refused_and_leaves_nothing(scripted, tmp_path: Path):
    server = scripted((200, {}, b"not what was promised"))
    target = tmp_path / "a.zip"
    with pytest.raises(HttpGaveUp, match=r"sha256 [0-9a-f]{64} is not the expected 0{64}"):
        ResilientSession(FAST).download(server.url(), target, max_bytes=10**6, expected_sha256="0" * 64)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_an_oversized_download_is_refused_without_retrying(scripted, tmp_path: Path):
    server = scripted((200, {}, b"x" * 5000))
    with pytest.raises(HttpError, match="Content-Length 5000 is over the 100-byte limit"):
        ResilientSession(FAST).download(server.url(), tmp_path / "a.zip", max_bytes=100)
    assert len(server.seen) == 1
