"""The raw layer: how a publisher's file becomes rows of ``raw.<table>``, or is refused with a reason.

    landing.py        fetch to var/landing (HTTP or file://), manifests, zip and text guards
    files.py          a source's configured files, spreadsheets as CSV, the load loop (LoadRun)
    contract.py       what a table accepts: exact headers (police.uk) or columns matched by pattern
    scan.py           a file's records and signs of breakage, counted from its bytes
    load.py           typed load of exact-header files, many per statement; hold rules
    matched_load.py   typed load of pattern-matched files, values cleaned in SQL
    template.py       office templates: rows by line number, every problem listed
  gate/             the data-quality gate: each table's GX suite, evaluated in DuckDB

A source module (``ingest/sources/<source>.py``) declares its contracts and drives these; the
names below are the ones sources use. Only the standard library is imported here (DAG files
import source modules at parse time).
"""

from ingest.raw.contract import (
    DUCKDB_TYPES,
    HEADER_SCAN_LINES,
    LINEAGE_TAIL,
    Clean,
    Column,
    Contract,
    HeaderError,
    HeaderMatch,
    LoadError,
    Measures,
    TypedColumn,
    check_header,
    ensure_tables,
    match_header,
    read_header,
    readable_pattern,
)
from ingest.raw.files import (
    CALAMINE_HINT,
    FileSource,
    Landed,
    LoadRun,
    MissingDependency,
    SourceFile,
    Unit,
    configured_files,
    fetch_files,
    fetch_summary,
    land,
    landing_dir,
    read_landed,
    record_manifest,
    spreadsheet_sheet_names,
    spreadsheet_sheet_to_csv,
    write_units,
)
from ingest.raw.landing import LandingError, ManifestRow, NotPublished, check_text_file, fetch_to_landing, swap_in
from ingest.raw.load import check_headers
from ingest.raw.matched_load import (
    ALL_FORCES,
    LoadResult,
    ReferenceGateFailed,
    clean_sql,
    gate_partition,
    load_file,
    partition_label,
    repair_text_sql,
)
from ingest.raw.scan import FileScan, LandedScan, scan_file
from ingest.raw.template import (TemplateError, TemplateRow, check_rows, force_problem, load_checked_template,
                                 month_problem, number_problem, template_loader, template_rows)
