"""The plan's measure framework: read and check ``dbt_project/seeds/plan_measures.csv`` before dbt runs.

The Police and Crime Plan's objectives and measures are data an analyst edits: one row per
measure, saying which mart and column it counts, how it is filtered, whether lower is better,
its geography, frequency, baseline rule, target and comparator. This module refuses a file
that would silently measure the wrong thing — an unknown mart, column, filter value or
polarity — with one message per problem that names the file and line::

    python -m ingest.measures check            # the shipped plan
    python -m ingest.measures check my.csv     # a draft

The marts a measure may read (their period and area columns, and the columns a measure may
sum or filter on) are the ``plan_measure_marts`` block of ``dbt_project/dbt_project.yml``'s
``vars``: the dbt models read the same block, so the check and the build agree. dbt checks
the same rules again when it builds (``int_measure__plan``), naming the same line.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.config import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PLAN_FILE = DBT_PROJECT_DIR / "seeds" / "plan_measures.csv"
DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"

COLUMNS = (
    "objective_id", "objective", "measure_id", "measure_name", "mart", "numerator", "denominator",
    "filter", "statistic", "unit", "polarity", "geography", "frequency", "baseline_rule", "target",
    "comparator", "maturity_months", "national", "national_priority", "data_gap_reason", "description",
)
STATISTICS = {
    # statistic: the units it may be shown in
    "count": {"count"},
    "rate_per_1000_population": {"per_1000_residents"},
    "proportion": {"percent"},
    "ratio": {"percent", "ratio"},
    "total": {"count", "gbp"},
    "disproportionality": {"ratio"},
}
NEEDS_DENOMINATOR = {"proportion", "ratio"}
RANKABLE = {"rate_per_1000_population", "proportion", "disproportionality"}
POLARITIES = ("lower_is_better", "higher_is_better", "neutral")
GEOGRAPHIES = ("force", "csp")
FREQUENCIES = {"monthly": "month", "quarterly": "quarter", "annual": "year"}
BASELINE_RULES = ("same_period_last_year", "mean_previous_3_years", "previous_period")
COMPARATORS = ("none", "msg")
# The six National Crime and Policing Measures (Specified Information Order, as amended 2021).
NATIONAL_PRIORITIES = {
    "homicide": "Reduce murder and other homicide",
    "serious_violence": "Reduce serious violence",
    "drugs_county_lines": "Disrupt drugs supply and county lines",
    "neighbourhood_crime": "Reduce neighbourhood crime",
    "cyber_crime": "Tackle cyber crime",
    "victim_satisfaction": "Improve satisfaction among victims, with a particular focus on victims of domestic abuse",
}
ROWS = "rows"  # numerator/denominator: count the mart's rows
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


def _one_of(value: str, allowed, what: str) -> str | None:
    if value not in allowed:
        return f"unknown {what} {value!r} (expected one of: {', '.join(allowed)})"
    return None


def _check_row(row: dict[str, str], marts: dict[str, Mart], seeds_dir: Path) -> tuple[list[str], Measure | None]:
    """Problems with one row (without the line prefix), and the measure when there are none."""
    problems: list[str] = []
    get = lambda key: (row.get(key) or "").strip()  # noqa: E731

    for key in ("objective_id", "measure_id"):
        if not IDENTIFIER.match(get(key)):
            problems.append(f"{key} {get(key)!r} must be lower_snake_case (letters, digits, underscores)")
    for key in ("objective", "measure_name"):
        if not get(key):
            problems.append(f"{key} is empty")

    statistic, unit = get("statistic"), get("unit")
    for problem in (
        _one_of(statistic, list(STATISTICS), "statistic"),
        _one_of(get("polarity"), POLARITIES, "polarity"),
        _one_of(get("frequency"), list(FREQUENCIES), "frequency"),
        _one_of(get("baseline_rule"), BASELINE_RULES, "baseline_rule"),
        _one_of(get("comparator"), COMPARATORS, "comparator"),
    ):
        if problem:
            problems.append(problem)
    if statistic in STATISTICS and unit not in STATISTICS[statistic]:
        problems.append(f"unit {unit!r} does not fit statistic {statistic!r} (expected one of: {', '.join(sorted(STATISTICS[statistic]))})")

    geographies = tuple(g.strip() for g in get("geography").split("|") if g.strip())
    for geography in geographies:
        if geography not in GEOGRAPHIES:
            problems.append(f"unknown geography {geography!r} (expected force, or force|csp)")
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
    if not mart_name:
        if not get("data_gap_reason"):
            problems.append("no mart: say why in data_gap_reason (the measure is reported as a data gap)")
    elif mart is None:
        problems.append(f"unknown mart {mart_name!r} (known: {', '.join(marts)}; a new mart is added to "
                        "vars.plan_measure_marts in dbt_project/dbt_project.yml)")
    else:
        if FREQUENCIES.get(get("frequency")) not in (None, mart.grain):
            problems.append(f"frequency {get('frequency')!r} does not match {mart_name}, which is by {mart.grain}")
        for key in ("numerator", "denominator"):
            column = get(key)
            if column and column != ROWS and column not in mart.columns:
                problems.append(f"unknown {key} column {column!r} in {mart_name} (known: {', '.join(mart.columns)}, or rows)")
        if not get("numerator"):
            problems.append("numerator is empty: name the column to add up (or rows)")
        if statistic in NEEDS_DENOMINATOR and not get("denominator"):
            problems.append(f"a {statistic} needs a denominator column")
        if statistic in STATISTICS and statistic not in NEEDS_DENOMINATOR and get("denominator"):
            problems.append(f"a {statistic} has no denominator column (found {get('denominator')!r})")
        if "csp" in geographies and not (mart.csp or mart.lsoa):
            problems.append(f"geography csp: {mart_name} has no CSP or LSOA column")
        try:
            filters = parse_filter(get("filter"))
        except ValueError as exc:
            problems.append(str(exc))
        for column, _op, values in filters:
            if column not in mart.columns:
                problems.append(f"unknown filter column {column!r} in {mart_name} (known: {', '.join(mart.columns)})")
                continue
            if not values:
                problems.append(f"filter on {column!r} has no values")
            allowed = _allowed_values(mart, column, seeds_dir)
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
        line=0, objective_id=get("objective_id"), objective=get("objective"), measure_id=get("measure_id"),
        measure_name=get("measure_name"), mart=mart_name or None, numerator=get("numerator") or None,
        denominator=get("denominator") or None, filters=tuple(filters), statistic=statistic, unit=unit,
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


def load_plan(path: Path = PLAN_FILE, marts: dict[str, Mart] | None = None) -> list[Measure]:
    """The plan's measures, in file order. Raises PlanError listing every problem by line."""
    marts = load_marts() if marts is None else marts
    where = _display(path)
    seeds_dir = DBT_PROJECT_DIR / "seeds"
    problems: list[str] = []
    measures: list[Measure] = []
    first_line: dict[str, int] = {}
    objective_names: dict[str, tuple[str, int]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise PlanError([f"{where} line 1: the file is empty (expected the header: {','.join(COLUMNS)})"])
        header = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown:
            raise PlanError([f"{where} line 1: header " + "; ".join(
                part for part in (f"missing column(s) {', '.join(missing)}" if missing else "",
                                  f"unknown column(s) {', '.join(unknown)}" if unknown else "") if part
            ) + f" (expected: {','.join(COLUMNS)})"])
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if line != reader.line_num:
                problems.append(f"{where} line {line}: a field spans lines {line}-{reader.line_num}; keep each measure on one line")
                continue
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append(f"{where} line {line}: {len(values)} fields, expected {len(header)} (a comma in a text needs quotes)")
                continue
            row = dict(zip(header, values))
            row_problems, measure = _check_row(row, marts, seeds_dir)
            measure_id = (row.get("measure_id") or "").strip()
            if measure_id in first_line:
                row_problems.append(f"measure_id {measure_id!r} is already used on line {first_line[measure_id]}")
            else:
                first_line[measure_id] = line
            objective_id, objective = (row.get("objective_id") or "").strip(), (row.get("objective") or "").strip()
            if objective_id in objective_names and objective_names[objective_id][0] != objective:
                name, at = objective_names[objective_id]
                row_problems.append(f"objective {objective_id!r} is named {objective!r} here but {name!r} on line {at}")
            objective_names.setdefault(objective_id, (objective, line))
            if row_problems:
                problems += [f"{where} line {line}: measure {measure_id or '?'}: {p}" for p in row_problems]
            elif measure is not None:
                measures.append(_with_line(measure, line))
    if problems:
        raise PlanError(problems)
    if not measures:
        raise PlanError([f"{where}: no measures"])
    return measures


def _with_line(measure: Measure, line: int) -> Measure:
    from dataclasses import replace

    return replace(measure, line=line)


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
    args = parser.parse_args(argv)
    try:
        measures = load_plan(args.path)
    except PlanError as exc:
        print(exc, file=sys.stderr)
        return 1
    gaps = [m.measure_id for m in measures if m.mart is None]
    national = sorted({m.national_priority for m in measures if m.national})
    print(f"{_display(args.path)}: {len(measures)} measures in {len({m.objective_id for m in measures})} objectives; "
          f"{len(national)} of 6 national priorities; {len(gaps)} without a source yet ({', '.join(gaps) or 'none'})")
    missing = sorted(set(NATIONAL_PRIORITIES) - set(national))
    if missing:
        print(f"warning: no national measure for {', '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
