"""A synthetic public consultation export: what a survey tool (SmartSurvey, Snap, Qualtrics)
writes when the office downloads the responses of its Police and Crime Plan survey as CSV.

One file per force (``consultation-<force>-<year>.csv``), UTF-8 with a BOM and CRLF line ends as
the tools write them for Excel, one row per respondent:

    Respondent ID,Collector,Started,Completed,Full name,Email address,Telephone number,Postcode,
    District,Age,Sex,Ethnic group,Disability,<priorities>,Confidence in police,Any other comments

The priorities question comes in the two shapes survey tools export: **ranked** (``Priority 1``,
``Priority 2``, ``Priority 3``: the respondent's first, second and third choice) or
**multi-select** (one ``Priorities (select up to three)`` cell with the choices joined by
``"; "``). ``layout`` chooses; the demo writes one force ranked and the other multi-select, so
both paths run. Options are the labels of seed ``consultation_priorities``.

The sample has the biases real ones have: a **telephone** part with quotas by district, age,
sex, ethnic group and disability (at least ``MIN_QUOTA`` respondents in each weighting category
of each district, the rest in proportion to the population), and a self-selected **online**
part that is older, whiter, more female and more often disabled than the population, and larger
in big districts. Priorities follow the respondent (women name violence against women and
girls more often, older people anti-social behaviour and visible policing, urban districts
drugs and violence); confidence in the police is lower among younger and ethnic minority
respondents. Some give a name, email and phone number to be contacted, and some free-text
comments carry personal data too: the loader must drop or pseudonymise all of it.

Population shares come from the population sample (:mod:`devtools.sample.population`), so the
weights computed from the Census sample files correct exactly the biases put in here. Everything
is a pure function of (forces, year, seed): the same inputs give the same bytes.

    python -m devtools.sample.consultation --out var/sample/consultation --forces lancashire west-midlands
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ingest.config import PROJECT_ROOT
from devtools.sample.geography import District, districts_for

log = logging.getLogger(__name__)

PRIORITIES_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "consultation_priorities.csv"
HEADER_START = ["Respondent ID", "Collector", "Started", "Completed", "Full name", "Email address",
                "Telephone number", "Postcode", "District", "Age", "Sex", "Ethnic group", "Disability"]
RANKED = ["Priority 1", "Priority 2", "Priority 3"]
MULTI_SELECT = ["Priorities (select up to three)"]
HEADER_END = ["Confidence in police", "Any other comments"]
MIN_QUOTA = 4  # telephone respondents per weighting category per district, at least

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75 or over")
AGE_LIMITS = ((16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 90))
ETHNIC_GROUPS = ("White", "Mixed or multiple ethnic groups", "Asian, Asian British or Asian Welsh",
                 "Black, Black British, Black Welsh, Caribbean or African", "Other ethnic group")
DISABILITY = ("Yes, limited a lot", "Yes, limited a little", "No")
CONFIDENCE = ("Strongly agree", "Tend to agree", "Neither agree nor disagree", "Tend to disagree",
              "Strongly disagree", "Don't know")
NOT_SAY = "Prefer not to say"

# Online self-selection relative to the population (a multiplier on each category's share).
ONLINE_BIAS = {
    "age": (0.35, 0.55, 0.9, 1.15, 1.45, 1.6, 1.1),
    "sex": (1.3, 0.77),
    "ethnic": (1.0, 0.5, 0.45, 0.5, 0.5),
    "disability": (1.4, 1.25, 0.95),
}

FIRST_NAMES = ("Aisha", "Ben", "Chloe", "Dafydd", "Emma", "Farhan", "Grace", "Harpreet", "Imran", "Jack", "Kerry",
               "Liam", "Mohammed", "Niamh", "Olu", "Priya", "Rhys", "Siân", "Tomasz", "Zoë")
SURNAMES = ("Ahmed", "Brown", "Clarke", "Davies", "Evans", "Hussain", "Jones", "Khan", "Kowalski", "Lewis", "O'Brien",
            "Okafor", "Patel", "Roberts", "Shah", "Smith", "Taylor", "Thompson", "Williams", "Wright")
COMMENTS = (  # {theme} is a keyword of the respondent's first priority; personal data in some
    "More needs doing about {theme} round here.",
    "The {theme} on our estate has got worse this year.",
    "I reported {theme} twice and heard nothing back.",
    "Please do something about {theme}. My name is {name}, you can ring me on {phone}.",
    "{theme} is the main problem where I live. Contact me at {email} if you want to know more.",
    "Thank you to the officers who helped my family.",
    "I'm {name} from {postcode}; {theme} is why I don't feel safe walking home.",
)


@dataclass(frozen=True)
class Priority:
    priority_id: str
    label: str
    keywords: tuple[str, ...]


@lru_cache(maxsize=1)
def priorities() -> tuple[Priority, ...]:
    """The survey's priority options, in the seed's order."""
    with PRIORITIES_SEED.open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: int(r["sort_order"]))
    return tuple(Priority(r["priority_id"], r["priority_label"], tuple(r["comment_keywords"].split("|")))
                 for r in rows)


@dataclass(frozen=True)
class Population:
    """One district's shares of adults (age) and of residents (sex, ethnic group, disability)."""

    age: tuple[float, ...]
    sex: tuple[float, float]  # female, male
    ethnic: tuple[float, ...]  # ETHNIC_GROUPS order
    disability: tuple[float, float, float]  # DISABILITY order
    adults: int


