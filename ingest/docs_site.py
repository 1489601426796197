"""Documentation beside the published file, readable offline from disk: ``published/docs/``.

    python -m ingest.docs_site        # (make docs) rebuild published/docs/ from the published file
    python -m ingest.docs_site --parse-ahead   # only dbt's parses, saved for the next dbt build and site

* ``docs/dbt/index.html``: dbt's docs site (lineage graph with the exposures, every model's
  description, columns and tests) as one self-contained page (``dbt docs generate --static``).
* ``docs/gates/index.html`` and one page per gate run: every data-quality gate result kept
  under ``<runs_dir>/gates/``, each expectation of its suite (``expectations/*.json``) with
  what it checks, why, and whether it passed. ``meta.load_log.gate_report`` links each
  loaded partition to its section.
* ``docs/index.html``: where to start.

Why not Great Expectations' own Data Docs for the gates: most results (every police.uk
partition) come from the in-database engine (``ingest/raw/gate``), which keeps the suite's
findings rather than a GX validation result, so GX has nothing to render for them; and GX's
page template loads Bootstrap, jQuery, Vega and Font Awesome from eight CDN hosts, so an
offline reader gets an unstyled page that tries the network. These pages are built from the
same two inputs GX would use, the suite JSON and the result JSON, for both engines.

The folder is built beside the old one and swapped in whole.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import shutil
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ingest.config import Settings, load_settings
from ingest.gate_pages import DOCS_DIR, GATES_DIR, page, runs

log = logging.getLogger(__name__)

DBT_PAGE = "dbt/index.html"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 80rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.passed { color: #1a6e1a; } .failed { color: #b00020; font-weight: bold; } .warning { color: #a65e00; }
.muted { color: #666; } code { font-size: 0.85rem; word-break: break-all; }
"""


def _condition(kwargs: dict) -> str | None:
    from ingest.raw.gate.findings import condition_text  # the same text the findings carry

    condition = kwargs.get("row_condition")
    return condition_text(condition) if condition is not None else None


def _expectation_key(kind: str, column: str | None, condition: str | None) -> tuple:
    return (kind, column or None, condition or None)


