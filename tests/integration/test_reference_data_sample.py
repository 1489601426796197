"""The generated reference data with the generated police.uk archive, through the demo configuration and dbt.

The sample police.uk crimes join the sample geography (every LSOA has a CSP and a force),
population gives rates, and the reconciliation flags exactly the force-quarter the sample
Home Office table over-records, and nothing else.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest import raw
from ingest.config import load_settings
from devtools.sample import geography, home_office_prc as home_office_sample, population
from devtools.sample.police_uk import generate_archive, month_range
from ingest.sources import home_office_prc, ons_geography, ons_population, police_uk
from tests.helpers import dbt_ok, query

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST, FORCES, SCALE = "2023-01", "2023-06", ["lancashire", "west-midlands"], 0.05


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    generate_archive(root / "publisher", FIRST, LAST, FORCES, seed=2011, scale=SCALE)
    environ = {
        "OPCC_ROOT": str(root), "OPCC_CONFIG": str(REPO / "config" / "demo.toml"),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{root}/publisher/archive/{{month}}.zip",
        "OPCC_POLICE_UK__FORCES": ",".join(FORCES), "OPCC_POLICE_UK__FIRST_MONTH": FIRST,
        "OPCC_POLICE_UK__LAST_MONTH": LAST, "OPCC_SAMPLE__SCALE": str(SCALE),
    }
    settings = load_settings(environ=environ)
    started = time.perf_counter()
    geography.generate_sample(settings)
    population.generate_sample(settings)
    home_office_sample.generate_sample(settings)
    for month in month_range(FIRST, LAST):
        police_uk.fetch(settings, month)
        police_uk.load(settings, month)
    for source in (ons_geography, ons_population):
        source.fetch(settings)
        source.load(settings)
    # The demo configuration names the CSV edition for its own window (dec22-sep25); this window's
    # file is the one the generator just wrote: fetch it the way the DAG does, by name.
    csv_name = "prc-csp-mar23-jun23-tables.csv"
    file = raw.SourceFile(
        "home_office_prc", "csp_quarterly", csv_name, f"file://{root}/var/sample/home_office_prc/{csv_name}")
    fetched = home_office_prc.fetch(settings, files=[file])
    loaded = home_office_prc.load(settings, names=[f["file"] for f in fetched])
    assert {v["partition"] for v in loaded.values()} == {"2022/23", "2023/24"}
    # The PFA table (ODS only, as published), named for this window like the real prc-pfa-mar2013-onwards-….ods
    (pfa_path,) = (root / "var/sample/home_office_prc").glob("prc-pfa-mar2023-onwards-tables-*.ods")
    pfa = raw.SourceFile("home_office_prc", "pfa_quarterly", pfa_path.name, f"file://{pfa_path}")
    fetched = home_office_prc.fetch(settings, files=[pfa])
    loaded = home_office_prc.load(settings, names=[f["file"] for f in fetched])
    assert {(v["table"], v["partition"], v["rows_rejected"]) for v in loaded.values()} == \
        {("home_office_prc_pfa_quarterly", "2022/23", 0), ("home_office_prc_pfa_quarterly", "2023/24", 0)}
    print(f"sample generated and loaded in {time.perf_counter() - started:.1f}s")

    dbt_ok([
        "build", "--indirect-selection", "cautious", "--select", "+dim_geography", "+fct_population",
        "+fct_recorded_crime_quarterly", "+fct_crime_reconciliation_quarterly", "+dim_force",
        "stg_home_office_prc__pfa_quarterly",
    ], settings.paths.warehouse, root, allow=("warn",))
    return settings.paths.warehouse


def test_every_sample_crime_lsoa_has_a_csp_and_a_force(warehouse):
    ((lsoas, with_csp, same_force),) = query(warehouse, """
        select count(*), count(g.csp_code), count(*) filter (where g.force_id = c.force_id)
        from (select distinct force_id, lsoa_code from staging.stg_police_uk__street_crimes where lsoa_code is not null) c
        left join evidence.dim_geography g using (lsoa_code)
    """)
    assert lsoas > 900 and with_csp == lsoas and same_force == lsoas  # 1,000 sample LSOAs, nearly all with a crime


def test_every_home_office_csp_is_matched_and_has_a_rate(warehouse):
    rows = dict(query(warehouse, "select csp_match, count(*) from evidence.fct_recorded_crime_quarterly group by 1"))
    assert set(rows) == {"ons_name", "unassigned"}
    assert query(warehouse, "select count(*) from evidence.fct_recorded_crime_quarterly "
                            "where csp_match = 'ons_name' and offences_per_1000_population is null") == [(0,)]
    # Blackburn With Darwen (Home Office) is ONS's Blackburn with Darwen
    assert query(warehouse, "select distinct csp_code from evidence.fct_recorded_crime_quarterly "
                            "where csp_name = 'Blackburn With Darwen'") == \
        [(geography.all_districts()["Blackburn with Darwen"].csp_code,)]


def test_the_reconciliation_flags_the_one_over_recorded_quarter(warehouse):
    flagged = query(warehouse, "select force_id, financial_year, financial_quarter, comparison_group "
                               "from evidence.fct_crime_reconciliation_quarterly where is_gap_over_tolerance order by all")
    # the sample's middle quarter (2023/24 Q1) of the last force has 20% more violence on the Home Office side
    assert flagged == [("west-midlands", "2023/24", 1, "All recorded crime (excluding fraud)"),
                       ("west-midlands", "2023/24", 1, "Violence and sexual offences")]
    statuses = dict(query(warehouse, "select reconciliation_status, count(*) from evidence.fct_crime_reconciliation_quarterly "
                                     "group by 1"))
    assert set(statuses) == {"within_tolerance", "gap_over_tolerance"}


def test_the_pfa_table_is_the_csps_summed_and_keeps_its_non_territorial_rows_flagged(warehouse):
    flags = query(warehouse, "select force_name, bool_and(is_territorial_force), bool_and(is_national_fraud_body), "
                             "count(distinct (financial_year, financial_quarter)) from staging.stg_home_office_prc__pfa_quarterly "
                             "group by 1 order by 1")
    assert flags == [("Action Fraud", False, True, 2), ("British Transport Police", False, False, 2),
                     ("CIFAS", False, True, 2), ("Lancashire", True, False, 2), ("UK Finance", False, True, 2),
                     ("West Midlands", True, False, 2)]
    # each force's quarter and offence code: the force-level count is the sum of its CSPs' counts
    assert query(warehouse, """
        select count(*) from (
            select financial_year, financial_quarter, force_name, offence_code, sum(offence_count) as n
            from staging.stg_home_office_prc__csp_quarterly group by all
        ) c full join (
            select financial_year, financial_quarter, force_name, offence_code, offence_count as n
            from staging.stg_home_office_prc__pfa_quarterly where is_territorial_force
        ) p using (financial_year, financial_quarter, force_name, offence_code)
        where c.n is distinct from p.n
    """) == [(0,)]
    assert query(warehouse, "select count(*) from staging.stg_home_office_prc__pfa_quarterly "
                            "where published_offence_subgroup = 'Homicide'") > [(0,)]
