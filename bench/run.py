"""National-scale benchmark: 43 territorial forces + BTP, 36 (or 120) months, then one new month.

    python -m bench.run                  # generate once (bench/data/, ignored), then measure every step
    python -m bench.run --history 120    # ten years of history (bench/data/history-120/)
    python -m bench.run --profile        # also cProfile each step (top functions in the results)

Each step runs in its own Python process, one at a time, so its wall time and its peak memory
(``ru_maxrss`` from ``os.wait4``: the process and DuckDB inside it) are its own. Results go to
``bench/results/<date>.json`` and ``bench/results/<date>.md``. Timings on a shared 2-core machine
are noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.summary import GIB, STEP_ORDER, add_run, markdown, summarise
from ingest.months import month_range

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"

LAST, NEW_MONTH = "2025-09", "2025-10"
SEED, SCALE = 2011, 1.0
HISTORIES = (36, 120)  # months of history before the new one: the standard run, and ten years


def _layout(history: int) -> tuple[str, Path]:
    """The first month of ``history`` months ending at LAST, and the run's data folder."""
    year, month = divmod(int(LAST[:4]) * 12 + int(LAST[5:]) - 1 - (history - 1), 12)
    data = REPO / "bench" / "data" if history == 36 else REPO / "bench" / "data" / f"history-{history}"
    return f"{year:04d}-{month + 1:02d}", data


# The run's history comes from BENCH_HISTORY, so each step's process measures the same data.
HISTORY = int(os.environ.get("BENCH_HISTORY", "36"))
FIRST, DATA = _layout(HISTORY)
PUBLISHER = DATA / "publisher"
WORK = DATA / "work"
# the backfill's batch size (police_uk.load_months); BENCH_MONTHS_PER_TRANSACTION compares others
MONTHS_PER_TRANSACTION = int(os.environ.get("BENCH_MONTHS_PER_TRANSACTION", "6"))


log = logging.getLogger("bench")


def bench_environ() -> dict[str, str]:
    """The platform's configuration for the bench: every force, its own folders under bench/data/work."""
    from devtools.sample.forces import FORCE_IDS

    return {
        **os.environ,
        "OPCC_ROOT": str(REPO),
        "OPCC_CONFIG": "",
        "OPCC_PATHS__WORK_DIR": str(WORK),
        "OPCC_PATHS__LANDING_DIR": str(WORK / "landing"),
        "OPCC_PATHS__WAREHOUSE": str(WORK / "warehouse.duckdb"),
        "OPCC_PATHS__PUBLISHED": str(WORK / "published" / "evidence.duckdb"),
        "OPCC_PATHS__RUNS_DIR": str(WORK / "runs"),
        "OPCC_POLICE_UK__FORCES": ",".join(FORCE_IDS),
        "OPCC_POLICE_UK__FIRST_MONTH": FIRST,
        "OPCC_POLICE_UK__LAST_MONTH": NEW_MONTH,
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{PUBLISHER}/archive/{{month}}.zip",
        "PYTHONPATH": str(REPO),
        "BENCH_HISTORY": str(HISTORY),
    }


def bench_settings():
    from ingest.config import load_settings

    environ = bench_environ()
    environ.pop("OPCC_CONFIG")
    return load_settings(environ=environ)


# --------------------------------------------------------------------------- steps (child processes)


def step_generate() -> dict:
    """The synthetic national archive, written once: 37 months (36 + the new one) for 44 forces."""
    from devtools.sample.forces import FORCE_IDS
    from devtools.sample.police_uk import generate_archive

    index = PUBLISHER / "archive" / "index.json"
    request = {"first_month": FIRST, "last_month": NEW_MONTH, "forces": sorted(FORCE_IDS), "seed": SEED,
               "scale": SCALE, "prewindow_outcomes": True}
    if index.exists():
        found = json.loads(index.read_text())
        if {k: (sorted(found[k]) if k == "forces" else found.get(k)) for k in request} == request:
            return {"skipped": "already generated", "rows": found["rows"]}
    summary = generate_archive(PUBLISHER, FIRST, NEW_MONTH, list(FORCE_IDS), seed=SEED, scale=SCALE,
                               prewindow_outcomes=True)
    return {"rows": summary["rows"]}


