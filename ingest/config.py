"""Platform configuration: one TOML file, an optional overlay, and environment overrides.

Read on demand (never at import time) so DAG files stay cheap to parse.
"""

from __future__ import annotations

import csv
import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "platform.toml"

# Values that reach file names, URLs or SQL must match these before use.
FORCE_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# The publisher's force list (its /forces ids), kept once for dbt and for settings load: a
# well-formed but misspelled id would otherwise fetch nothing and load "successfully".
FORCES_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "police_forces.csv"
# The Home Office most similar groups (one row per force and peer), kept once for dbt and for the
# police.uk load: configuring a force loads its peers' files too, so it can be compared with them.
MSG_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "most_similar_groups.csv"
URL_SCHEMES = ("https", "http", "file")
# Characters no publisher URL needs and that would break out of a quoted string or a shell word.
_URL_FORBIDDEN = re.compile(r"[\s'\"`\\<>\x00-\x1f\x7f]")


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
    # How long a task waits for another process to release the warehouse file before failing.
    lock_wait_seconds: float = 600.0


@dataclass(frozen=True)
class DbtSettings:
    """``[dbt]``: how ``dbt build`` runs (``ingest/transform.py``); every key is optional."""

    # dbt's node threads. Most of the ~800 nodes are small queries whose cost is dbt's own Python
    # (compiling, caching, logging): four threads overlap that with DuckDB's work, which stays at
    # ``[duckdb] threads`` (one DuckDB instance, one memory limit, whatever dbt's threads).
    threads: int = 4
    # dbt unit tests have static, hand-made inputs, so a refresh cannot change their result: dbt
    # advises running them in development and CI, not in production builds. ``make test`` runs
    # every one (tests/integration/test_dbt_unit_tests.py); set true to run them on each build too.
    run_unit_tests: bool = False
    # DuckDB's memory limit while dbt builds; empty: ``[duckdb] memory_limit``. dbt's own Python (the
    # parsed project, its caches) holds about 0.3 GiB beside DuckDB in the same process, so a build
    # at the loads' limit peaked 45 % above DuckDB alone reading the files; DuckDB spills the rest.
    memory_limit: str = ""


MEMORY_LIMIT_PATTERN = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


@dataclass(frozen=True)
class PoliceUkSettings:
    forces: tuple[str, ...]
    first_month: str
    last_month: str
    archive_url: str
    max_archive_bytes: int
    max_member_bytes: int
    http_timeout_seconds: float
    # data.police.uk JSON API (``/crimes-street-dates`` says which months are published).
    # Empty or ``file://``: offline (the demo), so publication is judged by the archive existing.
    api_url: str = ""
    # Holds (read by the loader): a force-month whose file DuckDB rejects more than this share of
    # rows, or which shrinks the partition it replaces by more than ``max_shrink_share``, is held
    # and the previous rows kept, unless the operator lists it in ``accept_held`` ("force:YYYY-MM").
    max_reject_share: float = 0.01
    max_shrink_share: float = 0.2
    accept_held: tuple[str, ...] = ()
    # Load the configured forces' most similar group peers (seed ``most_similar_groups``) too, so
    # every police.uk measure can be placed among them. ``false``: the configured forces only.
    load_msg_peers: bool = True

    @property
    def forces_to_load(self) -> tuple[str, ...]:
        """The force-months every police.uk step works on: the configured forces, then (with
        ``load_msg_peers``) their most similar groups' peers in seed order, each once.

        The one list the loader, the published-month check, the load log and the demo's sample
        archive all use.
        """
        if not self.load_msg_peers:
            return self.forces
        return tuple(dict.fromkeys([*self.forces, *msg_peers(self.forces)]))

    @property
    def msg_peer_forces(self) -> tuple[str, ...]:
        """The peers loaded for comparison only (not configured themselves); empty when off."""
        return tuple(f for f in self.forces_to_load if f not in self.forces)


DEFAULT_USER_AGENT = "opcc-evidence-platform/0.1 (Police and Crime Commissioner evidence platform)"


