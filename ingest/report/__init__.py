"""The quarterly performance report to the Police and Crime Panel, rendered from the published file
(``python -m ingest.report``; the options are in ``cli.py``).

One module a job, each depending only on those above it:

  quarter.py   calendar quarters and the report's errors (no I/O)
  wording.py   numbers, statuses and the plain-English sentences about each measure
  data.py      the reads of ``published/evidence.duckdb`` (read-only, published marts only) and
               the DAG's choice of quarter, newest_published_quarter
  charts.py    the matplotlib charts, as inline SVG
  context.py   what the templates (``ingest/templates/``) are given
  output.py    the report folder: rendered, checked and swapped in whole (render)
  cli.py       the command line
"""

from ingest.report.charts import (CONCERN, bar_chart, confidence_chart, consultation_priorities_chart,
                                  disproportionality_chart, heatmap_chart, spc_chart)
from ingest.report.cli import main
from ingest.report.context import build_context, consultation_alignment, consultation_context, scorecard_rows
from ingest.report.data import (ReportData, check_quarter_published, default_force, load_consultation,
                                load_report_data, newest_published_quarter, reportable_quarters)
from ingest.report.output import REPORT_FILE, STATEMENT_FILE, STATEMENT_PDF, check_rendered, environment, render
from ingest.report.quarter import Quarter, ReportError, ReportNotReady
from ingest.report.wording import format_change, format_p, format_value, measure_sentences, ordinal, period_words

__all__ = [
    "CONCERN", "REPORT_FILE", "STATEMENT_FILE", "STATEMENT_PDF", "Quarter", "ReportData", "ReportError", "ReportNotReady",
    "bar_chart", "build_context", "check_quarter_published", "check_rendered", "confidence_chart",
    "consultation_alignment", "consultation_context", "consultation_priorities_chart", "default_force",
    "disproportionality_chart", "environment", "format_change", "format_p", "format_value", "heatmap_chart",
    "load_consultation", "load_report_data", "main", "newest_published_quarter", "measure_sentences", "ordinal", "period_words", "render",
    "reportable_quarters", "scorecard_rows", "spc_chart",
]