def step_land(months: list[str]) -> dict:
    from ingest.sources import police_uk

    settings = bench_settings()
    members = 0
    for month in months:
        fetched = police_uk.fetch(settings, month)
        members += sum(1 for kinds in fetched.members.values() for p in kinds.values() if p)
    # the months just landed only: walking every month's folder made a new month's fetch grow with history
    extracted = WORK / "landing" / "police_uk" / "extracted"
    csv_bytes = sum(p.stat().st_size for month in months for p in (extracted / month).rglob("*.csv"))
    return {"months": len(months), "files": members, "csv_bytes": csv_bytes,
            "counts_records": True}  # police_uk.fetch counts each member's records (the load reuses them)


def _extracted_files(months: list[str]) -> dict[str, list[str]]:
    from ingest.sources.police_uk_contract import DATASETS

    files: dict[str, list[str]] = {d.kind: [] for d in DATASETS}
    for month in months:
        members = json.loads((WORK / "landing" / "police_uk" / "extracted" / month / "members.json").read_text())
        for kinds in members["members"].values():
            for kind, path in kinds.items():
                if path:
                    files[kind].append(path)
    return files


def step_bare(months: list[str], name: str = "bare") -> dict:
    """The floor: DuckDB alone, `create table as select * from read_csv([...])`, same files, same limits."""
    from ingest.sources.police_uk_contract import DATASETS
    from ingest.warehouse import connection_settings, open_connection

    settings = bench_settings()
    path = WORK / f"{name}.duckdb"
    path.unlink(missing_ok=True)
    con = open_connection(path, **connection_settings(settings))
    rows = {}
    try:
        files = _extracted_files(months)
        for dataset in DATASETS:
            columns = "{" + ", ".join(f"'{c.name}': '{c.duckdb_type}'" for c in dataset.columns) + "}"
            con.execute(
                f"""create table {dataset.table} as select * from read_csv(?, header = true, auto_detect = false,
                    delim = ',', quote = '"', escape = '"', columns = {columns})""",
                [files[dataset.kind]],
            )
            rows[dataset.table] = con.execute(f"select count(*) from {dataset.table}").fetchall()[0][0]
        con.execute("checkpoint")
    finally:
        con.close()
    # only the floor's time and memory matter: free the disk for the rest of the run
    path.unlink()
    Path(str(path) + ".wal").unlink(missing_ok=True)
    return {"rows": rows, "files": sum(len(v) for v in files.values())}


def step_ingest(months: list[str], fresh: bool) -> dict:
    """The platform's load: header checks, typed multi-file load, rejects, lineage, load log, in-database gates."""
    from ingest.raw import load as raw_load
    from ingest.raw import gate
    from ingest.sources import police_uk

    settings = bench_settings()
    if fresh:
        settings.paths.warehouse.unlink(missing_ok=True)
        Path(str(settings.paths.warehouse) + ".wal").unlink(missing_ok=True)
    spent = {"load_seconds": 0.0, "gate_seconds": 0.0}

    def timed(function, key):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - started
        return wrapper

    police_uk.replace_partitions = timed(raw_load.replace_partitions, "load_seconds")
    gate.validate_partitions = timed(gate.validate_partitions, "gate_seconds")
    # A backfill goes through load_months (one connection, several months per transaction); a
    # single new month through load, as the monthly DAG runs it.
    if len(months) == 1:
        by_month = {months[0]: police_uk.load(settings, months[0])}
    else:
        by_month = police_uk.load_months(settings, months, months_per_transaction=MONTHS_PER_TRANSACTION)
    loaded = sum(v.get("rows_loaded", 0) for summary in by_month.values()
                 for kinds in summary.values() for v in kinds.values())
    return {"months": len(months), "rows_loaded": loaded, **{k: round(v, 2) for k, v in spent.items()}}


def step_build(full_refresh: bool) -> dict:
    from ingest.transform import POLICE_UK_SELECTION, dbt_build

    # the police.uk evidence and its parents: the other sources' raw tables are not loaded here
    summary = dbt_build(bench_settings(), select=POLICE_UK_SELECTION, full_refresh=full_refresh)
    slowest = sorted(summary["node_seconds"].items(), key=lambda kv: -kv[1])[:8]
    return {"nodes": summary["nodes"], "dbt_seconds": summary["seconds"], "slowest_models": dict(slowest)}