def _short_json(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validation_rows(result: dict, suites_dir: Path) -> tuple[list[dict], str | None]:
    """One row per expectation of the result's suite with its outcome, then any finding the current
    suite no longer has; and a note when the suite file cannot be read."""
    from ingest.raw.gate import Finding

    gate = result["opcc_gate"]
    findings = [("failed", f) for f in gate.get("failures") or []] + [("warning", f) for f in gate.get("warnings") or []]
    unclaimed = list(findings)
    # GX (pandas) results also carry observed values for the expectations that passed.
    observed = {}
    for item in result.get("results") or []:
        config = item.get("expectation_config") or {}
        kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
        observed[json.dumps([config.get("type"), kwargs], sort_keys=True, default=str)] = item.get("result") or {}
    note = None
    try:
        suite = json.loads((suites_dir / f"{gate['suite']}.json").read_text(encoding="utf-8"))
        expectations = suite.get("expectations") or []
    except (OSError, ValueError, KeyError) as exc:
        expectations, note = [], f"suite {gate.get('suite')!r} could not be read ({exc}); only its findings are shown"
    rows = []
    for number, expectation in enumerate(expectations, 1):
        kwargs = expectation.get("kwargs") or {}
        meta = expectation.get("meta") or {}
        condition = _condition(kwargs)
        key = _expectation_key(expectation.get("type"), kwargs.get("column"), condition)
        status, finding = "passed", None
        for claimed in unclaimed:
            if _expectation_key(claimed[1].get("expectation"), claimed[1].get("column"), claimed[1].get("row_condition")) == key:
                status, finding = claimed
                unclaimed.remove(claimed)
                break
        detail = str(Finding(finding)).split(" ", 2)[-1] if finding else ""
        if not finding:
            outcome = observed.get(json.dumps([expectation.get("type"), kwargs], sort_keys=True, default=str))
            if outcome and outcome.get("observed_value") is not None:
                detail = f"observed {_short_json(outcome['observed_value'])}"
            elif outcome and outcome.get("unexpected_count") is not None:
                detail = f"{outcome['unexpected_count']} unexpected of {outcome.get('element_count')} rows"
        shown = {k: v for k, v in kwargs.items() if k not in ("column", "row_condition", "condition_parser")}
        rows.append({"number": number, "type": expectation.get("type"), "column": kwargs.get("column"),
                     "condition": condition, "kwargs": _short_json(shown) if shown else "",
                     "severity": meta.get("severity", "error"), "why": meta.get("why") or "",
                     "status": status, "detail": detail})
    for status, finding in unclaimed:
        rows.append({"number": "", "type": finding.get("expectation"), "column": finding.get("column"),
                     "condition": finding.get("row_condition"), "kwargs": "(not in the current suite)",
                     "severity": finding.get("severity"), "why": finding.get("why") or "", "status": status,
                     "detail": str(Finding(finding)).split(" ", 2)[-1]})
    return rows, note


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _document(title: str, body: str) -> str:
    # No external resources: the page is read from disk on machines without internet access.
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _run_page(run: str, files: list[Path], suites_dir: Path, up: str) -> tuple[str, dict]:
    sections, summary = [], {"validations": 0, "failed": 0, "warnings": 0, "unreadable": 0, "newest": None}
    for path in files:
        modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).replace(microsecond=0)
        summary["newest"] = max(filter(None, [summary["newest"], modified]))
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
            gate = result["opcc_gate"]
        except (OSError, ValueError, KeyError) as exc:
            summary["unreadable"] += 1
            sections.append(f'<h2 id="{_e(path.stem)}">{_e(path.name)}</h2><p class="failed">not a readable gate result: {_e(exc)}</p>')
            continue
        summary["validations"] += 1
        summary["failed"] += not gate.get("success")
        summary["warnings"] += len(gate.get("warnings") or [])
        rows, note = _validation_rows(result, suites_dir)
        partition = ", ".join(f"{k}={v}" for k, v in (gate.get("partition") or {}).items())
        engine = result.get("engine") or "Great Expectations"
        verdict = '<span class="passed">passed</span>' if gate.get("success") else '<span class="failed">FAILED: not loaded</span>'
        table_rows = "\n".join(
            f'<tr><td>{_e(r["number"])}</td><td><code>{_e(r["type"])}</code></td><td>{_e(r["column"])}</td>'
            f'<td>{_e(r["condition"])}</td><td><code>{_e(r["kwargs"])}</code></td><td>{_e(r["severity"])}</td>'
            f'<td>{_e(r["why"])}</td><td class="{_e(r["status"])}">{_e(r["status"])}</td><td>{_e(r["detail"])}</td></tr>'
            for r in rows)
        sections.append(
            f'<h2 id="{_e(path.stem)}">raw.{_e(gate.get("table"))} {_e(partition)}: {verdict}</h2>\n'
            f'<p>{_e(gate.get("row_count"))} rows from <code>{_e(gate.get("source_file"))}</code>; suite '
            f'<code>expectations/{_e(gate.get("suite"))}.json</code>, {_e(gate.get("expectations_evaluated"))} expectations '
            f'evaluated by {_e(engine)} in {_e(gate.get("seconds"))} s; {len(gate.get("failures") or [])} failed, '
            f'{len(gate.get("warnings") or [])} warnings. <span class="muted">Result file {_e(path.name)}, '
            f'written {modified:%Y-%m-%d %H:%M} UTC.</span></p>\n'
            + (f'<p class="warning">{_e(note)}</p>\n' if note else "")
            + '<table><tr><th>#</th><th>expectation</th><th>column</th><th>where</th><th>arguments</th>'
              '<th>severity</th><th>why</th><th>result</th><th>detail</th></tr>\n' + table_rows + "</table>")
    body = (f'<p><a href="{up}index.html">All gate runs</a></p><h1>Gate run {_e(run)}</h1>\n'
            f'<p>{summary["validations"]} validations, {summary["failed"]} failed, {summary["warnings"]} warnings. '
            'An error-severity failure keeps the partition out of the warehouse (the previous rows stay); '
            'a warning is reported and the rows are loaded.</p>\n' + "\n".join(sections))
    return _document(f"Gate run {run}", body), summary


