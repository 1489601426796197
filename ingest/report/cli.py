"""The quarterly performance report to the Police and Crime Panel, from the published file.

    python -m ingest.report                       # the latest quarter the published data completes
    python -m ingest.report --quarter 2024Q2      # any past quarter, again
    python -m ingest.report --quarter 2025Q3 --force west-midlands --published path/to/evidence.duckdb

Reads ``published/evidence.duckdb`` read-only (the marts in its ``main`` schema, the plan's
measures in ``performance``), never the warehouse, and writes ``reports/<YYYY>Q<n>/``:

  performance_report.html          self-contained (charts inline as SVG, no network), prints on A4
  national_measures_statement.html the statutory statement on the National Crime and Policing
                                   Measures, on its own, ready to publish (the office's words from
                                   config/commentary/<YYYY>Q<n>.md)
  national_measures_statement.pdf  the same, printed on A4 by headless Chromium
  charts/*.svg                     every chart, as a file
  scorecard.csv, scorecard.xlsx    the quarter's scorecard (force and CSPs)

The folder is rendered beside the old one and swapped in only when complete and checked, so a
reader never sees half a report and a failed run leaves the last good report in place. Output is
deterministic given the published data (no clock, no random ids).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ingest.config import load_settings
from ingest.report.output import render
from ingest.report.quarter import ReportError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quarter", help="e.g. 2024Q2 (calendar quarter); default: the latest complete one")
    parser.add_argument("--force", help="data.police.uk force id; default [report] force_id, else the first configured force")
    parser.add_argument("--published", type=Path, help="published DuckDB file (default: [paths] published)")
    parser.add_argument("--out", type=Path, help="reports folder (default: reports/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    warnings: list[str] = []
    try:
        path = render(load_settings(), args.quarter, force_id=args.force, published=args.published, out_dir=args.out,
                      warnings=warnings)
    except ReportError as exc:
        print(f"report not rendered: {exc}", file=sys.stderr)
        return 1
    for line in warnings:  # on stdout, so the build output names what the statement lacks
        print(f"warning: {line}")
    print(path)
    return 0
