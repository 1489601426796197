"""Run the real DAGs through Airflow on this machine: ``dag.test`` runs for a range of months, then the build.

This is ``airflow dags test`` for a range of months in one process, so Airflow and
GX are imported once rather than once per month. Each run is a real DAG run in the
metadata database (data interval = the month: with ``--months-per-run`` the first of the run's months,
the others through its ``through`` param), with the same tasks, pools and
templating the scheduler uses.

    python -m ingest.run_local --first 2022-10 --last 2025-09
    python -m ingest.run_local --months-per-run 6   # six months per police_uk run (its `through` param)
    python -m ingest.run_local --verbose      # every Airflow, task and dbt log line on the terminal
    python -m ingest.run_local --start-on-stdin  # get ready, then wait for a line (the demo's API URL, or empty)

The terminal gets one line per DAG run; everything Airflow, the tasks and dbt write (the
process's stdout and stderr, at the file-descriptor level) goes to a log file, named at the
start and the end (``<work_dir>/logs/run_local-<time>.log`` unless ``--log-file`` is given).
A failure names the failing run, shows the log's last lines and exits non-zero.

``police_uk_api`` (forces, neighbourhoods and their priorities, from the data.police.uk
API) runs when there is an API to ask: ``--api-url`` (for that run only; the monthly loads keep
``[police_uk] api_url``) or an ``http(s)`` ``[police_uk] api_url``. Offline it is skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import threading
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator

from ingest.config import PROJECT_ROOT, load_settings

log = logging.getLogger("ingest.run_local")

TAIL_LINES = 40  # of the log, shown when a run fails


def _load_dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    return bag


def warm_up_task_api() -> None:
    """Build Airflow's in-process execution API (what ``dag.test`` runs tasks through) before the first
    run needs it: its first request generates the API's versioned routes, about 4 s of one core. A
    caller that starts this process early (``--start-on-stdin``) gets that done while it waits."""
    import httpx
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    api = in_process_api_server()  # the one instance dag.test uses (cached)
    with httpx.Client(transport=api.transport, base_url="http://in-process.invalid./") as client:
        client.get("/health").raise_for_status()


def start_line(stream: IO[str]) -> str | None:
    """The line that starts the runs (``--start-on-stdin``), stripped; None at the end of input (the
    caller gave up: e.g. the step that was to make the data failed)."""
    line = stream.readline()
    return line.strip() if line else None


def month_run_date(month: str) -> datetime:
    """The date to test a monthly run at so that its data interval is ``month``.

    Airflow infers a manual run's data interval as the one *ending* at the date given
    (``airflow dags test police_uk 2024-04-01`` covers March 2024), so a month
    is run at the first day of the month after it.
    """
    year, number = map(int, month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=timezone.utc)


# The demo's other sources, each run once through its own DAG before the build. The dates are
# the DAG-run dates whose data intervals cover the bundled samples (see config/demo.toml).
SOURCE_RUNS: tuple[tuple[str, datetime], ...] = (
    ("ons_geography", datetime(2024, 1, 1, tzinfo=timezone.utc)),  # vintage 2023
    ("ons_population", datetime(2024, 1, 1, tzinfo=timezone.utc)),
    ("home_office_prc", datetime(2025, 10, 1, tzinfo=timezone.utc)),  # release after 2025 Q2
    ("hmicfrs", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("finance", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("csp_assessments", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("consultation", datetime(2025, 12, 1, tzinfo=timezone.utc)),  # the 2025 survey
    ("victim_satisfaction", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("call_handling", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("force_vulnerability", datetime(2025, 12, 1, tzinfo=timezone.utc)),
    ("road_safety", datetime(2025, 12, 1, tzinfo=timezone.utc)),
)
# data.police.uk reference data (weekly, from the API): run after the other sources when there is an API.
API_REFERENCE_RUN: tuple[str, datetime] = ("police_uk_api", datetime(2025, 12, 1, tzinfo=timezone.utc))


def _without_retries(dag) -> None:
    for task in dag.tasks:
        task.retries = 0


class RunLoadedNothing(SystemExit):
    """A DAG run that ended "success" without running a task: nothing was loaded."""


def judge_run(dag, logical_date: datetime, state: str, task_states: dict[str, str], *, what: str,
           require_load: bool = True) -> None:
    """Fail a run that did nothing: Airflow marks a run with no task instances (a date before the
    DAG's start_date) or with every task skipped as ``success``, and "loaded" must mean loaded."""
    if not task_states:
        start = getattr(dag, "start_date", None)
        if start is not None and start > logical_date:
            where = Path(getattr(dag, "fileloc", "") or "dags").name
            why = (f"its start_date {start:%Y-%m-%d} ({where}) is after the run date {logical_date:%Y-%m-%d}, and "
                   "Airflow creates no task for a run before a DAG's start_date")
        else:
            why = "Airflow created no task instance for it (is the DAG paused or its tasks' start_date later?)"
        raise RunLoadedNothing(f"{dag.dag_id} {what}: the run ended {state} but ran no task, so nothing was "
                               f"loaded: {why}")
    if require_load and not any(s == "success" for s in task_states.values()):
        skipped = sorted(t for t, s in task_states.items() if s == "skipped")
        if len(skipped) == len(task_states):
            # The task that chose to skip is the one with no skipped task upstream; its log says why.
            first = [t for t in skipped if not (dag.get_task(t).upstream_task_ids & set(skipped))]
            raise RunLoadedNothing(
                f"{dag.dag_id} {what}: every task was skipped ({', '.join(skipped)}), so nothing was loaded; "
                f"{', '.join(first) or skipped[0]} skipped the run (its log says why, e.g. the period is not "
                "published yet or no file is configured for it)")
        raise RunLoadedNothing(f"{dag.dag_id} {what}: no task succeeded ({task_states}), so nothing was loaded")


def _run_dag(dag, logical_date: datetime, *, what: str | None = None, require_load: bool = True,
             conf: dict | None = None):
    """One ``dag.test`` run, judged; returns the DagRun (its task instances say what ran)."""
    what = what or f"run for {logical_date:%Y-%m-%d}"
    dag_run = dag.test(logical_date=logical_date, run_conf=conf)
    state = str(getattr(dag_run, "state", "unknown"))
    task_states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    failed = [t for t, s in task_states.items() if s in {"failed", "upstream_failed"}]
    if failed or state != "success":
        raise SystemExit(f"{dag.dag_id} {what} ended {state}; failed tasks: {failed}")
    judge_run(dag, logical_date, state, task_states, what=what, require_load=require_load)
    return dag_run


def run_dag(dag, logical_date: datetime, *, what: str | None = None, require_load: bool = True) -> str:
    return str(_run_dag(dag, logical_date, what=what, require_load=require_load).state)


def _task_results(dag_run, task_id: str | None = None) -> list[tuple[str, Any]]:
    """What the run's tasks returned (their ``return_value`` XComs, a mapped task's each), as
    ``(task_id, value)``; only for the progress lines, so a failure to read them is no error."""
    try:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            rows = session.scalars(XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id,
                                                      task_ids=task_id, key="return_value")).all()
            return [(row.task_id, XComModel.deserialize_value(row)) for row in rows]
    except Exception:  # noqa: BLE001 - a progress line is never worth failing a run for
        log.debug("no results for %s", dag_run.dag_id, exc_info=True)
        return []


