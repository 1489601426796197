"""run_local's status line: while a DAG run works, its label, the time so far and dbt's nodes done of
the total, rewritten in place on a terminal and cleared when the run ends; nothing off a terminal."""

from __future__ import annotations

import io
import re
import time

from ingest.run_local import Console, dbt_nodes_done

DBT_LINES = """\x1b[0m07:10:03  1 of 752 START sql view model staging.stg_consultation__responses ...... [RUN]
\x1b[0m07:10:03  2 of 752 START sql view model staging.stg_finance__crime_reduction_grants [RUN]
\x1b[0m07:10:03  2 of 752 OK created sql view model staging.stg_finance__crime_reduction_grants [\x1b[32mOK\x1b[0m in 0.13s]
\x1b[0m07:10:04  1 of 752 OK created sql view model staging.stg_consultation__responses [\x1b[32mOK\x1b[0m in 0.21s]
\x1b[0m07:10:05  161 of 752 WARN 13673 unique_stg_police_uk__street_crimes_crime_id ...... [\x1b[33mWARN 13673\x1b[0m in 8.65s]
\x1b[0m07:10:06  162 of 752 PASS not_null_stg_police_uk__outcomes_crime_id ............... [\x1b[32mPASS\x1b[0m in 3.29s]
\x1b[0m07:10:07  163 of 752 ERROR creating sql table model evidence.dim_force ............ [\x1b[31mERROR\x1b[0m in 0.1s]
"""


def test_dbt_nodes_done_counts_the_nodes_that_ended_not_the_ones_that_started():
    assert dbt_nodes_done(DBT_LINES) == (5, 752)
    assert dbt_nodes_done("2026-12-05 landed file:///var/sample/police_uk/archive/2022-10.zip") == (0, 0)


class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _console(tmp_path, terminal: FakeTerminal) -> Console:
    console = Console(None)  # the descriptors stay where they are; the log and terminal are set here
    console.log_path, console._terminal = tmp_path / "run.log", terminal
    console.log_path.write_text("before the run: 9 of 9 OK not this run's\n")
    return console


def test_the_status_line_shows_the_nodes_done_so_far_and_is_cleared_at_the_end(tmp_path):
    terminal = FakeTerminal(tty=True)
    console = _console(tmp_path, terminal)
    with console.ticking("evidence_build (dbt build, publish)", every=0.05):
        with console.log_path.open("a") as log:
            log.write(DBT_LINES)
        deadline = time.monotonic() + 20
        while "dbt 5 of 752 nodes" not in terminal.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    shown = terminal.getvalue()
    assert re.search(r"\r\x1b\[Kevidence_build \(dbt build, publish\): \d+ s, dbt 5 of 752 nodes", shown), shown
    assert "9 of 9" not in shown  # the log's earlier lines are not this run's
    assert shown.endswith("\r\x1b[K")


def test_no_status_line_off_a_terminal(tmp_path):
    terminal = FakeTerminal(tty=False)
    console = _console(tmp_path, terminal)
    with console.ticking("police.uk month 1 of 1 (2024-01)", every=0.01):
        time.sleep(0.05)
    assert terminal.getvalue() == ""


def test_the_start_line_is_stripped_and_the_end_of_input_is_none():
    import io

    from ingest.run_local import start_line

    assert start_line(io.StringIO("http://127.0.0.1:8000/api\n")) == "http://127.0.0.1:8000/api"
    assert start_line(io.StringIO("\n")) == ""
    assert start_line(io.StringIO("")) is None
