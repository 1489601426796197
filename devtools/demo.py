"""The demo: generate the bundled sample archive, run every DAG, read headlines from the published file.

    python -m devtools.demo run         # make demo: every step below, one line each, logs to a file
    python -m devtools.demo run --verbose   # the same with every Airflow, task and dbt log line shown
    python -m devtools.demo sample      # idempotent: skipped when the archive already matches
    python -m devtools.demo headlines   # the numbers an analyst would quote, read-only

``run`` writes everything the steps log to ``<work_dir>/logs/demo-<time>.log`` (named at the start
and the end) and prints one line per step; a failed step prints its name and the log's last lines
and exits non-zero. ``police_uk_api`` asks the fake data.police.uk
(:mod:`devtools.fake_police_api`) on 127.0.0.1, started on a free port for that DAG run and
stopped afterwards; the monthly loads stay offline.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from collections import deque
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from ingest.config import Settings, load_settings


def generate_samples(settings: Settings) -> None:
    """Every source's bundled sample: police.uk's archive, then each module's ``generate_sample``."""
    import importlib
    import pkgutil

    import devtools.sample

    generate_police_uk_sample(settings)
    for module_info in sorted(pkgutil.iter_modules(devtools.sample.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"devtools.sample.{module_info.name}")
        generate = getattr(module, "generate_sample", None)
        if callable(generate):
            print(f"sample {module_info.name}: {generate(settings)}", file=sys.stderr)


def generate_police_uk_sample(settings: Settings) -> Path:
    from devtools.sample.police_uk import generate_archive

    out_dir = settings.root / settings.sample.get("out_dir", "var/sample/police_uk")
    # The forces the loader will look for (forces_to_load): the configured ones, then their most
    # similar groups' peers, whose files the sample writes for the last [sample] msg_peer_months only.
    request = {
        "first_month": settings.police_uk.first_month,
        "last_month": settings.police_uk.last_month,
        "forces": list(settings.police_uk.forces),
        "peer_forces": list(settings.police_uk.msg_peer_forces),
        "peer_months": int(settings.sample.get("msg_peer_months", 12)),
        "seed": int(settings.sample.get("seed", 2011)),
        "scale": float(settings.sample.get("scale", 1.0)),
    }
    stamp = out_dir / "request.json"
    if stamp.exists() and json.loads(stamp.read_text()) == request:
        print(f"sample archive already generated in {out_dir}", file=sys.stderr)
        return out_dir
    cached = sample_cache_dir() / _sample_key(request) if sample_cache_dir() else None
    if cached is not None and (cached / "request.json").exists():
        _copy_folder(cached, out_dir)
        print(f"sample archive copied to {out_dir} from the cache {cached}", file=sys.stderr)
        return out_dir
    summary = generate_archive(out_dir, **request)
    stamp.write_text(json.dumps(request, indent=2))
    print(f"sample archive generated in {out_dir}: {json.dumps(summary.get('rows', summary))[:300]}", file=sys.stderr)
    if cached is not None:
        try:
            _copy_folder(out_dir, cached)
        except OSError as exc:  # a cache that cannot be written costs the next clone a generation, nothing more
            print(f"sample archive not cached in {cached}: {exc}", file=sys.stderr)
    return out_dir


def sample_cache_dir() -> Path | None:
    """Where generated police.uk archives are kept for the next clone: ``OPCC_SAMPLE_CACHE``, else
    ``$XDG_CACHE_HOME/opcc/sample`` (``~/.cache/opcc/sample``); ``OPCC_SAMPLE_CACHE=`` turns it off."""
    configured = os.environ.get("OPCC_SAMPLE_CACHE")
    if configured is not None:
        return Path(configured) if configured else None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "opcc" / "sample"


def _sample_key(request: dict) -> str:
    """The generator's inputs: the request and the source of every sample module (a changed
    generator writes different files, so it never reuses an archive written by an older one)."""
    import hashlib

    import devtools.sample

    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode())
    for module in sorted(Path(devtools.sample.__path__[0]).glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return f"police_uk-{digest.hexdigest()[:16]}"


def _copy_folder(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` whole: written beside it, then renamed into place."""
    import shutil

    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    shutil.copytree(source, building)
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)


HEADLINE_SQL = {
    "latest_month": """
        with monthly as (
            select force_id, month_start, sum(crime_count) as crimes
            from evidence.fct_crime_monthly group by all
        ),
        latest as (select max(month_start) as month_start from monthly)
        select f.force_name, m.month_start, m.crimes, ly.crimes as crimes_last_year,
               round(100.0 * (m.crimes - ly.crimes) / nullif(ly.crimes, 0), 1) as change_pct
        from monthly m
        join latest using (month_start)
        left join monthly ly on ly.force_id = m.force_id and ly.month_start = m.month_start - interval 1 year
        join evidence.dim_force f on f.force_id = m.force_id
        where m.force_id in (select unnest(?::varchar[]))
        order by f.force_name
    """,
    "charge_rate": """
        with latest as (select max(month_start) as last_month from evidence.fct_outcomes)
        select f.force_name,
               min(o.month_start) as first_month, max(o.month_start) as last_month,
               sum(o.charge_summons_count) as charged, sum(o.crime_count) as crimes,
               round(100.0 * sum(o.charge_summons_count) / nullif(sum(o.crime_count), 0), 1) as rate_pct
        from evidence.fct_outcomes o
        cross join latest
        join evidence.dim_force f on f.force_id = o.force_id
        where o.month_start > latest.last_month - interval 12 month and o.force_id in (select unnest(?::varchar[]))
        group by f.force_name order by f.force_name
    """,
    "consultation": """
        select priorities.area_name, priorities.priority_label,
               100 * priorities.weighted_share, 100 * priorities.ci_lower_95, 100 * priorities.ci_upper_95,
               100 * confidence.weighted_share_confident, 100 * confidence.ci_lower_95, 100 * confidence.ci_upper_95,
               priorities.respondent_count
        from evidence.fct_consultation_priorities priorities
        join evidence.fct_confidence_in_police confidence
            using (survey_id, area_type, area_code, group_variable, group_value)
        where priorities.area_type = 'force_area' and priorities.group_variable = 'all' and priorities.priority_rank = 1
        order by priorities.area_name
    """,
    "neighbourhoods": """
        with theme_counts as (
            select force_id, priority_theme, count(*) as theme_count
            from evidence.fct_neighbourhood_priorities group by force_id, priority_theme
        ),
        top_theme as (
            select force_id, priority_theme, theme_count from theme_counts
            qualify row_number() over (partition by force_id order by theme_count desc, priority_theme) = 1
        ),
        per_force as (
            select force_id, force_name, count(*) as neighbourhoods, sum(priority_count) as priorities,
                   sum(priority_with_action_count) as actioned
            from evidence.dim_neighbourhood group by force_id, force_name
        )
        select per_force.force_name, per_force.neighbourhoods, per_force.priorities, per_force.actioned,
               top_theme.priority_theme, top_theme.theme_count
        from per_force
        left join top_theme using (force_id)
        order by per_force.force_name
    """,
    "peers": """
        select f.force_name,
               count(*) filter (where s.msg_rank is not null) as ranked,
               count(*) filter (where s.msg_funnel_position in ('above_95', 'above_99_8')) as above,
               count(*) filter (where s.msg_funnel_position in ('below_95', 'below_99_8')) as below,
               any_value(s.msg_rank) filter (where s.measure_id = 'total_crime_rate') as crime_rank,
               any_value(s.msg_forces_with_data) filter (where s.measure_id = 'total_crime_rate') as crime_of,
               any_value(s.msg_funnel_position) filter (where s.measure_id = 'total_crime_rate') as crime_position,
               any_value(s.reporting_period) as quarter
        from performance.fct_scorecard s
        join evidence.dim_force f on f.force_id = s.force_id
        where s.area_type = 'force' and s.force_id in (select unnest(?::varchar[]))
        group by f.force_name order by f.force_name
    """,
}


def headlines(settings: Settings) -> list[str]:
    import duckdb

    from ingest.report.wording import funnel_words, ordinal

    path = settings.paths.published
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run `make demo` (or the evidence_build DAG) first")
    lines = [f"Published evidence base: {path}"]
    configured = list(settings.police_uk.forces)  # not the most similar group peers loaded with them
    with duckdb.connect(str(path), read_only=True) as con:
        for force, month, crimes, last_year, change in con.execute(HEADLINE_SQL["latest_month"], [configured]).fetchall():
            lines.append(
                f"  {force}: {crimes:,} crimes and ASB incidents recorded in {month:%B %Y} "
                f"({change:+.1f}% on {last_year:,} in {month.year - 1})"
                if last_year else f"  {force}: {crimes:,} crimes and ASB incidents in {month:%B %Y}"
            )
        for force, first, last, charged, crimes, rate in con.execute(HEADLINE_SQL["charge_rate"], [configured]).fetchall():
            lines.append(
                f"  {force}: charge/summons rate {rate:.1f}% ({charged:,} of {crimes:,} crimes recorded "
                f"{first:%b %Y}–{last:%b %Y})"
            )
        for area, priority, share, low, high, confident, c_low, c_high, n in con.execute(
                HEADLINE_SQL["consultation"]).fetchall():
            lines.append(
                f"  {area}: consultation ({n:,} respondents, weighted to the Census) puts \"{priority}\" first "
                f"({share:.1f}%, 95% interval {low:.1f}–{high:.1f}%); {confident:.1f}% ({c_low:.1f}–{c_high:.1f}%) "
                "have confidence in the police"
            )
        for force, neighbourhoods, priorities, actioned, theme, theme_count in con.execute(
                HEADLINE_SQL["neighbourhoods"]).fetchall():
            lines.append(
                f"  {force}: {neighbourhoods:,} neighbourhood teams publish {priorities:,} priorities "
                f"({actioned:,} with an action reported)" + (f"; most often {theme} ({theme_count:,})" if theme else "")
            )
        for force, ranked, above, below, rank, of, position, quarter in con.execute(
                HEADLINE_SQL["peers"], [configured]).fetchall():
            crime = (f"total crime per 1,000 residents {ordinal(rank)} of {of} (1st = lowest), "
                     f"{funnel_words(position)}; " if rank else "")
            lines.append(
                f"  {force}, {quarter}, among its most similar group: {crime}{ranked} measures ranked, "
                f"{above} above and {below} below the group's 95% limits"
            )
    docs = path.parent / "docs" / "index.html"
    if docs.exists():  # built by the evidence build after each publish
        lines.append(f"Documentation (dbt docs, gate results, exports): {docs}")
    return lines


# --------------------------------------------------------------------------- make demo

TAIL_LINES = 40  # of the log, shown under a failed step
MONTHS_PER_RUN = 6  # police.uk months per DAG run


@dataclass(frozen=True)
class Step:
    """``python -m module args``; ``lines(stdout, took)``: what the terminal shows when it ends."""

    name: str
    module: str
    args: tuple[str, ...]
    lines: Callable[[str, str], list[str]]


class StepFailed(Exception):
    """A demo step exited non-zero; ``shown``: it has already printed why (run_local does)."""

    def __init__(self, step: str, code: int, shown: bool = False) -> None:
        super().__init__(f"{step} exited {code}")
        self.step, self.code, self.shown = step, code, shown


class WaitingStep:
    """A step launched early that waits for a line on its standard input (``--start-on-stdin``)."""

    def __init__(self, demo: "DemoRun", step: str, command: list[str]) -> None:
        self.demo, self.step, self.command = demo, step, command
        self.process: subprocess.Popen | None = None

    def launch(self) -> None:
        self.demo.note(f"\n==> {self.step}: {' '.join(self.command)} (launched {datetime.now():%H:%M:%S}, "
                       "waiting for its start line)")
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, text=True)

    def start(self, line: str = "") -> None:
        """Send the start line and wait for the step to end; :class:`StepFailed` if it fails."""
        if self.process is None:
            self.launch()
        self.demo.note(f"\n==> {self.step}: started ({datetime.now():%H:%M:%S})")
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.close()
        except BrokenPipeError:  # it has already ended (failed getting ready): its exit code says so
            pass
        code = self.process.wait()
        if code != 0:
            raise StepFailed(self.step, code, shown=not self.demo.verbose)

    def stop(self) -> None:
        """Not started (a step before it failed): the end of input makes it exit without running."""
        if self.process is None or self.process.poll() is not None:
            return
        with suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait()


class DemoRun:
    """The steps of ``make demo``, each a line on the terminal; their output appended to one log file."""

    def __init__(self, settings: Settings, *, verbose: bool = False, log_path: Path | None = None) -> None:
        self.settings = settings
        self.verbose = verbose
        self.log_path = (log_path or settings.paths.work_dir / "logs"
                         / f"demo-{datetime.now():%Y%m%d-%H%M%S}.log").resolve()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.python = sys.executable

    # -- output -------------------------------------------------------------------------------

    def shown_path(self, path: Path | str) -> str:
        """A path as a person would type it from the repository (absolute when outside it)."""
        path = Path(path)
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.note(f"==> {line}")

    def note(self, text: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as log_file:
            log_file.write(text.rstrip("\n") + "\n")

    def tail(self, lines: int = TAIL_LINES) -> list[str]:
        with self.log_path.open(encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]

    # -- steps --------------------------------------------------------------------------------

    def module(self, step: str, module: str, *args: str, shows_progress: bool = False) -> str:
        """``python -m module args``: output to the log (verbose: the terminal); returns its last stdout line.

        ``shows_progress``: the step writes the log itself and its own progress lines to our stderr.
        """
        command = [self.python, "-m", module, *args]
        self.note(f"\n==> {step}: {' '.join(command)} ({datetime.now():%H:%M:%S})")
        if self.verbose or shows_progress:
            done = subprocess.run(command, check=False)
            last = ""
        else:
            with self.log_path.open("a", encoding="utf-8") as log_file:
                done = subprocess.run(command, stdout=subprocess.PIPE, stderr=log_file, text=True, check=False)
            self.note(done.stdout)
            last = _last_line(done.stdout)
        if done.returncode != 0:
            raise StepFailed(step, done.returncode, shown=shows_progress and not self.verbose)
        return last

    def at_once(self, steps: list[Step], *, after: dict[str, Callable[[], None]] | None = None) -> None:
        """Run independent ``python -m`` steps side by side, a line on the terminal as each ends.

        Each step's output is kept apart and appended to the log when it ends. The first to fail
        stops the others; its output goes last in the log (so the tail shown is its own) and it is
        raised as :class:`StepFailed`. ``after[name]`` is called as soon as that step has succeeded,
        while the others still run. Verbose: one after the other, every line on the terminal.
        """
        import tempfile

        after = after or {}
        if self.verbose:
            for step in steps:
                t0 = time.perf_counter()
                self.module(step.name, step.module, *step.args)
                for line in step.lines("", _took(t0)):
                    self.say(line)
                after.get(step.name, lambda: None)()
            return
        with tempfile.TemporaryDirectory(prefix="demo-steps-") as tmp:
            running: dict[int, tuple[Step, subprocess.Popen, Path, Path, float]] = {}
            try:
                for index, step in enumerate(steps):
                    out, err = Path(tmp) / f"{index}.out", Path(tmp) / f"{index}.err"
                    with out.open("w", encoding="utf-8") as stdout, err.open("w", encoding="utf-8") as stderr:
                        process = subprocess.Popen([self.python, "-m", step.module, *step.args],
                                                   stdout=stdout, stderr=stderr, text=True)
                    running[index] = (step, process, out, err, time.perf_counter())
                while running:
                    ended = [index for index, (_, process, *_) in running.items() if process.poll() is not None]
                    if not ended:
                        time.sleep(0.1)
                        continue
                    for index in ended:
                        step, process, out, err, t0 = running.pop(index)
                        if process.returncode != 0:
                            for other, other_process, *files in running.values():  # stopped: their output first
                                other_process.terminate()
                                other_process.wait()
                                self._note_step(other, other_process, *files[:2], "stopped: another step failed")
                            running.clear()
                            self._note_step(step, process, out, err)
                            raise StepFailed(step.name, process.returncode)
                        self._note_step(step, process, out, err)
                        for line in step.lines(out.read_text(encoding="utf-8", errors="replace"), _took(t0)):
                            self.say(line)
                        after.get(step.name, lambda: None)()
            finally:
                for _, process, *_ in running.values():  # interrupted: leave no step running
                    process.terminate()
                    process.wait()

    def _note_step(self, step: Step, process: subprocess.Popen, out: Path, err: Path, why: str = "") -> None:
        command = " ".join([self.python, "-m", step.module, *step.args])
        self.note(f"\n==> {step.name}: {command} (exit {process.returncode}{'; ' + why if why else ''})")
        for output in (err, out):
            if text := output.read_text(encoding="utf-8", errors="replace").strip("\n"):
                self.note(text)

    def _report_lines(self, stdout: str, took: str) -> list[str]:
        """What the statement lacks (e.g. commentary not written), then where the report is."""
        lines = [line for line in stdout.splitlines() if line.startswith("warning: ")]
        report = _last_line(stdout)
        return [*lines, f"report: {self.shown_path(report) if report else 'rendered'} in {took}"]

    def _docs_lines(self, stdout: str, took: str) -> list[str]:
        docs = _last_line(stdout).removeprefix("documentation: ")
        return [f"docs: {self.shown_path(docs) if docs else 'built'} in {took}"]

    @contextmanager
    def waiting_to_start(self, step: str, module: str, *args: str) -> Iterator["WaitingStep"]:
        """``python -m module --start-on-stdin args``, launched when the caller is ready and started by a
        line later: it gets ready (imports, DAGs, Airflow's execution API) while the step before still
        runs. Its progress lines go to the terminal and it writes the log itself (``shows_progress``).
        Left before it was started, it is sent the end of input, and exits without running."""
        waiting = WaitingStep(self, step, [self.python, "-m", module, "--start-on-stdin", *args])
        try:
            yield waiting
        finally:
            waiting.stop()

    @contextmanager
    def beside(self, name: str, module: str, *args: str) -> Iterator[None]:
        """``python -m module args`` in the background while the block runs, for work a later step would
        otherwise do itself (so its failure fails nothing: the later step does the work after all). Its
        output goes to the log when the block ends; a block that fails stops it."""
        import tempfile

        command = [self.python, "-m", module, *args]
        with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True)
            t0 = time.perf_counter()
            ok = False
            try:
                yield
                ok = True
            finally:
                if not ok:
                    process.terminate()
                code = process.wait()
                output.seek(0)
                self.note(f"\n==> {name} (beside the step before, ended within its {_took(t0)}): "
                          f"{' '.join(command)} (exit {code})")
                self.note(output.read())

    @contextmanager
    def fake_police_api(self) -> Iterator[str]:
        """The fake data.police.uk on 127.0.0.1 (a free port), serving the sample archive; stopped on the way out."""
        from devtools.fake_police_api import FakePoliceApi

        sample_dir = self.settings.root / self.settings.sample.get("out_dir", "var/sample/police_uk")
        server = FakePoliceApi(sample_dir).start()
        self.say(f"fake data.police.uk API on {server.api_url} (for police_uk_api only)")
        try:
            yield server.api_url
        finally:
            server.stop()
            served = server.requests
            self.note(f"fake data.police.uk API stopped after {len(served)} requests")

    def run(self) -> int:
        started = time.perf_counter()
        settings = self.settings
        if not self.verbose:
            self.say(f"Full log: {self.shown_path(self.log_path)}")
        step = "sample data"
        try:
            police = settings.police_uk
            peers = (f" and {len(police.msg_peer_forces)} most similar group peers (last "
                     f"{int(settings.sample.get('msg_peer_months', 12))} months)" if police.msg_peer_forces else "")
            airflow_home = self.shown_path(os.environ.get("AIRFLOW_HOME", "?"))
            logs = ["--verbose"] if self.verbose else ["--log-file", str(self.log_path), "--no-log-path"]
            # Six police.uk months per DAG run (the DAG's `through` param): a demo needs no scheduler-sized
            # runs, and a six-month batch is one load transaction (police_uk.load_months).
            with self.waiting_to_start("the DAGs through Airflow (ingest.run_local)", "ingest.run_local",
                                       "--months-per-run", str(MONTHS_PER_RUN), *logs) as dag_runs:
                # Independent: the sample files, and Airflow's metadata database. Once the database is
                # ready, run_local loads the DAGs and Airflow's execution API (about 8 s of one core)
                # while the sample is still being written, and waits for it.
                self.at_once([
                    Step("sample data", "devtools.demo", ("sample",),
                         lambda out, took: [f"sample data: {len(police.forces)} forces{peers}, {police.first_month} "
                                            f"to {police.last_month}, every source "
                                            f"({self.shown_path(settings.root / 'var' / 'sample')}) in {took}"]),
                    Step("Airflow metadata database", "ingest.airflow_home", (),
                         lambda out, took: [f"Airflow home ready ({airflow_home}, pools created) in {took}"]),
                ], after={"Airflow metadata database": dag_runs.launch})
                step = dag_runs.step
                # The dbt parses of evidence_build's build and of the docs site, made beside the DAG runs (they
                # leave a core idle most of the time) and read back when the build and the site run after them.
                with self.fake_police_api() as api_url, self.beside("dbt parse for the build and the docs site",
                                                                    "ingest.docs_site", "--parse-ahead"):
                    dag_runs.start(api_url)
            step = "reports and documentation"
            # Each configured force's report (the first in reports/, the others in reports/<force>/) and the
            # documentation site only read the published file: they render side by side.
            reports = [Step("quarterly performance report", "ingest.report", (), self._report_lines)]
            reports += [Step(f"quarterly performance report ({force_id})", "ingest.report",
                             ("--force", force_id, "--out", self.shown_path(settings.root / "reports" / force_id)),
                             self._report_lines)
                        for force_id in settings.police_uk.forces[1:]]
            self.at_once([*reports, Step("documentation site", "ingest.docs_site", (), self._docs_lines)])
            step = "headlines"
            lines = headlines(settings)
        except StepFailed as failed:
            self._failed(failed.step, f"exited {failed.code}", shown=failed.shown)
            return failed.code or 1
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - every failure is reported the same way
            import traceback

            self.note(traceback.format_exc())
            self._failed(step, f"{type(exc).__name__}: {exc}")
            return 130 if isinstance(exc, KeyboardInterrupt) else 1
        self.note("\n".join(lines))
        print("\n".join(lines), flush=True)
        self.say(f"make demo finished in {time.perf_counter() - started:.0f} s. Full log: "
                 f"{self.shown_path(self.log_path)}" if not self.verbose else
                 f"make demo finished in {time.perf_counter() - started:.0f} s")
        return 0

    def _failed(self, step: str, why: str, *, shown: bool = False) -> None:
        if self.verbose:
            self.say(f"FAILED at {step}: {why}")
            return
        if not shown:  # run_local names its failing DAG run and shows the tail itself
            self.say(f"FAILED at {step}: {why}")
            print(f"Last {TAIL_LINES} lines of {self.shown_path(self.log_path)}:")
            for line in self.tail():
                print(f"    {line}")
        self.say(f"make demo stopped at: {step}. Full log: {self.shown_path(self.log_path)}")


def _last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def _took(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "sample", "headlines"])
    parser.add_argument("--verbose", "-v", action="store_true", help="run: every log line on the terminal")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "run":
        demo = DemoRun(settings, verbose=args.verbose)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            filename=None if args.verbose else demo.log_path)
        return demo.run()
    if args.command == "sample":
        generate_samples(settings)
    else:
        print("\n".join(headlines(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
