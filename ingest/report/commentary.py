"""The office's own words for the statement on the National Crime and Policing Measures.

Each quarter the office edits ``config/commentary/<YYYY>Q<n>.md`` (YAML front matter between
``---`` lines; anything after it is notes for the office and is not published) or
``config/commentary/<YYYY>Q<n>.yaml``. Per force:

    forces:
      lancashire:
        pcc_name: "…"                 # the Commissioner who publishes the statement
        force_name: "…"               # optional: the force as the statement names it
        published: 2025-11-14         # the date the statement is published
        contribution:                 # per national priority (dim_ncpm_measure.priority_id)
          homicide: "…"
        actions: ["…", "…"]           # what the office is doing next
        data_gaps:                    # what the office uses instead, for a priority with no figures
          drugs_county_lines: "…"
          cyber_crime: "…"

``sample: true`` at the top marks text written for the demo: the statement then says so.

Problems a reader could not see are checked: a priority or force the file does not know, a date
that is not one, text that is not text, stop the statement (``ReportError`` naming the file and
key). Missing text does not: each missing piece is a warning naming the force, the priority and
the file, printed in the build output, and the statement says "no commentary" rather than
leaving a blank.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.report.quarter import Quarter, ReportError

SUFFIXES = (".md", ".yaml", ".yml")
FORCE_KEYS = {"pcc_name", "force_name", "published", "contribution", "actions", "data_gaps"}


@dataclass
class Commentary:
    """One force's words for one quarter, and what is missing from them."""

    path: Path | None
    pcc_name: str | None = None
    force_name: str | None = None
    published: dt.date | None = None
    contribution: dict[str, str] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    data_gaps: dict[str, str] = field(default_factory=dict)
    is_sample: bool = False
    warnings: list[str] = field(default_factory=list)


def commentary_path(folder: Path, quarter: Quarter) -> Path | None:
    """``<folder>/<YYYY>Q<n>.md`` (or .yaml/.yml), whichever exists; None if none does."""
    found = [folder / f"{quarter.label}{suffix}" for suffix in SUFFIXES if (folder / f"{quarter.label}{suffix}").exists()]
    if len(found) > 1:
        raise ReportError(f"two commentary files for {quarter.label}: {', '.join(str(p) for p in found)}; keep one")
    return found[0] if found else None


def _document(path: Path) -> dict[str, Any]:
    import yaml

    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            raise ReportError(f"{path}: a commentary .md file starts with YAML front matter between '---' lines")
        try:
            end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
        except StopIteration:
            raise ReportError(f"{path}: the front matter is not closed by a '---' line") from None
        text = "\n".join(lines[1:end])
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ReportError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict):
        raise ReportError(f"{path}: expected keys (sample, forces), found {type(document).__name__}")
    return document


def _text(path: Path, where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReportError(f"{path}: {where} must be text, found {type(value).__name__} {value!r}")
    return value.strip() or None


def _texts(path: Path, where: str, value: Any, known: set[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ReportError(f"{path}: {where} must map a priority to text")
    unknown = sorted(set(map(str, value)) - known) if known else []  # no measures published: nothing to check against
    if unknown:
        raise ReportError(f"{path}: {where} names {', '.join(unknown)}, not a priority of the statement "
                          f"(known: {', '.join(sorted(known))})")
    texts = {str(k): _text(path, f"{where}.{k}", v) for k, v in value.items()}
    return {k: v for k, v in texts.items() if v}


def load_commentary(folder: Path, quarter: Quarter, force_id: str, priorities: dict[str, bool],
                    *, display_folder: str | None = None) -> Commentary:
    """The force's commentary for ``quarter``. ``priorities``: priority id -> whether the statement
    has figures for it (a priority without figures needs ``data_gaps`` text, one with needs a
    ``contribution``)."""
    path = commentary_path(folder, quarter)
    shown = f"{display_folder or folder}/{quarter.label}.md"
    if path is None:
        return Commentary(path=None, warnings=[
            f"commentary: no file {shown} (or .yaml): the {quarter.label} statement for {force_id} has no PCC name, "
            "publication date or contribution text"])
    shown = f"{display_folder or folder}/{path.name}"
    document = _document(path)
    unknown_top = sorted(set(document) - {"sample", "forces"})
    if unknown_top:
        raise ReportError(f"{path}: unknown key(s) {', '.join(unknown_top)} (expected sample, forces)")
    forces = document.get("forces") or {}
    if not isinstance(forces, dict):
        raise ReportError(f"{path}: forces must map a force id (e.g. lancashire) to its commentary")
    entry = forces.get(force_id)
    result = Commentary(path=path, is_sample=bool(document.get("sample")))
    if entry is None:
        result.warnings.append(f"commentary: {shown} has nothing for {force_id} (it has: "
                               f"{', '.join(sorted(map(str, forces))) or 'no force'})")
        return result
    if not isinstance(entry, dict):
        raise ReportError(f"{path}: forces.{force_id} must hold keys ({', '.join(sorted(FORCE_KEYS))})")
    unknown = sorted(set(map(str, entry)) - FORCE_KEYS)
    if unknown:
        raise ReportError(f"{path}: forces.{force_id} has unknown key(s) {', '.join(unknown)} "
                          f"(expected {', '.join(sorted(FORCE_KEYS))})")
    known = set(priorities)
    result.pcc_name = _text(path, f"forces.{force_id}.pcc_name", entry.get("pcc_name"))
    result.force_name = _text(path, f"forces.{force_id}.force_name", entry.get("force_name"))
    published = entry.get("published")
    if isinstance(published, str):
        try:
            published = dt.date.fromisoformat(published)
        except ValueError:
            raise ReportError(f"{path}: forces.{force_id}.published {published!r} is not a date (YYYY-MM-DD)") from None
    if published is not None and not isinstance(published, dt.date):
        raise ReportError(f"{path}: forces.{force_id}.published must be a date (YYYY-MM-DD), found {published!r}")
    result.published = published
    result.contribution = _texts(path, f"forces.{force_id}.contribution", entry.get("contribution"), known)
    result.data_gaps = _texts(path, f"forces.{force_id}.data_gaps", entry.get("data_gaps"), known)
    actions = entry.get("actions") or []
    if not isinstance(actions, list):
        raise ReportError(f"{path}: forces.{force_id}.actions must be a list of text")
    texts = (_text(path, f"forces.{force_id}.actions[{i}]", action) for i, action in enumerate(actions))
    result.actions = [text for text in texts if text]
    for key, label in (("pcc_name", "pcc_name"), ("published", "published date")):
        if getattr(result, key) is None:
            result.warnings.append(f"commentary: {shown}: no {label} for {force_id}")
    for priority, has_figures in priorities.items():
        if has_figures and priority not in result.contribution:
            result.warnings.append(f"commentary: {shown}: no contribution for measure {priority} ({force_id})")
        if not has_figures and priority not in result.data_gaps:
            result.warnings.append(f"commentary: {shown}: no data-gap text for measure {priority} ({force_id}): "
                                   "say what the office uses instead")
    return result