def build_gate_pages(gates_dir: Path, out_dir: Path, suites_dir: Path | None = None) -> Path:
    """A page per run of the results under ``gates_dir``, and ``index.html``, in ``out_dir``."""
    from ingest.raw.gate import expectations_dir

    suites_dir = suites_dir or expectations_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    index_rows = []
    for run, files in runs(gates_dir).items():
        page_path = out_dir / page(run)
        page_path.parent.mkdir(parents=True, exist_ok=True)
        up = "../" * run.count("/")
        text, summary = _run_page(run, files, suites_dir, up)
        page_path.write_text(text, encoding="utf-8")
        status = ('<span class="failed">failed</span>' if summary["failed"] or summary["unreadable"]
                  else '<span class="passed">passed</span>')
        index_rows.append(
            f'<tr><td><a href="{_e(page(run))}">{_e(run)}</a></td><td>{status}</td><td>{summary["validations"]}</td>'
            f'<td>{summary["failed"]}</td><td>{summary["warnings"]}</td><td>{summary["newest"]:%Y-%m-%d %H:%M}</td></tr>')
    body = ('<p><a href="../index.html">Documentation</a></p><h1>Data-quality gates</h1>\n'
            f'<p>Every gate result kept in <code>{_e(gates_dir)}</code>, one page per run (a police.uk month, or one '
            'load of another source). Each page lists every expectation of the suite with its result.</p>\n'
            + ('<table><tr><th>run</th><th>result</th><th>validations</th><th>failed</th><th>warnings</th>'
               '<th>newest result (UTC)</th></tr>\n' + "\n".join(index_rows) + "</table>" if index_rows
               else "<p>No gate results yet.</p>"))
    index = out_dir / "index.html"
    index.write_text(_document("Data-quality gates", body), encoding="utf-8")
    return index


# --------------------------------------------------------------------------- dbt docs


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _catalog_database(published: Path, path: Path) -> None:
    """An empty copy of the published file's tables (columns, types, comments; no rows) at ``path``,
    laid out as the dbt project names them, for ``dbt docs generate`` to read its catalog from.

    dbt looks for each model at ``<database>.<schema>.<table>`` of its project (``evidence.evidence.fct_...``)
    while the published file keeps the marts in ``main`` (see ingest/publish.py), so the catalog
    cannot be read from the published file itself; and copying it whole would copy every row."""
    import duckdb

    from ingest.publish import PUBLISHED_SCHEMAS
    from ingest.warehouse import quote_identifier as q
    from ingest.warehouse import sync_comments

    project_schema = {published_schema: schema for schema, published_schema in PUBLISHED_SCHEMAS.items()}
    catalog = path.stem
    with duckdb.connect(str(path)) as con:
        con.execute("attach ? as pub (read_only)", [str(published)])
        for schema, table, comment in con.execute(
                "select schema_name, table_name, comment from duckdb_tables() where database_name = 'pub' order by 1, 2").fetchall():
            target = (catalog, project_schema.get(schema, schema), table)
            con.execute(f"create schema if not exists {q(catalog)}.{q(target[1])}")
            con.execute(f"create table {'.'.join(map(q, target))} as select * from pub.{q(schema)}.{q(table)} limit 0")
            sync_comments(con, ("pub", schema, table), target, comment)
        con.execute("detach pub")


def _dbt_docs_run(settings: Settings) -> tuple[Path, list[str], dict[str, str], Path]:
    """The docs' dbt folder, its arguments, its environment and the catalog database's path.

    The catalog database is named like the published file (dbt's database name is the file's stem, so
    it is the catalog name analysts see) and kept at one path, so that the profile, and with it dbt's
    saved parse (``target/partial_parse.msgpack``), is the same from one run to the next."""
    from ingest.transform import dbt_environment, dbt_project_args

    run_dir = settings.paths.work_dir / "dbt-docs"
    catalog_db = run_dir / "catalog" / settings.paths.published.name
    project = [*dbt_project_args(run_dir), "--quiet"]
    env = {**dbt_environment(settings), "OPCC_WAREHOUSE": str(catalog_db), "DO_NOT_TRACK": "1"}
    return run_dir, project, env, catalog_db


def _invoke(runner, args: list[str], run_dir: Path) -> None:
    from ingest.transform import run_dbt

    result = run_dbt(runner, args)
    if not result.success:
        raise RuntimeError(f"dbt {' '.join(args[:2])} failed: {result.exception}; log in {run_dir / 'logs'}")


def parse_ahead(settings: Settings) -> list[Path]:
    """``dbt parse`` for the next ``dbt build`` (evidence_build's, in ``<work_dir>/dbt``) and for the
    docs site, before there is anything to build or document: each later parse then reads its saved
    parse back instead of parsing the project again (a full parse is about 13 s; the demo runs this
    beside the DAG runs, which leave a core idle). The build's comes first: it is needed first.
    Returns the saved parses' paths."""
    from dbt.cli.main import dbtRunner

    from ingest.transform import build_run_dir, parse_project

    parse_project(settings)
    run_dir, project, env, _ = _dbt_docs_run(settings)
    with _environment(env):
        _invoke(dbtRunner(), ["parse", *project], run_dir)
    return [build_run_dir(settings) / "target" / "partial_parse.msgpack",
            run_dir / "target" / "partial_parse.msgpack"]


