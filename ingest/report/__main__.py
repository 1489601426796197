"""``python -m ingest.report``: see ingest/report/cli.py."""

from ingest.report.cli import main

raise SystemExit(main())
