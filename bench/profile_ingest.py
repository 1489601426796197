"""Where a backfill batch's time goes: every SQL statement the loader runs, timed and grouped.

    python -m bench.profile_ingest                 # 6 months (one transaction) into a new warehouse
    python -m bench.profile_ingest --months 12 --explain

Needs the months landed by ``make bench`` (``bench/data/work/landing``). Loads the first
``--months`` months with ``police_uk.load_months`` into ``bench/data/work/profile.duckdb``
through a connection that times each statement, then prints the totals per kind of statement
(load insert, partition delete, rejects, row counts, gate aggregates, ...), the commit and the
final checkpoint. ``--explain`` also writes DuckDB's JSON profile of the batch's street insert
to ``bench/data/work/profile-street-insert.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from contextlib import contextmanager
from dataclasses import replace

from bench.run import FIRST, LAST, WORK, bench_settings
from ingest.months import month_range

KINDS = [
    ("load: insert from read_csv", r"^insert into raw\.\w+ select"),
    ("load: delete replaced partitions", r"^delete from raw\.police_uk"),
    ("load: rejects bookkeeping", r"csv_reject|raw\.load_rejects"),
    ("load: rows per file", r"^select \"?_source_file\"?, count\(\*\)"),
    ("gate: per-value pass (crime ids)", r"list_slice\(list\("),
    ("gate: row aggregate", r'^select "?_force_id"?, "?_month"?, count\(\*\), '),
    ("gate: categorical aggregate", r'^select "?_force_id"?, "?_month"?, sum\(n\)'),
    ("gate: samples", r"qualify row_number\(\)"),
    ("load log", r"raw\.load_log"),
    ("commit", r"^commit"),
    ("checkpoint (connection close)", r"^checkpoint"),
]


class TimedConnection:
    """A DuckDB connection whose ``execute`` records the wall time of every statement."""

    def __init__(self, con, timings: list[tuple[str, float]], explain_street: bool):
        self._con = con
        self._timings = timings
        self._explain_street = explain_street

    def execute(self, sql: str, *args):
        text = " ".join(sql.split())
        if self._explain_street and text.startswith("insert into raw.police_uk_street select"):
            self._con.execute("pragma enable_profiling = 'json'")
            self._con.execute(f"pragma profiling_output = '{WORK / 'profile-street-insert.json'}'")
        started = time.perf_counter()
        result = self._con.execute(sql, *args)
        self._timings.append((text, time.perf_counter() - started))
        if self._explain_street and text.startswith("insert into raw.police_uk_street select"):
            self._con.execute("pragma disable_profiling")
            self._explain_street = False
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    from ingest import warehouse
    from ingest.sources import police_uk

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--months", type=int, default=6, help="months to load, all in one transaction")
    parser.add_argument("--explain", action="store_true", help="DuckDB's JSON profile of the street insert")
    args = parser.parse_args(argv)

    settings = bench_settings()
    target = WORK / "profile.duckdb"
    target.unlink(missing_ok=True)
    settings = replace(settings, paths=replace(settings.paths, warehouse=target))
    months = month_range(FIRST, LAST)[: args.months]
    timings: list[tuple[str, float]] = []
    real_connect = warehouse.connect

    @contextmanager
    def timed_connect(settings, **kwargs):
        with real_connect(settings, **kwargs) as con:
            timed = TimedConnection(con, timings, args.explain)
            yield timed
            started = time.perf_counter()
            con.execute("checkpoint")
            timings.append(("checkpoint", time.perf_counter() - started))

    police_uk.connect = timed_connect
    started = time.perf_counter()
    police_uk.load_months(settings, months, months_per_transaction=args.months)
    total = time.perf_counter() - started

    by_kind: dict[str, list[float]] = {}
    for text, seconds in timings:
        kind = next((name for name, pattern in KINDS if re.search(pattern, text, re.IGNORECASE)), "other")
        by_kind.setdefault(kind, []).append(seconds)
    rows = sorted(((sum(v), len(v), k) for k, v in by_kind.items()), reverse=True)
    print(f"{len(months)} months ({months[0]}..{months[-1]}) in one transaction: {total:.1f} s wall")
    print(f"{'seconds':>8} {'statements':>10}  kind")
    for seconds, count, kind in rows:
        print(f"{seconds:8.2f} {count:10d}  {kind}")
    print(f"{total - sum(s for s, _, _ in rows):8.2f} {'':>10}  Python: header checks, manifests, bookkeeping")
    if args.explain:
        profile = json.loads((WORK / "profile-street-insert.json").read_text())
        print(f"street insert profile: {WORK / 'profile-street-insert.json'} "
              f"(latency {profile.get('latency', profile.get('operator_timing'))} s)")
    target.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
