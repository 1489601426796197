"""Prepare a local Airflow home: migrate the metadata database and create the DuckDB writer pool.

Idempotent; run before ``run_local`` or the real-services tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

POOLS = {
    # DuckDB allows one writing process per file: every task that opens the warehouse uses this pool.
    "duckdb_writer": (1, "Serialises tasks that open the DuckDB warehouse (one writer per file)"),
    # data.police.uk allows 15 requests/s (bursts of 30): each of these slots' processes gets an
    # equal share ([http.rate_limits."data.police.uk"] processes must equal the slots).
    "police_uk_api": (2, "Tasks that call the data.police.uk API; each slot gets half of its rate limit"),
}


def main() -> int:
    home = os.environ.get("AIRFLOW_HOME")
    if not home:
        raise SystemExit("set AIRFLOW_HOME to the folder the local Airflow should use")
    Path(home).mkdir(parents=True, exist_ok=True)
    # What `airflow db migrate` and `airflow pools import` do, in one process: each Airflow CLI
    # call pays Airflow's start-up again (the two calls took about 10 s, this about 3.5 s).
    from airflow.configuration import write_default_airflow_configuration_if_needed
    from airflow.models.pool import Pool
    from airflow.utils import db

    # As the CLI does first: airflow.cfg with its generated secrets (fernet key, JWT secret), so
    # that every component started afterwards (API server, scheduler) signs and checks task
    # tokens with the same secret. Without the file, each one started would generate its own.
    write_default_airflow_configuration_if_needed()
    db.upgradedb()  # a new database is created from the models; an older one is migrated
    for name, (slots, description) in POOLS.items():  # created, or updated to these slots
        Pool.create_or_update_pool(name, slots, description, include_deferred=False)
    print(f"Airflow home ready at {home} (pools: {', '.join(POOLS)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
