"""Platform configuration: one TOML file, an optional overlay, and environment overrides.

Read on demand (never at import time) so DAG files stay cheap to parse.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "platform.toml"

# Values that reach file names, URLs or SQL must match these before use.
FORCE_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class Paths:
    work_dir: Path
    landing_dir: Path
    warehouse: Path
    published: Path
    runs_dir: Path


@dataclass(frozen=True)
class DuckDBSettings:
    memory_limit: str
    threads: int


@dataclass(frozen=True)
class PoliceUkSettings:
    forces: tuple[str, ...]
    first_month: str
    last_month: str
    archive_url: str
    max_archive_bytes: int
    max_member_bytes: int
    http_timeout_seconds: float


@dataclass(frozen=True)
class Settings:
    root: Path
    paths: Paths
    duckdb: DuckDBSettings
    police_uk: PoliceUkSettings
    sample: dict[str, Any]
    sources: tuple[Path, ...]  # the files read, for error messages


def _merge(base: dict, overlay: dict) -> dict:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(raw: dict, environ: dict[str, str]) -> dict:
    """Apply OPCC_<SECTION>__<KEY>=value, typed like the value it replaces."""
    out = {section: dict(values) if isinstance(values, dict) else values for section, values in raw.items()}
    for name, text in environ.items():
        if not name.startswith("OPCC_") or "__" not in name:
            continue
        section, key = name[len("OPCC_"):].lower().split("__", 1)
        current = out.setdefault(section, {}).get(key)
        if isinstance(current, list):
            value: Any = [part.strip() for part in text.split(",") if part.strip()]
        elif isinstance(current, bool):
            value = text.lower() in {"1", "true", "yes"}
        elif isinstance(current, int):
            value = int(text)
        elif isinstance(current, float):
            value = float(text)
        else:
            value = text
        out[section][key] = value
    return out


def _path(root: Path, text: str) -> Path:
    path = Path(text.replace("{root}", str(root)))
    return path if path.is_absolute() else root / path


def _require_month(value: str, where: str) -> str:
    if not MONTH_PATTERN.match(value):
        raise ConfigError(f"{where}: expected a month as YYYY-MM, found {value!r}")
    return value


def validate_force_id(force_id: str) -> str:
    if not FORCE_ID_PATTERN.match(force_id):
        raise ConfigError(
            f"force id {force_id!r} is not a data.police.uk force id "
            "(lower-case letters, digits and hyphens, e.g. 'west-midlands')"
        )
    return force_id


def load_settings(config_file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    root = Path(environ.get("OPCC_ROOT", PROJECT_ROOT))
    files = [config_file or DEFAULT_CONFIG]
    if overlay := environ.get("OPCC_CONFIG"):
        files.append(_path(root, overlay))
    raw: dict = {}
    for file in files:
        try:
            raw = _merge(raw, tomllib.loads(file.read_text()))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {file} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {file} is not valid TOML: {exc}") from exc
    raw = _env_overrides(raw, environ)
    where = " + ".join(str(f) for f in files)
    try:
        paths, db, police = raw["paths"], raw["duckdb"], raw["police_uk"]
        settings = Settings(
            root=root,
            paths=Paths(**{key: _path(root, str(value)) for key, value in paths.items()}),
            duckdb=DuckDBSettings(memory_limit=str(db["memory_limit"]), threads=int(db["threads"])),
            police_uk=PoliceUkSettings(
                forces=tuple(validate_force_id(f) for f in police["forces"]),
                first_month=_require_month(police["first_month"], f"{where} [police_uk] first_month"),
                last_month=_require_month(police["last_month"], f"{where} [police_uk] last_month"),
                archive_url=str(police["archive_url"]).replace("{root}", str(root)),
                max_archive_bytes=int(police["max_archive_bytes"]),
                max_member_bytes=int(police["max_member_bytes"]),
                http_timeout_seconds=float(police["http_timeout_seconds"]),
            ),
            sample=dict(raw.get("sample", {})),
            sources=tuple(files),
        )
    except KeyError as exc:
        raise ConfigError(f"{where}: missing setting {exc}") from exc
    except TypeError as exc:
        raise ConfigError(f"{where}: unexpected setting ({exc})") from exc
    if "{month}" not in settings.police_uk.archive_url:
        raise ConfigError(f"{where} [police_uk] archive_url must contain {{month}}")
    return settings
