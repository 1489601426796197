"""The demo's two ends: generate the bundled sample archive, and read headlines from the published file.

    python -m devtools.demo sample      # idempotent: skipped when the archive already matches
    python -m devtools.demo headlines   # three numbers an analyst would quote, read-only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingest.config import Settings, load_settings


def generate_samples(settings: Settings) -> None:
    """Every source's bundled sample: police.uk's archive, then each module's ``generate_sample``."""
    import importlib
    import pkgutil

    import devtools.sample

    generate_police_uk_sample(settings)
    for module_info in sorted(pkgutil.iter_modules(devtools.sample.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"devtools.sample.{module_info.name}")
        generate = getattr(module, "generate_sample", None)
        if callable(generate):
            print(f"sample {module_info.name}: {generate(settings)}", file=sys.stderr)


def generate_police_uk_sample(settings: Settings) -> Path:
    from devtools.sample.police_uk import generate_archive

    out_dir = settings.root / settings.sample.get("out_dir", "var/sample/police_uk")
    request = {
        "first_month": settings.police_uk.first_month,
        "last_month": settings.police_uk.last_month,
        "forces": list(settings.police_uk.forces),
        "seed": int(settings.sample.get("seed", 2011)),
        "scale": float(settings.sample.get("scale", 1.0)),
    }
    stamp = out_dir / "request.json"
    if stamp.exists() and json.loads(stamp.read_text()) == request:
        print(f"sample archive already generated in {out_dir}", file=sys.stderr)
        return out_dir
    summary = generate_archive(out_dir, **request)
    stamp.write_text(json.dumps(request, indent=2))
    print(f"sample archive generated in {out_dir}: {json.dumps(summary.get('rows', summary))[:300]}", file=sys.stderr)
    return out_dir


HEADLINE_SQL = {
    "latest_month": """
        with monthly as (
            select force_id, month_start, sum(crime_count) as crimes
            from evidence.fct_crime_monthly group by all
        ),
        latest as (select max(month_start) as month_start from monthly)
        select f.force_name, m.month_start, m.crimes, ly.crimes as crimes_last_year,
               round(100.0 * (m.crimes - ly.crimes) / nullif(ly.crimes, 0), 1) as change_pct
        from monthly m
        join latest using (month_start)
        left join monthly ly on ly.force_id = m.force_id and ly.month_start = m.month_start - interval 1 year
        join evidence.dim_force f on f.force_id = m.force_id
        order by f.force_name
    """,
    "charge_rate": """
        with latest as (select max(month_start) as last_month from evidence.fct_outcomes)
        select f.force_name,
               min(o.month_start) as first_month, max(o.month_start) as last_month,
               sum(o.charge_summons_count) as charged, sum(o.crime_count) as crimes,
               round(100.0 * sum(o.charge_summons_count) / nullif(sum(o.crime_count), 0), 1) as rate_pct
        from evidence.fct_outcomes o
        cross join latest
        join evidence.dim_force f on f.force_id = o.force_id
        where o.month_start > latest.last_month - interval 12 month
        group by f.force_name order by f.force_name
    """,
    "consultation": """
        select priorities.area_name, priorities.priority_label,
               100 * priorities.weighted_share, 100 * priorities.ci_lower_95, 100 * priorities.ci_upper_95,
               100 * confidence.weighted_share_confident, 100 * confidence.ci_lower_95, 100 * confidence.ci_upper_95,
               priorities.respondent_count
        from evidence.fct_consultation_priorities priorities
        join evidence.fct_confidence_in_police confidence
            using (survey_id, area_type, area_code, group_variable, group_value)
        where priorities.area_type = 'force_area' and priorities.group_variable = 'all' and priorities.priority_rank = 1
        order by priorities.area_name
    """,
}


def headlines(settings: Settings) -> list[str]:
    import duckdb

    path = settings.paths.published
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run `make demo` (or the evidence_build DAG) first")
    lines = [f"Published evidence base: {path}"]
    with duckdb.connect(str(path), read_only=True) as con:
        for force, month, crimes, last_year, change in con.execute(HEADLINE_SQL["latest_month"]).fetchall():
            lines.append(
                f"  {force}: {crimes:,} crimes and ASB incidents recorded in {month:%B %Y} "
                f"({change:+.1f}% on {last_year:,} in {month.year - 1})"
                if last_year else f"  {force}: {crimes:,} crimes and ASB incidents in {month:%B %Y}"
            )
        for force, first, last, charged, crimes, rate in con.execute(HEADLINE_SQL["charge_rate"]).fetchall():
            lines.append(
                f"  {force}: charge/summons rate {rate:.1f}% ({charged:,} of {crimes:,} crimes recorded "
                f"{first:%b %Y}–{last:%b %Y})"
            )
        for area, priority, share, low, high, confident, c_low, c_high, n in con.execute(
                HEADLINE_SQL["consultation"]).fetchall():
            lines.append(
                f"  {area}: consultation ({n:,} respondents, weighted to the Census) puts \"{priority}\" first "
                f"({share:.1f}%, 95% interval {low:.1f}–{high:.1f}%); {confident:.1f}% ({c_low:.1f}–{c_high:.1f}%) "
                "have confidence in the police"
            )
    docs = path.parent / "docs" / "index.html"
    if docs.exists():  # built by the evidence build after each publish
        lines.append(f"Documentation (dbt docs, gate results, exports): {docs}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["sample", "headlines"])
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "sample":
        generate_samples(settings)
    else:
        print("\n".join(headlines(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
