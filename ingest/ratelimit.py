"""A token bucket per host, shared by every thread of a process, that also obeys ``Retry-After``.

data.police.uk allows 15 requests a second with bursts of 30 and answers 429 above that.
A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; each request
takes one. Waiting is by *reservation*: a caller is given the moment its token will exist
and sleeps until then outside the lock, so callers are served in order and the spacing
between requests is exact rather than the result of polling.

When the publisher answers 429, :meth:`TokenBucket.pause` stops every caller of the host
(not only the thread that was refused) until ``Retry-After`` has passed, and empties the
bucket, so requests resume at the rate the publisher's own bucket has refilled by then
instead of in one more burst.

Standard library only; the clock and the sleep are injectable for tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

_EPSILON = 1e-9


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: int  # bucket size: the most requests sent back to back
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)  # the moment _tokens is counted at (may be in the future: reservations)
    _not_before: float = field(init=False, default=0.0)  # Retry-After: nobody sends before this
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1, found rate={self.rate}, burst={self.burst}")
        self._tokens = float(self.burst)
        self._stamp = self.clock()

    def _reserve(self) -> float:
        """Take the next token; return the moment it exists. Caller holds the lock."""
        now = self.clock()
        start = max(now, self._not_before, self._stamp)
        tokens = min(float(self.burst), self._tokens + (start - self._stamp) * self.rate)
        if tokens >= 1.0 - _EPSILON:
            release, tokens = start, tokens - 1.0
        else:
            release, tokens = start + (1.0 - tokens) / self.rate, 0.0
        self._tokens, self._stamp = max(tokens, 0.0), release
        return release

    def acquire(self) -> float:
        """Block until this caller may send one request; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                release = self._reserve()
                delay = release - self.clock()
            if delay > 0:
                self.sleep(delay)
                waited += delay
            with self._lock:
                # A 429 may have paused the host while we slept: the reserved slot is void then.
                if self.clock() + _EPSILON >= self._not_before:
                    return waited

    def pause(self, seconds: float) -> None:
        """Nobody sends for ``seconds`` (a Retry-After); the bucket restarts empty from now."""
        with self._lock:
            now = self.clock()
            self._not_before = max(self._not_before, now + max(seconds, 0.0))
            # Empty now, refilling while paused: at the end of the pause the bucket holds what the
            # publisher's own bucket has regained, so we do not answer a 429 with a full burst.
            self._tokens, self._stamp = 0.0, now

    @property
    def paused_until(self) -> float:
        return self._not_before


class HostLimiters:
    """One bucket per host for one process (or one client): created on first use from ``limit_for``."""

    def __init__(
        self,
        limit_for: Callable[[str], tuple[float, int] | None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limit_for = limit_for
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket | None] = {}
        self._lock = threading.Lock()

    def bucket(self, host: str) -> TokenBucket | None:
        """The host's bucket, or None when the host has no limit configured."""
        host = host.lower()
        with self._lock:
            if host not in self._buckets:
                limit = self._limit_for(host)
                self._buckets[host] = (
                    None if limit is None else TokenBucket(limit[0], limit[1], clock=self._clock, sleep=self._sleep)
                )
            return self._buckets[host]
