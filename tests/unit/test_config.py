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
