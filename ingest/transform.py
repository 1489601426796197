"""Run ``dbt build`` (seeds, models, data tests; unit tests when ``[dbt] run_unit_tests``) against the
warehouse, in-process."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ingest.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


# The police.uk evidence marts and everything they are built from (seeds, staging, intermediate):
# what the benchmark and the police.uk tests build when other sources' raw tables are not loaded.
POLICE_UK_SELECTION = ["+dim_force", "+dim_crime_type", "+fct_crime_monthly", "+fct_outcomes", "+fct_stop_search_monthly"]


# dbt's unit tests left out of a build: their inputs are fixed, so a refresh cannot change their
# result ([dbt] run_unit_tests); make test runs every one (tests/integration/test_dbt_unit_tests.py).
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


# Failing rows quoted in the error for each failed data test: enough for a person to see the pattern.
FAILING_ROWS_SAMPLE = 5


class TransformError(RuntimeError):
    """dbt build failed: a model did not build or a test failed. Nothing was published."""


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the dbt profile reads (``profiles.yml`` uses ``env_var``): DuckDB's threads as every other
    connection of the platform, its memory limit ``[dbt] memory_limit`` when set (it spills to
    ``<warehouse>.tmp``)."""
    return {
        "OPCC_WAREHOUSE": str(settings.paths.warehouse),
        "OPCC_DBT_THREADS": str(settings.dbt.threads),
        "OPCC_DUCKDB_THREADS": str(settings.duckdb.threads),
        "OPCC_DUCKDB_MEMORY_LIMIT": settings.dbt.memory_limit or settings.duckdb.memory_limit,
    }


def dbt_build(
    settings: Settings,
    select: list[str] | None = None,
    extra_args: list[str] | None = None,
    *,
    full_refresh: bool = False,
    manifest=None,
) -> dict:
    """``dbt build``: incremental by default (each police.uk model rebuilds the months loaded since
    its last build); ``full_refresh`` rebuilds every model from raw.

    An incremental table that lacks a column its yml documents was built by an earlier release of
    the model; an incremental run would read columns that are not there, so such models (and what
    is built from them) are rebuilt in full first, once, with a warning naming them.

    ``manifest`` is a parse of the project from :func:`parse_project` to reuse (the project files
    have not changed since); without one the project is parsed here.
    """
    from dbt.cli.main import dbtRunner

    from ingest.sources import ensure_all_raw_tables
    from ingest.warehouse import connect

    # Every source's raw tables exist, empty until its first load, so a model that joins another
    # source (crimes by CSP need the ONS lookups) builds before that source has loaded once.
    with connect(settings) as con:
        ensure_all_raw_tables(con)
    os.environ.update(dbt_environment(settings))
    run_dir = build_run_dir(settings)
    project = dbt_project_args(run_dir)
    # Unit tests check the SQL on fixed, hand-made inputs: make test runs every one, so a refresh
    # (scheduled or full) skips them unless [dbt] run_unit_tests says otherwise.
    skip_unit_tests = [] if settings.dbt.run_unit_tests else list(WITHOUT_UNIT_TESTS)
    args = ["build", *project, *skip_unit_tests]
    if select:
        # tests that also read a model outside the selection wait for a build that includes it
        args += ["--select", *select, "--indirect-selection", "cautious"]
    if full_refresh:
        args.append("--full-refresh")
    args += extra_args or []
    started = time.perf_counter()
    if manifest is None:
        manifest = parse_project(settings)
    runner = dbtRunner(manifest=manifest)  # parsed once for both invocations below
    rebuilt: list[str] = []
    if manifest is not None and not full_refresh:
        rebuilt = outdated_incremental_models(settings, manifest)
        if rebuilt:
            log.warning("incremental models built by an earlier release (documented columns missing), rebuilt "
                        "in full with everything built from them: %s", ", ".join(rebuilt))
            # each outdated model and what is built from it, within the requested selection (a comma intersects)
            rebuild = [f"{m}+,{s}" for m in rebuilt for s in select] if select else [f"{m}+" for m in rebuilt]
            _invoke(runner, ["build", *project, *skip_unit_tests, "--full-refresh", "--select", *rebuild,
                             "--indirect-selection", "cautious"], settings, run_dir, started)
    summary = _invoke(runner, args, settings, run_dir, started)
    summary["full_refresh"] = full_refresh
    summary["rebuilt_in_full"] = rebuilt
    return summary


def build_run_dir(settings: Settings) -> Path:
    """The build's dbt folder (``target/``, with its saved parse, and ``logs/``): ``<work_dir>/dbt``."""
    return settings.paths.work_dir / "dbt"


def dbt_project_args(run_dir: Path) -> list[str]:
    """The project, profile, target and log folders every dbt command of a run is given.

    dbt's log file (``logs/dbt.log``) is kept at info: each node's start and result, warnings and
    errors with their compiled SQL's path. At dbt's default, debug, it also holds every statement
    run and every adapter event, and the node threads queue on the log handler's lock for each
    line: a build of the project took 37.0 and 37.0 s at debug, 31.9 and 27.5 s at info (alternated)."""
    return [
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(run_dir / "target"),
        "--log-path", str(run_dir / "logs"),
        "--log-level-file", "info",
    ]