@dataclass(frozen=True)
class HostLimit:
    """A publisher's rate limit: a token bucket of ``burst`` tokens refilled at ``requests_per_second``.

    ``processes`` is how many processes may call the host at once (the slots of the Airflow
    pool its fetch tasks share): each process's bucket gets an equal share, so together
    they stay within the publisher's limit.
    """

    requests_per_second: float
    burst: int
    processes: int = 1

    @property
    def rate_per_process(self) -> float:
        return self.requests_per_second / self.processes

    @property
    def burst_per_process(self) -> int:
        return max(1, self.burst // self.processes)


@dataclass(frozen=True)
class HttpSettings:
    """How the one HTTP layer (``ingest/http.py``) behaves; ``[http]`` in the configuration."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0  # longest silence between bytes, not a whole-download limit
    max_attempts: int = 4  # per request: connection errors, timeouts, cut-off bodies, 5xx
    backoff_base_seconds: float = 0.5  # wait before attempt n+1: up to base * 2**(n-1), full jitter
    backoff_max_seconds: float = 30.0
    max_throttled_seconds: float = 900.0  # how long one request may keep being answered 429
    max_retry_after_seconds: float = 600.0  # a longer Retry-After is not waited for: fail, retry later
    concurrency: int = 4  # threads a source may use for many small requests to one host
    rate_limits: tuple[tuple[str, HostLimit], ...] = ()  # (host, limit); "default" for any other host

    def limit_for(self, host: str) -> HostLimit | None:
        limits = dict(self.rate_limits)
        return limits.get(host.lower(), limits.get("default"))


@dataclass(frozen=True)
class Settings:
    root: Path
    paths: Paths
    duckdb: DuckDBSettings
    police_uk: PoliceUkSettings
    sample: dict[str, Any]
    sources: tuple[Path, ...]  # the files read, for error messages
    # Every section as read (after overlays and environment overrides), for sources whose
    # settings are plain tables rather than a dataclass here: see ``source()``.
    sections: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    http: HttpSettings = field(default_factory=HttpSettings)
    dbt: DbtSettings = field(default_factory=DbtSettings)

    def source(self, name: str) -> dict[str, Any]:
        """A source's own section (e.g. ``[home_office_prc]``), with ``{root}`` expanded in its strings.

        Raises ConfigError naming the files read when the section is missing.
        """
        section = self.sections.get(name)
        if not isinstance(section, dict):
            where = " + ".join(str(f) for f in self.sources)
            raise ConfigError(f"{where}: no [{name}] section; add one (see config/platform.toml)")
        return _expand_root(section, self.root)


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
        elif isinstance(current, (int, float)):
            try:
                value = type(current)(text)
            except ValueError:
                kind = "whole number" if isinstance(current, int) else "number"
                raise ConfigError(f"{name}={text!r}: [{section}] {key} takes a {kind} (like {current!r})") from None
        else:
            value = text
        out[section][key] = value
    return out


def _expand_root(value: Any, root: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{root}", str(root))
    if isinstance(value, dict):
        return {k: _expand_root(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_root(v, root) for v in value]
    return value


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


@lru_cache(maxsize=1)
def known_force_ids() -> dict[str, str]:
    """data.police.uk force id -> name, from seed ``police_forces`` (the list dbt loads too)."""
    try:
        with FORCES_SEED.open(newline="", encoding="utf-8") as handle:
            forces = {row["force_id"].strip(): row["force_name"].strip() for row in csv.DictReader(handle)}
    except (OSError, KeyError) as exc:
        raise ConfigError(f"{FORCES_SEED}: cannot read the data.police.uk force list "
                          f"(columns force_id, force_name): {exc}") from None
    if not forces:
        raise ConfigError(f"{FORCES_SEED}: the data.police.uk force list is empty")
    return forces


@lru_cache(maxsize=1)
def most_similar_groups() -> dict[str, tuple[str, ...]]:
    """force id -> its most similar group's peers in ``peer_order``, from seed ``most_similar_groups``."""
    try:
        with MSG_SEED.open(newline="", encoding="utf-8") as handle:
            rows = [(row["force_id"].strip(), int(row["peer_order"]), row["peer_force_id"].strip())
                    for row in csv.DictReader(handle)]
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"{MSG_SEED}: cannot read the most similar groups "
                          f"(columns force_id, peer_force_id, peer_order): {exc}") from None
    groups: dict[str, list[str]] = {}
    for force_id, _order, peer in sorted(rows):
        groups.setdefault(force_id, []).append(peer)
    return {force_id: tuple(peers) for force_id, peers in groups.items()}


