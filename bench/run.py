"""National-scale benchmark: 43 territorial forces + BTP, 36 months, then one new month.

    python -m bench.run                  # generate once (bench/data/, ignored), then measure every step
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

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data"
PUBLISHER = DATA / "publisher"
WORK = DATA / "work"
RESULTS = REPO / "bench" / "results"

FIRST, LAST, NEW_MONTH = "2022-10", "2025-09", "2025-10"
SEED, SCALE = 2011, 1.0
# the backfill's batch size (police_uk.load_months); BENCH_MONTHS_PER_TRANSACTION compares others
MONTHS_PER_TRANSACTION = int(os.environ.get("BENCH_MONTHS_PER_TRANSACTION", "6"))
GIB = 1024 ** 3

# Targets from the issue: ingest vs bare DuckDB, new month vs full refresh, full refresh, memory.
TARGET_INGEST_RATIO = 1.25
TARGET_INCREMENTAL_SHARE = 0.15
TARGET_FULL_REFRESH_SECONDS = 300
TARGET_PEAK_BYTES = 4 * GIB

log = logging.getLogger("bench")


def _months(first: str, last: str) -> list[str]:
    from devtools.sample.police_uk import month_range

    return month_range(first, last)


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
    }


def _settings():
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

    settings = _settings()
    members = 0
    for month in months:
        fetched = police_uk.fetch(settings, month)
        members += sum(1 for kinds in fetched.members.values() for p in kinds.values() if p)
    csv_bytes = sum(p.stat().st_size for p in (WORK / "landing" / "police_uk" / "extracted").rglob("*.csv"))
    return {"months": len(months), "files": members, "csv_bytes": csv_bytes}


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


def step_bare(months: list[str]) -> dict:
    """The floor: DuckDB alone, `create table as select * from read_csv([...])`, same files, same limits."""
    from ingest.sources.police_uk_contract import DATASETS
    from ingest.warehouse import connection_settings, open_connection

    settings = _settings()
    path = WORK / "bare.duckdb"
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
    return {"rows": rows, "files": sum(len(v) for v in files.values())}


def step_ingest(months: list[str], fresh: bool) -> dict:
    """The platform's load: header checks, typed multi-file load, rejects, lineage, load log, in-database gates."""
    from ingest.raw import load as raw_load
    from ingest.raw import gate
    from ingest.sources import police_uk

    settings = _settings()
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
    summary = dbt_build(_settings(), select=POLICE_UK_SELECTION, full_refresh=full_refresh)
    slowest = sorted(summary["node_seconds"].items(), key=lambda kv: -kv[1])[:8]
    return {"nodes": summary["nodes"], "dbt_seconds": summary["seconds"], "slowest_models": dict(slowest)}


def step_publish() -> dict:
    from ingest.publish import publish

    path = publish(_settings())
    return {"bytes": path.stat().st_size}