def build_dbt_docs(settings: Settings, out_file: Path) -> Path:
    """dbt's static docs site for the project, with the catalog (column types, comments) of the published file."""
    from dbt.cli.main import dbtRunner

    run_dir, project, env, catalog_db = _dbt_docs_run(settings)
    target_path = run_dir / "target"
    catalog_db.parent.mkdir(parents=True, exist_ok=True)
    catalog_db.unlink(missing_ok=True)
    try:
        _catalog_database(settings.paths.published, catalog_db)
        with _environment(env):
            static = target_path / "static_index.html"
            static.unlink(missing_ok=True)
            # --no-compile: compiling runs the incremental models' queries against raw.*, which the published
            # file does not have; the site shows each model's SQL as written. dbt 1.11's --static then reads
            # target/manifest.json, which `docs generate --no-compile` does not write: `dbt parse` writes it
            # (reading back the saved parse of parse_ahead, or of the last build, when the project is unchanged).
            runner = dbtRunner()
            for args in (["parse", *project], ["docs", "generate", "--no-compile", "--static", *project]):
                _invoke(runner, args, run_dir)
    finally:
        catalog_db.unlink(missing_ok=True)
    if not static.exists():
        raise RuntimeError(f"dbt docs generate --static wrote no {static}")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(static, out_file)
    return out_file


# --------------------------------------------------------------------------- the whole folder


def _index_page(settings: Settings, published_at: Any, gates: bool) -> str:
    published = settings.paths.published
    exports = sorted((published.parent / "exports").glob("*.xlsx"))
    folder = published.parent / "parquet"
    # a file per table, or a folder of one file per year for a table of months (ingest/exports.py)
    parquet = sorted(p for p in folder.glob("*") if p.suffix == ".parquet" or p.is_dir()) if folder.is_dir() else []
    body = (
        "<h1>OPCC evidence base: documentation</h1>\n"
        f"<p>For <code>{_e(published.name)}</code>, published {published_at:%Y-%m-%d %H:%M:%S} UTC.</p>\n<ul>\n"
        f'<li><a href="{DBT_PAGE}">Models and lineage</a>: every table with its description, columns and tests, '
        "and which reports read what (dbt docs; open the graph with the button at the bottom right).</li>\n"
        + (f'<li><a href="{GATES_DIR}/index.html">Data-quality gates</a>: every check made on the data as it was '
           "loaded, and its result.</li>\n" if gates else "")
        + f'<li>Parquet files, one per table (a folder of one per year for a table of months), in '
          f'<a href="../parquet/">../parquet/</a> ({len(parquet)} tables).</li>\n'
        + "<li>Scorecard workbooks, one per quarter: "
        + (", ".join(f'<a href="../exports/{_e(p.name)}">{_e(p.name)}</a>' for p in exports) or "none yet")
        + ".</li>\n</ul>\n")
    return _document("OPCC evidence base: documentation", body)


def build(settings: Settings) -> Path:
    """Rebuild ``<published folder>/docs/`` and return its index page."""
    import duckdb

    from ingest.raw.landing import swap_in

    published = settings.paths.published
    if not published.exists():
        raise FileNotFoundError(f"{published}: nothing published yet; run the evidence build (make demo) first")
    started = time.perf_counter()
    with duckdb.connect(str(published), read_only=True) as con:
        published_at = con.execute("select max(published_at) from meta.publication").fetchone()[0]
    target = published.parent / DOCS_DIR
    building = published.parent / f".{DOCS_DIR}.building"
    shutil.rmtree(building, ignore_errors=True)
    try:
        build_dbt_docs(settings, building / DBT_PAGE)
        gates_dir = settings.paths.runs_dir / "gates"
        build_gate_pages(gates_dir, building / GATES_DIR)
        (building / "index.html").write_text(_index_page(settings, published_at, True), encoding="utf-8")
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    swap_in(building, target)
    log.info("documentation built in %.1fs: %s", time.perf_counter() - started, target / "index.html")
    return target / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parse-ahead", action="store_true",
                        help="only parse the dbt project, for the next build and docs site to reuse (make demo runs it "
                             "beside the DAGs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.parse_ahead:
        print("dbt parses saved: " + ", ".join(str(path) for path in parse_ahead(load_settings())))
        return 0
    index = build(load_settings())
    print(f"documentation: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
