"""The benchmark's verdicts: a ratio to the bare floor meets its target only when wall and CPU both do."""

from __future__ import annotations

from bench.summary import STEP_ORDER, add_run, markdown, summarise


def _steps(seconds: dict[str, float], cpu: dict[str, float] | None = None, peak: dict[str, int] | None = None) -> dict:
    steps = {name: {"seconds": 10.0, "cpu_seconds": 10.0, "peak_bytes": 1_000} for name in STEP_ORDER}
    for name, value in seconds.items():
        steps[name]["seconds"] = value
    for name, value in (cpu or {}).items():
        steps[name]["cpu_seconds"] = value
    for name, value in (peak or {}).items():
        steps[name]["peak_bytes"] = value
    steps["bare"]["rows"] = {"police_uk_street": 3, "police_uk_outcomes": 2, "police_uk_stop_search": 1}
    steps["land"].update(files=4, csv_bytes=1 << 30)
    for name in ("ingest", "new_month_ingest"):
        steps[name].update(load_seconds=1.0, gate_seconds=1.0)
    for name in ("build", "new_month_build"):
        steps[name].update(nodes=1, slowest_models={"m": 1.0})
    return steps


def _run(history: int, steps: dict) -> dict:
    return {"date": "2026-12-05", "started_at": f"run {history}", "history_months": history, "months": ["a", "b"],
            "new_month": "c", "note": None, "machine": "m", "duckdb": {"memory_limit": "2GB", "threads": 2},
            "forces": ["f"], "steps": steps, "summary": summarise(steps)}


def test_a_ratio_flattered_by_a_busier_floor_is_not_met():
    # the floor ran on a busier machine: its wall time is long, its CPU is not
    summary = summarise(_steps({"bare": 100.0, "ingest": 100.0}, cpu={"bare": 10.0, "ingest": 16.0}))
    assert summary["ingest_vs_bare"] == 1.0 and summary["ingest_vs_bare_cpu"] == 1.6
    assert summary["targets"]["ingest / bare <= 1.25"] is False
    met = summarise(_steps({"bare": 100.0, "ingest": 120.0}, cpu={"bare": 10.0, "ingest": 12.0}))
    assert met["targets"]["ingest / bare <= 1.25"] is True


def test_the_full_refresh_and_new_month_ratios_add_their_steps():
    summary = summarise(_steps({"bare": 10.0, "ingest": 10.0, "build": 15.0, "publish": 5.0, "new_month_bare": 2.0,
                                "new_month_fetch": 1.0, "new_month_ingest": 2.0, "new_month_build": 20.0,
                                "new_month_publish": 5.0}))
    assert summary["full_refresh_vs_bare"] == 3.0
    assert summary["new_month_vs_bare_month"] == 14.0


def test_peak_memory_is_judged_step_by_step_against_the_floor():
    summary = summarise(_steps({}, peak={"bare": 1_000, "build": 1_300}))
    assert summary["worst_peak_step"] == "build" and summary["peak_vs_bare"]["build"] == 1.3
    assert summary["targets"]["peak / bare peak <= 1.25, every step"] is False


def test_the_new_month_growth_with_history_compares_the_two_runs():
    short = _run(36, _steps({}))
    long = _run(120, _steps({"new_month_build": 8.0}, cpu={"new_month_build": 20.0}))
    day = add_run(add_run(None, short, "2026-12-05"), long, "2026-12-05")
    # wall 38 / 40 s would pass; CPU 50 / 40 s does not
    assert day["scaling"]["new_month_growth"] == 0.95 and day["scaling"]["new_month_growth_cpu"] == 1.25
    assert day["scaling"]["target"] is False
    text = markdown(day)
    assert "## 36 months of history" in text and "## 120 months of history" in text
    assert "## Scaling: 36 -> 120 months of history" in text
