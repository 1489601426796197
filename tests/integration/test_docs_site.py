"""`make docs`: dbt's static docs site for the published file and the gate pages, in published/docs/
(ingest/docs_site.py). Runs dbt (parse and docs generate, ~15 s); the published file is the hand-made
one of tests/unit/test_exports.py."""

from __future__ import annotations

import json
import re

import pytest

from ingest import docs_site, publish
from ingest.transform import parse_project as real_parse_project
from tests.unit.test_exports import publication_settings, hand_made_warehouse

EXPOSURES = {
    "exposure.opcc_evidence.quarterly_performance_report",
    "exposure.opcc_evidence.national_crime_and_policing_measures_statement",
    "exposure.opcc_evidence.scorecard_exports",
}


def _embedded(page: str, name: str) -> dict:
    """The manifest or catalog dbt's --static page carries (``manifest:{...}``) as JSON."""
    start = page.index(f"{name}:{{") + len(name) + 1
    return json.JSONDecoder().raw_decode(page, start)[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = publication_settings(tmp_path_factory.mktemp("platform"))
    saved = docs_site.parse_ahead(settings)  # before anything is published, as make demo does beside the DAGs
    assert all(path.exists() for path in saved)
    hand_made_warehouse(settings)
    publish.publish(settings)
    index = docs_site.build(settings)
    return settings, index


def test_the_docs_site_reads_back_the_parse_made_ahead(built):
    settings, _ = built
    log = (settings.paths.work_dir / "dbt-docs" / "logs" / "dbt.log").read_text()
    # the first parse (ahead) is a full one; the build's own parse reads it back
    assert log.count("Starting full parse") == 1
    assert not (settings.paths.work_dir / "dbt-docs" / "catalog" / "evidence.duckdb").exists()


def test_the_next_dbt_build_reads_back_the_parse_made_ahead(built):
    settings, _ = built
    # transform.parse_project itself, as evidence_build's dbt_build calls it (the tests' autouse
    # fixture swaps the module attribute for a shared parse; this name was bound before it)
    assert real_parse_project(settings) is not None
    log = (settings.paths.work_dir / "dbt" / "logs" / "dbt.log").read_text()
    assert log.count("Starting full parse") == 1  # the parse ahead; the build's parse read it back


def test_the_docs_folder_sits_beside_the_published_file(built):
    settings, index = built
    docs = settings.paths.published.parent / "docs"
    assert index == docs / "index.html"
    assert (docs / "dbt" / "index.html").stat().st_size > 1_000_000  # one self-contained page, data and code inline
    assert (docs / "gates" / "index.html").exists()
    assert (docs / "gates" / "police_uk" / "2024-01.html").exists()
    text = index.read_text()
    assert 'href="dbt/index.html"' in text and 'href="gates/index.html"' in text
    assert "2024Q1-scorecard.xlsx" in text


def test_the_site_has_the_lineage_exposures_and_the_published_columns(built):
    settings, _ = built
    page = (settings.paths.published.parent / "docs" / "dbt" / "index.html").read_text()
    manifest, catalog = _embedded(page, "manifest"), _embedded(page, "catalog")
    assert set(manifest["exposures"]) == EXPOSURES
    report = manifest["exposures"]["exposure.opcc_evidence.quarterly_performance_report"]
    assert {"model.opcc_evidence.fct_measure_assessment", "model.opcc_evidence.fct_spc"} <= set(report["depends_on"]["nodes"])
    # every model with its description, columns and tests, from the project
    node = manifest["nodes"]["model.opcc_evidence.fct_crime_monthly"]
    assert node["description"] and node["columns"]["crime_count"]["description"]
    assert any(n.startswith("test.opcc_evidence.") and "fct_crime_monthly" in n for n in manifest["nodes"])
    # the catalog is the published file's: the marts published (here the hand-made ones), with their types
    mart = catalog["nodes"]["model.opcc_evidence.fct_crime_monthly"]
    assert mart["metadata"]["database"] == "evidence" and mart["metadata"]["schema"] == "evidence"
    assert {name: c["type"] for name, c in mart["columns"].items()} == {
        "force_id": "VARCHAR", "month_start": "TIMESTAMP", "crime_count": "BIGINT"}
    assert "model.opcc_evidence.fct_measure_assessment" in catalog["nodes"]
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False  # the page's tracker stays off


def test_the_site_loads_nothing_from_the_network(built):
    settings, _ = built
    for path in (settings.paths.published.parent / "docs").rglob("*.html"):
        text = path.read_text()
        # no script, stylesheet, image or font fetched from another host
        assert not re.search(r"""<(script|link|img|iframe)\b[^>]*(src|href)\s*=\s*["']?(https?:)?//""", text, re.I), path
        assert not re.search(r"""url\(\s*["']?(https?:)?//""", text, re.I), path
        assert "@import" not in text, path


def test_a_failed_build_keeps_the_previous_docs(built, monkeypatch):
    settings, index = built
    before = index.read_bytes()

    def broken(settings, out_file):
        raise RuntimeError("dbt docs generate failed")

    monkeypatch.setattr(docs_site, "build_dbt_docs", broken)
    with pytest.raises(RuntimeError, match="dbt docs generate failed"):
        docs_site.build(settings)
    assert index.read_bytes() == before
    assert not (settings.paths.published.parent / ".docs.building").exists()


def test_docs_need_a_published_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing published yet"):
        docs_site.build(publication_settings(tmp_path))