def district_population(district: District, force_ids: Sequence[str], year: int) -> Population:
    """Shares from the population sample files, so the weights can undo the biases exactly."""
    from devtools.sample import population as pop

    mid_year = min(max(year, pop.BASE_YEAR), pop.BASE_YEAR + 1)
    persons = pop.district_ages(district, mid_year, force_ids)["persons"]
    bands = [sum(persons[low:high + 1]) for low, high in AGE_LIMITS]  # index 90 is "90+"
    sex = pop.census_sex_counts(district, force_ids)
    labels = list(sex)
    ethnic_counts = pop.census_counts(district, force_ids)
    broad = {group: ethnic_counts[label] for label, level, group in pop.census_labels() if level == "broad"}
    order = ("White", "Mixed", "Asian", "Black", "Other")
    disability = list(pop.census_disability_counts(district, force_ids).values())
    return Population(
        age=tuple(b / sum(bands) for b in bands),
        sex=(sex[labels[1]] / sex[labels[0]], sex[labels[2]] / sex[labels[0]]),
        ethnic=tuple(broad[g] / sum(broad.values()) for g in order),
        disability=(disability[2] / disability[0], disability[3] / disability[0], disability[4] / disability[0]),
        adults=sum(bands),
    )


def _normalise(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _quota_draw(rng: np.random.Generator, shares: Sequence[float], n: int, minimum: int) -> list[int]:
    """``n`` category indexes in proportion to ``shares``, at least ``minimum`` of each (a quota)."""
    counts = [minimum] * len(shares)
    rest = n - sum(counts)
    counts = [c + k for c, k in zip(counts, rng.multinomial(max(rest, 0), _normalise(shares)))]
    drawn = [i for i, c in enumerate(counts) for _ in range(c)]
    rng.shuffle(drawn)
    return drawn


def _weighting_category(variable: str, index: int) -> int:
    """The weighting category a survey answer falls in (age bands and ethnic groups are collapsed)."""
    if variable == "age":
        return (0, 0, 1, 1, 2, 3, 3)[index]
    if variable == "ethnic":
        return 0 if index == 0 else 1
    if variable == "disability":
        return 0 if index < 2 else 1
    return index


def _telephone_categories(rng: np.random.Generator, shares: Sequence[float], n: int, variable: str) -> list[int]:
    """Quota draw over the weighting categories, then the detailed answer within each in proportion."""
    groups: dict[int, list[int]] = {}
    for i in range(len(shares)):
        groups.setdefault(_weighting_category(variable, i), []).append(i)
    collapsed = [sum(shares[i] for i in members) for members in groups.values()]
    chosen = _quota_draw(rng, collapsed, n, MIN_QUOTA)
    keys = list(groups)
    return [int(rng.choice(groups[keys[c]], p=_normalise([shares[i] for i in groups[keys[c]]]))) for c in chosen]


def _priority_scores(district: District, age: int, female: bool, minority: bool, urban: bool) -> np.ndarray:
    """Plackett–Luce appeal of each priority for this respondent (log scale)."""
    base = {"asb": 1.2, "acquisitive_crime": 0.9, "serious_violence": 0.8, "drugs": 0.8, "visible_policing": 1.1,
            "road_safety": 0.4, "vawg": 0.4, "domestic_abuse": 0.3, "exploitation": 0.2, "response_times": 0.5,
            "victim_support": 0.0, "fraud_and_cyber": 0.1, "hate_crime": -0.4}
    score = dict(base)
    if female:
        score["vawg"] += 0.9
        score["domestic_abuse"] += 0.5
    if age <= 1:
        score["vawg"] += 0.4
        score["hate_crime"] += 0.4
        score["visible_policing"] -= 0.4
    if age >= 5:
        score["asb"] += 0.3
        score["visible_policing"] += 0.4
        score["fraud_and_cyber"] += 0.5
    if minority:
        score["hate_crime"] += 1.0
    if urban:
        score["drugs"] += 0.4
        score["serious_violence"] += 0.5
    else:
        score["road_safety"] += 0.9
        score["acquisitive_crime"] += 0.2
    rng = np.random.default_rng(abs(hash_text(district.lad_code)) % 2**32)
    local = rng.normal(0, 0.25, len(base))
    return np.array([score[p.priority_id] for p in priorities()]) + local


def hash_text(text: str) -> int:
    """A stable integer for a text (Python's hash() changes between processes)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _person(rng: np.random.Generator) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    email = f"{first.lower()}.{last.lower().replace(chr(39), '')}{int(rng.integers(1, 99))}@example.org"
    email = email.replace("â", "a").replace("ë", "e")
    phone = f"07700 900{int(rng.integers(0, 1000)):03d}"  # Ofcom's range for drama: never a real number
    return f"{first} {last}", email, phone


def _respondents(district: District, force_ids: Sequence[str], year: int, rng: np.random.Generator,
                 telephone_n: int, online_n: int) -> list[dict]:
    population = district_population(district, force_ids, year)
    shares = {"age": population.age, "sex": population.sex, "ethnic": population.ethnic,
              "disability": population.disability}
    drawn = {v: _telephone_categories(rng, s, telephone_n, v) for v, s in shares.items()}
    rows = [{"mode": "Telephone", **{v: drawn[v][i] for v in shares}} for i in range(telephone_n)]
    for _ in range(online_n):
        rows.append({"mode": "Online", **{v: int(rng.choice(len(s), p=_normalise(np.multiply(s, ONLINE_BIAS[v]))))
                                           for v, s in shares.items()}})
    return rows


def _answer(rng: np.random.Generator, options: Sequence[str], index: int, not_say_rate: float) -> str:
    return NOT_SAY if rng.random() < not_say_rate else options[index]


def responses(force_id: str, year: int, seed: int, force_ids: Sequence[str], layout: str) -> list[list[str]]:
    """The export's rows (header first) for one force's survey."""
    rng = np.random.default_rng([seed, hash_text(force_id) % 2**32, year])
    header = HEADER_START + (RANKED if layout == "ranked" else MULTI_SELECT) + HEADER_END
    table: list[list[str]] = [header]
    options = priorities()
    start = datetime(year, 9, 15, 8, 0, 0)
    next_id = 118_000_000 + int(rng.integers(0, 900_000))
    for district in [d for d in districts_for(force_ids) if d.force_id == force_id]:
        population = district_population(district, force_ids, year)
        urban = district.level in ("Metropolitan District", "Unitary Authority", "London Borough")
        telephone_n = 60 + int(rng.integers(0, 15))
        online_n = int(25 + 0.0004 * population.adults * rng.uniform(0.6, 1.4))
        for person in _respondents(district, force_ids, year, rng, telephone_n, online_n):
            next_id += int(rng.integers(1, 40))
            age, female = person["age"], person["sex"] == 0
            minority = person["ethnic"] != 0
            scores = _priority_scores(district, age, female, minority, urban) + rng.gumbel(size=len(options))
            ranked = [options[i] for i in np.argsort(-scores)]
            picked = ranked[: 3 if rng.random() > 0.1 else int(rng.integers(1, 3))]
            chosen = [p.label for p in picked]
            sex = ("Female", "Male")[person["sex"]]
            if rng.random() < 0.01:
                sex = "Prefer to self-describe"
            elif rng.random() < 0.02:
                sex = NOT_SAY
            agree = 0.55 + 0.04 * age - 0.15 * minority + 0.1 * (person["mode"] == "Telephone") - 0.08 * urban
            confidence = int(rng.choice(6, p=_normalise([agree * 0.35, agree * 0.65, 0.3, (1 - agree) * 0.55,
                                                         (1 - agree) * 0.35, 0.06])))
            started = start + timedelta(minutes=int(rng.integers(0, 60 * 24 * 60)))
            completed = started + timedelta(seconds=int(rng.integers(240, 1500)))
            wants_contact = rng.random() < (0.35 if person["mode"] == "Online" else 0.15)
            name, email, phone = _person(rng)
            postcode = f"{district.name[:2].upper()}{int(rng.integers(1, 20))} {int(rng.integers(1, 9))}" \
                       f"{chr(65 + int(rng.integers(0, 26)))}{chr(65 + int(rng.integers(0, 26)))}"
            comment = ""
            if rng.random() < (0.45 if person["mode"] == "Online" else 0.25):
                first = picked[0]
                template = COMMENTS[int(rng.integers(0, len(COMMENTS)))]
                comment = template.format(theme=first.keywords[0], name=name, phone=phone, email=email,
                                          postcode=postcode)
                comment = comment[0].upper() + comment[1:]
            priority_cells = (chosen + [""] * 3)[:3] if layout == "ranked" else ["; ".join(chosen)]
            stamp = "%d/%m/%Y %H:%M:%S"
            table.append([
                str(next_id), "Telephone interview" if person["mode"] == "Telephone" else "Web link",
                started.strftime(stamp), completed.strftime(stamp),
                name if wants_contact else "", email if wants_contact else "",
                phone if wants_contact and rng.random() < 0.6 else "", postcode if rng.random() < 0.7 else "",
                district.ons_name, _answer(rng, AGE_BANDS, age, 0.02), sex,
                _answer(rng, ETHNIC_GROUPS, person["ethnic"], 0.03),
                _answer(rng, DISABILITY, person["disability"], 0.04),
                *priority_cells, CONFIDENCE[confidence], comment,
            ])
    return table


def export_bytes(table: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(table)
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")


def file_name(force_id: str, year: int) -> str:
    return f"consultation-{force_id}-{year}.csv"


def write(path: Path, body: bytes) -> bool:
    """Write ``body`` unless the file already holds it; True when written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == body:
        return False
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(body)
    tmp.replace(path)
    return True


def generate(out_dir: Path, force_ids: Sequence[str], year: int = 2025, seed: int = 2025,
             layouts: Sequence[str] | None = None) -> dict[str, int]:
    """One export per force; ``layouts`` per force (default: ranked, then multi-select, alternating)."""
    out_dir = Path(out_dir)
    summary = {}
    for i, force_id in enumerate(force_ids):
        layout = layouts[i] if layouts else ("ranked", "multi_select")[i % 2]
        table = responses(force_id, year, seed, force_ids, layout)
        write(out_dir / file_name(force_id, year), export_bytes(table))
        summary[file_name(force_id, year)] = len(table) - 1
    log.info("consultation sample: %s", summary)
    return summary


def generate_sample(settings) -> Path:
    """The demo's consultation exports, where ``[consultation] sample_dir`` says (see config/demo.toml)."""
    section = settings.source("consultation")
    out_dir = settings.root / section.get("sample_dir", "var/sample/consultation")
    generate(out_dir, list(settings.police_uk.forces), int(section.get("sample_year", 2025)),
             int(section.get("sample_seed", 2025)))
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.sample.consultation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--forces", nargs="+", required=True)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    print(generate(args.out, args.forces, args.year, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
