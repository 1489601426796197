"""The one HTTP session every source uses: timeouts are per call, retries with backoff here."""

from __future__ import annotations

from functools import lru_cache

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingest.landing import USER_AGENT

RETRY_STATUSES = (429, 500, 502, 503, 504)


@lru_cache(maxsize=1)
def session() -> requests.Session:
    """A shared session: exponential backoff on connection errors, 429 and 5xx, honouring Retry-After."""
    retry = Retry(
        total=5,
        connect=5,
        read=3,
        status=5,
        backoff_factor=1.0,
        backoff_jitter=0.5,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s
