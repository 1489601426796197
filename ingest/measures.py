"""The plan's measure framework: read and check the plan's seeds before dbt runs.

The Police and Crime Plan is data the office edits, in three seeds of ``dbt_project/seeds``:
``plan_version.csv`` (one row: title, version, the period the plan runs for),
``plan_objectives.csv`` (one row per objective: id, order, title, statement) and
``plan_measures.csv`` (one row per measure, under its objective_id). Each measure row says which mart and column it counts, how it is
filtered, whether lower is better, its geography, frequency, baseline rule, target and
comparator. This module refuses files that would silently measure the wrong thing — an unknown
objective, mart, column, filter value or polarity, an objective without a measure — with one
message per problem that names the file and line::

    python -m ingest.measures check                               # the shipped plan
    python -m ingest.measures check my.csv --objectives obj.csv   # a draft

The marts a measure may read (their period and area columns, and the columns a measure may
sum or filter on) are the ``plan_measure_marts`` block of ``dbt_project/dbt_project.yml``'s
``vars``: the dbt models read the same block, so the check and the build agree.

The rules dbt applies when it builds (``plan_measure_problems`` in
``dbt_project/macros/plan_measures.sql``, called by ``int_measure__plan``) are not repeated
here: this check runs that macro itself, on the file's rows, so the two cannot drift. The rules
below are the ones the macro does not have (identifiers, numbers, national priorities,
ranking, filter values, the objectives file and the version); a rule dbt should enforce too belongs in the macro.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from ingest.config import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PLAN_FILE = DBT_PROJECT_DIR / "seeds" / "plan_measures.csv"
OBJECTIVES_FILE = DBT_PROJECT_DIR / "seeds" / "plan_objectives.csv"
VERSION_FILE = DBT_PROJECT_DIR / "seeds" / "plan_version.csv"
DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"

OBJECTIVE_COLUMNS = ("objective_id", "objective_order", "objective", "statement")
VERSION_COLUMNS = ("plan_title", "version", "period_start", "period_end", "published_on")
COLUMNS = (
    "objective_id", "measure_id", "measure_name", "mart", "numerator", "denominator",
    "filter", "statistic", "unit", "polarity", "geography", "frequency", "baseline_rule", "target",
    "comparator", "maturity_months", "national", "national_priority", "data_gap_reason", "description",
)
PLAN_MACROS = DBT_PROJECT_DIR / "macros" / "plan_measures.sql"
# Only for the rules the macro does not hold: which statistics take a denominator column of their
# own, and which are comparable across forces of different sizes.
NEEDS_DENOMINATOR = {"proportion", "ratio"}
RANKABLE = {"rate_per_1000_population", "proportion", "disproportionality"}
# The six National Crime and Policing Measures (Specified Information Order, as amended 2021).
NATIONAL_PRIORITIES = {
    "homicide": "Reduce murder and other homicide",
    "serious_violence": "Reduce serious violence",
    "drugs_county_lines": "Disrupt drugs supply and county lines",
    "neighbourhood_crime": "Reduce neighbourhood crime",
    "cyber_crime": "Tackle cyber crime",
    "victim_satisfaction": "Improve satisfaction among victims, with a particular focus on victims of domestic abuse",
}
BOOLEAN_VALUES = {"true", "false"}
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class PlanError(ValueError):
    """The plan file has problems; ``problems`` holds one message per problem, each naming its line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the plan's measures:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Mart:
    """A relation a measure may read (an entry of ``vars.plan_measure_marts``)."""

    name: str
    status: str
    schema: str
    grain: str
    period: str
    force: str
    columns: tuple[str, ...]
    csp: str | None = None
    lsoa: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Objective:
    """An objective of the plan (a row of ``plan_objectives.csv``)."""

    line: int
    objective_id: str
    order: int
    title: str
    statement: str


@dataclass(frozen=True)
class PlanVersion:
    """The plan the measures belong to (the row of ``plan_version.csv``)."""

    title: str
    version: str
    period_start: date
    period_end: date
    published_on: date | None


@dataclass(frozen=True)
class Measure:
    line: int
    objective_id: str
    objective: str
    measure_id: str
    measure_name: str
    mart: str | None
    numerator: str | None
    denominator: str | None
    filters: tuple[tuple[str, str, tuple[str, ...]], ...]  # (column, '=' or '!=', values)
    statistic: str
    unit: str
    polarity: str
    geographies: tuple[str, ...]
    frequency: str
    baseline_rule: str
    target: float | None
    comparator: str
    maturity_months: int
    national: bool
    national_priority: str | None
    data_gap_reason: str | None
    description: str


