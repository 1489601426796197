"""The benchmark's results: each run's ratios and targets, the 36 -> 120 months scaling, the markdown.

A day's file (``bench/results/<date>.json``) holds every run of that day (``runs``, oldest first);
the markdown shows the newest run of each history in full, the scaling between them, and the
earlier runs after.
"""

from __future__ import annotations

GIB = 1024 ** 3

# Targets (issue 16), every one a ratio to DuckDB alone reading the same files in the same run,
# except the growth with history, which compares the 120-month run's new month with the 36-month run's.
TARGET_INGEST_RATIO = 1.25  # ingest / bare
TARGET_FULL_REFRESH_RATIO = 3.0  # (ingest + build + publish) / bare
TARGET_NEW_MONTH_RATIO = 15.0  # new month fetch -> publish / bare load of that month
TARGET_PEAK_RATIO = 1.25  # every step's peak memory / the bare step's
TARGET_HISTORY_GROWTH = 1.2  # new month at 120 months of history / at 36

FULL_STEPS = ("ingest", "build", "publish")
NEW_MONTH_STEPS = ("new_month_fetch", "new_month_ingest", "new_month_build", "new_month_publish")
STEP_ORDER = ("land", "bare", *FULL_STEPS, "new_month_fetch", "new_month_bare", *NEW_MONTH_STEPS[1:])

NOTES = {
    "land": "fetch every archive: copy, verify, manifest, extract members{counted}",
    "bare": "floor: `create table as select * from read_csv([...])`, 3 statements",
    "ingest": "load {load_seconds} s + gates {gate_seconds} s + header checks, load log, commits",
    "build": "dbt build --full-refresh, {nodes} nodes",
    "publish": "first publication: evidence.* and meta.* to a new file, Parquet, atomic rename",
    "new_month_fetch": "fetch + extract one archive{counted}",
    "new_month_bare": "floor for one month: the bare load of the new month's files into a new file",
    "new_month_ingest": "load {load_seconds} s + gates {gate_seconds} s",
    "new_month_build": "dbt build (incremental), {nodes} nodes",
    "new_month_publish": "from the previous publication: the months and files that changed, atomic rename",
}


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _gib(n: int) -> str:
    return f"{n / GIB:.2f} GiB"


def summarise(steps: dict[str, dict]) -> dict:
    """One run's ratios and its four in-run targets."""
    s = {k: v["seconds"] for k, v in steps.items()}
    cpu = {k: v["cpu_seconds"] for k, v in steps.items()}
    full = sum(s[k] for k in FULL_STEPS)
    new_month = sum(s[k] for k in NEW_MONTH_STEPS)
    bare_peak = steps["bare"]["peak_bytes"]
    peaks = {k: round(v["peak_bytes"] / bare_peak, 3) for k, v in steps.items() if k in STEP_ORDER}
    worst = max((k for k in peaks if k != "bare"), key=lambda k: peaks[k])
    summary = {
        "ingest_vs_bare": round(s["ingest"] / s["bare"], 3),
        # CPU seconds are what a step costs whoever else shares the machine: the steadier ratio
        "ingest_vs_bare_cpu": round(cpu["ingest"] / cpu["bare"], 3),
        "ingest_with_landing_vs_bare": round((s["ingest"] + s["land"]) / s["bare"], 3),
        "full_refresh_seconds": round(full, 1),
        "full_refresh_vs_bare": round(full / s["bare"], 3),
        "full_refresh_vs_bare_cpu": round(sum(cpu[k] for k in FULL_STEPS) / cpu["bare"], 3),
        "full_refresh_with_landing_vs_bare": round((full + s["land"]) / s["bare"], 3),
        "new_month_seconds": round(new_month, 1),
        "new_month_vs_bare_month": round(new_month / s["new_month_bare"], 3),
        "new_month_vs_bare_month_cpu": round(sum(cpu[k] for k in NEW_MONTH_STEPS) / cpu["new_month_bare"], 3),
        "new_month_build_seconds": s["new_month_build"],
        "peak_vs_bare": peaks,
        "worst_peak_step": worst,
        "peak_bytes": max(v["peak_bytes"] for k, v in steps.items() if k in STEP_ORDER),
    }
    # On a shared machine the load can differ between the two sides of a ratio and flatter either
    # the wall or the CPU one: a target counts as met only when both meet it.
    summary["targets"] = {
        f"ingest / bare <= {TARGET_INGEST_RATIO}":
            max(summary["ingest_vs_bare"], summary["ingest_vs_bare_cpu"]) <= TARGET_INGEST_RATIO,
        f"full refresh / bare <= {TARGET_FULL_REFRESH_RATIO}":
            max(summary["full_refresh_vs_bare"], summary["full_refresh_vs_bare_cpu"]) <= TARGET_FULL_REFRESH_RATIO,
        f"new month / bare month <= {TARGET_NEW_MONTH_RATIO}":
            max(summary["new_month_vs_bare_month"], summary["new_month_vs_bare_month_cpu"]) <= TARGET_NEW_MONTH_RATIO,
        f"peak / bare peak <= {TARGET_PEAK_RATIO}, every step": peaks[worst] <= TARGET_PEAK_RATIO,
    }
    return summary