STEPS = {
    "generate": lambda: step_generate(),
    "land": lambda: step_land(_months(FIRST, LAST)),
    "bare": lambda: step_bare(_months(FIRST, LAST)),
    "ingest": lambda: step_ingest(_months(FIRST, LAST), fresh=True),
    "build": lambda: step_build(full_refresh=True),
    "publish": lambda: step_publish(),
    "new_month_fetch": lambda: step_land([NEW_MONTH]),
    "new_month_ingest": lambda: step_ingest([NEW_MONTH], fresh=False),
    "new_month_build": lambda: step_build(full_refresh=False),
    "new_month_publish": lambda: step_publish(),
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
    result.update(seconds=round(seconds, 2), cpu_seconds=round(cpu, 2), peak_bytes=usage.ru_maxrss * 1024)
    print(f"[bench] {name}: {seconds:.1f}s wall, {cpu:.1f}s CPU, peak {usage.ru_maxrss / 1024 / 1024:.2f} GiB",
          file=sys.stderr, flush=True)
    return result


def _gib(n: int) -> str:
    return f"{n / GIB:.2f} GiB"


def summarise(steps: dict[str, dict]) -> dict:
    s = {k: v["seconds"] for k, v in steps.items()}
    full = s["ingest"] + s["build"] + s["publish"]
    full_with_landing = full + s["land"]
    incremental = s["new_month_ingest"] + s["new_month_build"] + s["new_month_publish"]
    incremental_with_fetch = incremental + s["new_month_fetch"]
    peak = max(v["peak_bytes"] for k, v in steps.items() if k != "generate")
    cpu = {k: v["cpu_seconds"] for k, v in steps.items()}
    return {
        "ingest_vs_bare": round(s["ingest"] / s["bare"], 3),
        # CPU seconds are what a step costs whoever else shares the machine: the steadier ratio
        "ingest_vs_bare_cpu": round(cpu["ingest"] / cpu["bare"], 3),
        "ingest_with_landing_vs_bare": round((s["ingest"] + s["land"]) / s["bare"], 3),
        "full_refresh_seconds": round(full, 1),
        "full_refresh_with_landing_seconds": round(full_with_landing, 1),
        "new_month_seconds": round(incremental, 1),
        "new_month_with_fetch_seconds": round(incremental_with_fetch, 1),
        "new_month_share_of_full": round(incremental / full, 3),
        "new_month_with_fetch_share_of_full_with_landing": round(incremental_with_fetch / full_with_landing, 3),
        "peak_bytes": peak,
        "targets": {
            "ingest_vs_bare <= 1.25": s["ingest"] / s["bare"] <= TARGET_INGEST_RATIO,
            "new_month <= 15% of full": incremental_with_fetch / full_with_landing <= TARGET_INCREMENTAL_SHARE,
            "full refresh < 300 s": full < TARGET_FULL_REFRESH_SECONDS,
            "peak memory < 4 GiB": peak < TARGET_PEAK_BYTES,
        },
    }


def markdown(result: dict) -> str:
    steps, summary = result["steps"], result["summary"]
    rows = steps["bare"]["rows"]
    lines = [
        f"# Benchmark {result['date']}",
        "",
        *([result["note"], ""] if result.get("note") else []),
        f"{result['machine']}. Data: {len(result['forces'])} forces, {FIRST}..{LAST} (36 months) + {NEW_MONTH}; "
        f"{rows['police_uk_street']:,} street, {rows['police_uk_outcomes']:,} outcomes, "
        f"{rows['police_uk_stop_search']:,} stop-and-search rows; "
        f"{steps['land']['files']:,} CSV files, {steps['land']['csv_bytes'] / GIB:.2f} GiB. "
        f"DuckDB memory_limit {result['duckdb']['memory_limit']}, threads {result['duckdb']['threads']}.",
        "",
        "| step | wall s | CPU s | peak memory | notes |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    notes = {
        "land": "fetch 36 archives: copy, verify, manifest, extract members",
        "bare": "floor: `create table as select * from read_csv([...])`, 3 statements",
        "ingest": f"load {steps['ingest']['load_seconds']} s + gates {steps['ingest']['gate_seconds']} s "
                  f"+ header checks, load log, commits",
        "build": f"dbt build --full-refresh, {steps['build']['nodes']} nodes",
        "publish": "evidence.* and meta.* to a new file, atomic rename",
        "new_month_fetch": "fetch + extract one archive",
        "new_month_ingest": f"load {steps['new_month_ingest']['load_seconds']} s + gates "
                            f"{steps['new_month_ingest']['gate_seconds']} s",
        "new_month_build": f"dbt build (incremental), {steps['new_month_build']['nodes']} nodes",
        "new_month_publish": "as publish",
    }
    for name, step in steps.items():
        if name == "generate":
            continue
        lines.append(f"| {name} | {step['seconds']:.1f} | {step['cpu_seconds']:.1f} | {_gib(step['peak_bytes'])} "
                     f"| {notes.get(name, '')} |")
    t = summary["targets"]
    mark = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    lines += [
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| ingest <= 1.25 x bare DuckDB | {summary['ingest_vs_bare']:.2f} x wall, "
        f"{summary['ingest_vs_bare_cpu']:.2f} x CPU ({summary['ingest_with_landing_vs_bare']:.2f} x wall with "
        f"landing) | {mark(t['ingest_vs_bare <= 1.25'])} |",
        f"| new month end to end <= 15% of full refresh | {summary['new_month_with_fetch_seconds']:.1f} s of "
        f"{summary['full_refresh_with_landing_seconds']:.1f} s = "
        f"{100 * summary['new_month_with_fetch_share_of_full_with_landing']:.1f}% (without fetch/landing: "
        f"{100 * summary['new_month_share_of_full']:.1f}%) | {mark(t['new_month <= 15% of full'])} |",
        f"| full refresh (ingest + gates + build + publish) < 300 s | {summary['full_refresh_seconds']:.1f} s "
        f"({summary['full_refresh_with_landing_seconds']:.1f} s with landing) | {mark(t['full refresh < 300 s'])} |",
        f"| peak memory < 4 GiB, every step | {_gib(summary['peak_bytes'])} | {mark(t['peak memory < 4 GiB'])} |",
        "",
        "Slowest models, full refresh: " + ", ".join(f"{k} {v} s" for k, v in steps["build"]["slowest_models"].items()),
        "",
        "Slowest models, new month: " + ", ".join(f"{k} {v} s" for k, v in steps["new_month_build"]["slowest_models"].items()),
    ]
    if result.get("supplementary"):
        # narrower measurements made with the same code and data after the run (bench.new_month,
        # bench.profile_ingest, single steps), kept beside the run they explain
        lines += ["", "## Narrower measurements", ""] + [f"- {line}" for line in result["supplementary"]]
    previous = result.get("previous_runs") or []
    if previous:
        lines += ["", "## Previous runs", "",
                  "Earlier runs of the same day, newest first, each with the code of its time."]
        for run in reversed(previous):
            body = markdown({**run, "previous_runs": []}).splitlines()
            title = run.get("started_at") or run["date"]
            body = [line for line in body[1:] if not line.startswith("# ")]
            while body and not body[0].strip():
                body.pop(0)
            lines += ["", f"### Run of {title}", ""] + body
    return "\n".join(lines) + "\n"


def _with_previous_runs(result: dict, path: Path) -> dict:
    """Keep the numbers of earlier runs written to the same day's file (under ``previous_runs``)."""
    if not path.exists():
        return result
    earlier = json.loads(path.read_text())
    previous = list(earlier.pop("previous_runs", []) or []) + [earlier]
    return {**result, "previous_runs": previous}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="cProfile every step")
    parser.add_argument("--keep", action="store_true", help="keep bench/data/work from the last run")
    parser.add_argument("--note", help="a line for the results (e.g. who else was using the machine)")
    args = parser.parse_args(argv)
    if args.step:
        run_step(args.step, args.out, args.profile)
        return 0

    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    steps = {"generate": measure("generate", False)}
    if WORK.exists() and not args.keep:
        shutil.rmtree(WORK)
    for name in ("land", "bare", "ingest", "build", "publish",
                 "new_month_fetch", "new_month_ingest", "new_month_build", "new_month_publish"):
        steps[name] = measure(name, args.profile)
    settings = _settings()
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    result = {
        "date": date,
        "started_at": started_at,
        "note": args.note,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GIB:.0f} GiB RAM, "
                   f"Python {platform.python_version()}",
        "duckdb": {"memory_limit": settings.duckdb.memory_limit, "threads": settings.duckdb.threads},
        "forces": list(settings.police_uk.forces),
        "steps": steps,
    }
    result["summary"] = summarise(steps)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = _with_previous_runs(result, RESULTS / f"{date}.json")
    (RESULTS / f"{date}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (RESULTS / f"{date}.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
