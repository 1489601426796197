"""Public consultation: a survey tool's CSV export of the Police and Crime Plan survey.

One file per survey (``[[consultation.files]]``: ``survey`` names it, ``force`` the force area).
The export is personal data: respondents give names, email addresses, phone numbers and
postcodes to be contacted, and free-text comments carry more ("my name is …, ring me on …").
None of it reaches the warehouse:

* the identifying columns (name, email, telephone, postcode, IP address) are dropped before
  DuckDB reads anything: the loader writes a derived CSV without them (in a private temporary
  folder, deleted after the load) and loads only that;
* the respondent id is replaced by a keyed HMAC-SHA256 pseudonym (``respondent_key``): stable
  across reloads of the same survey, so duplicates are still found, but not reversible without
  the key. The key comes from the environment variable named by ``pseudonymisation_key_env``
  (``OPCC_CONSULTATION_KEY``; in Airflow, set it from the deployment's secrets) or, when
  ``pseudonymisation_key_conn_id`` is configured, the password of that Airflow connection (kept in
  Airflow's secrets backend); never from the repository. Without a key the load stops with an
  error saying what to set. Only the demo
  configuration may name a demo key (``demo_pseudonymisation_key``), and a warning says so;
* free text is not loaded at all: only whether a comment was given (``has_comment``) and which
  priority themes its words match (``comment_themes``, keywords of seed
  ``consultation_priorities``).

The priorities question comes ranked (``Priority 1`` … ``Priority 3``) or multi-select (one
``Priorities`` cell, choices joined by ``;``); either is taken, and every choice must be one of
the seed's labels (a survey whose options changed is refused naming the answer and the lines).

The same small surface as every source: ``files_for`` / ``is_published`` / ``fetch`` (land the
export, skipped when unchanged) / ``load`` (derive, replace the survey's partition of
``raw.consultation_responses``, gate it with its GX suite, commit: one transaction).

Only the standard library is imported at module level (DAG files import source modules).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import logging
import os
import re
import tempfile
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest import reference_load as rl
from ingest.config import PROJECT_ROOT
from ingest.landing import check_text_file
from ingest.reference_load import Clean, Column, Contract

if TYPE_CHECKING:
    import duckdb

    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "consultation"
PRIORITIES_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "consultation_priorities.csv"
DEFAULT_KEY_ENV = "OPCC_CONSULTATION_KEY"
MIN_KEY_BYTES = 16
MAX_PROBLEMS_SHOWN = 20
PSEUDONYM_HEX = 32  # 128 bits of the HMAC: collisions are out of reach for any survey
RANKED_CHOICES = 3
MULTI_SELECT_SEPARATOR = re.compile(r"\s*[;|]\s*")

# The export's columns as survey tools name them (case-insensitive). Roles starting "drop:" are
# personal data: recognised (so the header check knows them) and never read further.
EXPORT = Contract(
    dataset="export",
    table="consultation_responses",
    description="The survey tool's export, as downloaded (personal data included).",
    columns=(
        Column("respondent_id", r"(?:respondent|response)\s*(?:id|number)"),
        Column("mode", r"collector|mode|channel|collector\s*name"),
        Column("started", r"start(?:ed)?(?:\s*date)?", required=False),
        Column("completed", r"(?:completed|end(?:ed)?|submitted)(?:\s*date)?"),
        Column("drop:name", r"(?:full\s*)?name|first\s*name|surname|last\s*name", required=False),
        Column("drop:email", r"e-?mail(?:\s*address)?", required=False),
        Column("drop:phone", r"(?:tele)?phone(?:\s*number)?|mobile(?:\s*number)?", required=False),
        Column("drop:postcode", r"post\s*code", required=False),
        Column("drop:ip_address", r"ip\s*address", required=False),
        Column("district", r"district|local\s*authority|council\s*area"),
        Column("age_band", r"age(?:\s*band|\s*group)?"),
        Column("sex", r"sex|gender"),
        Column("ethnic_group", r"ethnic(?:ity|\s*group)"),
        Column("disability", r"disability|disabled"),
        Column("priority_1", r"priority\s*1|first\s*priority", required=False),
        Column("priority_2", r"priority\s*2|second\s*priority", required=False),
        Column("priority_3", r"priority\s*3|third\s*priority", required=False),
        Column("priorities_selected", r"priorities(?:\s*\(.*\))?", required=False),
        Column("confidence", r"confidence(?:\s*in\s*(?:the\s*)?police)?"),
        Column("drop:comments", r"(?:any\s*other\s*)?comments?|free\s*text|anything\s*else.*", required=False),
    ),
    partition=("_survey", "_force_id"),
    ignored=r"(?!)",  # nothing is silently ignored: an unknown column is refused by name
)

# What the raw table holds: derived, non-identifying fields only.
RESPONSES = Contract(
    dataset="responses",
    table="consultation_responses",
    description="Consultation responses without personal data: pseudonymised id, answers, derived comment flags.",
    columns=(
        Column("respondent_key", r"respondent_key", description="HMAC-SHA256 pseudonym of the respondent id"),
        Column("mode", r"mode", description="Collector as exported (telephone or online)"),
        Column("completed_date", r"completed_date", "DATE", clean=Clean.DATE_TEXT, description="Day completed"),
        Column("district", r"district", description="District as the respondent chose it"),
        Column("age_band", r"age_band"),
        Column("sex", r"sex"),
        Column("ethnic_group", r"ethnic_group"),
        Column("disability", r"disability"),
        Column("priority_1", r"priority_1", description="First choice (ranked layout)"),
        Column("priority_2", r"priority_2"),
        Column("priority_3", r"priority_3"),
        Column("priorities_selected", r"priorities_selected", description="Choices, ';'-separated (multi-select)"),
        Column("confidence", r"confidence", description="Agreement that they have confidence in the police"),
        Column("has_comment", r"has_comment", "BOOLEAN", description="A free-text comment was given (not loaded)"),
        Column("comment_themes", r"comment_themes", description="Priority ids the comment's words match, ';'"),
    ),
    partition=("_survey", "_force_id"),
)

CONTRACTS: dict[str, Contract] = {"responses": RESPONSES}


class ConsultationError(rl.LoadError):
    """The export breaks a rule of the consultation source; nothing was loaded from it."""


class PseudonymisationKeyMissing(ConsultationError):
    """No key to pseudonymise respondent ids: the export is not loaded."""


def ensure_raw_tables(con: "duckdb.DuckDBPyConnection") -> None:
    """Create this source's raw table (and the shared ones) if they do not exist."""
    rl.ensure_tables(con, CONTRACTS.values())


