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


def one_file_settings(root: Path, source: str, dataset: str, name: str, **options: str):
    """Settings whose warehouse and landing are under ``root`` and whose ``source`` has one file,
    ``root/inputs/<name>`` (the office's copy), with ``options`` (e.g. edition) on its entry."""
    from ingest.config import load_settings

    overlay = root / "overlay.toml"
    overlay.write_text("\n".join([
        "[paths]", 'work_dir = "var"', 'landing_dir = "var/landing"', 'warehouse = "var/warehouse.duckdb"',
        'published = "var/published.duckdb"', 'runs_dir = "var/runs"', "",
        f"[[{source}.files]]", f'dataset = "{dataset}"', f'name = "{name}"',
        f'url = "file://{{root}}/inputs/{name}"', *(f'{k} = "{v}"' for k, v in options.items()), "",
    ]) + "\n")
    return load_settings(environ={"OPCC_ROOT": str(root), "OPCC_CONFIG": str(overlay)})


def write_template(folder: Path, name: str, header: str, rows: list[str] | tuple[str, ...], end: str = "\n") -> Path:
    """An office template file ``folder/name``: the header line, then the rows (``end`` after the last:
    ``""`` for a file cut short)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([header, *rows]) + end, encoding="utf-8")
    return path