def run_dbt(runner, args: list[str]):
    """``runner.invoke(args)`` (a ``dbtRunner``), then the warehouse file released.

    dbt-duckdb keeps the file open for the whole invocation (``keep_open`` in profiles.yml: closing
    it whenever no node held a connection opened it again many times a build, 10-15 % of a build's
    time) and, left alone, past its end. Released here, the same process can open the file again
    (a gate, a sample of failing rows, publish), as another process can."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        return runner.invoke(args)
    finally:
        DuckDBConnectionManager.close_all_connections()  # drops the environment, which closes the file


def parse_project(settings: Settings):
    """The dbt project parsed (its manifest), for :func:`dbt_build` to reuse; ``None`` when the parse
    fails, so the build parses again and reports what is wrong."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment(settings))
    # --no-write-json: the parse is kept in memory for the build, which writes target/manifest.json
    # (and run_results.json) when it ends. Written here as well, the bench's new-month build took
    # 15.3 s on average instead of 13.5 s (four runs each, alternated).
    parsed = run_dbt(dbtRunner(), ["parse", *dbt_project_args(build_run_dir(settings)), "--no-write-json"])
    return parsed.result if parsed.success else None


def outdated_incremental_models(settings: Settings, manifest) -> list[str]:
    """Incremental models whose table exists but lacks a column their yml documents, and seeds whose
    table's columns are not the CSV's.

    A seed is loaded into its existing table (truncate, then copy), so a seed that gained a column
    (``most_similar_groups``' ``vintage`` and ``source``) or lost one (``plan_measures``' objective
    names, now in ``plan_objectives``) fails until it is rebuilt in full.
    """
    import duckdb

    from ingest.warehouse import open_connection

    models = [n for n in manifest.nodes.values()
              if n.resource_type == "seed"
              or (n.columns and n.resource_type == "model" and n.config.materialized == "incremental")]
    if not models or not settings.paths.warehouse.exists():
        return []
    try:
        con = open_connection(settings.paths.warehouse, read_only=True, memory_limit=settings.duckdb.memory_limit,
                              threads=settings.duckdb.threads)
    except duckdb.Error as exc:  # the build itself will say what is wrong with the file
        log.warning("could not check incremental tables' columns: %s", exc)
        return []
    try:
        outdated = []
        for node in models:
            found = {name for (name,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [node.schema, node.alias or node.name]).fetchall()}
            expected = _seed_header(node) if node.resource_type == "seed" else set(node.columns)
            if found and (found != expected if node.resource_type == "seed" else not expected <= found):
                outdated.append(node.name)
        return sorted(outdated)
    finally:
        con.close()


def _seed_header(node) -> set[str]:
    """The column names in a seed's CSV header, as dbt loads them."""
    import csv

    with (Path(node.root_path) / node.original_file_path).open(newline="", encoding="utf-8") as handle:
        return {name.strip() for name in next(csv.reader(handle), [])}


def _invoke(runner, args: list[str], settings: Settings, run_dir: Path, started: float) -> dict:
    """Run one dbt command; raise :class:`TransformError` naming every failed node (and sample rows)."""
    result = run_dbt(runner, args)
    elapsed = time.perf_counter() - started
    nodes = list(result.result or []) if result.result is not None else []
    failed = [r for r in nodes if str(getattr(r, "status", "")) in {"error", "fail", "runtime error"}]
    if not result.success or failed:
        lines = []
        for r in failed:
            lines.append(f"{r.node.resource_type} {r.node.name}{_tested_relation(r.node)}: {r.status}: "
                         f"{(r.message or '').strip()[:500]}")
            lines += [f"    {line}" for line in failing_rows_sample(settings, r.node)]
        if result.exception is not None:
            lines.append(f"dbt raised: {result.exception}")
        raise TransformError(
            f"dbt build failed after {elapsed:.1f}s; nothing was published. "
            f"Failed nodes ({len(failed)}):\n  " + "\n  ".join(lines or ["(see dbt log)"])
            + f"\nLog: {run_dir / 'logs' / 'dbt.log'}"
        )
    summary = {"nodes": len(nodes), "seconds": round(elapsed, 2),
               "node_seconds": {r.node.name: round(float(getattr(r, "execution_time", 0) or 0), 2)
                                for r in nodes if getattr(getattr(r, "node", None), "resource_type", None) == "model"}}
    log.info("dbt build: %d nodes in %.1fs", len(nodes), elapsed)
    return summary


def _tested_relation(node) -> str:
    """`` on staging.stg_police_uk__street`` for a data test: the table a person must look at."""
    if getattr(node, "resource_type", None) != "test":
        return ""
    attached = getattr(node, "attached_node", None) or ""
    column = getattr(node, "column_name", None)
    model = attached.rsplit(".", 1)[-1] if attached else ""
    if not model:
        return ""
    return f" on {model}" + (f".{column}" if column else "")


def failing_rows_sample(settings: Settings, node, limit: int = FAILING_ROWS_SAMPLE) -> list[str]:
    """Up to ``limit`` of the rows a failed data test found, read by running its compiled SQL again.

    Only runs after a failure, so a passing build pays nothing (unlike ``--store-failures``, which
    writes a table for every test). Best effort: a sample that cannot be read is said so, it never
    hides the failure itself.
    """
    if getattr(node, "resource_type", None) != "test":
        return []
    sql = (getattr(node, "compiled_code", None) or "").strip().rstrip(";")
    if not sql:
        return []
    from ingest.warehouse import open_connection

    try:
        con = open_connection(settings.paths.warehouse, read_only=True, memory_limit=settings.duckdb.memory_limit,
                              threads=settings.duckdb.threads)
    except Exception as exc:  # the sample is a courtesy: report why it is missing
        return [f"(failing rows not read: {exc})"]
    try:
        cursor = con.execute(f"select * from (\n{sql}\n) as failing_rows limit {int(limit)}")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    except Exception as exc:
        return [f"(failing rows not read: {str(exc).splitlines()[0][:300]})"]
    finally:
        con.close()
    lines = [f"failing rows (up to {limit}):"]
    for row in rows:
        lines.append("  " + ", ".join(f"{name}={_short(value)}" for name, value in zip(names, row)))
    return lines


def _short(value, width: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"
