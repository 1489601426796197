"""Small helpers the tests share."""

from __future__ import annotations

import json
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


def use_suites(folder: Path, monkeypatch: Any, *suites: dict) -> Path:
    """Write each GX suite as ``folder/<its name>.json`` and point the gates at ``folder`` for this
    test (``$OPCC_EXPECTATIONS_DIR``), as a suite beside the others in ``expectations/`` would be."""
    from ingest.raw.gate import EXPECTATIONS_ENV

    folder.mkdir(parents=True, exist_ok=True)
    for suite in suites:
        (folder / f"{suite['name']}.json").write_text(json.dumps(suite))
    monkeypatch.setenv(EXPECTATIONS_ENV, str(folder))
    return folder


def write_template(folder: Path, name: str, header: str, rows: list[str] | tuple[str, ...], end: str = "\n") -> Path:
    """An office template file ``folder/name``: the header line, then the rows (``end`` after the last:
    ``""`` for a file cut short)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([header, *rows]) + end, encoding="utf-8")
    return path


def fetch_and_load(module: Any, settings: Any, year: int = 2025) -> dict:
    """A file source's fetch then load, as its DAG runs them: the load summary by file."""
    module.fetch(settings, year)
    return module.load(settings, year)


def load_good_return(module: Any, root: Path, name: str, header: str, rows: list[str]) -> Any:
    """Write ``rows`` as Lancashire's return ``name`` of the template source ``module``, fetch and load
    it, and check every row is accounted for (rows in = loaded + rejected, none rejected). The settings."""
    settings = one_file_settings(root, module.SOURCE, "monthly", name, edition="lancashire")
    write_template(root / "inputs", name, header, rows)
    summary = fetch_and_load(module, settings)[name]
    assert summary["status"] == "loaded" and summary["rows_loaded"] + summary["rows_rejected"] == len(rows)
    assert summary["rows_rejected"] == 0
    return settings


def committed_example_rows(source: str, header: str, check: Any) -> int:
    """The rows of ``templates/<source>/<source>_example.csv`` that ``check`` passes, once the committed
    template is found to be exactly ``header``."""
    folder = Path(__file__).resolve().parents[1] / "templates" / source
    assert (folder / f"{source}_template.csv").read_text().strip() == header
    return check(folder / f"{source}_example.csv", "example")


def template_refusal(check: Any, path: Path, label: str) -> str:
    """What the template ``check`` says when it refuses ``path`` (a TemplateError: it must refuse it)."""
    import pytest

    from ingest.raw import TemplateError

    with pytest.raises(TemplateError) as refused:
        check(path, label)
    return str(refused.value)
