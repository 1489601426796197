"""Run ``dbt build`` (seeds, models, data tests, unit tests) against the warehouse, in-process."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ingest.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


class TransformError(RuntimeError):
    """dbt build failed: a model did not build or a test failed. Nothing was published."""


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the dbt profile reads (``profiles.yml`` uses ``env_var``)."""
    return {
        "OPCC_WAREHOUSE": str(settings.paths.warehouse),
        "OPCC_DBT_THREADS": str(settings.duckdb.threads),
        "OPCC_DUCKDB_MEMORY_LIMIT": settings.duckdb.memory_limit,
    }


def dbt_build(settings: Settings, select: list[str] | None = None, extra_args: list[str] | None = None) -> dict:
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
        args += ["--select", *select]
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
    summary = {"nodes": len(nodes), "seconds": round(elapsed, 2)}
    log.info("dbt build: %d nodes in %.1fs", len(nodes), elapsed)
    return summary
