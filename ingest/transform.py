"""Run ``dbt build`` (seeds, models, data tests, unit tests) against the warehouse, in-process."""

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


class TransformError(RuntimeError):
    """dbt build failed: a model did not build or a test failed. Nothing was published."""


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the dbt profile reads (``profiles.yml`` uses ``env_var``): the same DuckDB limits as
    every other connection of the platform (memory, threads; it spills to ``<warehouse>.tmp``)."""
    return {
        "OPCC_WAREHOUSE": str(settings.paths.warehouse),
        "OPCC_DBT_THREADS": str(settings.duckdb.threads),
        "OPCC_DUCKDB_THREADS": str(settings.duckdb.threads),
        "OPCC_DUCKDB_MEMORY_LIMIT": settings.duckdb.memory_limit,
    }


def dbt_build(
    settings: Settings,
    select: list[str] | None = None,
    extra_args: list[str] | None = None,
    *,
    full_refresh: bool = False,
) -> dict:
    """``dbt build``: incremental by default (each police.uk model rebuilds the months loaded since
    its last build); ``full_refresh`` rebuilds every model from raw."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment(settings))
    run_dir = settings.paths.work_dir / "dbt"
    args = [
        "build",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(run_dir / "target"),
        "--log-path", str(run_dir / "logs"),
    ]
    if select:
        # tests that also read a model outside the selection wait for a build that includes it
        args += ["--select", *select, "--indirect-selection", "cautious"]
    if full_refresh:
        args.append("--full-refresh")
    args += extra_args or []
    started = time.perf_counter()
    result = dbtRunner().invoke(args)
    elapsed = time.perf_counter() - started
    nodes = list(result.result or []) if result.result is not None else []
    failed = [r for r in nodes if str(getattr(r, "status", "")) in {"error", "fail", "runtime error"}]
    if not result.success or failed:
        lines = [
            f"{r.node.resource_type} {r.node.name}: {r.status}: {(r.message or '').strip()[:500]}"
            for r in failed
        ]
        if result.exception is not None:
            lines.append(f"dbt raised: {result.exception}")
        raise TransformError(
            f"dbt build failed after {elapsed:.1f}s; nothing was published. "
            f"Failed nodes ({len(failed)}):\n  " + "\n  ".join(lines or ["(see dbt log)"])
            + f"\nLog: {run_dir / 'logs' / 'dbt.log'}"
        )
    summary = {"nodes": len(nodes), "seconds": round(elapsed, 2), "full_refresh": full_refresh,
               "node_seconds": {r.node.name: round(float(getattr(r, "execution_time", 0) or 0), 2)
                                for r in nodes if getattr(getattr(r, "node", None), "resource_type", None) == "model"}}
    log.info("dbt build: %d nodes in %.1fs", len(nodes), elapsed)
    return summary