# --------------------------------------------------------------------------- personal data


def pseudonymisation_key(section: dict[str, Any], environ: dict[str, str] | None = None) -> bytes:
    """The HMAC key: from the environment variable the section names; the demo key only if configured."""
    environ = os.environ if environ is None else environ
    variable = str(section.get("pseudonymisation_key_env", DEFAULT_KEY_ENV))
    value = environ.get(variable, "")
    if value:
        if len(value.encode()) < MIN_KEY_BYTES:
            raise PseudonymisationKeyMissing(
                f"{variable} is set but shorter than {MIN_KEY_BYTES} bytes; use a random secret, e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`")
        return value.encode()
    conn_id = section.get("pseudonymisation_key_conn_id")
    if conn_id:
        value = _airflow_connection_password(str(conn_id))
        if value:
            return value.encode()
    demo = section.get("demo_pseudonymisation_key")
    if demo:
        log.warning("consultation: using the demo pseudonymisation key from the configuration; set %s for real data",
                    variable)
        return str(demo).encode()
    raise PseudonymisationKeyMissing(
        f"consultation: no pseudonymisation key. Set the environment variable {variable} to a random secret "
        "(at least 16 bytes), or store it as the password of an Airflow connection and name it in [consultation] "
        "pseudonymisation_key_conn_id; keep it: the same key gives the same respondent keys on reload. "
        "The export was not loaded."
    )


def _airflow_connection_password(conn_id: str) -> str | None:
    """The password of Airflow connection ``conn_id`` (from Airflow's secrets backend), inside a task only."""
    try:
        from airflow.sdk import Connection

        return Connection.get(conn_id).password or None
    except Exception as exc:  # noqa: BLE001 - outside a task, or not defined: fall through to the clear error
        log.warning("consultation: Airflow connection %s gave no key (%s)", conn_id, exc.__class__.__name__)
        return None


def pseudonymise(key: bytes, survey: str, respondent_id: str) -> str:
    """Keyed, stable, one-way: HMAC-SHA256 over the survey and the id (the same id in two surveys differs)."""
    message = f"{survey}\x1f{respondent_id.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


