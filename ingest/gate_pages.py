"""Where ``make docs`` puts the page of each gate result, and which load each result belongs to.

The gate writes one JSON result per table and partition under ``<runs_dir>/gates/<run>/``
(:func:`ingest.raw.gate.write_report`). :mod:`ingest.docs_site` turns each run folder into a
page; :mod:`ingest.publish` links every load-log row to its section of that page. Both read the
layout from here, so neither imports the other's module for it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from ingest.raw.landing import write_json_atomically

log = logging.getLogger(__name__)

DOCS_DIR = "docs"
GATES_DIR = "gates"


def runs(gates_dir: Path) -> dict[str, list[Path]]:
    """Run id (the result folder relative to ``gates_dir``: ``police_uk/2024-03``, ``finance``) -> its result files."""
    return {run: sorted(folder.glob("*.json")) for run, folder in _run_folders(gates_dir)}


def page(run: str) -> str:
    return f"{run}.html"


def load_keys(gate: dict) -> list[tuple[str, str, str]]:
    """The load log keys (dataset, force_id, month) a gate result can belong to.

    The loaders write the load log's ``month`` as the partition's values joined by '/', and
    ``force_id`` as the partition's ``_force_id`` with the rest as ``month`` (police.uk,
    finance) or 'all' with every value in ``month`` (the consultation): both are offered.
    """
    partition = gate.get("partition") or {}
    keys = [(gate["table"], "all", "/".join(str(v) for v in partition.values()))]
    if "_force_id" in partition:
        rest = "/".join(str(v) for k, v in partition.items() if k != "_force_id")
        keys.append((gate["table"], str(partition["_force_id"]), rest))
    return keys


# Each run folder's links, with the folder's modification time (next to the gates folder, not in
# it: ``runs`` lists every JSON file there). A gate result is written by replacing its file, which
# changes its folder's time, so a publication parses only the folders written since the last one
# instead of every result of history (15,800 files, 0.4-0.9 s at ten years of national data).
LINKS_CACHE = ".gate-links.json"
# A folder changed this recently is not cached: a file-system clock tick is coarse, and a result
# written within the same tick as the scan would leave the folder's time unchanged.
_SETTLED_NS = 2_000_000_000


def gate_report_links(gates_dir: Path) -> dict[tuple[str, str, str], str]:
    """(dataset, force_id, month) -> the gate page section `make docs` writes for it, relative to the
    published file's folder (``docs/gates/police_uk/2024-03.html#police_uk_street__lancashire__2024-03``).
    A later run's result wins over an earlier one's for the same key (runs in order, files in order)."""
    if not gates_dir.is_dir():
        return {}
    cache_path = gates_dir.with_name(LINKS_CACHE)
    try:
        cached = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = {}
    now = time.time_ns()
    fresh: dict[str, dict] = {}
    links: dict[tuple[str, str, str], str] = {}
    for run, folder in _run_folders(gates_dir):
        stamp = folder.stat().st_mtime_ns
        entry = cached.get(run)
        if not entry or entry.get("mtime_ns") != stamp:
            entry = {"mtime_ns": stamp, "links": _folder_links(run, sorted(folder.glob("*.json")))}
        if now - stamp > _SETTLED_NS:
            fresh[run] = entry
        for dataset, force_id, month, link in entry["links"]:
            links[(dataset, force_id, month)] = link
    if fresh != cached:
        try:
            write_json_atomically(cache_path, fresh)
        except OSError as error:  # a cache: the links are right without it, only slower next time
            log.warning("%s: could not keep the gate links (%s); the next publication reads every result", cache_path, error)
    return links


def _run_folders(gates_dir: Path) -> list[tuple[str, Path]]:
    """(run id, folder) of every folder holding a gate result, in run order ([] when there is no
    ``gates_dir``)."""
    found = []
    for folder, _, files in os.walk(gates_dir):
        if any(name.endswith(".json") for name in files):
            path = Path(folder)
            found.append((path.relative_to(gates_dir).as_posix(), path))
    return sorted(found)


def _folder_links(run: str, files: list[Path]) -> list[list[str]]:
    """[dataset, force_id, month, link] for each key of each gate result in one run folder."""
    found = []
    for path in files:
        try:
            gate = json.loads(path.read_text(encoding="utf-8"))["opcc_gate"]
        except (OSError, ValueError, KeyError):
            continue  # not a gate result (the docs page lists it as unreadable)
        for key in load_keys(gate):
            found.append([*key, f"{DOCS_DIR}/{GATES_DIR}/{page(run)}#{path.stem}"])
    return found
