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
``Priorities`` cell, choices joined by ``;``); either is taken.

Every structured column accepts only its code list: the district one of the force area's districts
(the file entry's ``districts``, or the ONS lookup already loaded: ``raw.ons_lad_csp_pfa_lookup``),
age, sex, ethnic group and disability the answers of seed ``consultation_weighting_categories``,
priorities the labels of seed ``consultation_priorities``, collector and confidence the answers the
raw table's suite allows, the completion time a date. A cell holding anything else (a postcode, a
phone number, a name and address typed into District) refuses the whole export, naming the column
and the line numbers and never the value: it may be personal data, and errors and logs are kept.
Refusing rather than blanking the cell is deliberate: a questionnaire whose options changed would
otherwise become "not answered" on every row and bias the weights silently, and the raw table's gate
already refuses an answer outside its set; the survey's previous rows are kept until the export is
corrected.

The pseudonymisation key must be at least 16 bytes of at least 8 different byte values, wherever it
comes from (environment, Airflow connection, demo key): a short or repetitive key is refused,
naming where it came from and never the key.

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

from ingest import raw
from ingest.config import PROJECT_ROOT
from ingest.raw.landing import check_text_file
from ingest.raw import Clean, Column, Contract

if TYPE_CHECKING:
    import duckdb

    from ingest.config import Settings

log = logging.getLogger(__name__)

SOURCE = "consultation"
PRIORITIES_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "consultation_priorities.csv"
WEIGHTING_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "consultation_weighting_categories.csv"
FORCE_AREAS_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "police_force_areas.csv"
SUITE = PROJECT_ROOT / "expectations" / "raw_consultation_responses.json"
DEFAULT_KEY_ENV = "OPCC_CONSULTATION_KEY"
MIN_KEY_BYTES = 16
MIN_KEY_DISTINCT_BYTES = 8  # "aaaaaaaaaaaaaaaa" is 16 bytes and no secret
MAX_LINES_SHOWN = 10
# Answer columns whose code list is seed consultation_weighting_categories (its `variable`).
WEIGHTING_ROLES = ("age_band", "sex", "ethnic_group", "disability")
# Answer columns no seed lists: their code list is the value set the raw table's suite allows.
SUITE_ROLES = ("mode", "confidence")
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
        Column("respondent_key", description="HMAC-SHA256 pseudonym of the respondent id"),
        Column("mode", description="Collector as exported (telephone or online)"),
        Column("completed_date", duckdb_type="DATE", clean=Clean.DATE_TEXT, description="Day completed"),
        Column("district", description="District as the respondent chose it"),
        Column("age_band"),
        Column("sex"),
        Column("ethnic_group"),
        Column("disability"),
        Column("priority_1", description="First choice (ranked layout)"),
        Column("priority_2"),
        Column("priority_3"),
        Column("priorities_selected", description="Choices, ';'-separated (multi-select)"),
        Column("confidence", description="Agreement that they have confidence in the police"),
        Column("has_comment", duckdb_type="BOOLEAN", description="A free-text comment was given (not loaded)"),
        Column("comment_themes", description="Priority ids the comment's words match, ';'"),
    ),
    partition=("_survey", "_force_id"),
)

CONTRACTS: dict[str, Contract] = {"responses": RESPONSES}


class ConsultationError(raw.LoadError):
    """The export breaks a rule of the consultation source; nothing was loaded from it."""


class PseudonymisationKeyMissing(ConsultationError):
    """No key to pseudonymise respondent ids: the export is not loaded."""


# The surface every file source exposes to its DAG, from the declaration (the load is this module's own).
DECLARED = raw.FileSource(SOURCE, CONTRACTS)
ensure_raw_tables, files_for, is_published, fetch = DECLARED.surface()


# --------------------------------------------------------------------------- personal data


