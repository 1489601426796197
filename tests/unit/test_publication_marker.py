"""Data published from the demo's generated samples is marked synthetic in meta.publication."""

from __future__ import annotations

import dataclasses

from ingest import publish
from ingest.config import PROJECT_ROOT, load_settings


def test_the_demo_config_publishes_synthetic_data():
    settings = load_settings(environ={"OPCC_CONFIG": str(PROJECT_ROOT / "config" / "demo.toml")})
    assert publish.is_synthetic(settings)


def test_the_real_publishers_are_not_synthetic():
    assert not publish.is_synthetic(load_settings(environ={}))


def test_a_publication_key_decides_when_present():
    settings = load_settings(environ={"OPCC_CONFIG": str(PROJECT_ROOT / "config" / "demo.toml")})
    told = dataclasses.replace(settings, sections={**settings.sections, "publication": {"synthetic": False}})
    assert not publish.is_synthetic(told)
    real = load_settings(environ={})
    told = dataclasses.replace(real, sections={**real.sections, "publication": {"synthetic": True}})
    assert publish.is_synthetic(told)


def test_the_notice_is_documented_with_the_publication_table():
    columns = publish.META_TABLES["publication"][2]
    assert {"is_synthetic", "synthetic_notice"} <= set(columns)
    assert "not published by the police" in publish.SYNTHETIC_NOTICE