@lru_cache(maxsize=1)
def priority_options() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Lower-cased option label → (priority id, comment keywords), from seed ``consultation_priorities``."""
    with PRIORITIES_SEED.open(newline="", encoding="utf-8") as handle:
        return {" ".join(r["priority_label"].split()).lower(): (r["priority_id"], tuple(
            k.strip().lower() for k in r["comment_keywords"].split("|") if k.strip()))
            for r in csv.DictReader(handle)}


@lru_cache(maxsize=1)
def _theme_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    patterns = []
    for _, (priority_id, keywords) in sorted(priority_options().items(), key=lambda item: item[1][0]):
        if keywords:
            alternatives = "|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
            patterns.append((priority_id, re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I)))
    return tuple(patterns)


def comment_themes(text: str) -> list[str]:
    """Priority ids whose keywords the comment uses (as whole words). Negation is not read."""
    return sorted(priority_id for priority_id, pattern in _theme_patterns() if pattern.search(text))


def _completed_date(text: str) -> str:
    text = text.strip()
    for layout in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y",
                   "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout).date().isoformat()
        except ValueError:
            continue
    return text  # left as is: DuckDB's clean refuses the row with the value and a reason


# --------------------------------------------------------------------------- derive


class Derived:
    """The derived CSV's rows, and the export's lines that were refused before DuckDB saw them."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.refused: list[tuple[int, str]] = []  # (line, reason): content never kept, it may be personal data


def derive(export_path: Path, label: str, survey: str, key: bytes) -> Derived:
    """Read the export and keep only derived, non-identifying fields (see the module notes)."""
    # The export as landed gets the text check every other file gets (the derived CSV is ours):
    # a cp1252 byte or a NUL far down the file is refused naming its line, not met mid-derive.
    check_text_file(export_path, label)
    header, header_line = rl.read_header(export_path, EXPORT, label)
    match = rl.match_header(header, EXPORT, label, header_line)
    positions = match.positions()
    ranked = [f"priority_{i}" for i in range(1, RANKED_CHOICES + 1) if f"priority_{i}" in positions]
    if not ranked and "priorities_selected" not in positions:
        raise rl.HeaderError(
            f"{label}: no priorities question: expected ranked columns (Priority 1, Priority 2, Priority 3) or one "
            f"multi-select column (Priorities). Found: {header}. Nothing was loaded.")
    if ranked and "priorities_selected" in positions:
        raise rl.HeaderError(f"{label}: both ranked (Priority 1…) and multi-select (Priorities) columns; export one "
                             "layout. Nothing was loaded.")
    options = priority_options()
    unknown: dict[str, list[int]] = {}
    derived = Derived()
    with export_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for _ in range(header_line + 1):
            next(reader, None)
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                derived.refused.append((line, f"{len(cells)} cells where the header has {len(header)}; the row "
                                              "was refused and its content not kept (it may hold personal data)"))
                continue
            value = {role: cells[i].strip() for role, i in positions.items()}
            choices = ([value[c] for c in ranked] if ranked
                       else [c for c in MULTI_SELECT_SEPARATOR.split(value["priorities_selected"]) if c])
            for choice in choices:
                if choice and " ".join(choice.split()).lower() not in options:
                    unknown.setdefault(choice, []).append(line)
            comment = value.get("drop:comments", "")
            ranked_cells = [value.get(f"priority_{i}", "") for i in range(1, RANKED_CHOICES + 1)]
            derived.rows.append([
                pseudonymise(key, survey, value["respondent_id"]) if value["respondent_id"] else "",
                value["mode"], _completed_date(value["completed"]), value["district"], value["age_band"],
                value["sex"], value["ethnic_group"], value["disability"], *ranked_cells,
                "" if ranked else "; ".join(choices), value["confidence"],
                "true" if comment else "false", ";".join(comment_themes(comment)) if comment else "",
            ])
    if unknown:
        shown = [f"{answer!r} on lines {', '.join(map(str, lines[:5]))}{' …' if len(lines) > 5 else ''}"
                 for answer, lines in list(unknown.items())[:MAX_PROBLEMS_SHOWN]]
        raise ConsultationError(
            f"{label}: {len(unknown)} priority answer(s) are not options of the survey (seed "
            "consultation_priorities): " + "; ".join(shown) + ". Nothing was loaded. If the survey's options "
            "changed, add them to dbt_project/seeds/consultation_priorities.csv (with their CSP theme and plan "
            "objective) and load again.")
    if not derived.rows:
        raise ConsultationError(f"{label}: the export has a header but no responses; nothing to load")
    return derived