def check_key(value: bytes, where: str) -> bytes:
    """A key fit to pseudonymise with: long enough and not a repeated character. ``where`` names its
    source for the error; the key itself is never quoted."""
    if len(value) < MIN_KEY_BYTES or len(set(value)) < MIN_KEY_DISTINCT_BYTES:
        raise PseudonymisationKeyMissing(
            f"consultation: the pseudonymisation key from {where} is refused: it has {len(value)} bytes of "
            f"{len(set(value))} different values, and a key needs at least {MIN_KEY_BYTES} bytes of at least "
            f"{MIN_KEY_DISTINCT_BYTES} different values. Use a random secret, e.g. "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`. The export was not loaded.")
    return value


def pseudonymisation_key(section: dict[str, Any], environ: dict[str, str] | None = None) -> bytes:
    """The HMAC key: from the environment variable the section names, else the Airflow connection it
    names, else (the demo only) the configured demo key; each checked by ``check_key``."""
    environ = os.environ if environ is None else environ
    variable = str(section.get("pseudonymisation_key_env", DEFAULT_KEY_ENV))
    value = environ.get(variable, "")
    if value:
        return check_key(value.encode(), f"the environment variable {variable}")
    conn_id = section.get("pseudonymisation_key_conn_id")
    if conn_id:
        value = _airflow_connection_password(str(conn_id))
        if value:
            return check_key(value.encode(), f"the password of Airflow connection {str(conn_id)!r}")
    demo = section.get("demo_pseudonymisation_key")
    if demo:
        key = check_key(str(demo).encode(), "[consultation] demo_pseudonymisation_key in the configuration")
        log.warning("consultation: using the demo pseudonymisation key from the configuration; set %s for real data",
                    variable)
        return key
    raise PseudonymisationKeyMissing(
        f"consultation: no pseudonymisation key. Set the environment variable {variable} to a random secret "
        f"(at least {MIN_KEY_BYTES} bytes), or store it as the password of an Airflow connection and name it in "
        "[consultation] pseudonymisation_key_conn_id; keep it: the same key gives the same respondent keys on "
        "reload. The export was not loaded."
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


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


@lru_cache(maxsize=1)
def priority_labels() -> dict[str, str]:
    """Normalised option label → the label as seed ``consultation_priorities`` spells it."""
    with PRIORITIES_SEED.open(newline="", encoding="utf-8") as handle:
        return {_normal(r["priority_label"]): " ".join(r["priority_label"].split()) for r in csv.DictReader(handle)}


@lru_cache(maxsize=1)
def answer_options() -> dict[str, dict[str, str]]:
    """Answer column → {normalised answer: the answer as the code list spells it}.

    Age, sex, ethnic group and disability from seed ``consultation_weighting_categories`` (the answers
    weighting maps); collector and confidence from the raw table's suite (no seed lists them).
    """
    import json

    options: dict[str, dict[str, str]] = {role: {} for role in (*WEIGHTING_ROLES, *SUITE_ROLES)}
    with WEIGHTING_SEED.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["variable"] in options:
                options[row["variable"]][_normal(row["answer"])] = row["answer"].strip()
    suite = json.loads(SUITE.read_text(encoding="utf-8"))
    for expectation in suite["expectations"]:
        column = expectation.get("kwargs", {}).get("column")
        if expectation.get("type") == "expect_column_values_to_be_in_set" and column in SUITE_ROLES:
            options[column].update({_normal(v): v for v in expectation["kwargs"]["value_set"]})
    empty = [role for role, answers in options.items() if not answers]
    if empty:
        raise ConsultationError(f"no code list for {empty}: expected them in {WEIGHTING_SEED.name} "
                                f"(variable column) or as an in-set expectation of {SUITE.name}")
    return options


@lru_cache(maxsize=1)
def _force_pfa_codes() -> dict[str, tuple[str, ...]]:
    """data.police.uk force id → its police force area codes (seed ``police_force_areas``)."""
    codes: dict[str, list[str]] = {}
    with FORCE_AREAS_SEED.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            codes.setdefault(row["force_id"], []).append(row["pfa_code"])
    return {force: tuple(values) for force, values in codes.items()}


def force_districts(con: "duckdb.DuckDBPyConnection", force_id: str,
                    configured: Any = None, label: str = "") -> tuple[dict[str, str], str]:
    """The districts a respondent of ``force_id`` may choose ({normalised: name}) and where the list came from.

    The file entry's ``districts`` when configured (a questionnaire listing older or merged names);
    otherwise every vintage's district names (English and Welsh) of the force's areas in the ONS
    lookup already loaded (``raw.ons_lad_csp_pfa_lookup``).
    """
    if configured:
        if not isinstance(configured, (list, tuple)) or not all(isinstance(d, str) and d.strip() for d in configured):
            raise ConsultationError(f"{label}: [[consultation.files]] districts must be a list of district names")
        return {_normal(d): d.strip() for d in configured}, "the file's `districts` in [[consultation.files]]"
    import duckdb

    codes = list(_force_pfa_codes().get(force_id, ()))
    names: list[tuple[str | None, str | None]] = []
    if codes:
        try:
            names = con.execute(
                "select distinct lad_name, lad_name_welsh from raw.ons_lad_csp_pfa_lookup "
                "where pfa_code in (select unnest(?::varchar[]))", [codes]).fetchall()
        except duckdb.CatalogException:
            names = []  # the geography is not loaded yet: the clear error below
    districts = {_normal(n): n.strip() for pair in names for n in pair if n and n.strip()}
    if not districts:
        raise ConsultationError(
            f"{label}: no list of {force_id}'s districts to check the District answers against: load the ONS "
            "geography first (DAG ons_geography; raw.ons_lad_csp_pfa_lookup), or list the "
            "questionnaire's districts as `districts = [...]` in this file's [[consultation.files]] entry. "
            "Nothing was loaded.")
    return districts, f"the ONS lookup of the {force_id} force area (raw.ons_lad_csp_pfa_lookup)"


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


def _completed_date(text: str) -> str | None:
    """The day as YYYY-MM-DD ("" when blank; None when the cell is not a date)."""
    text = text.strip()
    if not text:
        return ""
    for layout in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y",
                   "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout).date().isoformat()
        except ValueError:
            continue
    return None  # not a date: the caller refuses the export by line (the text may be personal data)


# --------------------------------------------------------------------------- derive


class Derived:
    """The derived CSV's rows, and the export's lines that were refused before DuckDB saw them."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.refused: list[tuple[int, str]] = []  # (line, reason): content never kept, it may be personal data


class _Problems:
    """Cells outside their column's code list: column → (why, lines). Never the values."""

    def __init__(self, header: list[str], positions: dict[str, int]) -> None:
        self.header, self.positions = header, positions
        self.found: dict[str, tuple[str, list[int]]] = {}

    def add(self, role: str, why: str, line: int) -> None:
        column = self.header[self.positions[role]]
        lines = self.found.setdefault(column, (why, []))[1]
        if not lines or lines[-1] != line:  # one multi-select cell with two bad choices is one cell
            lines.append(line)

    def message(self, label: str) -> str:
        cells = sum(len(lines) for _, lines in self.found.values())
        shown = []
        for column, (why, lines) in self.found.items():
            listed = ", ".join(map(str, lines[:MAX_LINES_SHOWN]))
            more = f" … ({len(lines)} lines in all)" if len(lines) > MAX_LINES_SHOWN else ""
            shown.append(f"{column} ({why}) on line{'s' if len(lines) > 1 else ''} {listed}{more}")
        return (f"{label}: {cells} cell(s) hold something that is not one of their column's answers (values not "
                "shown: a respondent may have typed personal data into them): " + "; ".join(shown) + ". Nothing "
                "was loaded. Correct or clear those cells in the export (in the survey tool, then export again) "
                "and load again; if the questionnaire's options changed, add them to the list named.")


def derive(export_path: Path, label: str, survey: str, key: bytes, *, districts: dict[str, str],
           districts_from: str = "the configured districts") -> Derived:
    """Read the export and keep only derived, non-identifying fields (see the module notes).

    ``districts`` is the force area's code list ({normalised name: name}, see ``force_districts``).
    """
    # The export as landed gets the text check every other file gets (the derived CSV is ours):
    # a cp1252 byte or a NUL far down the file is refused naming its line, not met mid-derive.
    check_text_file(export_path, label)
    header, header_line = raw.read_header(export_path, EXPORT, label)
    match = raw.match_header(header, EXPORT, label, header_line)
    positions = match.positions()
    ranked = [f"priority_{i}" for i in range(1, RANKED_CHOICES + 1) if f"priority_{i}" in positions]
    if not ranked and "priorities_selected" not in positions:
        raise raw.HeaderError(
            f"{label}: no priorities question: expected ranked columns (Priority 1, Priority 2, Priority 3) or one "
            f"multi-select column (Priorities). Found: {header}. Nothing was loaded.")
    if ranked and "priorities_selected" in positions:
        raise raw.HeaderError(f"{label}: both ranked (Priority 1…) and multi-select (Priorities) columns; export one "
                             "layout. Nothing was loaded.")
    labels = priority_labels()
    answers = answer_options()
    problems = _Problems(list(header), positions)
    derived = Derived()

    def coded(role: str, text: str, code_list: dict[str, str], why: str, line: int) -> str:
        """The answer as its code list spells it; "" when blank; a problem (and "") otherwise."""
        if not text:
            return ""
        answer = code_list.get(_normal(text))
        if answer is None:
            problems.add(role, why, line)
            return ""
        return answer

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
            district = coded("district", value["district"], districts, f"not a district in {districts_from}", line)
            if not value["district"]:
                problems.add("district", "blank: weighting is by district", line)
            row_answers = {role: coded(role, value[role], answers[role], _why(role), line)
                           for role in (*WEIGHTING_ROLES, *SUITE_ROLES)}
            completed = _completed_date(value["completed"])
            if completed is None:
                problems.add("completed", "not a date", line)
            why = "not an option in seed consultation_priorities"
            if ranked:
                ranked_cells = [coded(f"priority_{i}", value.get(f"priority_{i}", ""), labels, why, line)
                                if f"priority_{i}" in positions else "" for i in range(1, RANKED_CHOICES + 1)]
                selected = ""
            else:
                ranked_cells = [""] * RANKED_CHOICES
                choices = [coded("priorities_selected", c, labels, why, line)
                           for c in MULTI_SELECT_SEPARATOR.split(value["priorities_selected"]) if c]
                selected = "; ".join(c for c in choices if c)
            comment = value.get("drop:comments", "")
            derived.rows.append([
                pseudonymise(key, survey, value["respondent_id"]) if value["respondent_id"] else "",
                row_answers["mode"], completed or "", district, row_answers["age_band"],
                row_answers["sex"], row_answers["ethnic_group"], row_answers["disability"], *ranked_cells,
                selected, row_answers["confidence"],
                "true" if comment else "false", ";".join(comment_themes(comment)) if comment else "",
            ])
    if problems.found:
        raise ConsultationError(problems.message(label))
    if not derived.rows:
        raise ConsultationError(f"{label}: the export has a header but no responses; nothing to load")
    return derived


def _why(role: str) -> str:
    if role in WEIGHTING_ROLES:
        return f"not an answer in seed {WEIGHTING_SEED.stem}"
    return f"not an answer the suite {SUITE.relative_to(PROJECT_ROOT)} allows"


def _write_derived(path: Path, derived: Derived) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.name for c in RESPONSES.columns])
        writer.writerows(derived.rows)


# --------------------------------------------------------------------------- what is there, fetch, load


def _partition(file: raw.SourceFile, label: str) -> dict[str, str]:
    survey, force = file.options.get("survey"), file.options.get("force")
    if not survey or not force:
        raise ConsultationError(f"{label}: configure `survey` (e.g. \"lancashire-2025\") and `force` (the "
                                "data.police.uk force id) for this file in [[consultation.files]]")
    return {"_survey": str(survey), "_force_id": str(force)}


def load_export(con: "duckdb.DuckDBPyConnection", export_path: Path, *, partition: dict[str, str], key: bytes,
                source_file: str, file_sha256: str, results_dir: Path | None = None,
                districts: Any = None) -> raw.LoadResult:
    """Derive, then replace the survey's partition, gate and log it (one transaction), then record refusals.

    ``districts``: the questionnaire's district names when configured; otherwise the force area's
    districts in the loaded ONS lookup (``force_districts``).
    """
    code_list, districts_from = force_districts(con, partition["_force_id"], districts, source_file)
    derived = derive(export_path, source_file, partition["_survey"], key, districts=code_list,
                     districts_from=districts_from)
    with tempfile.TemporaryDirectory(prefix="opcc-consultation-") as folder:
        path = Path(folder) / "responses.csv"
        _write_derived(path, derived)
        result = raw.load_file(con, RESPONSES, path, partition=partition, source_file=source_file,
                              file_sha256=file_sha256, results_dir=results_dir)
    if derived.refused:
        loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
        con.executemany(
            "insert into raw.load_rejects values (?, ?, ?, ?, ?, null, 'CELL_COUNT', ?, null, ?)",
            [[RESPONSES.table, raw.ALL_FORCES, result.label, source_file, line, reason, loaded_at]
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
    section = DECLARED.section(settings)
    key = pseudonymisation_key(section)  # before anything is read: no key, no load

    def load_unit(con, landed: raw.Landed, unit: raw.Unit, results_dir: Path) -> raw.LoadResult:
        partition = _partition(landed.file, unit.source_file)
        kept = _already_loaded(con, partition, landed.sha256)
        if kept:
            log.info("%s: unchanged since its last load (sha256 %s…); its %d rows are kept", unit.source_file,
                     landed.sha256[:12], kept)
            return raw.LoadResult(table=RESPONSES.table, partition=partition, source_file=unit.source_file,
                                 rows_loaded=0, rows_rejected=0, raw_rows=kept, notes_lines=0)
        return load_export(con, Path(unit.csv_path), partition=partition, key=key,
                           source_file=unit.source_file, file_sha256=landed.sha256, results_dir=results_dir,
                           districts=landed.file.options.get("districts"))

    return DECLARED.load(settings, load_unit, year, run_dir)