def scaling(short: dict, long: dict) -> dict:
    """How every step scales from the shorter history to the longer, and the new month's growth."""
    steps = {}
    for name in STEP_ORDER:
        a, b = short["steps"].get(name), long["steps"].get(name)
        if a and b:
            steps[name] = {"seconds": [a["seconds"], b["seconds"]], "ratio": round(b["seconds"] / a["seconds"], 3),
                           "cpu_seconds": [a["cpu_seconds"], b["cpu_seconds"]],
                           "cpu_ratio": round(b["cpu_seconds"] / a["cpu_seconds"], 3),
                           "peak_bytes": [a["peak_bytes"], b["peak_bytes"]]}
    growth = long["summary"]["new_month_seconds"] / short["summary"]["new_month_seconds"]
    # the same, each run's new month divided by its own bare month first: what is left when the
    # machine was busier during one run than the other
    normalised = long["summary"]["new_month_vs_bare_month"] / short["summary"]["new_month_vs_bare_month"]
    cpu = [sum(run["steps"][k]["cpu_seconds"] for k in NEW_MONTH_STEPS) for run in (short, long)]
    return {
        "histories": [short["history_months"], long["history_months"]],
        "runs": [short["started_at"], long["started_at"]],
        "steps": steps,
        "new_month_growth": round(growth, 3),
        "new_month_growth_normalised": round(normalised, 3),
        "new_month_growth_cpu": round(cpu[1] / cpu[0], 3),
        "target": max(growth, cpu[1] / cpu[0]) <= TARGET_HISTORY_GROWTH,  # both, as in a run's targets
    }


def newest_by_history(runs: list[dict]) -> dict[int, dict]:
    found: dict[int, dict] = {}
    for run in runs:
        found[run.get("history_months", 36)] = run
    return dict(sorted(found.items()))


