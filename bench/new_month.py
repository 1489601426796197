"""The new-month dbt path alone, on the bench's national data: how its cost depends on history.

    python -m bench.new_month                     # 36 months of history, then the new month
    python -m bench.new_month --history 12 36     # the same with 12 and with 36 months of history

Needs a finished ``make bench`` (``bench/data/work/warehouse.duckdb`` with every month loaded).
For each history length it copies that warehouse to ``bench/data/work/new-month-<n>.duckdb``,
keeps the ``n`` months before the new one, builds every police.uk model from scratch, puts the
new month's raw rows back (as the loader would: new ``_loaded_at``) and runs the incremental
``dbt build``, timing each step (wall and this process's CPU, DuckDB's threads included). It
publishes the warehouse before the new month (to ``bench/data/work/new-month-<n>/published/``)
and again after it, timing the second: a new month's publication, starting from the previous one.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path

from bench.run import NEW_MONTH, WORK, bench_settings
from ingest.months import month_range

DATASETS = ("police_uk_street", "police_uk_outcomes", "police_uk_stop_search")


def _timed(label: str, function, results: dict) -> object:
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    results[label] = {"seconds": round(time.perf_counter() - wall, 2), "cpu_seconds": round(time.process_time() - cpu, 2)}
    print(f"[new_month] {label}: {results[label]}", file=sys.stderr, flush=True)
    return value


def measure(history: int, keep: bool = False) -> dict:
    from dataclasses import replace

    from ingest.publish import publish
    from ingest.transform import POLICE_UK_SELECTION, dbt_build
    from ingest.warehouse import connection_settings, open_connection

    settings = bench_settings()
    source = WORK / "warehouse.duckdb"
    target = WORK / f"new-month-{history}.duckdb"
    published = WORK / f"new-month-{history}" / "published" / "evidence.duckdb"
    shutil.rmtree(published.parent, ignore_errors=True)
    settings = replace(settings, paths=replace(settings.paths, warehouse=target, published=published))
    kept_months = month_range("2000-01", NEW_MONTH)[-history - 1:-1]
    results: dict = {"history_months": history, "months": [kept_months[0], kept_months[-1]]}
    shutil.copy(source, target)
    Path(str(target) + ".wal").unlink(missing_ok=True)
    con = open_connection(target, **connection_settings(settings))
    try:
        con.execute("drop schema if exists meta cascade")
        for table in DATASETS:
            con.execute(f"create or replace temp table new_rows as select * from raw.{table} where _month = ?", [NEW_MONTH])
            con.execute(f"create or replace table raw.{table}_new_month as select * from new_rows")
            con.execute(f"delete from raw.{table} where _month not in (select unnest(?::varchar[]))", [kept_months])
        con.execute("checkpoint")
    finally:
        con.close()
    _timed("full_refresh", lambda: dbt_build(settings, select=POLICE_UK_SELECTION, full_refresh=True), results)
    _timed("publish_before_new_month", lambda: publish(settings), results)
    con = open_connection(target, **connection_settings(settings))
    try:
        for table in DATASETS:
            con.execute(f"insert into raw.{table} select * replace (now()::timestamp as _loaded_at) "
                        f"from raw.{table}_new_month")
            con.execute(f"drop table raw.{table}_new_month")
        con.execute("checkpoint")
    finally:
        con.close()
    if keep:  # the state just before the incremental build, to profile its queries by hand
        shutil.copy(target, target.with_name(f"{target.stem}-before-build.duckdb"))
    timing: dict = {}
    summary = _timed("new_month_build", lambda: dbt_build(settings, select=POLICE_UK_SELECTION), timing)
    results["new_month_build"] = {**timing["new_month_build"], "nodes": summary["nodes"],
                                  "slowest_models": dict(sorted(summary["node_seconds"].items(), key=lambda kv: -kv[1])[:8])}
    _timed("new_month_publish", lambda: publish(settings), results)
    if not keep:
        target.unlink(missing_ok=True)
        shutil.rmtree(published.parent.parent, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, nargs="+", default=[36], help="months of history before the new one")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--keep", action="store_true",
                        help="keep the warehouses (after, and just before, the incremental build)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results = [measure(n, keep=args.keep) for n in args.history]
    text = json.dumps(results, indent=2, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
