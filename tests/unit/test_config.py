from pathlib import Path

import pytest

from ingest.config import ConfigError, load_settings, validate_force_id


def test_defaults_point_at_the_real_publisher():
    settings = load_settings(environ={})
    assert settings.police_uk.archive_url == "https://data.police.uk/data/archive/{month}.zip"
    assert settings.police_uk.forces == ("lancashire", "west-midlands")
    assert settings.paths.warehouse.is_absolute()


def test_overlay_file_and_environment_override(tmp_path: Path):
    overlay = tmp_path / "overlay.toml"
    overlay.write_text('[police_uk]\narchive_url = "file://{root}/x/{month}.zip"\n')
    settings = load_settings(environ={
        "OPCC_CONFIG": str(overlay),
        "OPCC_ROOT": str(tmp_path),
        "OPCC_POLICE_UK__FORCES": "cumbria, btp",
        "OPCC_DUCKDB__THREADS": "1",
    })
    assert settings.police_uk.archive_url == f"file://{tmp_path}/x/{{month}}.zip"
    assert settings.police_uk.forces == ("cumbria", "btp")
    assert settings.duckdb.threads == 1
    assert settings.paths.landing_dir == tmp_path / "var" / "landing"


@pytest.mark.parametrize("bad", ["../etc", "West Midlands", "x'; drop table raw.x; --", "a/b", ""])
def test_force_ids_that_could_reach_paths_or_sql_are_refused(bad):
    with pytest.raises(ConfigError, match="force id"):
        validate_force_id(bad)


def test_a_bad_month_names_the_setting(tmp_path: Path):
    with pytest.raises(ConfigError, match="first_month.*2024-13"):
        load_settings(environ={"OPCC_POLICE_UK__FIRST_MONTH": "2024-13"})


def test_a_missing_overlay_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"OPCC_CONFIG": str(tmp_path / "nope.toml")})


def test_numeric_overrides_keep_the_settings_type_and_a_bad_one_names_the_variable():
    settings = load_settings(environ={"OPCC_DUCKDB__LOCK_WAIT_SECONDS": "0.5", "OPCC_DUCKDB__THREADS": "1"})
    assert (settings.duckdb.lock_wait_seconds, settings.duckdb.threads) == (0.5, 1)
    with pytest.raises(ConfigError, match=r"OPCC_DUCKDB__THREADS='two': \[duckdb\] threads takes a whole number"):
        load_settings(environ={"OPCC_DUCKDB__THREADS": "two"})


# --------------------------------------------------------------------------- force ids: the publisher's list


def _seed_force_ids() -> list[str]:
    import csv

    from ingest.config import FORCES_SEED

    with FORCES_SEED.open(newline="", encoding="utf-8") as handle:
        return [row["force_id"] for row in csv.DictReader(handle)]


def test_every_publisher_force_id_passes_including_the_non_territorial_and_london_ones():
    ids = _seed_force_ids()
    assert {"btp", "city-of-london", "metropolitan", "lancashire", "west-midlands"} <= set(ids)
    assert len(ids) == len(set(ids)) >= 44
    settings = load_settings(environ={"OPCC_POLICE_UK__FORCES": ",".join(ids)})
    assert settings.police_uk.forces == tuple(ids)


@pytest.mark.parametrize("typo, suggestion", [("lancashir", "lancashire"), ("west-midland", "west-midlands"),
                                               ("metropolitian", "metropolitan"), ("city-of-londn", "city-of-london")])
def test_a_misspelt_force_id_is_refused_naming_it_and_the_closest_id(typo, suggestion):
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"OPCC_POLICE_UK__FORCES": f"cumbria,{typo}"})
    assert (f"[police_uk] forces: {typo!r} is not a data.police.uk force id; did you mean {suggestion!r}? "
            "(the ") in str(refused.value)
    assert "ids are in dbt_project/seeds/police_forces.csv)" in str(refused.value)


def test_an_unknown_force_id_with_nothing_close_names_the_list_without_a_guess():
    with pytest.raises(ConfigError, match=r"'qqqq' is not a data.police.uk force id \(the \d+ ids are in "):
        load_settings(environ={"OPCC_POLICE_UK__FORCES": "qqqq"})


def test_force_ids_elsewhere_in_the_configuration_are_checked_against_the_list_too(tmp_path: Path):
    report = tmp_path / "report.toml"
    report.write_text('[report]\nforce_id = "west-yorks"\n')
    with pytest.raises(ConfigError, match=r"report\.toml \[report\] force_id: 'west-yorks' is not a data.police.uk"):
        load_settings(environ={"OPCC_CONFIG": str(report)})
    survey = tmp_path / "survey.toml"
    survey.write_text('[consultation]\nfiles = [{ dataset = "responses", name = "c.csv", survey = "s", '
                      'force = "lancashir", url = "file:///x/c.csv" }]\n')
    with pytest.raises(ConfigError, match=r"\[consultation\] file 'c.csv' force: 'lancashir' .*did you mean "
                                          r"'lancashire'\?"):
        load_settings(environ={"OPCC_CONFIG": str(survey)})


# --------------------------------------------------------------------------- holds (read by the police.uk loader)


def test_hold_settings_default_to_the_documented_values():
    police = load_settings(environ={}).police_uk
    assert (police.max_reject_share, police.max_shrink_share, police.accept_held) == (0.01, 0.2, ())


