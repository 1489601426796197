"""Prepare a local Airflow home: migrate the metadata database and create the DuckDB writer pool.

Idempotent; run before ``run_local`` or the real-services tests.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

POOLS = {
    # DuckDB allows one writing process per file: every task that opens the warehouse uses this pool.
    "duckdb_writer": (1, "Serialises tasks that open the DuckDB warehouse (one writer per file)"),
    # data.police.uk allows 15 requests/s (bursts of 30): each of these slots' processes gets an
    # equal share ([http.rate_limits."data.police.uk"] processes must equal the slots).
    "police_uk_api": (2, "Tasks that call the data.police.uk API; each slot gets half of its rate limit"),
}

log = logging.getLogger(__name__)


def airflow(*args: str) -> None:
    beside_python = Path(sys.executable).with_name("airflow")
    cli = str(beside_python) if beside_python.exists() else shutil.which("airflow") or "airflow"
    subprocess.run([cli, *args], check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    home = os.environ.get("AIRFLOW_HOME")
    if not home:
        raise SystemExit("set AIRFLOW_HOME to the folder the local Airflow should use")
    Path(home).mkdir(parents=True, exist_ok=True)
    airflow("db", "migrate")
    # Every pool in one call (`pools import` creates or updates each, as `pools set` does): each
    # Airflow CLI call costs seconds of start-up.
    with tempfile.TemporaryDirectory(prefix="airflow-pools-") as tmp:
        pools_file = Path(tmp) / "pools.json"
        pools_file.write_text(json.dumps({name: {"slots": slots, "description": description}
                                          for name, (slots, description) in POOLS.items()}))
        airflow("pools", "import", str(pools_file))
    print(f"Airflow home ready at {home} (pools: {', '.join(POOLS)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