def _task_result(dag_run, task_id: str) -> Any:
    return next((value for _, value in _task_results(dag_run, task_id)), None)


def _rows_loaded(value: Any) -> tuple[int, int, int]:
    """(rows loaded, partitions loaded, partitions left unchanged) in what a run's tasks returned: the
    sources' loads report ``{"status": "loaded", "rows_loaded": n, …}`` per file or force-month, nested."""
    if isinstance(value, dict):
        status = value.get("status")
        totals = [(int(value.get("rows_loaded") or 0) if status == "loaded" else 0, int(status == "loaded"),
                   int(status == "unchanged"))]
        children = value.values()
    elif isinstance(value, (list, tuple)):
        totals, children = [], value
    else:
        return 0, 0, 0
    totals += [_rows_loaded(child) for child in children]
    return sum(t[0] for t in totals), sum(t[1] for t in totals), sum(t[2] for t in totals)


def _loaded(dag_run) -> str:
    """`` (41,203 rows)`` for a run's progress line, from what its tasks returned."""
    rows, loaded, unchanged = _rows_loaded([value for _, value in _task_results(dag_run)])
    if rows:
        return f" ({rows:,} rows)"
    if loaded:
        return f" ({loaded} partition{'s' * (loaded != 1)})"
    return " (unchanged)" if unchanged else ""