def test_hold_shares_accept_zero_to_just_under_one_from_toml_and_environment(tmp_path: Path):
    overlay = tmp_path / "holds.toml"
    overlay.write_text("[police_uk]\nmax_reject_share = 0\nmax_shrink_share = 0.5\n")
    police = load_settings(environ={"OPCC_CONFIG": str(overlay)}).police_uk
    assert (police.max_reject_share, police.max_shrink_share) == (0.0, 0.5)
    police = load_settings(environ={"OPCC_POLICE_UK__MAX_REJECT_SHARE": "0.999",
                                    "OPCC_POLICE_UK__MAX_SHRINK_SHARE": "0"}).police_uk
    assert (police.max_reject_share, police.max_shrink_share) == (0.999, 0.0)


@pytest.mark.parametrize("key", ["max_reject_share", "max_shrink_share"])
@pytest.mark.parametrize("bad", ["1", "1.5", "-0.01", "nan"])
def test_a_hold_share_outside_zero_to_one_is_refused_naming_the_setting(key, bad):
    with pytest.raises(ConfigError, match=rf"\[police_uk\] {key}: must be at least 0 and less than 1, found "):
        load_settings(environ={f"OPCC_POLICE_UK__{key.upper()}": bad})


@pytest.mark.parametrize("toml", ['max_shrink_share = "a fifth"', "max_shrink_share = true"])
def test_a_hold_share_that_is_not_a_number_is_refused_naming_the_setting(tmp_path: Path, toml):
    overlay = tmp_path / "holds.toml"
    overlay.write_text(f"[police_uk]\n{toml}\n")
    with pytest.raises(ConfigError, match=r"holds\.toml \[police_uk\] max_shrink_share: expected a share"):
        load_settings(environ={"OPCC_CONFIG": str(overlay)})


def test_accept_held_reads_a_toml_list_and_a_comma_separated_environment_value(tmp_path: Path):
    overlay = tmp_path / "accept.toml"
    overlay.write_text('[police_uk]\naccept_held = ["btp:2019-01", "city-of-london:2018-12"]\n')
    assert load_settings(environ={"OPCC_CONFIG": str(overlay)}).police_uk.accept_held == (
        "btp:2019-01", "city-of-london:2018-12")
    police = load_settings(environ={
        "OPCC_POLICE_UK__ACCEPT_HELD": "lancashire:2024-03, west-midlands:2024-04,lancashire:2024-03"}).police_uk
    assert police.accept_held == ("lancashire:2024-03", "west-midlands:2024-04")
    assert load_settings(environ={"OPCC_POLICE_UK__ACCEPT_HELD": ""}).police_uk.accept_held == ()


@pytest.mark.parametrize("bad, why", [
    ("lancashire", r"'lancashire': expected \"force-id:YYYY-MM\""),
    ("lancashire:2024-3", r"'lancashire:2024-3': expected a month as YYYY-MM, found '2024-3'"),
    ("lancashire:2024-13", r"'lancashire:2024-13': expected a month as YYYY-MM"),
    ("lancs:2024-03", r"'lancs:2024-03': 'lancs' is not a data.police.uk force id; did you mean 'lancashire'\?"),
    ("../etc:2024-03", r"'../etc:2024-03': force id '../etc' is not a data.police.uk force id"),
    (":2024-03", r"':2024-03': expected \"force-id:YYYY-MM\""),
])
def test_a_bad_accept_held_entry_is_refused_naming_the_setting_and_the_entry(bad, why):
    with pytest.raises(ConfigError, match=rf"\[police_uk\] accept_held {why}"):
        load_settings(environ={"OPCC_POLICE_UK__ACCEPT_HELD": f"west-midlands:2024-04,{bad}"})


def test_dbt_builds_under_their_own_duckdb_memory_limit_and_fall_back_to_duckdbs():
    from ingest.transform import dbt_environment

    settings = load_settings(environ={})
    assert settings.dbt.memory_limit == "1.5GB"  # config/platform.toml
    assert dbt_environment(settings)["OPCC_DUCKDB_MEMORY_LIMIT"] == "1.5GB"
    unset = load_settings(environ={"OPCC_DBT__MEMORY_LIMIT": ""})
    assert dbt_environment(unset)["OPCC_DUCKDB_MEMORY_LIMIT"] == unset.duckdb.memory_limit == "2GB"


@pytest.mark.parametrize("bad", ["lots", "1.5", "-1GB", "1.5 GB; drop table x"])
def test_a_dbt_memory_limit_duckdb_cannot_read_is_refused_naming_the_setting(bad):
    with pytest.raises(ConfigError, match=r"\[dbt\] memory_limit"):
        load_settings(environ={"OPCC_DBT__MEMORY_LIMIT": bad})


def test_dbt_gives_duckdb_its_limits_once_when_the_file_opens_not_on_every_cursor():
    """Under `settings:` dbt-duckdb runs SET memory_limit and SET threads on each node's cursor, and
    DuckDB restarts its thread pool for every SET threads; `config_options` reach duckdb.connect once."""
    import yaml

    from ingest.transform import DBT_PROJECT_DIR

    output = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["opcc_evidence"]["outputs"]["warehouse"]
    assert "settings" not in output
    assert set(output["config_options"]) == {"memory_limit", "threads"}
    assert "OPCC_DUCKDB_MEMORY_LIMIT" in output["config_options"]["memory_limit"]
    assert "OPCC_DUCKDB_THREADS" in output["config_options"]["threads"]
