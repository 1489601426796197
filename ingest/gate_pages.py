"""Where ``make docs`` puts the page of each gate result, and which load each result belongs to.

The gate writes one JSON result per table and partition under ``<runs_dir>/gates/<run>/``
(:func:`ingest.raw.gate.write_report`). :mod:`ingest.docs_site` turns each run folder into a
page; :mod:`ingest.publish` links every load-log row to its section of that page. Both read the
layout from here, so neither imports the other's module for it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

DOCS_DIR = "docs"
GATES_DIR = "gates"


def runs(gates_dir: Path) -> dict[str, list[Path]]:
    """Run id (the result folder relative to ``gates_dir``: ``police_uk/2024-03``, ``finance``) -> its result files."""
    found: dict[str, list[Path]] = defaultdict(list)
    if gates_dir.is_dir():
        for path in sorted(gates_dir.rglob("*.json")):
            found[path.parent.relative_to(gates_dir).as_posix()].append(path)
    return dict(sorted(found.items()))


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


def gate_report_links(gates_dir: Path) -> dict[tuple[str, str, str], str]:
    """(dataset, force_id, month) -> the gate page section `make docs` writes for it, relative to the
    published file's folder (``docs/gates/police_uk/2024-03.html#police_uk_street__lancashire__2024-03``)."""
    links = {}
    for run, files in runs(gates_dir).items():
        for path in files:
            try:
                gate = json.loads(path.read_text(encoding="utf-8"))["opcc_gate"]
            except (OSError, ValueError, KeyError):
                continue  # not a gate result (the docs page lists it as unreadable)
            for key in load_keys(gate):
                links[key] = f"{DOCS_DIR}/{GATES_DIR}/{page(run)}#{path.stem}"
    return links