def step_publish(first: bool) -> dict:
    """Publish; ``first``: as the first publication of a warehouse (the full refresh's), from nothing,
    rather than from the previous run's published file (a new month's publication starts from the
    full refresh's)."""
    from ingest.publish import publish

    settings = bench_settings()
    if first:
        shutil.rmtree(settings.paths.published.parent, ignore_errors=True)
    path = publish(settings)
    return {"bytes": path.stat().st_size}


STEPS = {
    "generate": lambda: step_generate(),
    "land": lambda: step_land(month_range(FIRST, LAST)),
    "bare": lambda: step_bare(month_range(FIRST, LAST)),
    "ingest": lambda: step_ingest(month_range(FIRST, LAST), fresh=True),
    "build": lambda: step_build(full_refresh=True),
    "publish": lambda: step_publish(first=True),
    "new_month_fetch": lambda: step_land([NEW_MONTH]),
    "new_month_bare": lambda: step_bare([NEW_MONTH], name="bare-new-month"),
    "new_month_ingest": lambda: step_ingest([NEW_MONTH], fresh=False),
    "new_month_build": lambda: step_build(full_refresh=False),
    "new_month_publish": lambda: step_publish(first=False),
}


def run_step(name: str, out: Path, profile: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    result = STEPS[name]()
    if profiler:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(15)
        result["profile_top"] = text.getvalue()[-6000:]
    out.write_text(json.dumps(result, default=str))


# --------------------------------------------------------------------------- the orchestrator


def measure(name: str, profile: bool) -> dict:
    out = WORK / f".step-{name}.json"
    WORK.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.run", "--step", name, "--out", str(out)] + (["--profile"] if profile else [])
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=bench_environ())
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"bench step {name} failed (exit {process.returncode})")
    result = json.loads(out.read_text())
    cpu = usage.ru_utime + usage.ru_stime
    # the machine's 1-minute load average as the step ended: how much else was running (2 cores)
    result.update(seconds=round(seconds, 2), cpu_seconds=round(cpu, 2), peak_bytes=usage.ru_maxrss * 1024,
                  load_average=round(os.getloadavg()[0], 1))
    print(f"[bench] {name}: {seconds:.1f}s wall, {cpu:.1f}s CPU, peak {usage.ru_maxrss / 1024 / 1024:.2f} GiB",
          file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--history", type=int, choices=HISTORIES, default=HISTORY,
                        help="months of history before the new one (default 36)")
    parser.add_argument("--profile", action="store_true", help="cProfile every step")
    parser.add_argument("--keep", action="store_true", help="keep the work folder of the last run")
    parser.add_argument("--note", help="a line for the results (e.g. who else was using the machine)")
    args = parser.parse_args(argv)
    if args.step:
        run_step(args.step, args.out, args.profile)
        return 0
    if args.history != HISTORY:  # every path and month of this module follows BENCH_HISTORY
        os.environ["BENCH_HISTORY"] = str(args.history)
        os.execv(sys.executable, [sys.executable, "-m", "bench.run", *(argv if argv is not None else sys.argv[1:])])

    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    steps = {"generate": measure("generate", False)}
    if WORK.exists() and not args.keep:
        shutil.rmtree(WORK)
    for name in STEP_ORDER:
        steps[name] = measure(name, args.profile)
    settings = bench_settings()
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    run = {
        "date": date,
        "started_at": started_at,
        "history_months": HISTORY,
        "months": [FIRST, LAST],
        "new_month": NEW_MONTH,
        "note": args.note,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GIB:.0f} GiB RAM, "
                   f"Python {platform.python_version()}",
        "duckdb": {"memory_limit": settings.duckdb.memory_limit, "threads": settings.duckdb.threads},
        "forces": list(settings.police_uk.forces),
        "steps": steps,
    }
    run["summary"] = summarise(steps)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{date}.json"
    day = add_run(json.loads(path.read_text()) if path.exists() else None, run, date)
    path.write_text(json.dumps(day, indent=2, default=str) + "\n")
    (RESULTS / f"{date}.md").write_text(markdown(day))
    print(markdown(day))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
