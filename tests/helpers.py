"""Small helpers the tests share."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest


def query(target: Any, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` read from a DuckDB file: ``target`` is its path, or settings (their warehouse).

    Read-only, and closed again at once, so a loader or dbt in the same process can open the file
    for writing next (ingest.transform.run_dbt releases dbt's hold on the file for the same reason).
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


def dbt(args: list[str], target: Any, work_dir: Path) -> Any:
    """``dbt <args>`` in-process on a warehouse, with target and logs under ``work_dir``; dbt's result
    (``.success``, ``.result``). ``target`` is the warehouse's path (the platform's dbt threads) or
    settings (the profile's environment the platform gives dbt: warehouse, threads, DuckDB limits).
    A ``build`` leaves dbt's unit tests out (:func:`without_unit_tests`).

    The project is not parsed again: the run reuses :func:`parsed_project`, except when ``args`` give
    ``--vars`` (vars the parse renders into the project's yml) or ``--inline`` (a node added to the
    manifest), which parse afresh."""
    fresh = any(arg in ("--vars", "--inline") for arg in args)
    return _invoke(without_unit_tests(args), target, work_dir, manifest=None if fresh else parsed_project(target))


def without_unit_tests(args: list[str]) -> list[str]:
    """A ``dbt build``'s arguments with dbt's unit tests left out, as the platform's refreshes leave them
    (``[dbt] run_unit_tests = false``): their inputs are fixed, so a module's build would only run again
    what tests/integration/test_dbt_unit_tests.py runs once (38 of them in the performance models'
    build alone). Arguments that choose resource types themselves are kept as given."""
    from ingest.transform import WITHOUT_UNIT_TESTS

    if not args or args[0] != "build" or any(a in ("--resource-type", "--exclude-resource-type") for a in args):
        return args
    return [*args, *WITHOUT_UNIT_TESTS]


def dbt_ok(args: list[str], target: Any, work_dir: Path, allow: tuple[str, ...] = ()) -> Any:
    """:func:`dbt`, asserting that it succeeded; a failure names each node that did not end in
    success or pass (or one of the statuses in ``allow``: "warn", "skipped"). Prints the time taken,
    so a slow build shows in the test's output."""
    started = time.perf_counter()
    result = dbt(args, target, work_dir)
    problems = [f"{r.node.unique_id}: {r.status} {r.message}" for r in (result.result or [])
                if str(r.status) not in ("success", "pass", *allow)]
    assert result.success, f"dbt {args[0]} failed ({result.exception}): {problems}"
    print(f"dbt {args[0]}: {time.perf_counter() - started:.1f} s")
    return result


_PARSED: dict[str, Any] = {}
_PARSE_DIR: tempfile.TemporaryDirectory | None = None


def parsed_project(target: Any) -> Any:
    """The dbt project parsed once per test process (one ``dbt parse``; its manifest, ``None`` if the
    parse failed), for ``target``: a warehouse path or settings.

    Nothing a test changes is in the manifest: the profile (warehouse path, threads, DuckDB limits)
    is read from the environment at each run, and no model reads ``env_var``. One exception:
    dbt-duckdb names the database after the warehouse file (``warehouse.duckdb``: ``warehouse``),
    and the parse records it on every node, so each file name has its own parse."""
    global _PARSE_DIR
    warehouse = Path(target if isinstance(target, (str, Path)) else target.paths.warehouse)
    if warehouse.stem not in _PARSED:
        _PARSE_DIR = _PARSE_DIR or tempfile.TemporaryDirectory(prefix="dbt-parse-")
        parsed = _invoke(["parse"], target, Path(_PARSE_DIR.name) / warehouse.stem, manifest=None)
        _PARSED[warehouse.stem] = parsed.result if parsed.success else None
    return _PARSED[warehouse.stem]


def _invoke(args: list[str], target: Any, work_dir: Path, manifest: Any) -> Any:
    from dbt.cli.main import dbtRunner  # heavy import: only when a test runs dbt

    from ingest.config import DbtSettings
    from ingest.transform import dbt_environment, dbt_project_args, run_dbt

    if isinstance(target, (str, Path)):
        environment = {"OPCC_WAREHOUSE": str(target), "OPCC_DBT_THREADS": str(DbtSettings.threads)}
    else:
        environment = dbt_environment(target)
    with pytest.MonkeyPatch.context() as env:
        for key, value in {**environment, "DO_NOT_TRACK": "1"}.items():
            env.setenv(key, value)
        return run_dbt(dbtRunner(manifest=manifest), [*args, *dbt_project_args(work_dir), "--quiet"])


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


@dataclass(frozen=True)
class TemplateFile:
    """Lancashire's file ``name`` of the template source ``module`` (its raw table ``dataset``), as the
    tests write it: the template's ``header`` and good ``rows`` that load."""

    module: Any
    name: str
    header: str
    rows: tuple[str, ...]
    dataset: str = "monthly"

    def write(self, folder: Path, *rows: str, header: str | None = None, end: str = "\n") -> Path:
        """The file in ``folder``: ``header`` (the template's unless given), then ``rows``."""
        return write_template(folder, self.name, self.header if header is None else header, rows, end)

    def settings(self, root: Path) -> Any:
        """Settings under ``root`` whose source has this one file, ``root/inputs/<name>``."""
        return one_file_settings(root, self.module.SOURCE, self.dataset, self.name, edition="lancashire")

    def load_good(self, root: Path) -> Any:
        """Write the good rows to ``root/inputs``, fetch and load them, and check every row is accounted
        for (rows in = loaded + rejected, none rejected). The settings."""
        settings = self.settings(root)
        self.write(root / "inputs", *self.rows)
        summary = fetch_and_load(self.module, settings)[self.name]
        assert summary["status"] == "loaded" and summary["rows_loaded"] + summary["rows_rejected"] == len(self.rows)
        assert summary["rows_rejected"] == 0
        return settings

    def refused_load(self, root: Path, settings: Any, *rows: str) -> str:
        """Once the good rows are loaded: write ``rows`` as the next file, fetch and load it, and check it is
        refused whole naming the file, the good rows kept. What the refusal says."""
        from ingest.raw import LoadError

        self.write(root / "inputs", *rows)
        with pytest.raises(LoadError) as refused:
            fetch_and_load(self.module, settings)
        message = str(refused.value)
        assert self.name in message
        table = self.module.CONTRACTS[self.dataset].table
        assert query(settings, f"select count(*) from raw.{table}") == [(len(self.rows),)]
        return message

    def refusal(self, path: Path, error: type[Exception] | None = None) -> str:
        """What the source's ``check_template`` says when it refuses ``path`` (with ``error``, by default a
        TemplateError: it must refuse it)."""
        from ingest.raw import TemplateError

        with pytest.raises(error or TemplateError) as refused:
            self.module.check_template(path, self.name)
        return str(refused.value)

    def one_row_refusal(self, folder: Path, row: str) -> str:
        """What the check says of the good rows and then ``row`` (line 5), found to be one problem."""
        message = self.refusal(self.write(folder, *self.rows, row))
        assert message.startswith(f"{self.name}: 1 problem(s)")
        return message

    def committed_example_rows(self) -> int:
        """The rows of ``templates/<source>/<source>_example.csv`` that the check passes, once the
        committed template is found to be exactly the header."""
        source = self.module.SOURCE
        folder = Path(__file__).resolve().parents[1] / "templates" / source
        assert (folder / f"{source}_template.csv").read_text().strip() == self.header
        return self.module.check_template(folder / f"{source}_example.csv", "example")