def _shown(path: Any) -> str:
    """A path relative to the working directory when it is under it (as a person would type it)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (TypeError, ValueError, OSError):
        return str(path)


def _seconds(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f} s"


def _api_summary(loaded: Any) -> str:
    """``{"neighbourhoods/lancashire": 40, …}`` (police_uk_api.load) as ``40 neighbourhoods, …``."""
    if not isinstance(loaded, dict) or not loaded:
        return ""
    totals: dict[str, int] = {}
    for key, rows in loaded.items():
        dataset = str(key).split("/", 1)[0]
        totals[dataset] = totals.get(dataset, 0) + int(rows or 0)
    shown = [f"{totals[name]:,} {name.replace('_', ' ')}" for name in
             ("forces", "senior_officers", "neighbourhoods", "neighbourhood_priorities") if name in totals]
    return ": " + ", ".join(shown) if shown else ""


@contextlib.contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """Set (or, for None, leave) environment variables for the tasks run inside, then restore them."""
    before = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is not None:
                os.environ[name] = value
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Console:
    """Where a person looks: one line per step here, everything else in the log file.

    Quiet (the default) points file descriptors 1 and 2 at the log, so Airflow's structlog
    output, task logs, dbt and anything a library prints all land there whatever handler
    wrote them; the terminal keeps a duplicate of the original stderr for the progress lines.
    Verbose leaves the descriptors alone and prints the progress lines among the logs.
    """

    def __init__(self, log_path: Path | None) -> None:
        self.log_path = log_path
        self._terminal: IO[str] = sys.stderr
        if log_path is None:
            return
        log_path.parent.mkdir(parents=True, exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self._terminal = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
        target = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, 1)
        os.dup2(target, 2)
        os.close(target)

    def say(self, line: str, *, also_log: bool = True) -> None:
        print(line, file=self._terminal, flush=True)
        if also_log and self.log_path is not None:  # the log says where each step ended too
            print(f"==> {line}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def ticking(self, label: str, *, every: float = 1.0) -> Iterator[None]:
        """While the step inside runs: ``label``, the time so far and, once dbt is building, its nodes
        done of the total (read from the log), on one terminal line rewritten every second and cleared
        at the end. Only on a terminal, and only when the logs go to the file."""
        if self.log_path is None or not self._terminal.isatty():
            yield
            return
        stop = threading.Event()
        started = time.perf_counter()
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0

        def tick() -> None:
            done, total, pending = 0, 0, ""
            with self.log_path.open(encoding="utf-8", errors="replace") as log_file:
                log_file.seek(offset)
                while not stop.wait(every):
                    text = pending + log_file.read()
                    text, _, pending = text.rpartition("\n")
                    counted = dbt_nodes_done(text)
                    done, total = done + counted[0], counted[1] or total
                    nodes = f", dbt {done} of {total} nodes" if total else ""
                    self._terminal.write(f"\r\033[K{label}: {time.perf_counter() - started:.0f} s{nodes}")
                    self._terminal.flush()

        ticker = threading.Thread(target=tick, name="run_local-status", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
            self._terminal.write("\r\033[K")
            self._terminal.flush()

    def tail(self, lines: int = TAIL_LINES) -> list[str]:
        if self.log_path is None or not self.log_path.exists():
            return []
        sys.stdout.flush()
        sys.stderr.flush()
        with self.log_path.open(encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]


DBT_NODE_ENDED = re.compile(r"\b\d+ of (\d+) (?:OK|PASS|WARN|ERROR|FAIL|SKIP)\b")


def dbt_nodes_done(text: str) -> tuple[int, int]:
    """(nodes ended, total) in dbt's console lines (``12 of 752 OK created sql view model …``);
    total 0 when there is none."""
    ended = DBT_NODE_ENDED.findall(text)
    return len(ended), int(ended[-1]) if ended else 0


def default_log_path(settings) -> Path:
    return settings.paths.work_dir / "logs" / f"run_local-{datetime.now():%Y%m%d-%H%M%S}.log"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    settings = load_settings()
    parser.add_argument("--first", default=settings.police_uk.first_month)
    parser.add_argument("--last", default=settings.police_uk.last_month)
    parser.add_argument("--skip-build", action="store_true", help="load months only, no dbt build/publish")
    parser.add_argument("--months-per-run", type=int, default=1,
                        help="police.uk months per DAG run (its `through` param; loaded six months per "
                             "transaction); default 1: one run per month, as the scheduler makes them")
    parser.add_argument("--no-retries", action="store_true", help="fail at the first error (tests)")
    parser.add_argument("--police-uk-only", action="store_true",
                        help="only police.uk's DAGs (the monthly loads, and police_uk_api when there is an API)")
    parser.add_argument("--api-url", default=None,
                        help="data.police.uk API for the police_uk_api run only (e.g. the demo's fake "
                             "publisher on 127.0.0.1); default: [police_uk] api_url when it is http(s)")
    parser.add_argument("--start-on-stdin", action="store_true",
                        help="load the DAGs and Airflow's execution API, then wait for a line on standard input "
                             "before the first run: a caller starts this while it is still making the data (the "
                             "demo, during its sample step); a non-empty line is the --api-url, end of input exits")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="every Airflow, task and dbt log line on the terminal instead of the log file")
    parser.add_argument("--log-file", type=Path, default=None,
                        help="append the logs here (default: <work_dir>/logs/run_local-<time>.log)")
    parser.add_argument("--no-log-path", action="store_true",
                        help="do not name the log file at the start and end (a caller that names it itself)")
    args = parser.parse_args(argv)

    log_path = None if args.verbose else (args.log_file or default_log_path(settings)).resolve()
    console = Console(log_path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    if log_path is not None and not args.no_log_path:
        console.say(f"Full log: {_shown(log_path)}")

    step = "loading the DAGs"
    try:
        from ingest.months import month_range

        started = time.perf_counter()
        bag = _load_dags()
        monthly, build = bag.dags["police_uk"], bag.dags["evidence_build"]
        if args.start_on_stdin:
            step = "starting Airflow's execution API"
            warm_up_task_api()
            step = "waiting for the start line on standard input"
            line = start_line(sys.stdin)
            if line is None:
                log.info("standard input ended before the start line: no run")
                return 1
            args.api_url = line or args.api_url
            started = time.perf_counter()
        if args.no_retries:
            _without_retries(monthly)
            _without_retries(build)
        months = month_range(args.first, args.last)
        per_run = max(1, args.months_per_run)
        runs = 0
        for start in range(0, len(months), per_run):
            batch = months[start:start + per_run]
            month, through = batch[0], batch[-1]
            span = month if len(batch) == 1 else f"{month} to {through}"
            step = f"police_uk {span}"
            t0 = time.perf_counter()
            which = (f"month {start + 1} of {len(months)} ({month})" if len(batch) == 1 else
                     f"months {start + 1}–{start + len(batch)} of {len(months)} ({span})")
            with console.ticking(f"police.uk {which}"):
                run = _run_dag(monthly, month_run_date(month), what=f"{span} (run date {month_run_date(month):%Y-%m-%d})",
                               conf={"through": through} if len(batch) > 1 else None)
            runs += 1
            console.say(f"police.uk {which} loaded in {_seconds(t0)}{_loaded(run)}")
        if not args.police_uk_only:
            for dag_id, run_date in SOURCE_RUNS:
                if dag_id not in bag.dags:
                    continue
                step = dag_id
                t0 = time.perf_counter()
                if args.no_retries:
                    _without_retries(bag.dags[dag_id])
                with console.ticking(dag_id):
                    run = _run_dag(bag.dags[dag_id], run_date)
                runs += 1
                console.say(f"{dag_id} loaded in {_seconds(t0)}{_loaded(run)}")
        dag_id, run_date = API_REFERENCE_RUN
        api_url = args.api_url or settings.police_uk.api_url
        if dag_id in bag.dags and api_url.startswith(("http://", "https://")):
            step = f"{dag_id} (API {api_url})"
            t0 = time.perf_counter()
            if args.no_retries:
                _without_retries(bag.dags[dag_id])
            # Only this run asks the API: the monthly loads above keep their own [police_uk] api_url.
            with _environment(OPCC_POLICE_UK__API_URL=args.api_url), console.ticking(dag_id):
                run = _run_dag(bag.dags[dag_id], run_date)
            runs += 1
            console.say(f"{dag_id} from {api_url}{_api_summary(_task_result(run, 'load'))} in {_seconds(t0)}")
        elif dag_id in bag.dags:
            console.say(f"{dag_id}: skipped, no data.police.uk API to ask (offline: no --api-url, and "
                        "[police_uk] api_url is not http(s))")
        if not args.skip_build:
            step = "evidence_build (dbt build, publish)"
            t0 = time.perf_counter()
            with console.ticking("evidence_build (dbt build, publish)"):
                run = _run_dag(build, datetime.now(timezone.utc).replace(microsecond=0))
            built = _task_result(run, "dbt_build") or {}
            published = _task_result(run, "publish") or settings.paths.published
            nodes = f"{built['nodes']} nodes in {built['seconds']:.1f} s" if "nodes" in built else "done"
            console.say(f"dbt build: {nodes}; published {_shown(published)} ({_seconds(t0)} in all)")
            runs += 1
        console.say(f"{runs} DAG run{'s' * (runs != 1)} through Airflow ({len(months)} police.uk months) in "
                    f"{time.perf_counter() - started:.0f} s")
    except (Exception, SystemExit, KeyboardInterrupt) as exc:
        code = getattr(exc, "code", 1)
        if isinstance(exc, SystemExit) and code in (0, None):
            raise
        message = str(code) if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
        if log_path is None:
            raise
        log.error("FAILED at %s: %s", step, message, exc_info=not isinstance(exc, SystemExit))
        tail = console.tail()
        console.say(f"FAILED at {step}: {message}")
        console.say(f"Last {len(tail)} lines of {_shown(log_path)}:", also_log=False)
        for line in tail:
            console.say(f"    {line}", also_log=False)
        console.say(f"Full log: {_shown(log_path)}")
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    if log_path is not None and not args.no_log_path:
        console.say(f"Full log: {_shown(log_path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
