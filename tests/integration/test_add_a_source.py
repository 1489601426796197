"""A newcomer adds a source by following docs/architecture.md "How to add a source", and nothing else.

The source here is made up for the test: the office's count of people killed or seriously
injured on the roads (KSI) per district and year, kept in a CSV it edits. Steps 1-3 of the
section are written out below exactly as it says (module, suite, configuration) and the module
is then fetched and loaded the way its DAG would; steps 4-6 (Asset, DAG row, dbt, sample) are
wiring checked elsewhere for the real sources.
"""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from ingest.config import load_settings
from ingest.raw import LoadError
from tests.helpers import query as _rows
from tests.helpers import use_suites

# Step 1: the module, as the section shows it.
MODULE = '''
"""Road casualties: killed or seriously injured (KSI) per district and year, from the office's CSV."""

from __future__ import annotations

from pathlib import Path

from ingest import raw

SOURCE = "road_safety"
KSI = raw.Contract(
    dataset="ksi",
    table="road_safety_ksi",
    description="People killed or seriously injured on the roads, per district and year.",
    columns=(
        raw.Column("district"),
        raw.Column("year", duckdb_type="INTEGER", clean=raw.Clean.INTEGER_TEXT),
        raw.Column("killed_or_seriously_injured", r"ksi|killed\\s+or\\s+seriously\\s+injured", "BIGINT",
                   clean=raw.Clean.INTEGER_TEXT),
    ),
    partition=("_edition",),
)
CONTRACTS = {KSI.dataset: KSI}
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


def _load_unit(con, landed, unit, results_dir):
    return raw.load_file(con, KSI, Path(unit.csv_path), partition={"_edition": str(landed.file.year)},
                         source_file=unit.source_file, file_sha256=landed.sha256, results_dir=results_dir)


def load(settings, year=None, run_dir=None):
    return DECLARED.load(settings, _load_unit, year, run_dir)
'''

# Step 2: the suite, in GX's own format, severity and reason on every expectation.
SUITE = {
    "name": "raw_road_safety_ksi",
    "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
         "meta": {"severity": "error", "why": "An empty file is a failed export, not a year without casualties."}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "district"},
         "meta": {"severity": "error", "why": "Every count belongs to a district."}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "killed_or_seriously_injured", "min_value": 0},
         "meta": {"severity": "error", "why": "A count of people cannot be negative."}},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["district", "year"]},
         "meta": {"severity": "error", "why": "One count per district and year."}},
    ],
}


@pytest.fixture
def newcomer(tmp_path, monkeypatch):
    # Step 1: the module file, importable as its source name.
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "road_safety.py").write_text(textwrap.dedent(MODULE))
    spec = importlib.util.spec_from_file_location("road_safety", sources / "road_safety.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Step 2: the suite beside the others (here a folder of its own).
    use_suites(tmp_path / "expectations", monkeypatch, SUITE)
    # Step 3: the configuration section, pointing at a file the office keeps.
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    overlay = tmp_path / "road_safety.toml"
    overlay.write_text(textwrap.dedent(f"""
        [road_safety]
        http_timeout_seconds = 60
        max_file_bytes = 10_000_000
        files = [{{ dataset = "ksi", name = "ksi-2024.csv", url = "file://{inputs}/ksi-2024.csv", year = 2024 }}]
    """))
    settings = load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_CONFIG": str(overlay)})
    return module, settings, inputs / "ksi-2024.csv"


def test_a_source_written_from_the_section_fetches_loads_gates_and_refuses(newcomer):
    module, settings, path = newcomer
    path.write_text("District,Year,KSI\nPreston,2024,\" 41 \"\nBurnley,2024,\"1,002\"\nWyre,2024,17\n")
    assert [f.name for f in module.files_for(settings, 2024)] == ["ksi-2024.csv"]
    assert module.is_published(settings, module.files_for(settings, 2024)[0])
    module.fetch(settings, 2024)
    summary = module.load(settings, 2024)

    assert summary["ksi-2024.csv"]["rows_loaded"] == 3
    assert _rows(settings, "select district, year, killed_or_seriously_injured from raw.road_safety_ksi order by 1") == [
        ("Burnley", 2024, 1002), ("Preston", 2024, 41), ("Wyre", 2024, 17)]
    assert _rows(settings, "select status, rows_loaded from raw.load_log where dataset = 'road_safety_ksi'") == [
        ("loaded", 3)]
    assert (settings.paths.runs_dir / "gates" / "road_safety" / "road_safety_ksi__2024.json").exists()

    # A negative count and a repeated district fail the suite: refused by name, previous rows kept.
    path.write_text("District,Year,KSI\nPreston,2024,-4\nPreston,2024,12\n")
    module.fetch(settings, 2024)
    with pytest.raises(LoadError) as refused:
        module.load(settings, 2024)
    message = str(refused.value)
    assert "ksi-2024.csv" in message and "killed_or_seriously_injured" in message
    assert "expect_compound_columns_to_be_unique" in message
    assert _rows(settings, "select count(*) from raw.road_safety_ksi") == [(3,)]

    # A renamed column is refused by name before anything is read.
    path.write_text("Area,Year,KSI\nPreston,2024,41\n")
    module.fetch(settings, 2024)
    with pytest.raises(LoadError, match=r"ksi-2024\.csv.*district"):
        module.load(settings, 2024)
    assert _rows(settings, "select count(*) from raw.road_safety_ksi") == [(3,)]