def _write_derived(path: Path, derived: Derived) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.name for c in RESPONSES.columns])
        writer.writerows(derived.rows)


# --------------------------------------------------------------------------- what is there, fetch, load


def _section(settings: "Settings") -> dict[str, Any]:
    return settings.source(SOURCE)


def files_for(settings: "Settings", year: int | None = None) -> list[rl.SourceFile]:
    """The configured exports (of ``year`` or earlier when given)."""
    return rl.configured_files(_section(settings), SOURCE, ["responses"], year)


def is_published(settings: "Settings", file: rl.SourceFile) -> bool:
    from ingest.landing import is_published as published

    return published(file.url, timeout=float(_section(settings).get("http_timeout_seconds", 60)))


def fetch(settings: "Settings", year: int | None = None) -> list[dict]:
    """Land each export (skipped when unchanged; not there yet: logged and skipped)."""
    return rl.fetch_summary(rl.fetch_files(files_for(settings, year), settings.paths.landing_dir, _section(settings)))


def _partition(file: rl.SourceFile, label: str) -> dict[str, str]:
    survey, force = file.options.get("survey"), file.options.get("force")
    if not survey or not force:
        raise ConsultationError(f"{label}: configure `survey` (e.g. \"lancashire-2025\") and `force` (the "
                                "data.police.uk force id) for this file in [[consultation.files]]")
    return {"_survey": str(survey), "_force_id": str(force)}


def load_export(con: "duckdb.DuckDBPyConnection", export_path: Path, *, partition: dict[str, str], key: bytes,
                source_file: str, file_sha256: str, results_dir: Path | None = None) -> rl.LoadResult:
    """Derive, then replace the survey's partition, gate and log it (one transaction), then record refusals."""
    derived = derive(export_path, source_file, partition["_survey"], key)
    with tempfile.TemporaryDirectory(prefix="opcc-consultation-") as folder:
        path = Path(folder) / "responses.csv"
        _write_derived(path, derived)
        result = rl.load_file(con, RESPONSES, path, partition=partition, source_file=source_file,
                              file_sha256=file_sha256, results_dir=results_dir)
    if derived.refused:
        loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
        con.executemany(
            "insert into raw.load_rejects values (?, ?, ?, ?, ?, null, 'CELL_COUNT', ?, null, ?)",
            [[RESPONSES.table, rl.ALL_FORCES, result.label, source_file, line, reason, loaded_at]
             for line, reason in derived.refused],
        )
        log.warning("%s: %d rows refused (wrong number of cells); see raw.load_rejects", source_file,
                    len(derived.refused))
        result.rows_rejected += len(derived.refused)
    return result


def _already_loaded(con: "duckdb.DuckDBPyConnection", partition: dict[str, str], sha256: str) -> int:
    """Rows of the survey's partition loaded from exactly this file (0 if none): a monthly check of an
    unchanged export reloads nothing."""
    (rows,) = con.execute(
        "select count(*) from raw.consultation_responses where _survey = ? and _force_id = ? and _file_sha256 = ?",
        [partition["_survey"], partition["_force_id"], sha256],
    ).fetchone()
    return int(rows)


def load(settings: "Settings", year: int | None = None, run_dir: Path | None = None) -> dict[str, dict]:
    """Load every landed export; each is one transaction (a refused export keeps the survey's previous rows)."""
    section = _section(settings)
    key = pseudonymisation_key(section)  # before anything is read: no key, no load

    def load_unit(con, landed: rl.Landed, unit: rl.Unit, results_dir: Path) -> rl.LoadResult:
        partition = _partition(landed.file, unit.source_file)
        kept = _already_loaded(con, partition, landed.sha256)
        if kept:
            log.info("%s: unchanged since its last load (sha256 %s…); its %d rows are kept", unit.source_file,
                     landed.sha256[:12], kept)
            return rl.LoadResult(table=RESPONSES.table, partition=partition, source_file=unit.source_file,
                                 rows_loaded=0, rows_rejected=0, raw_rows=kept, notes_lines=0)
        return load_export(con, Path(unit.csv_path), partition=partition, key=key,
                           source_file=unit.source_file, file_sha256=landed.sha256, results_dir=results_dir)

    return rl.load_landed(settings, SOURCE, files_for(settings, year), load_unit, ensure_raw_tables, run_dir)
