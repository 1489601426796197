"""Sample PEEL grades in the office's CSV template (``templates/hmicfrs/peel_grades_template.csv``).

Four programmes per force, with the areas each one graded:

* PEEL 2016 and PEEL 2018/19 — Effectiveness, Efficiency, Legitimacy on the four-point scale;
* PEEL 2021/22 — ten areas on the five-point scale, plus the ungraded victim service assessment;
* PEEL 2023-25 — eight areas on the five-point scale, plus the victim service assessment.

Forces: the configured ones and every member of their most similar groups (seed
``most_similar_groups``), so each force's position in its group can be computed. Grades are
SYNTHETIC (drawn from a distribution close to the published ones, keyed on seed, force,
programme and area); causes of concern come with Inadequate and most Requires improvement
grades, areas for improvement with anything below Outstanding. Report URLs follow HMICFRS's
page pattern. The file's first line says it is a synthetic sample.

    python -m devtools.sample.hmicfrs --out var/sample/hmicfrs --forces lancashire west-midlands
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Sequence

from devtools.sample.writing import write_if_changed
from devtools.sample.forces import get_force
from ingest.sources.hmicfrs import FIVE_POINT, FOUR_POINT, PEEL_GRADES

log = logging.getLogger(__name__)

FILE_NAME = "peel_grades.csv"
PILLARS = ("Effectiveness", "Efficiency", "Legitimacy")
AREAS_2021 = (
    "Engaging with and treating the public with fairness and respect", "Preventing crime and anti-social behaviour",
    "Responding to the public", "Investigating crime", "Protecting vulnerable people",
    "Managing offenders and suspects", "Disrupting serious organised crime",
    "Building, supporting and protecting the workforce",
    "Strategic planning, organisational management and value for money", "Recording data about crime",
)
AREAS_2023 = (
    "Police powers and public treatment", "Preventing and deterring crime and anti-social behaviour",
    "Responding to the public", "Investigating crime", "Protecting vulnerable people",
    "Managing offenders and suspects", "Building, supporting and protecting the workforce",
    "Leadership and force management",
)
VICTIM_SERVICE = "Victim service assessment"


@dataclass(frozen=True)
class Programme:
    name: str
    year: int
    areas: tuple[str, ...]
    ungraded: tuple[str, ...]
    first_published: date
    publication_days: int  # reports come out over this many days
    url: str  # {slug} is the force id

    @property
    def grades(self) -> tuple[str, ...]:
        return FOUR_POINT if self.year < 2021 else FIVE_POINT


PROGRAMMES = (
    Programme("PEEL 2016", 2016, PILLARS, (), date(2016, 11, 3), 120,
              "https://www.justiceinspectorates.gov.uk/hmicfrs/peel-assessments/peel-2016/{slug}/"),
    Programme("PEEL 2018/19", 2018, PILLARS, (), date(2019, 5, 2), 200,
              "https://www.justiceinspectorates.gov.uk/hmicfrs/peel-assessments/peel-2018/{slug}/"),
    Programme("PEEL 2021/22", 2021, AREAS_2021, (VICTIM_SERVICE,), date(2022, 3, 30), 330,
              "https://hmicfrs.justiceinspectorates.gov.uk/peel-reports/{slug}-2021-22/"),
    Programme("PEEL 2023-25", 2023, AREAS_2023, (VICTIM_SERVICE,), date(2023, 9, 20), 600,
              "https://hmicfrs.justiceinspectorates.gov.uk/peel-reports/{slug}-2023-25/"),
)
# Shares of each grade, best first (roughly as HMICFRS has awarded them).
WEIGHTS = {4: (0.08, 0.62, 0.27, 0.03), 5: (0.05, 0.33, 0.37, 0.20, 0.05)}
CONCERN = "The force needs to improve how it {what}."
IMPROVEMENTS = (
    "records crime at the time it is reported", "supervises investigations", "assesses risk at first contact",
    "uses stop and search data to check fairness", "manages its workload in the control room",
    "understands demand across neighbourhoods", "supports the wellbeing of its workforce",
)


def msg_members(forces: Sequence[str]) -> list[str]:
    """The forces and every peer in their most similar groups, in seed order, without repeats
    (the seed read once, by ingest.config, as for the police.uk peers)."""
    from ingest.config import msg_peers

    return list(dict.fromkeys([*forces, *msg_peers(list(forces))]))


def grade_rows(forces: Sequence[str], seed: int = 2011) -> list[list[str]]:
    rows = []
    for force_id in forces:
        force = get_force(force_id)
        for programme in PROGRAMMES:
            rng = random.Random(f"{seed}:{force_id}:{programme.name}")
            published = programme.first_published + timedelta(days=rng.randrange(programme.publication_days))
            url = programme.url.format(slug=force_id)
            for area in programme.areas:
                grade = rng.choices(programme.grades, WEIGHTS[len(programme.grades)])[0]
                rank = programme.grades.index(grade)  # 0 = Outstanding
                concerns = [CONCERN.format(what=rng.choice(IMPROVEMENTS))] if (
                    grade == "Inadequate" or (grade == "Requires improvement" and rng.random() < 0.5)) else []
                improvements = rng.sample(IMPROVEMENTS, k=min(rank + rng.randrange(2), len(IMPROVEMENTS))) if rank else []
                rows.append([force.name, programme.name, str(programme.year), area, grade,
                             "\n".join(concerns), "\n".join(f"The force should improve how it {i}." for i in improvements),
                             url, published.isoformat()])
            for area in programme.ungraded:
                rows.append([force.name, programme.name, str(programme.year), area, "Not graded", "",
                             "The force should improve how it records crime at the time it is reported.",
                             url, published.isoformat()])
    return rows


def write(path: Path, forces: Sequence[str], seed: int = 2011) -> bool:
    """Write the sample CSV (template header, one note line above it); True when the file changed."""
    buffer = io.StringIO()
    buffer.write("# SYNTHETIC SAMPLE of PEEL grades generated by devtools.sample.hmicfrs - not HMICFRS's judgements\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in PEEL_GRADES.columns])
    writer.writerows(grade_rows(msg_members(forces), seed))
    content = buffer.getvalue().encode("utf-8")
    return write_if_changed(path, content)


def generate_sample(settings) -> Path:
    """The demo's grades file, ``var/sample/hmicfrs/peel_grades.csv`` (config/demo.toml)."""
    path = settings.root / "var" / "sample" / "hmicfrs" / FILE_NAME
    changed = write(path, list(settings.police_uk.forces), int(settings.sample.get("seed", 2011)))
    log.info("HMICFRS sample %s %s", path, "written" if changed else "unchanged")
    return path.parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("var/sample/hmicfrs"))
    parser.add_argument("--forces", nargs="+", default=["lancashire", "west-midlands"])
    parser.add_argument("--seed", type=int, default=2011)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write(args.out / FILE_NAME, args.forces, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
