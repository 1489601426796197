"""Most similar group peers load with the configured forces, through the same fetch, load and
gates, unless ``[police_uk] load_msg_peers = false``.

The archive is the sample generator's (data.police.uk's format) for Lancashire and its seven
peers (seed ``most_similar_groups``), written for the forces the settings say to load, as the
demo writes it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from devtools.sample.police_uk import generate_archive
from ingest.config import load_settings, most_similar_groups
from ingest.sources import police_uk

FIRST, LAST = "2025-08", "2025-09"
LANCASHIRE_PEERS = ("cheshire", "derbyshire", "humberside", "kent", "nottinghamshire", "south-wales", "staffordshire")


def _settings(root: Path, publisher: Path | None = None, **extra: str):
    """Settings whose warehouse and landing are under ``root``, reading ``publisher``'s archive."""
    environ = {
        "OPCC_ROOT": str(root),
        "OPCC_POLICE_UK__ARCHIVE_URL": f"file://{publisher or root}/publisher/archive/{{month}}.zip",
        "OPCC_POLICE_UK__API_URL": "",
        "OPCC_POLICE_UK__FORCES": "lancashire",
        "OPCC_POLICE_UK__FIRST_MONTH": FIRST,
        "OPCC_POLICE_UK__LAST_MONTH": LAST,
        **{f"OPCC_POLICE_UK__{key.upper()}": value for key, value in extra.items()},
    }
    return load_settings(environ=environ)


@pytest.fixture(scope="module")
def publisher(tmp_path_factory) -> Path:
    """The publisher's archive for Lancashire and its peers; the peers' files in the last month only."""
    root = tmp_path_factory.mktemp("peers")
    settings = _settings(root)
    generate_archive(root / "publisher", FIRST, LAST, list(settings.police_uk.forces), seed=3, scale=0.02,
                     peer_forces=settings.police_uk.msg_peer_forces, peer_months=1)
    return root


def _load(settings) -> None:
    for month in (FIRST, LAST):
        assert police_uk.is_month_published(settings, month)
        police_uk.fetch(settings, month)
        police_uk.load(settings, month)


def _query(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_forces_to_load_are_the_configured_ones_then_their_peers_in_seed_order(tmp_path):
    on = _settings(tmp_path)
    assert most_similar_groups()["lancashire"] == LANCASHIRE_PEERS
    assert on.police_uk.load_msg_peers is True  # on by default (config/platform.toml)
    assert on.police_uk.forces_to_load == ("lancashire", *LANCASHIRE_PEERS)
    assert on.police_uk.msg_peer_forces == LANCASHIRE_PEERS
    off = _settings(tmp_path, load_msg_peers="false")
    assert off.police_uk.forces_to_load == ("lancashire",) and off.police_uk.msg_peer_forces == ()
    # Two configured forces sharing a peer (Nottinghamshire) load it once; a configured force that
    # is also a peer (Lancashire is in Nottinghamshire's group) stays where it was configured.
    both = _settings(tmp_path, forces="lancashire,nottinghamshire")
    assert both.police_uk.forces_to_load.count("nottinghamshire") == 1
    assert both.police_uk.forces_to_load[:2] == ("lancashire", "nottinghamshire")
    assert "lancashire" not in both.police_uk.msg_peer_forces


def test_peer_loading_on_loads_every_peers_force_months_through_the_same_load_log(publisher, tmp_path):
    settings = _settings(tmp_path, publisher)
    _load(settings)

    loaded = _query(settings, """select _force_id, _month, count(*) from raw.police_uk_street
                                 group by all order by 1, 2""")
    forces_loaded = {force for force, _, _ in loaded}
    assert forces_loaded == {"lancashire", *LANCASHIRE_PEERS}
    # Lancashire has both months; each peer has the last month only (the archive's first month
    # has no file for them), every one with rows.
    assert [(m, n > 0) for f, m, n in loaded if f == "lancashire"] == [(FIRST, True), (LAST, True)]
    assert all(m == LAST and n > 0 for f, m, n in loaded if f != "lancashire")

    log = _query(settings, """select force_id, month, dataset, status from raw.load_log
                              where dataset like 'police_uk_%' order by all""")
    statuses = {(f, m, d): s for f, m, d, s in log}
    # 8 forces x 2 months x 3 datasets: a row for every force-month the loader looked for.
    assert len(log) == 8 * 2 * 3
    for peer in LANCASHIRE_PEERS:
        assert statuses[(peer, LAST, "police_uk_street")] == "loaded"
        assert statuses[(peer, FIRST, "police_uk_street")] == "absent"
    assert statuses[("lancashire", FIRST, "police_uk_street")] == "loaded"


def test_peer_loading_off_loads_only_the_configured_forces(publisher, tmp_path):
    settings = _settings(tmp_path, publisher, load_msg_peers="false")
    _load(settings)

    assert _query(settings, "select distinct _force_id from raw.police_uk_street") == [("lancashire",)]
    log = _query(settings, "select distinct force_id from raw.load_log where dataset like 'police_uk_%'")
    assert log == [("lancashire",)]
    assert _query(settings, "select count(*) from raw.load_log where dataset like 'police_uk_%'") == [(2 * 3,)]
