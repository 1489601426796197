"""The gate result pages of the documentation (ingest/docs_site.py build_gate_pages), from result files
written by both gate engines: the in-database one (police.uk) and GX through pandas (the rest)."""

from __future__ import annotations

import html
import os
import json
import re
from pathlib import Path

import pytest

from ingest import docs_site, gate_pages
from ingest.raw import gate as gates
from tests.gx_reference import validate_partition
from ingest.sources.police_uk_contract import STREET
from tests.unit.test_gates import clean_street, insert, new_db, street

MONTH = "2024-03"


def _west_midlands(row: list) -> list:
    row = list(row)
    row[len(STREET.columns)] = "west-midlands"  # the first lineage column is _force_id
    return row


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Gate results as the loaders keep them: a police.uk month (one clean force with a repeated Crime ID,
    one with an unknown crime type) through the in-database engine, and one partition through GX."""
    root = tmp_path_factory.mktemp("runs") / "gates"
    con = new_db()
    lancashire = clean_street() + [street(1)]  # crime 1 twice: a warning
    west_midlands = [_west_midlands(r) for r in clean_street()] + [_west_midlands(street(99, crime_type="Jaywalking"))]
    insert(con, STREET, lancashire + west_midlands)
    reports = gates.validate_partitions(con, STREET.table, [{"_force_id": "lancashire", "_month": MONTH},
                                                             {"_force_id": "west-midlands", "_month": MONTH}])
    for report in reports:
        gates.write_report(root / "police_uk" / MONTH, report)
    validate_partition(con, STREET.table, {"_force_id": "lancashire", "_month": MONTH}, results_dir=root / "recheck")
    (root / "recheck" / "not_a_result.json").write_text("{", encoding="utf-8")
    con.close()
    return root


@pytest.fixture(scope="module")
def pages(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "gates"
    docs_site.build_gate_pages(runs, out)
    return out


def _rows(page: str, anchor: str) -> list[tuple[str, str, str, str]]:
    """(expectation, column, result, detail) of each row in the section with id ``anchor``."""
    section = page.split(f'id="{anchor}"', 1)[1].split("<h2", 1)[0]
    rows = []
    for row in re.findall(r"<tr><td>.*?</tr>", section, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows.append((cells[1], cells[2], cells[7], cells[8]))
    return rows


def test_a_page_per_run_and_an_index(pages):
    assert sorted(p.relative_to(pages).as_posix() for p in pages.rglob("*.html")) == [
        "index.html", "police_uk/2024-03.html", "recheck.html"]
    index = (pages / "index.html").read_text()
    assert 'href="police_uk/2024-03.html"' in index and 'href="recheck.html"' in index
    # the month had a failed partition, the recheck an unreadable file: both show as failed
    assert re.search(r'police_uk/2024-03</a></td><td><span class="failed">failed</span></td><td>2</td><td>1</td><td>[1-9]</td>', index)
    assert re.search(r'recheck</a></td><td><span class="failed">failed</span></td><td>1</td><td>0</td>', index)


def test_every_expectation_of_the_suite_is_listed_with_its_result(pages):
    page = (pages / "police_uk" / "2024-03.html").read_text()
    suite = json.loads((gates.expectations_dir() / "raw_police_uk_street.json").read_text())["expectations"]
    failed = _rows(page, f"police_uk_street__west-midlands__{MONTH}")
    assert len(failed) == len(suite)
    assert [(t, c) for t, c, result, _ in failed if result == "failed"] == [("expect_column_values_to_be_in_set", "crime_type")]
    assert "Jaywalking" in next(d for t, c, r, d in failed if r == "failed")
    assert "FAILED: not loaded" in page
    clean = _rows(page, f"police_uk_street__lancashire__{MONTH}")
    assert len(clean) == len(suite)
    assert [(t, c, r) for t, c, r, _ in clean if r != "passed"] == [("expect_column_values_to_be_unique", "crime_id", "warning")]


def test_gx_results_show_observed_values_and_an_unreadable_file_is_named(pages):
    page = (pages / "recheck.html").read_text()
    rows = _rows(page, f"police_uk_street__lancashire__{MONTH}")
    columns = next(d for t, c, r, d in rows if t == "expect_table_columns_to_match_ordered_list")
    assert columns.startswith('observed ["crime_id", "month"')
    assert "not_a_result.json" in page and "not a readable gate result" in page


def test_pages_load_nothing_from_the_network(pages):
    for path in pages.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.I), path
        assert "@import" not in text and "url(" not in text


def test_load_log_keys_point_at_each_partitions_section(runs, pages):
    links = gate_pages.gate_report_links(runs)
    link = links[("police_uk_street", "west-midlands", MONTH)]
    assert link == f"docs/gates/police_uk/{MONTH}.html#police_uk_street__west-midlands__{MONTH}"
    page, anchor = link.removeprefix("docs/gates/").split("#")
    assert f'id="{anchor}"' in (pages / page).read_text()


def test_load_keys_follow_the_loaders_partitions():
    # police.uk and finance: the force apart; the consultation and reference data: 'all' and every value
    assert gate_pages.load_keys({"table": "finance_funding", "partition": {"_force_id": "lancashire", "_plan_year": "2025/26"}}) == [
        ("finance_funding", "all", "lancashire/2025/26"), ("finance_funding", "lancashire", "2025/26")]
    assert gate_pages.load_keys({"table": "ons_lsoa_lad_lookup", "partition": {"_lsoa_vintage": "2021", "_lad_vintage": "2023"}}) == [
        ("ons_lsoa_lad_lookup", "all", "2021/2023")]


def _gate_result(folder: Path, table: str, force: str, month: str) -> Path:
    """A minimal gate result, written as write_report writes one: a new file renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}__{force}__{month}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"opcc_gate": {"table": table, "partition": {"_force_id": force, "_month": month}}}))
    tmp.replace(path)
    return path


