"""make demo's terminal: one line per step, every other line in the log, and a failure that names its
step and shows the log's last lines (the steps here are a stand-in interpreter, so no pipeline runs)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from devtools.demo import TAIL_LINES, DemoRun, Step, StepFailed
from ingest.config import load_settings

# Stands in for the Python interpreter: `<python> -m <module> <args>`; $2 is the module.
FAKE_PYTHON = """#!/bin/sh
case "$2" in
  devtools.demo) printf 'sample: writing var/sample\\nsample: cannot write var/sample: No space left on device\\n' >&2; exit 3;;
  slow.step) sleep 30;;
  waiting.step) echo "waiting.step: getting ready ($3)" >&2
                if read -r line; then echo "waiting.step: started with '$line'"; [ "$line" != fail ] || exit 4
                else echo "waiting.step: no start line" >&2; exit 1; fi;;
  *) echo "$2: log line" >&2; sleep "${3:-0}"; echo "$2: the result";;
esac
"""


def fake_demo(tmp_path: Path) -> DemoRun:
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    demo = DemoRun(load_settings(), log_path=tmp_path / "logs" / "demo.log")
    demo.python = str(python)
    return demo


def test_steps_side_by_side_print_one_line_each_as_they_end(tmp_path, capsys):
    demo = fake_demo(tmp_path)
    demo.at_once([Step("slower", "first.step", ("0.5",), lambda out, took: [f"slower gave {out.strip()}"]),
                  Step("quicker", "second.step", ("0",), lambda out, took: [f"quicker gave {out.strip()}"])])
    shown = capsys.readouterr().out.splitlines()
    assert shown == ["quicker gave second.step: the result", "slower gave first.step: the result"]
    log = demo.log_path.read_text()
    assert "first.step: log line" in log and "second.step: log line" in log  # the output is in the log only
    assert log.index("==> quicker") < log.index("==> slower")


def test_a_failed_step_names_itself_shows_the_log_tail_and_stops_the_others(tmp_path, capsys):
    demo = fake_demo(tmp_path)
    code = demo.run()  # the first steps: the sample (fails) beside the Airflow home
    shown = capsys.readouterr().out.splitlines()
    assert code == 3
    assert shown[0] == f"Full log: {demo.shown_path(demo.log_path)}"
    assert "FAILED at sample data: exited 3" in shown
    tail_at = shown.index(f"Last {TAIL_LINES} lines of {demo.shown_path(demo.log_path)}:")
    tail = shown[tail_at + 1:-1]
    # the failing step's own output ends the tail, before the failure line itself
    assert tail[-4].startswith("    ==> sample data: ") and "(exit 3)" in tail[-4]
    assert tail[-3:] == ["    sample: writing var/sample", "    sample: cannot write var/sample: No space left on device",
                         "    ==> FAILED at sample data: exited 3"]
    assert shown[-1] == f"make demo stopped at: sample data. Full log: {demo.shown_path(demo.log_path)}"
    assert not any(line.startswith("Airflow home ready") for line in shown)


def test_a_failed_step_stops_a_step_still_running(tmp_path, capsys):
    demo = fake_demo(tmp_path)
    try:
        demo.at_once([Step("slow", "slow.step", (), lambda out, took: ["slow done"]),
                      Step("sample data", "devtools.demo", ("sample",), lambda out, took: ["sample done"])])
    except Exception as failed:  # noqa: BLE001
        assert (failed.step, failed.code) == ("sample data", 3)
    else:
        raise AssertionError("a failed step must raise")
    log = demo.log_path.read_text()
    assert "==> slow: " in log and "stopped: another step failed" in log
    assert log.rstrip().endswith("No space left on device")
    assert capsys.readouterr().out == ""


def test_the_sample_archive_is_generated_once_per_set_of_inputs_and_copied_from_the_cache(tmp_path, monkeypatch):
    import devtools.demo as demo
    import devtools.sample.police_uk as generator

    def settings(seed: str):
        return load_settings(environ={
            "OPCC_ROOT": str(tmp_path / "clone"), "OPCC_POLICE_UK__FORCES": "lancashire",
            "OPCC_POLICE_UK__LOAD_MSG_PEERS": "false", "OPCC_POLICE_UK__FIRST_MONTH": "2024-01",
            "OPCC_POLICE_UK__LAST_MONTH": "2024-02", "OPCC_SAMPLE__SCALE": "0.01", "OPCC_SAMPLE__SEED": seed})

    monkeypatch.setenv("OPCC_SAMPLE_CACHE", str(tmp_path / "cache"))
    generated = []
    real = generator.generate_archive
    monkeypatch.setattr(generator, "generate_archive", lambda *a, **k: generated.append(k["seed"]) or real(*a, **k))

    out = demo.generate_police_uk_sample(settings("5"))
    files = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert generated == [5] and any(p.suffix == ".zip" for p in files)
    shutil.rmtree(tmp_path / "clone")  # a fresh clone: the same archive, from the cache, byte for byte
    out = demo.generate_police_uk_sample(settings("5"))
    assert generated == [5]
    assert {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == files
    demo.generate_police_uk_sample(settings("6"))  # other inputs: generated again
    assert generated == [5, 6]
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_work_beside_a_step_runs_while_it_runs_and_its_output_goes_to_the_log(tmp_path, capsys):
    demo = fake_demo(tmp_path)
    t0 = time.perf_counter()
    with demo.beside("ahead", "ahead.step", "0.5"):
        demo.module("main step", "main.step", "0.5")
    assert time.perf_counter() - t0 < 0.95  # side by side, not one after the other
    log = demo.log_path.read_text()
    assert "==> ahead (beside the step before, ended within its " in log and "ahead.step 0.5 (exit 0)" in log
    assert log.index("main.step: the result") < log.index("ahead.step: log line")
    assert capsys.readouterr().out == ""


def test_a_step_launched_early_waits_for_its_start_line(tmp_path, capfd):
    demo = fake_demo(tmp_path)
    with demo.waiting_to_start("the runs", "waiting.step") as runs:
        runs.launch()
        time.sleep(0.3)
        assert runs.process.poll() is None  # ready, and waiting
        runs.start("http://127.0.0.1:8000/api")
    out, err = capfd.readouterr()
    assert "waiting.step: getting ready (--start-on-stdin)" in err
    assert "waiting.step: started with 'http://127.0.0.1:8000/api'" in out
    log = demo.log_path.read_text()
    assert "==> the runs: " in log and "waiting for its start line" in log and "==> the runs: started" in log


def test_a_step_launched_early_and_never_started_exits_without_running(tmp_path, capfd):
    demo = fake_demo(tmp_path)
    try:
        with demo.waiting_to_start("the runs", "waiting.step") as runs:
            demo.at_once([Step("sample data", "devtools.demo", ("sample",), lambda out, took: [])],
                         after={"sample data": runs.launch})
    except StepFailed as failed:
        assert failed.step == "sample data"
    else:
        raise AssertionError("the failed sample must raise")
    assert runs.process is None  # launched only after a step that succeeded
    with demo.waiting_to_start("the runs", "waiting.step") as runs:
        demo.at_once([Step("Airflow", "airflow.step", ("0",), lambda out, took: ["Airflow ready"])],
                     after={"Airflow": runs.launch})
        assert runs.process is not None
    assert runs.process.returncode == 1  # the end of input: no run
    out, err = capfd.readouterr()
    assert "waiting.step: no start line" in err and "started with" not in out


def test_a_step_that_fails_after_its_start_line_names_itself(tmp_path):
    demo = fake_demo(tmp_path)
    with demo.waiting_to_start("the runs", "waiting.step") as runs:
        runs.launch()
        try:
            runs.start("fail")
        except StepFailed as failed:
            assert (failed.step, failed.code, failed.shown) == ("the runs", 4, True)
        else:
            raise AssertionError("a failed step must raise")
