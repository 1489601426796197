"""A force's monthly return of counts: the row rules the template sources of that shape share.

The office receives several returns from the force as one CSV per force, one row per month, each
row a force, a ``YYYY-MM`` month and whole-number counts, some of which are parts of others (repeat
victims are among all victims; positive outcomes among all outcomes). ``MonthlyReturn`` holds one
return's rules and checks a file against them before it loads, naming every line at fault: a
known force, a month, counts that are whole numbers within range, no part larger than its whole, a
force-month once, no row cut short (``raw.check_rows``). A source module declares its contract
(``monthly_contract``: the force and month columns, then its measures) and its ``MonthlyReturn``;
anything else it checks (a text column, an estimate) it passes as ``extra``.

Only the standard library and ``ingest.raw`` are imported (DAG files import the source modules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest import raw
from ingest.force_names import resolve_force


def count_column(name: str, description: str) -> raw.Column:
    """A whole-number column whose header is its name, with spaces or underscores between words."""
    return raw.Column(name, r"[\s_]+".join(name.split("_")), "BIGINT", clean=raw.Clean.INTEGER_TEXT,
                      description=description)


def monthly_contract(source: str, description: str, *measures: raw.Column,
                     month_description: str = "Calendar month, YYYY-MM") -> raw.Contract:
    """The contract of ``source``'s monthly return: raw table ``<source>_monthly``, each row a force
    and a month (the columns ``row_problems`` and the force-month key read) and then ``measures``;
    one return per force, each file its own edition replacing that force's rows."""
    return raw.Contract(
        dataset="monthly",
        table=f"{source}_monthly",
        description=description,
        columns=(
            raw.Column("force", description="Force name or data.police.uk id"),
            raw.Column("month", description=month_description),
            *measures,
        ),
        partition=("_edition",),
        header_starts_with=("force",),
    )


def force_and_month_problems(row: raw.TemplateRow, month_column: str = "month") -> list[str]:
    """A template row's force (a force the platform knows) and month (``YYYY-MM``), or what is wrong."""
    return [p for p in (raw.force_problem(row), raw.month_problem(row, month_column)) if p]


@dataclass(frozen=True)
class MonthlyReturn:
    """One return's rules: its contract, its count columns and their ceiling, the (part, whole)
    pairs, and how a refusal names the return and where its instructions are."""

    contract: raw.Contract
    counts: tuple[str, ...]
    max_count: int
    within: tuple[tuple[str, str], ...]  # a pair with an empty cell is not compared
    what: str  # e.g. "force vulnerability return"
    readme: str  # e.g. "templates/force_vulnerability/README.md"
    extra: Callable[[raw.TemplateRow], list[str]] | None = None
    optional_counts: tuple[str, ...] = ()  # counts a row may leave empty (a line the return does not cover)

    def row_problems(self, row: raw.TemplateRow) -> list[str]:
        v, where = row.values, f"line {row.line}"
        problems = force_and_month_problems(row)
        bad = set()
        for column in self.counts + self.optional_counts:
            problem = raw.number_problem(row, column, 0, self.max_count, integer=True, required=column in self.counts)
            if problem:
                problems.append(problem)
                bad.add(column)
        for part, whole in self.within:
            if part in bad or whole in bad or not (v[part] and v[whole]):
                continue
            if float(v[part].replace(",", "")) > float(v[whole].replace(",", "")):
                problems.append(f"{where}: {part} ({v[part]}) is more than {whole} ({v[whole]})")
        return problems + (self.extra(row) if self.extra else [])

    def check_template(self, csv_path: Path, label: str) -> int:
        """Refuse the file, naming every line at fault (up to 20), unless each row keeps the rules
        and no force-month appears twice. Returns the number of rows."""

        def force_month(row: raw.TemplateRow) -> tuple[object, str] | None:
            force_id = resolve_force(row.values["force"]) if row.values["force"] else None
            return ((force_id, row.values["month"]), f"{row.values['force']} {row.values['month']}") if force_id else None

        return raw.check_rows(csv_path, self.contract, label, self.row_problems, self.what,
                              f"Fix the return (see {self.readme}) and rerun the load.", unique=force_month)

    def load(self, source: raw.FileSource, settings, year: int | None, run_dir: Path | None) -> dict[str, dict]:
        """Load every landed return of ``source``: each checked, then one transaction (a refused file
        keeps the previous rows)."""
        return source.load(settings, raw.template_loader(self.contract, self.check_template), year, run_dir)