def _settle(folder: Path, seconds_ago: int = 60) -> int:
    """Date a folder back, as a folder written before the last publication is."""
    stamp = folder.stat().st_mtime_ns - seconds_ago * 1_000_000_000
    os.utime(folder, ns=(stamp, stamp))
    return stamp


def test_links_of_folders_unchanged_since_the_last_publication_are_not_read_again(tmp_path):
    gates_dir = tmp_path / "runs" / "gates"
    march, april = gates_dir / "police_uk" / "2024-03", gates_dir / "police_uk" / "2024-04"
    kent = _gate_result(march, "police_uk_street", "kent", "2024-03")
    stamp = _settle(march)
    expected = {("police_uk_street", "kent", "2024-03"): "docs/gates/police_uk/2024-03.html#police_uk_street__kent__2024-03",
                ("police_uk_street", "all", "kent/2024-03"): "docs/gates/police_uk/2024-03.html#police_uk_street__kent__2024-03"}
    assert gate_pages.gate_report_links(gates_dir) == expected
    # Kent's result rewritten in place (no rename: the folder's time stays): the cached links are used
    kent.write_text(json.dumps({"opcc_gate": {"table": "police_uk_street", "partition": {"_force_id": "x", "_month": "y"}}}))
    os.utime(march, ns=(stamp, stamp))
    assert gate_pages.gate_report_links(gates_dir) == expected
    # a new month's results, and a result replaced as the gate replaces it, are read
    _gate_result(april, "police_uk_outcomes", "kent", "2024-04")
    _gate_result(march, "police_uk_street", "kent", "2024-03")
    _gate_result(march, "police_uk_street", "lancashire", "2024-03")
    links = gate_pages.gate_report_links(gates_dir)
    assert links[("police_uk_outcomes", "kent", "2024-04")] == "docs/gates/police_uk/2024-04.html#police_uk_outcomes__kent__2024-04"
    assert ("police_uk_street", "lancashire", "2024-03") in links and ("police_uk_street", "x", "y") not in links
    # folders written just now are not cached (a write within the same clock tick would go unseen)
    assert set(json.loads((gates_dir.parent / gate_pages.LINKS_CACHE).read_text())) <= {"police_uk/2024-03", "police_uk/2024-04"}
    assert "police_uk/2024-04" not in json.loads((gates_dir.parent / gate_pages.LINKS_CACHE).read_text())
    # a cache that cannot be read is ignored
    (gates_dir.parent / gate_pages.LINKS_CACHE).write_text("{")
    assert gate_pages.gate_report_links(gates_dir) == links


def test_every_link_is_the_same_with_the_cache_as_from_the_files(runs):
    cache = runs.with_name(gate_pages.LINKS_CACHE)
    cache.unlink(missing_ok=True)
    first = gate_pages.gate_report_links(runs)
    for folder in {p.parent for p in runs.rglob("*.json")}:
        _settle(folder)
    assert gate_pages.gate_report_links(runs) == first  # the folders are cached now
    assert cache.exists() and gate_pages.gate_report_links(runs) == first  # and read from the cache


def test_links_are_right_when_the_cache_cannot_be_kept(runs, caplog):
    expected = gate_pages.gate_report_links(runs)
    cache = runs.with_name(gate_pages.LINKS_CACHE)
    cache.unlink(missing_ok=True)
    cache.mkdir()  # cannot be read or replaced
    try:
        for folder in {p.parent for p in runs.rglob("*.json")}:
            _settle(folder)
        assert gate_pages.gate_report_links(runs) == expected
        assert "could not keep the gate links" in caplog.text
    finally:
        cache.rmdir()
