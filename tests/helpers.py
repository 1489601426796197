"""Small helpers the tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def query(target: Any, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` read from a DuckDB file: ``target`` is its path, or settings (their warehouse).

    Read-only, and closed again at once, so a loader or dbt in the same process can open the file
    for writing next (dbt-duckdb's profile sets keep_open: false for the same reason).
    """
    path = target if isinstance(target, (str, Path)) else target.paths.warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