def dbt_vars(project_file: Path = DBT_PROJECT_FILE) -> dict[str, Any]:
    import yaml  # PyYAML comes with dbt

    return (yaml.safe_load(project_file.read_text()) or {}).get("vars", {}) or {}


def load_marts(project_file: Path = DBT_PROJECT_FILE) -> dict[str, Mart]:
    registry = dbt_vars(project_file).get("plan_measure_marts") or {}
    marts = {}
    for name, entry in registry.items():
        marts[name] = Mart(
            name=name, status=entry["status"], schema=entry["schema"], grain=entry["grain"],
            period=entry["period"], force=entry["force"], columns=tuple(entry.get("columns", ())),
            csp=entry.get("csp"), lsoa=entry.get("lsoa"), values=dict(entry.get("values") or {}),
        )
    return marts


def parse_filter(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """``crime_type=Burglary|Robbery; is_anti_social_behaviour=false`` -> [(column, op, values), ...].

    Raises ValueError with what is wrong in the text.
    """
    clauses = []
    for clause in (part.strip() for part in text.split(";")):
        if not clause:
            continue
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=)\s*(.+)$", clause)
        if not match:
            raise ValueError(f"filter clause {clause!r} is not column=value|value or column!=value")
        column, op, values = match.groups()
        clauses.append((column, op, tuple(v.strip() for v in values.split("|") if v.strip())))
    return clauses


def _seed_values(reference: str, seeds_dir: Path) -> set[str] | None:
    """``seed:crime_types.crime_type`` -> the values in that seed column (None when unreadable)."""
    match = re.match(r"^seed:([a-z0-9_]+)\.([a-z0-9_]+)$", reference)
    path = seeds_dir / f"{match.group(1)}.csv" if match else None
    if not path or not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        return {row[match.group(2)] for row in csv.DictReader(handle)}


def _allowed_values(mart: Mart, column: str, seeds_dir: Path) -> set[str] | None:
    spec = mart.values.get(column)
    if isinstance(spec, list):
        return {str(v) for v in spec}
    if isinstance(spec, str):
        return _seed_values(spec, seeds_dir)
    if column.startswith(("is_", "has_")):
        return BOOLEAN_VALUES
    return None


class _MacroReturn(Exception):
    """dbt's ``return()``: ends the macro with a value (dbt implements it the same way)."""

    def __init__(self, value: Any):
        super().__init__()
        self.value = value


def _raise_return(value: Any) -> None:
    raise _MacroReturn(value)


def dbt_macros(path: Path, variables: dict[str, Any]) -> dict[str, Any]:
    """The macros of a dbt macro file as Python callables, run as dbt runs them: each macro on its
    own, calling the file's other macros by name, ``return()`` giving the value and ``var()``
    reading ``variables``. Only what the plan's macros use is provided (no ``ref``, no adapter)."""
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(extensions=["jinja2.ext.do"])
    callables: dict[str, Any] = {}
    scope = {"return": _raise_return, "var": lambda name, default=None: variables.get(name, default)}

    def bind(name: str, template) -> None:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                getattr(template.module, name)(*args, **kwargs)
            except _MacroReturn as returned:
                return returned.value
            return None

        callables[name] = call

    # One template per macro, as dbt compiles them: a macro then finds the others through the
    # shared scope (where each is wrapped to catch its own return) rather than as its siblings.
    for macro in env.parse(path.read_text(encoding="utf-8")).find_all(nodes.Macro):
        code = env.compile(nodes.Template([macro], lineno=1), name=macro.name, filename=str(path))
        bind(macro.name, env.template_class.from_code(env, code, scope))
    scope.update(callables)  # before any template's module is made, so each sees them all
    return callables


def _macro_problems(rows: list[dict[str, Any]], registry: dict[str, Any],
                    objective_ids: list[str] | None = None) -> dict[int, list[str]]:
    """dbt's checks of the plan (``plan_measure_problems``) on ``rows``, by line, each without the
    place the macro names (dbt always names the shipped seed; this may be a draft)."""
    macros = dbt_macros(PLAN_MACROS, {**dbt_vars(), "plan_measure_marts": registry})
    problems: dict[int, list[str]] = {}
    for problem in macros["plan_measure_problems"](rows, objective_ids) or []:
        where = re.match(r"^.*? line (\d+): measure .*?: (.*)$", problem, re.S)
        line, text = (int(where[1]), where[2]) if where else (0, problem)
        problems.setdefault(line, []).append(text)
    return problems