def msg_peers(force_ids: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Every peer of the forces' most similar groups, in force then peer order, each once; a force
    with no group (City of London, BTP) adds none."""
    groups = most_similar_groups()
    return tuple(dict.fromkeys(peer for force_id in force_ids for peer in groups.get(force_id, ())))


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ConfigError(f"{where}: expected true or false, found {value!r}")


def check_known_force_id(force_id: str, where: str) -> str:
    """A force id that is well formed *and* one of the publisher's; the error suggests the closest id."""
    try:
        validate_force_id(force_id)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    known = known_force_ids()
    if force_id in known:
        return force_id
    seed = FORCES_SEED.relative_to(PROJECT_ROOT) if FORCES_SEED.is_relative_to(PROJECT_ROOT) else FORCES_SEED
    close = difflib.get_close_matches(force_id, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"{where}: {force_id!r} is not a data.police.uk force id{hint} "
                      f"(the {len(known)} ids are in {seed})")


def _check_force_ids(values: Any, where: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{where}: expected a list of data.police.uk force ids, found {values!r}")
    return tuple(check_known_force_id(str(value), where) for value in values)


def _share(value: Any, where: str) -> float:
    """A share of rows: 0 <= x < 1 (1 would mean "hold nothing, ever", which is no guard)."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a share between 0 and 1 (e.g. 0.01), found {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a share between 0 and 1 (e.g. 0.01), found {value!r}") from None
    if math.isnan(number) or not 0 <= number < 1:
        raise ConfigError(f"{where}: must be at least 0 and less than 1, found {value!r}")
    return number


def _accept_held(values: Any, where: str) -> tuple[str, ...]:
    """Force-months accepted despite a hold: each "force-id:YYYY-MM" (a TOML list or a comma list)."""
    if isinstance(values, str):
        values = [part.strip() for part in values.split(",") if part.strip()]
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"{where}: expected a list of \"force-id:YYYY-MM\", found {values!r}")
    accepted: list[str] = []
    for value in values:
        text = str(value).strip()
        force_id, colon, month = text.partition(":")
        if not colon or not force_id or not month:
            raise ConfigError(f"{where} {text!r}: expected \"force-id:YYYY-MM\" (e.g. \"lancashire:2024-03\")")
        check_known_force_id(force_id, f"{where} {text!r}")
        _require_month(month, f"{where} {text!r}")
        if text not in accepted:
            accepted.append(text)
    return tuple(accepted)


def check_url(value: Any, where: str, *, placeholders: tuple[str, ...] = (), allow_empty: bool = False) -> str:
    """A publisher URL (or URL template): http(s) or file, no spaces or quotes, only the named ``{placeholders}``."""
    from urllib.parse import urlparse

    text = str(value)
    if not text and allow_empty:
        return text
    if _URL_FORBIDDEN.search(text):
        raise ConfigError(f"{where}: {text!r} holds a space, quote, backslash or control character; "
                          "a publisher URL needs none (percent-encode it)")
    scheme = urlparse(text).scheme.lower()
    if scheme not in URL_SCHEMES:
        raise ConfigError(f"{where}: {text!r} is not an {'/'.join(URL_SCHEMES)} URL")
    unknown = sorted(set(re.findall(r"\{([^{}]*)\}", text)) - set(placeholders) - {"root"})
    if unknown or text.count("{") != text.count("}"):
        raise ConfigError(f"{where}: {text!r} may only use the placeholders "
                          f"{sorted({*placeholders, 'root'})}, found {unknown or 'unbalanced braces'}")
    if ".." in urlparse(text.replace("{root}", "/root")).path.split("/"):
        raise ConfigError(f"{where}: {text!r} climbs out of its folder with '..'")
    return text


def _check_force_id_keys(raw: dict, where: str) -> None:
    """Force ids anywhere else in the configuration (``[report] force_id``, a source's ``forces``).

    They become file names, URL parts and SQL values, so they are refused here, at settings
    load, naming the key. The sources' file lists (``name``, ``url``, ``dataset``) are checked
    by each source's ``files_for`` against its own contracts.
    """
    for section_name, section in raw.items():
        if not isinstance(section, dict) or section_name == "police_uk":
            continue
        for key in ("force_id", "forces"):
            if section.get(key):
                _check_force_ids(section[key], f"{where} [{section_name}] {key}")
        # A file entry's force (e.g. a consultation survey's) becomes a partition value too.
        files = section.get("files")
        for index, entry in enumerate(files if isinstance(files, list) else []):
            if not isinstance(entry, dict):
                continue
            for key in ("force", "force_id"):
                if entry.get(key):
                    name = entry.get("name") or f"files[{index}]"
                    _check_force_ids(entry[key], f"{where} [{section_name}] file {name!r} {key}")


def _positive(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, found {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{where}: must be greater than 0, found {value!r}")
    return number


def _dbt_settings(section: dict[str, Any], where: str) -> DbtSettings:
    """``[dbt]``; every key is optional."""
    known = set(DbtSettings.__dataclass_fields__)
    unknown = set(section) - known
    if unknown:
        raise ConfigError(f"{where} [dbt]: unknown settings {sorted(unknown)}; known: {sorted(known)}")
    threads = section.get("threads", DbtSettings.threads)
    if isinstance(threads, str) and threads.strip().isdigit():  # OPCC_DBT__THREADS with no [dbt] in the file
        threads = int(threads)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"{where} [dbt] threads must be a whole number of at least 1, not {threads!r}")
    memory_limit = str(section.get("memory_limit", DbtSettings.memory_limit)).strip()
    if memory_limit and not MEMORY_LIMIT_PATTERN.match(memory_limit):
        raise ConfigError(f"{where} [dbt] memory_limit must be a size DuckDB reads, like \"1.5GB\", not {memory_limit!r}")
    return DbtSettings(threads=threads, run_unit_tests=_flag(section.get("run_unit_tests", DbtSettings.run_unit_tests),
                                                             f"{where} [dbt] run_unit_tests"),
                       memory_limit=memory_limit)


def _http_settings(section: dict[str, Any], where: str) -> HttpSettings:
    """``[http]`` and its ``[http.rate_limits.<host>]`` tables; every key is optional."""
    defaults = HttpSettings()
    known = {f for f in HttpSettings.__dataclass_fields__} - {"rate_limits"}
    unknown = set(section) - known - {"rate_limits"}
    if unknown:
        raise ConfigError(f"{where} [http]: unknown settings {sorted(unknown)}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name in known:
        if name not in section:
            continue
        if name == "user_agent":
            values[name] = str(section[name])
        elif name in {"max_attempts", "concurrency"}:
            values[name] = int(_positive(section[name], f"{where} [http] {name}"))
        else:
            values[name] = _positive(section[name], f"{where} [http] {name}")
    limits = []
    for host, table in dict(section.get("rate_limits", {})).items():
        here = f"{where} [http.rate_limits.{host!r}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{here}: expected a table with requests_per_second and burst")
        try:
            limit = HostLimit(
                requests_per_second=_positive(table["requests_per_second"], f"{here} requests_per_second"),
                burst=int(_positive(table["burst"], f"{here} burst")),
                processes=int(_positive(table.get("processes", 1), f"{here} processes")),
            )
        except KeyError as exc:
            raise ConfigError(f"{here}: missing {exc}") from None
        limits.append((str(host).lower(), limit))
    return HttpSettings(**{**{k: getattr(defaults, k) for k in known}, **values, "rate_limits": tuple(limits)})


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
            duckdb=DuckDBSettings(
                memory_limit=str(db["memory_limit"]),
                threads=int(db["threads"]),
                lock_wait_seconds=float(db.get("lock_wait_seconds", DuckDBSettings.lock_wait_seconds)),
            ),
            police_uk=PoliceUkSettings(
                forces=_check_force_ids(police["forces"], f"{where} [police_uk] forces"),
                first_month=_require_month(police["first_month"], f"{where} [police_uk] first_month"),
                last_month=_require_month(police["last_month"], f"{where} [police_uk] last_month"),
                archive_url=check_url(police["archive_url"], f"{where} [police_uk] archive_url",
                                      placeholders=("month",)).replace("{root}", str(root)),
                max_archive_bytes=int(police["max_archive_bytes"]),
                max_member_bytes=int(police["max_member_bytes"]),
                http_timeout_seconds=float(police["http_timeout_seconds"]),
                api_url=check_url(police.get("api_url", ""), f"{where} [police_uk] api_url",
                                  allow_empty=True).replace("{root}", str(root)).rstrip("/"),
                max_reject_share=_share(police.get("max_reject_share", PoliceUkSettings.max_reject_share),
                                        f"{where} [police_uk] max_reject_share"),
                max_shrink_share=_share(police.get("max_shrink_share", PoliceUkSettings.max_shrink_share),
                                        f"{where} [police_uk] max_shrink_share"),
                accept_held=_accept_held(police.get("accept_held", ()), f"{where} [police_uk] accept_held"),
                load_msg_peers=_flag(police.get("load_msg_peers", PoliceUkSettings.load_msg_peers),
                                     f"{where} [police_uk] load_msg_peers"),
            ),
            sample=dict(raw.get("sample", {})),
            sources=tuple(files),
            sections=raw,
            http=_http_settings(dict(raw.get("http", {})), where),
            dbt=_dbt_settings(dict(raw.get("dbt", {})), where),
        )
    except KeyError as exc:
        raise ConfigError(f"{where}: missing setting {exc}") from exc
    except TypeError as exc:
        raise ConfigError(f"{where}: unexpected setting ({exc})") from exc
    if "{month}" not in settings.police_uk.archive_url:
        raise ConfigError(f"{where} [police_uk] archive_url must contain {{month}}")
    _check_force_id_keys(raw, where)
    return settings
