"""What must agree across files for the annual sources: GX suites and loaders, seeds and Python, config."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from ingest.config import load_settings
from ingest.sources import csp_assessments, finance, hmicfrs

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt_project" / "seeds"
CONTRACTS = [hmicfrs.PEEL_GRADES, csp_assessments.PAGES, *finance.CONTRACTS.values()]


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.table)
def test_each_raw_table_has_a_suite_that_fits_it(contract):
    suite = json.loads((REPO / "expectations" / f"raw_{contract.table}.json").read_text())
    assert suite["name"] == f"raw_{contract.table}"
    first = suite["expectations"][0]
    assert first["type"] == "expect_table_columns_to_match_ordered_list"
    assert first["kwargs"]["column_list"] == [name for name, _ in contract.raw_columns()]
    columns = {name for name, _ in contract.raw_columns()}
    for expectation in suite["expectations"]:
        assert expectation["meta"]["severity"] in ("error", "warning") and expectation["meta"]["why"]
        assert expectation["kwargs"].get("column", next(iter(columns))) in columns


def test_budget_line_suite_and_template_use_the_seed():
    suite = json.loads((REPO / "expectations" / "raw_finance_revenue_budget.json").read_text())
    value_set = next(e["kwargs"]["value_set"] for e in suite["expectations"]
                     if e["kwargs"].get("column") == "budget_line")
    assert value_set == list(finance.budget_lines()) == [r["budget_line"] for r in _seed("finance_budget_lines")]


def test_every_settlement_and_template_force_name_resolves():
    assert {hmicfrs.resolve_force(name) for name in finance.FORCE_NAMES} >= {"lancashire", "west-midlands"}
    assert all(hmicfrs.resolve_force(name) for name in finance.FORCE_NAMES)
    forces = {r["force_id"] for r in _seed("police_forces")}
    assert {r["force_id"] for r in _seed("force_name_aliases")} <= forces


def test_most_similar_groups_are_realistic_for_lancashire_and_west_midlands():
    groups: dict[str, set[str]] = {}
    for row in _seed("most_similar_groups"):
        groups.setdefault(row["force_id"], set()).add(row["peer_force_id"])
    assert groups["west-midlands"] >= {"greater-manchester", "merseyside", "west-yorkshire"}
    assert "lancashire" in groups and len(groups["lancashire"]) == 7
    assert all(force not in peers for force, peers in groups.items())
    assert "city-of-london" not in groups


def test_peel_grade_seed_matches_the_loader_scales():
    seed = _seed("peel_grades")
    for scale, grades in (("five_point", hmicfrs.FIVE_POINT), ("four_point", hmicfrs.FOUR_POINT)):
        ranked = sorted((r for r in seed if r["grade_scale"] == scale), key=lambda r: -int(r["grade_rank"]))
        assert tuple(r["grade"] for r in ranked) == grades
        assert [int(r["grade_rank"]) for r in ranked] == list(range(len(grades), 0, -1))


def test_theme_keywords_are_valid_whole_word_patterns():
    themes = {r["theme"] for r in _seed("csp_themes")}
    for row in _seed("csp_theme_keywords"):
        assert row["theme"] in themes
        assert row["keyword_pattern"] == row["keyword_pattern"].lower()
        re.compile(rf"\b({row['keyword_pattern']})\b")  # RE2 accepts a subset of Python's syntax
    pattern = {r["keyword_pattern"] for r in _seed("csp_theme_keywords") if r["theme"] == "asb"}
    assert "asb" in pattern and not re.search(r"\b(asb)\b", "a new wasbasin")


@pytest.mark.parametrize("overlay", [None, "config/demo.toml"])
def test_both_configurations_name_valid_files_for_each_source(overlay):
    environ = {"OPCC_CONFIG": overlay} if overlay else {}
    settings = load_settings(environ=environ)
    assert [f.dataset for f in hmicfrs.files_for(settings)] == ["peel_grades"]
    datasets = sorted(f.dataset for f in finance.files_for(settings, 2025))
    assert datasets == ["finance_plan", "finance_plan", "police_grant"]
    assert finance.settlement_year(next(f for f in finance.files_for(settings) if f.dataset == "police_grant")) == "2025/26"
    assert settings.source("csp_assessments")["register_url"].endswith("register.csv")
    if overlay:
        assert all("/var/sample/" in f.url for f in finance.files_for(settings))