def _macro_row(row: dict[str, str], line: int) -> dict[str, Any]:
    """A row of the file as dbt's seed gives it to the macro: trimmed, an empty field NULL."""
    return {**{key: (value or "").strip() or None for key, value in row.items()}, "source_line": line}


def _check_row(row: dict[str, str], marts: dict[str, Mart], seeds_dir: Path) -> tuple[list[str], Measure | None]:
    """Problems with one row that dbt's macro does not check (without the line prefix), and the
    measure when there are none. The macro's problems are found by ``_macro_problems``."""
    problems: list[str] = []
    get = lambda key: (row.get(key) or "").strip()  # noqa: E731

    for key in ("objective_id", "measure_id"):
        if not IDENTIFIER.match(get(key)):
            problems.append(f"{key} {get(key)!r} must be lower_snake_case (letters, digits, underscores)")
    for key in ("measure_name",):
        if not get(key):
            problems.append(f"{key} is empty")

    statistic = get("statistic")
    geographies = tuple(g.strip() for g in get("geography").split("|") if g.strip())
    if "force" not in geographies:
        problems.append("geography must include force")

    target = get("target")
    if target and not NUMBER.match(target):
        problems.append(f"target {target!r} is not a number")
    maturity = get("maturity_months") or "0"
    if not maturity.isdigit() or int(maturity) > 24:
        problems.append(f"maturity_months {maturity!r} must be a whole number of months from 0 to 24")
    national = get("national").lower() or "false"
    if national not in BOOLEAN_VALUES:
        problems.append(f"national {get('national')!r} must be true or false")
    priority = get("national_priority")
    if priority and priority not in NATIONAL_PRIORITIES:
        problems.append(f"unknown national_priority {priority!r} (expected one of: {', '.join(NATIONAL_PRIORITIES)})")
    if national == "true" and not priority:
        problems.append("a national measure (national=true) needs its national_priority")
    if get("comparator") == "msg":
        if statistic not in RANKABLE:
            problems.append(f"comparator msg ranks forces of different sizes: use it with a rate or proportion, not {statistic!r}")
        if get("polarity") == "neutral":
            problems.append("comparator msg needs a polarity to rank by (lower_is_better or higher_is_better)")

    mart_name = get("mart")
    mart = marts.get(mart_name) if mart_name else None
    filters: list = []
    if mart is not None:
        if statistic not in NEEDS_DENOMINATOR and get("denominator"):
            problems.append(f"a {statistic} has no denominator column (found {get('denominator')!r})")
        try:
            filters = parse_filter(get("filter"))
        except ValueError as exc:
            problems.append(str(exc))
        for column, _op, values in filters:
            allowed = _allowed_values(mart, column, seeds_dir) if column in mart.columns else None
            for value in values:
                if allowed is not None and value not in allowed:
                    problems.append(f"unknown value {value!r} for {column} in the filter (known: {', '.join(sorted(allowed))})")
        if statistic == "disproportionality":
            groups = [values for column, op, values in filters if column == "ethnic_group" and op == "="]
            if len(groups) != 1 or len(groups[0]) != 1 or groups[0][0] == "White":
                problems.append("a disproportionality measure filters on exactly one ethnic group other than White "
                                "(e.g. ethnic_group=Black): it is compared with White")

    if problems:
        return problems, None
    return [], Measure(
        line=0, objective_id=get("objective_id"), objective="", measure_id=get("measure_id"),
        measure_name=get("measure_name"), mart=mart_name or None, numerator=get("numerator") or None,
        denominator=get("denominator") or None, filters=tuple(filters), statistic=statistic, unit=get("unit"),
        polarity=get("polarity"), geographies=geographies, frequency=get("frequency"),
        baseline_rule=get("baseline_rule"), target=float(target) if target else None,
        comparator=get("comparator"), maturity_months=int(maturity), national=national == "true",
        national_priority=priority or None, data_gap_reason=get("data_gap_reason") or None,
        description=get("description"),
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _read_rows(path: Path, columns: tuple[str, ...], what: str) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """The file's rows by line (blank lines skipped), and a problem for each line that is not one
    whole row; a file without the expected header is refused at once (PlanError)."""
    where = _display(path)
    problems: list[tuple[int, str]] = []  # (line, message): reported in the file's order
    rows: list[tuple[int, dict[str, str]]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise PlanError([f"{where} line 1: the file is empty (expected the header: {','.join(columns)})"])
        header = [h.strip() for h in header]
        missing = [c for c in columns if c not in header]
        unknown = [c for c in header if c not in columns]
        if missing or unknown:
            raise PlanError([f"{where} line 1: header " + "; ".join(
                part for part in (f"missing column(s) {', '.join(missing)}" if missing else "",
                                  f"unknown column(s) {', '.join(unknown)}" if unknown else "") if part
            ) + f" (expected: {','.join(columns)})"])
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if line != reader.line_num:
                problems.append((line, f"{where} line {line}: a field spans lines {line}-{reader.line_num}; keep each {what} on one line"))
                continue
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append((line, f"{where} line {line}: {len(values)} fields, expected {len(header)} (a comma in a text needs quotes)"))
                continue
            rows.append((line, {key: (value or "").strip() for key, value in zip(header, values)}))
    return rows, problems


def load_objectives(path: Path = OBJECTIVES_FILE) -> list[Objective]:
    """The plan's objectives in their report order. Raises PlanError listing every problem by line."""
    where = _display(path)
    rows, problems = _read_rows(path, OBJECTIVE_COLUMNS, "objective")
    objectives: list[Objective] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, row in rows:
        found = []
        if not IDENTIFIER.match(row["objective_id"]):
            found.append(f"objective_id {row['objective_id']!r} must be lower_snake_case (letters, digits, underscores)")
        if not row["objective_order"].isdigit() or int(row["objective_order"]) < 1:
            found.append(f"objective_order {row['objective_order']!r} must be a whole number from 1")
        for key in ("objective", "statement"):
            if not row[key]:
                found.append(f"{key} is empty")
        for key in ("objective_id", "objective_order"):
            if (key, row[key]) in first_line:
                found.append(f"{key} {row[key]!r} is already used on line {first_line[key, row[key]]}")
            first_line.setdefault((key, row[key]), line)
        problems += [(line, f"{where} line {line}: objective {row['objective_id'] or '?'}: {p}") for p in found]
        if not found:
            objectives.append(Objective(line, row["objective_id"], int(row["objective_order"]), row["objective"],
                                        row["statement"]))
    if problems:
        raise PlanError([message for _, message in sorted(problems)])
    if not objectives:
        raise PlanError([f"{where}: no objectives"])
    return sorted(objectives, key=lambda o: o.order)


def load_version(path: Path = VERSION_FILE) -> PlanVersion:
    """The plan's title, version and period (the file's one row). Raises PlanError saying what is wrong."""
    where = _display(path)
    rows, problems = _read_rows(path, VERSION_COLUMNS, "field")
    messages = [message for _, message in problems]
    if not problems and len(rows) != 1:
        messages.append(f"{where}: {len(rows)} rows, expected one (the plan the measures belong to)")
    for line, row in rows[:1]:
        dates = {}
        for key in ("period_start", "period_end", "published_on"):
            try:
                dates[key] = date.fromisoformat(row[key]) if row[key] else None
            except ValueError:
                messages.append(f"{where} line {line}: {key} {row[key]!r} is not a date like 2025-04-01")
        for key in ("plan_title", "version", "period_start", "period_end"):
            if not row[key]:
                messages.append(f"{where} line {line}: {key} is empty")
        if dates.get("period_start") and dates.get("period_end") and dates["period_start"] >= dates["period_end"]:
            messages.append(f"{where} line {line}: period_start {row['period_start']} is not before period_end {row['period_end']}")
    if messages:
        raise PlanError(messages)
    row = rows[0][1]
    return PlanVersion(row["plan_title"], row["version"], dates["period_start"], dates["period_end"], dates["published_on"])


def load_plan(path: Path = PLAN_FILE, marts: dict[str, Mart] | None = None,
              objectives_path: Path = OBJECTIVES_FILE) -> list[Measure]:
    """The plan's measures, in file order, each under an objective of ``objectives_path``. Raises
    PlanError listing every problem by line."""
    marts = load_marts() if marts is None else marts
    objectives = {o.objective_id: o for o in load_objectives(objectives_path)}
    where = _display(path)
    seeds_dir = DBT_PROJECT_DIR / "seeds"
    rows, problems = _read_rows(path, COLUMNS, "measure")

    registry = {name: asdict(mart) for name, mart in marts.items()}
    dbt_problems = _macro_problems([_macro_row(row, line) for line, row in rows], registry, list(objectives))
    measures: list[Measure] = []
    for line, row in rows:
        row_problems, measure = _check_row(row, marts, seeds_dir)
        row_problems = dbt_problems.pop(line, []) + row_problems
        measure_id = (row.get("measure_id") or "").strip()
        if row_problems:
            problems += [(line, f"{where} line {line}: measure {measure_id or '?'}: {p}") for p in row_problems]
        elif measure is not None:
            measures.append(replace(measure, line=line, objective=objectives[measure.objective_id].title))
    # A problem the macro did not place on a line of ours is still a problem: say it as dbt does.
    problems += [(line, f"{where}: {p}") for line, texts in dbt_problems.items() for p in texts]
    if not problems:
        served = {m.objective_id for m in measures}
        problems += [(0, f"{_display(objectives_path)} line {o.line}: objective {o.objective_id} has no measure in {where}")
                     for o in objectives.values() if o.objective_id not in served]
    if problems:
        raise PlanError([message for _, message in sorted(problems, key=lambda item: item[0])])
    if not measures:
        raise PlanError([f"{where}: no measures"])
    return measures


def check_marts_against_models(marts: dict[str, Mart] | None = None) -> list[str]:
    """Problems in the registry itself (marts and lookups): one marked available that is not a dbt
    model or seed, a column it lists that the model's yml does not document, or a planned one that is
    now a model of the project (mark it available, so the measures are built after it)."""
    import yaml

    marts = load_marts() if marts is None else marts
    lookups = dbt_vars().get("plan_measure_lookups") or {}
    marts = {**marts, **{name: Mart(name=name, status=entry["status"], schema=entry["schema"], grain="", period="",
                                    force="", columns=tuple(entry.get("columns", ())))
                         for name, entry in lookups.items()}}
    documented: dict[str, set[str]] = {}
    for yml in sorted(DBT_PROJECT_DIR.glob("models/**/*.yml")) + sorted(DBT_PROJECT_DIR.glob("seeds/*.yml")):
        content = yaml.safe_load(yml.read_text()) or {}
        for node in (content.get("models") or []) + (content.get("seeds") or []):
            documented[node["name"]] = {c["name"] for c in node.get("columns") or []}
    seeds = {p.stem for p in DBT_PROJECT_DIR.glob("seeds/*.csv")}
    models = {p.stem for p in DBT_PROJECT_DIR.glob("models/**/*.sql")}
    problems = []
    for name, mart in marts.items():
        exists = name in models or name in seeds
        if mart.status == "available":
            if not exists:
                problems.append(f"{name}: status available, but there is no model or seed of that name")
            elif name in documented:
                used = set(mart.columns) | {c for c in (mart.period, mart.force, mart.csp, mart.lsoa) if c}
                undocumented = sorted(used - documented[name])
                if undocumented:
                    problems.append(f"{name}: columns {', '.join(undocumented)} are not documented in its yml")
        elif exists:
            problems.append(f"{name} is now a model or seed of the project: set status: available for it in "
                            "vars.plan_measure_marts (dbt_project/dbt_project.yml) so the measures build after it")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check the plan file and say what is wrong, line by line")
    check.add_argument("path", nargs="?", type=Path, default=PLAN_FILE)
    check.add_argument("--objectives", type=Path, default=OBJECTIVES_FILE, help="the objectives file (plan_objectives.csv)")
    check.add_argument("--version", type=Path, default=VERSION_FILE, help="the plan's version file (plan_version.csv)")
    args = parser.parse_args(argv)
    try:
        version = load_version(args.version)
        measures = load_plan(args.path, objectives_path=args.objectives)
    except PlanError as exc:
        print(exc, file=sys.stderr)
        return 1
    gaps = [m.measure_id for m in measures if m.mart is None]
    national = sorted({m.national_priority for m in measures if m.national})
    print(f"{version.title} {version.version} ({version.period_start:%B %Y} to {version.period_end:%B %Y}), "
          f"{_display(args.path)}: {len(measures)} measures in {len({m.objective_id for m in measures})} objectives; "
          f"{len(national)} of 6 national priorities; {len(gaps)} without a source yet ({', '.join(gaps) or 'none'})")
    missing = sorted(set(NATIONAL_PRIORITIES) - set(national))
    if missing:
        print(f"warning: no national measure for {', '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
