"""Deterministic random draws and CSV pieces the sample generators share.

Every draw is a pure function of its inputs (seed, force, month): the same arguments give the
same bytes on every machine, so a sample archive is reproducible.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=None)
def key(text: str) -> int:
    """A stable 32-bit number for a name (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def unit(*parts: str) -> float:
    """A stable number in [0, 1) for a tuple of names: force-level parameters."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def rng(*entropy: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(entropy))))


def cdf(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c


def pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: index of the bucket each uniform falls in."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def pick_rows(cdf_rows: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling with a different distribution per element: row r of ``cdf_rows``."""
    k = cdf_rows.shape[1]
    flat = (cdf_rows + np.arange(cdf_rows.shape[0])[:, None]).ravel()
    idx = np.searchsorted(flat, row + u, side="right")
    return np.minimum(idx - row * k, k - 1)


def alias_table(weights: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table: O(1) sampling from a large categorical distribution."""
    w = np.asarray(weights, dtype=np.float64)
    k = len(w)
    scaled = w / w.sum() * k
    prob = np.ones(k)
    alias = np.arange(k)
    small = [i for i in range(k) if scaled[i] < 1.0]
    large = [i for i in range(k) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


def alias_draw(prob: np.ndarray, alias: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One uniform per draw: its integer part picks a column, its fraction accepts it or takes the alias."""
    x = u * len(prob)
    col = np.minimum(x.astype(np.int64), len(prob) - 1)
    return np.where(x - col < prob[col], col, alias[col])


def csv_fields(*fields: str) -> str:
    """Fields joined as the csv module writes them (minimal quoting), without a line end."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def hex_ids(words: np.ndarray) -> list[str]:
    """64-hex-character ids from rows of four 64-bit words."""
    if not len(words):
        return []
    return np.ascontiguousarray(words, dtype="<u8").tobytes().hex(" ", 32).split(" ")


def join_columns(columns: Sequence[np.ndarray | str], n: int) -> str:
    """Row-major concatenation of n rows whose pieces already carry their separators."""
    grid = np.empty((n, len(columns)), dtype=object)
    for j, col in enumerate(columns):
        grid[:, j] = col
    return "".join(grid.ravel().tolist())
