"""The consultation end to end on the generated samples: export → load (personal data dropped) →
Census margins → raking in dbt → marts → published file, with values checked against the margins
and against an independent computation; and an impossible margin stops the build by name.

One module fixture generates and loads geography, population and the consultation once, builds
the consultation marts (and what they read) once and publishes, so the file pays one GX import
and one dbt parse.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest import weighting
from ingest.config import Settings, load_settings
from devtools.sample import consultation as consultation_sample
from devtools.sample import geography, population
from ingest.sources import consultation, ons_geography, ons_population
from tests.helpers import dbt, dbt_ok, query

REPO = Path(__file__).resolve().parents[2]
FORCES = ["lancashire", "west-midlands"]
MARTS = ["fct_consultation_priorities", "fct_confidence_in_police", "fct_consultation_weighting"]
TOLERANCE = 1e-6  # the raking tolerance (dbt var consultation_raking_tolerance)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Settings, Path]:
    from ingest.publish import publish
    from ingest.sources import ensure_all_raw_tables

    root = tmp_path_factory.mktemp("consultation")
    settings = load_settings(environ={"OPCC_ROOT": str(root), "OPCC_CONFIG": str(REPO / "config" / "demo.toml"),
                                      "OPCC_POLICE_UK__FORCES": ",".join(FORCES)})
    geography.generate_sample(settings)
    population.generate_sample(settings)
    consultation_sample.generate_sample(settings)
    for source in (ons_geography, ons_population, consultation):
        source.fetch(settings)
        source.load(settings)
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        ensure_all_raw_tables(con)
    dbt_ok(["build", "--indirect-selection", "cautious", "--select", *(f"+{m}" for m in MARTS)],
           settings.paths.warehouse, root, allow=("warn",))
    publish(settings)
    return settings, root


def test_census_sex_and_disability_load_from_the_nomis_layout(built):
    settings, _ = built
    warehouse = settings.paths.warehouse
    preston = geography.all_districts()["Preston"]
    expected = population.census_sex_counts(preston, settings.police_uk.forces)
    rows = dict(query(warehouse, "select sex_label, population_count from staging.stg_ons_population__census_sex "
                                 "where area_code = ?", [preston.lad_code]))
    assert rows == {"All persons": expected["Sex: All persons; measures: Value"],
                    "Female": expected["Sex: Female; measures: Value"], "Male": expected["Sex: Male; measures: Value"]}
    labels = {r[0] for r in query(warehouse, "select disability_label from staging.stg_ons_population__census_disability")}
    assert {"Disabled under the Equality Act", "Not disabled under the Equality Act"} <= labels


def test_every_district_is_raked_to_its_margins_within_the_tolerance(built):
    settings, _ = built
    # weighted share of each category among respondents who answered, against the population share
    gaps = query(settings.paths.warehouse, """
        with answers as (
            unpivot (select w.survey_id, w.lad_code, w.weight, r.weighting_age_band as age_band,
                            r.weighting_sex as sex, r.weighting_ethnic_group as ethnic_group,
                            r.weighting_disability as disability
                     from intermediate.int_consultation__weights w
                     join intermediate.int_consultation__respondents r using (survey_id, respondent_key))
            on age_band, sex, ethnic_group, disability into name variable value category
        ),
        shares as (
            select survey_id, lad_code, variable, category,
                   sum(weight) / sum(sum(weight)) over (partition by survey_id, lad_code, variable) as share
            from answers group by survey_id, lad_code, variable, category
        )
        select s.survey_id, s.lad_code, max(abs(s.share - m.population_share)) as gap,
               any_value(f.trim_rounds) as trim_rounds, any_value(f.max_margin_error) as reported
        from shares s
        join intermediate.int_consultation__census_margins m using (lad_code, variable, category)
        join evidence.fct_consultation_weighting f using (survey_id, lad_code)
        group by s.survey_id, s.lad_code
    """)
    assert len(gaps) == 21  # 14 Lancashire and 7 West Midlands districts
    for survey, district, gap, trim_rounds, reported in gaps:
        assert gap == pytest.approx(reported, abs=1e-9), (survey, district)
        assert gap <= TOLERANCE, f"{survey} {district}: margins missed by {gap} after {trim_rounds} trimming rounds"


def test_weighting_undoes_the_online_samples_bias(built):
    settings, _ = built
    ((unweighted, weighted, population_share),) = query(settings.paths.warehouse, """
        select avg((r.weighting_age_band = '16-34')::int),
               sum(w.expansion_weight * (r.weighting_age_band = '16-34')::int) / sum(w.expansion_weight),
               (select sum(population_count) filter (where category = '16-34') / sum(population_count)
                from intermediate.int_consultation__census_margins where variable = 'age_band' and force_id = 'lancashire')
        from intermediate.int_consultation__weights w
        join intermediate.int_consultation__respondents r using (survey_id, respondent_key)
        where r.survey_id = 'lancashire-2025' and r.weighting_age_band is not null
    """)
    assert unweighted < population_share - 0.05  # the sample is older than the population
    # each district meets its margin among those who gave their age; across districts the expansion
    # weights of those who did not are left out, so the force share is close, not exact
    assert weighted == pytest.approx(population_share, abs=1e-3)


def test_design_effect_and_effective_sample_size_per_district(built):
    settings, _ = built
    rows = query(settings.paths.warehouse, """
        select f.respondent_count, f.design_effect, f.effective_sample_size, f.max_weight, f.trim_cap,
               count(*) * sum(w.weight * w.weight) / (sum(w.weight) * sum(w.weight))
        from evidence.fct_consultation_weighting f
        join intermediate.int_consultation__weights w using (survey_id, lad_code)
        group by all
    """)
    for n, deff, n_eff, max_weight, cap, deff_by_sql in rows:
        assert deff == pytest.approx(deff_by_sql) and deff > 1
        assert n_eff == pytest.approx(n / deff)
        assert max_weight <= cap * (1 + 1e-6) and cap == 5


def test_intervals_use_the_effective_sample_size(built):
    settings, _ = built
    rows = query(settings.paths.warehouse, """
        select weighted_share, effective_sample_size, ci_lower_95, ci_upper_95, respondent_count
        from evidence.fct_consultation_priorities
        where group_variable in ('all', 'age_band') and area_type = 'district'
        order by area_code, group_value, priority_id limit 200
    """)
    assert rows
    for share, n_eff, low, high, n in rows:
        assert (low, high) == pytest.approx(weighting.wilson_interval(share, n_eff), abs=1e-12)
        assert n_eff <= n + 1e-9  # weighting never adds information


def test_the_force_areas_top_priorities_and_their_csp_themes(built):
    settings, _ = built
    top = query(settings.paths.warehouse, """
        select survey_id, priority_id, csp_theme, plan_objective_id, weighted_share
        from evidence.fct_consultation_priorities
        where area_type = 'force_area' and group_variable = 'all' and priority_rank = 1 order by survey_id
    """)
    assert [r[0] for r in top] == ["lancashire-2025", "west-midlands-2025"]
    for _, priority_id, _, objective, share in top:
        assert objective is not None and 0.25 < share < 0.8
    # the sample's design: roads matter more in rural Lancashire, violence and drugs in the metropolitan force
    ranks = dict(((survey, priority), rank) for survey, priority, rank in query(settings.paths.warehouse, """
        select survey_id, priority_id, priority_rank from evidence.fct_consultation_priorities
        where area_type = 'force_area' and group_variable = 'all'
    """))
    assert ranks["lancashire-2025", "road_safety"] < ranks["west-midlands-2025", "road_safety"]
    assert min(ranks["west-midlands-2025", "serious_violence"], ranks["west-midlands-2025", "drugs"]) <= 2
    # women name violence against women and girls far more often than men (the sample's design)
    shares = dict(query(settings.paths.warehouse, """
        select group_value, weighted_share from evidence.fct_consultation_priorities
        where area_type = 'force_area' and group_variable = 'sex' and priority_id = 'vawg'
          and survey_id = 'lancashire-2025' and group_value in ('Female', 'Male')
    """))
    assert shares["Female"] > shares["Male"] + 0.1


def test_the_demo_headline_reads_each_force_areas_top_priority_and_confidence(built):
    from devtools.demo import HEADLINE_SQL

    settings, _ = built
    rows = query(settings.paths.published, HEADLINE_SQL["consultation"])
    assert [r[0] for r in rows] == ["Lancashire Constabulary", "West Midlands Police"]
    for area, priority, share, low, high, confident, c_low, c_high, respondents in rows:
        assert low <= share <= high and c_low <= confident <= c_high and respondents > 1000
        assert priority == query(settings.paths.published, """
            select priority_label from evidence.fct_consultation_priorities
            where area_type = 'force_area' and group_variable = 'all' and area_name = ?
            order by weighted_share desc limit 1""", [area])[0][0]


def test_small_groups_are_flagged_not_hidden(built):
    settings, _ = built
    ((small, small_with_rows, priorities),) = query(settings.paths.warehouse, """
        select count(distinct (survey_id, area_code, group_variable, group_value)) filter (where is_small_group),
               count(*) filter (where is_small_group),
               (select count(*) from reference.consultation_priorities)
        from evidence.fct_consultation_priorities
    """)
    assert small > 0 and small_with_rows == small * priorities  # every priority row is there, flagged
    not_stated = query(settings.paths.warehouse, """
        select respondent_count, is_small_group from evidence.fct_confidence_in_police
        where area_type = 'district' and group_variable = 'sex' and group_value = 'Other or not stated'
    """)
    assert not_stated and all(flag for n, flag in not_stated if n < 30)


def test_confidence_is_lower_among_ethnic_minority_respondents(built):
    settings, _ = built
    shares = dict(query(settings.paths.warehouse, """
        select group_value, weighted_share_confident from evidence.fct_confidence_in_police
        where area_type = 'force_area' and survey_id = 'west-midlands-2025' and group_variable = 'ethnic_group'
          and group_value in ('White', 'Asian', 'Black')
    """))
    assert shares["White"] > shares["Asian"] and shares["White"] > shares["Black"]


def _personal_data(settings: Settings) -> set[str]:
    """Every name, email, phone number, postcode and comment in the sample exports."""
    values: set[str] = set()
    folder = settings.root / "var" / "sample" / "consultation"
    for path in folder.glob("consultation-*.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            for column in ("Full name", "Email address", "Telephone number", "Postcode", "Any other comments"):
                if row[column]:
                    values.add(row[column])
            if row["Full name"]:
                values.update(row["Full name"].split())  # a surname alone must not appear either
    return values


def _varchar_cells(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("""
            select database_name, schema_name, table_name, column_name, data_type from duckdb_columns()
            where (data_type = 'VARCHAR' or data_type like 'VARCHAR[]') and not internal
        """).fetchall()
        cells: set[str] = set()
        for database, schema, table, column, data_type in columns:
            expression = f'"{column}"' if data_type == "VARCHAR" else f'unnest("{column}")'
            cells.update(v for (v,) in con.execute(
                f'select distinct {expression} from "{database}"."{schema}"."{table}"').fetchall() if v)
    return cells


def test_no_personal_data_reaches_the_warehouse_or_the_published_file(built):
    settings, _ = built
    personal = _personal_data(settings)
    assert len(personal) > 500 and any("@" in v for v in personal)
    names = {v for v in personal if v.istitle() and len(v) > 3}  # first names and surnames
    for path in (settings.paths.warehouse, settings.paths.published):
        cells = _varchar_cells(path)
        assert cells  # the scan saw the tables
        assert not (personal & cells), f"{path}: personal data stored: {sorted(personal & cells)[:5]}"
        joined = "\n".join(cells)
        leaked = [v for v in personal - names if v in joined] + [n for n in names if f" {n} " in f" {joined} "]
        assert not leaked, f"{path}: personal data inside stored text: {leaked[:5]}"
    assert query(settings.paths.published, "select count(*) from main.fct_consultation_priorities")[0][0] > 0


def test_an_empty_census_cell_stops_the_build_naming_district_variable_and_category(built, tmp_path):
    settings, root = built
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.paths.warehouse, copy)
    preston = geography.all_districts()["Preston"]
    with duckdb.connect(str(copy)) as con:  # no respondent of 65 or over left in Preston
        con.execute("delete from raw.consultation_responses where district = 'Preston' "
                    "and age_band in ('65-74', '75 or over')")
    result = dbt(["run", "--select", "int_consultation__respondents", "int_consultation__weights"], copy, tmp_path)
    assert not result.success
    messages = " ".join(str(r.message) for r in (result.result or []) if r.message)
    assert f"district {preston.lad_code}: cannot weight age_band = '65+'" in messages
    assert "no respondent is in it" in messages


def test_the_report_section_shows_top_priorities_confidence_and_flags(built):
    from ingest import report

    settings, _ = built
    with duckdb.connect(str(settings.paths.published), read_only=True) as con:
        consultation_data = report.load_consultation(con, "lancashire")
    data = report.ReportData(
        quarter=report.Quarter(2025, 3), force_id="lancashire", force_name="Lancashire Constabulary",
        published_at=None, measures=[], scorecard={}, csp_rows=[], spc={}, history={}, disproportionality=[],
        peel=([], None), finance={}, csp_matrix=([], "evidence.rpt_csp_priorities_matrix is not in the published file"),
        reconciliation=([], None), sources=([], None), loads=([], None), rejects=([], None),
        consultation=consultation_data)
    charts: dict[str, str] = {}
    context = report.consultation_context(data, charts)
    html = report.environment().get_template("_consultation.html.j2").render(consultation=context, charts=charts)
    assert context["survey_id"] == "lancashire-2025"
    assert sorted(charts) == ["chart-consultation-confidence", "chart-consultation-priorities"]
    assert context["respondents"] == query(settings.paths.warehouse, "select count(*) from raw.consultation_responses "
                                                                     "where _survey = 'lancashire-2025'")[0][0]
    top = query(settings.paths.published, """
        select priority_label from main.fct_consultation_priorities where survey_id = 'lancashire-2025'
          and area_type = 'force_area' and group_variable = 'all' and priority_rank = 1""")[0][0]
    assert top in html and "Preston" in charts["chart-consultation-priorities"]
    # every district's top three lines up with a CSP status and a plan objective; no assessment is loaded here
    district_lines = [r for r in context["alignment"] if r["area_type"] == "district"]
    assert len(district_lines) == 14 * 3 and {r["csp"] for r in district_lines} <= {"no assessment", "no theme"}
    assert all(r["objective"] for r in district_lines)
    # flagged groups are listed with their mark, not dropped
    assert any(g["is_small_group"] for g in context["groups"]) and "†" in html
    assert "Data gap." in html  # the CSP matrix is missing, and the section says so