def _run_lines(run: dict, level: str) -> list[str]:
    steps, summary = run["steps"], run["summary"]
    rows = steps["bare"]["rows"]
    history = run.get("history_months", 36)
    lines = [
        f"{level} {history} months of history (run started {run['started_at']})",
        "",
        *([run["note"], ""] if run.get("note") else []),
        f"{run['machine']}. Data: {len(run['forces'])} forces, {run['months'][0]}..{run['months'][1]} "
        f"({history} months) + {run['new_month']}; "
        f"{rows['police_uk_street']:,} street, {rows['police_uk_outcomes']:,} outcomes, "
        f"{rows['police_uk_stop_search']:,} stop-and-search rows; "
        f"{steps['land']['files']:,} CSV files, {steps['land']['csv_bytes'] / GIB:.2f} GiB. "
        f"DuckDB memory_limit {run['duckdb']['memory_limit']}, threads {run['duckdb']['threads']}.",
        "",
        "| step | wall s | CPU s | peak memory | peak / bare | load | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in STEP_ORDER:
        step = steps.get(name)
        if step is None:
            continue
        note = NOTES.get(name, "").format(
            **{k: step.get(k, "?") for k in ("load_seconds", "gate_seconds", "nodes")},
            # the fetch has counted each member's records (for the load) since 2026-12-07
            counted=", count the members' records" if step.get("counts_records") else "")
        lines.append(f"| {name} | {step['seconds']:.1f} | {step['cpu_seconds']:.1f} | {_gib(step['peak_bytes'])} "
                     f"| {summary['peak_vs_bare'].get(name, 0):.2f} | {step.get('load_average', '')} | {note} |")
    s, t = summary, list(summary["targets"].values())
    lines += [
        "",
        "*load*: the machine's 1-minute load average as the step ended (2 cores; above 2, the step "
        "shared them).",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| ingest <= {TARGET_INGEST_RATIO} x bare | {s['ingest_vs_bare']:.2f} x wall, {s['ingest_vs_bare_cpu']:.2f} x CPU "
        f"({s['ingest_with_landing_vs_bare']:.2f} x wall with landing) | {_mark(t[0])} |",
        f"| full refresh (ingest + build + publish) <= {TARGET_FULL_REFRESH_RATIO:g} x bare | "
        f"{s['full_refresh_seconds']:.1f} s / {steps['bare']['seconds']:.1f} s = {s['full_refresh_vs_bare']:.2f} x wall, "
        f"{s['full_refresh_vs_bare_cpu']:.2f} x CPU ({s['full_refresh_with_landing_vs_bare']:.2f} x wall with landing) "
        f"| {_mark(t[1])} |",
        f"| new month fetch -> publish <= {TARGET_NEW_MONTH_RATIO:g} x bare load of that month | "
        f"{s['new_month_seconds']:.1f} s / {steps['new_month_bare']['seconds']:.1f} s = "
        f"{s['new_month_vs_bare_month']:.1f} x wall, {s['new_month_vs_bare_month_cpu']:.1f} x CPU | {_mark(t[2])} |",
        f"| peak memory <= {TARGET_PEAK_RATIO} x the bare step's, every step | worst {s['worst_peak_step']} "
        f"{_gib(steps[s['worst_peak_step']]['peak_bytes'])} = {s['peak_vs_bare'][s['worst_peak_step']]:.2f} x "
        f"{_gib(steps['bare']['peak_bytes'])} | {_mark(t[3])} |",
        "",
        "Slowest models, full refresh: " + ", ".join(f"{k} {v} s" for k, v in steps["build"]["slowest_models"].items()),
        "",
        "Slowest models, new month: " + ", ".join(f"{k} {v} s" for k, v in steps["new_month_build"]["slowest_models"].items()),
    ]
    return lines


def _scaling_lines(scale: dict) -> list[str]:
    a, b = scale["histories"]
    lines = [
        f"## Scaling: {a} -> {b} months of history",
        "",
        f"| step | {a} months s | {b} months s | x wall | {a} months CPU s | {b} months CPU s | x CPU "
        f"| peak {a} | peak {b} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, step in scale["steps"].items():
        lines.append(f"| {name} | {step['seconds'][0]:.1f} | {step['seconds'][1]:.1f} | {step['ratio']:.2f} "
                     f"| {step['cpu_seconds'][0]:.1f} | {step['cpu_seconds'][1]:.1f} | {step['cpu_ratio']:.2f} "
                     f"| {_gib(step['peak_bytes'][0])} | {_gib(step['peak_bytes'][1])} |")
    lines += [
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| new month at {b} months of history <= {TARGET_HISTORY_GROWTH} x at {a} | {scale['new_month_growth']:.2f} x "
        f"wall, {scale['new_month_growth_cpu']:.2f} x CPU ({scale['new_month_growth_normalised']:.2f} x with each run's "
        "new month divided by its own bare month) "
        f"| {_mark(scale['target'])} |",
    ]
    return lines


def markdown(day: dict) -> str:
    runs = day["runs"]
    newest = newest_by_history(runs)
    lines = [f"# Benchmark {day['date']}", ""]
    if day.get("note"):
        lines += [day["note"], ""]
    for run in newest.values():
        lines += _run_lines(run, "##") + [""]
    if len(newest) > 1:
        histories = list(newest)
        lines += _scaling_lines(scaling(newest[histories[0]], newest[histories[-1]])) + [""]
    if day.get("supplementary"):
        # narrower measurements made with the same code and data after the runs (bench.new_month,
        # bench.profile_ingest, single steps), kept beside the runs they explain
        lines += ["## Narrower measurements", ""] + [f"- {line}" for line in day["supplementary"]] + [""]
    shown = {id(run) for run in newest.values()}
    previous = [run for run in runs if id(run) not in shown]
    if previous:
        lines += ["## Previous runs", "", "Earlier runs of the same day, newest first, each with the code of its time.", ""]
        for run in reversed(previous):
            lines += _run_lines(run, "###") + [""]
    return "\n".join(lines).rstrip() + "\n"


def with_scaling(day: dict) -> dict:
    """The day's results with the scaling between its newest runs of the shortest and longest history."""
    newest = newest_by_history(day["runs"])
    if len(newest) > 1:
        histories = list(newest)
        day = {**day, "scaling": scaling(newest[histories[0]], newest[histories[-1]])}
    return day


def add_run(day: dict | None, run: dict, date: str) -> dict:
    """The day's results with ``run`` added (a day's file keeps every run of the day)."""
    return with_scaling({**(day or {}), "date": date, "runs": list((day or {}).get("runs", [])) + [run]})


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.summary bench/results/<date>.json``: write its markdown again (after adding
    narrower measurements to ``supplementary`` or a day's ``note``)."""
    import argparse
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    day = json.loads(args.results.read_text())
    for run in day["runs"]:
        run["summary"] = summarise(run["steps"])
    day = with_scaling(day)
    args.results.write_text(json.dumps(day, indent=2, default=str) + "\n")
    args.results.with_suffix(".md").write_text(markdown(day))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
