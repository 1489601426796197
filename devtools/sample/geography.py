"""Synthetic ONS geography lookups covering the sample police.uk LSOAs, in ONS's published CSV layouts.

For the forces given it writes, under ``out_dir``:

* ``LSOA21_WD23_LAD23_EW_LU.csv`` — ``FID,LSOA21CD,LSOA21NM,WD23CD,WD23NM,LAD23CD,LAD23NM``
  (``FID`` first, as in the real 2019 LSOA lookup): every synthetic LSOA of
  :func:`devtools.sample.police_uk.lsoa_lookup` (``E01900001``…), so the sample crimes join;
* ``LAD23_CSP23_PFA23_EW_LU.csv`` — ``LAD23CD,LAD23NM,CSP23CD,CSP23NM,PFA23CD,PFA23NM,ObjectId``
  with a UTF-8 BOM (as the real Dec 2016 hub export has) and quoted names with commas
  (``"Bristol, City of"``);
* ``CSP23_EW_NC.csv`` — ``FID,CSP23CD,CSP23NM,CSP23NMW``, Welsh names double-encoded for
  Anglesey (``Ynys MÃ´n``) exactly as the real 2019 file has it;
* ``PFA23_EW_NC.csv`` — ``PFA23CD,PFA23NM,ObjectId``: all 43 force areas (``"London, City of"``).

District, CSP and ward codes are synthetic (``E069…``, ``E229…``, ``E059…``; real codes stay
below ``…900000``) so sample geography can never join to real data; force area codes are
the real ones (seed ``police_force_areas``), which is how police.uk force ids meet ONS.
Each district is its own CSP, as most are. Pure function of the force list.

CLI::

    python -m devtools.sample.geography --out var/sample/ons_geography --forces lancashire west-midlands
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from devtools.sample.forces import BTP_HOST_FORCES, FORCES, WELSH_FORCES, get_force

log = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
LSOA_LOOKUP_FILE = "LSOA21_WD23_LAD23_EW_LU.csv"
LAD_CSP_PFA_FILE = "LAD23_CSP23_PFA23_EW_LU.csv"
CSP_NAMES_FILE = "CSP23_EW_NC.csv"
PFA_NAMES_FILE = "PFA23_EW_NC.csv"

# ONS writes a few district names inverted, with a comma; LSOA names use the short form.
ONS_NAMES = {
    "Bristol": "Bristol, City of",
    "Kingston upon Hull": "Kingston upon Hull, City of",
    "Herefordshire": "Herefordshire, County of",
}
WELSH_NAMES = {
    "Isle of Anglesey": "Ynys Môn", "Gwynedd": "Gwynedd", "Conwy": "Conwy", "Denbighshire": "Sir Ddinbych",
    "Flintshire": "Sir y Fflint", "Wrexham": "Wrecsam", "Powys": "Powys", "Ceredigion": "Ceredigion",
    "Pembrokeshire": "Sir Benfro", "Carmarthenshire": "Sir Gaerfyrddin", "Swansea": "Abertawe",
    "Neath Port Talbot": "Castell-nedd Port Talbot", "Bridgend": "Pen-y-bont ar Ogwr",
    "Vale of Glamorgan": "Bro Morgannwg", "Cardiff": "Caerdydd", "Rhondda Cynon Taf": "Rhondda Cynon Taf",
    "Merthyr Tydfil": "Merthyr Tudful", "Caerphilly": "Caerffili", "Blaenau Gwent": "Blaenau Gwent",
    "Torfaen": "Tor-faen", "Monmouthshire": "Sir Fynwy", "Newport": "Casnewydd",
}
# The real 2019 names file has this one Welsh name double-encoded; so does the sample.
DOUBLE_ENCODED = {"Isle of Anglesey"}
UNITARY = frozenset({
    "Bath and North East Somerset", "Bristol", "North Somerset", "South Gloucestershire", "Bedford",
    "Central Bedfordshire", "Luton", "Peterborough", "Cheshire East", "Cheshire West and Chester", "Halton",
    "Warrington", "Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees", "Derby", "Cornwall",
    "Isles of Scilly", "Plymouth", "Torbay", "Bournemouth, Christchurch and Poole", "Dorset", "County Durham",
    "Darlington", "Southend-on-Sea", "Thurrock", "Isle of Wight", "Portsmouth", "Southampton",
    "East Riding of Yorkshire", "Kingston upon Hull", "North East Lincolnshire", "North Lincolnshire", "Medway",
    "Blackburn with Darwen", "Blackpool", "Leicester", "Rutland", "North Northamptonshire",
    "West Northamptonshire", "Northumberland", "Nottingham", "Stoke-on-Trent", "Brighton and Hove",
    "Bracknell Forest", "Buckinghamshire", "Milton Keynes", "Reading", "Slough", "West Berkshire",
    "Windsor and Maidenhead", "Wokingham", "Herefordshire", "Shropshire", "Telford and Wrekin", "Swindon",
    "Wiltshire", "York",
})
METROPOLITAN_FORCES = frozenset({"greater-manchester", "merseyside", "south-yorkshire", "west-yorkshire",
                                 "west-midlands", "northumbria"})
LONDON_FORCES = frozenset({"metropolitan", "city-of-london"})
_WARD_STEMS = ("Abbey", "Brookfield", "Castle", "Central", "Church", "Deepdale", "Eastfield", "Fernhill", "Grange",
               "Hillside", "Moorside", "Newtown", "Northgate", "Park", "Riverside", "St Mary's", "Southfield",
               "Town Centre", "University", "Westfield")


@dataclass(frozen=True)
class District:
    force_id: str
    name: str  # as in LSOA names, e.g. "Bristol"
    ons_name: str  # as ONS names the district, e.g. "Bristol, City of"
    level: str  # MYE2 geography level: Unitary Authority, Non-metropolitan District, …
    lad_code: str
    csp_code: str
    csp_name: str
    pfa_code: str
    pfa_name: str
    welsh_name: str | None


@lru_cache(maxsize=1)
def force_areas() -> dict[str, tuple[str, str]]:
    """force id -> (real PFA code, ONS PFA name), from the seed the dbt project uses."""
    with (SEED_DIR / "police_force_areas.csv").open(newline="", encoding="utf-8") as handle:
        return {r["force_id"]: (r["pfa_code"], r["pfa_name"]) for r in csv.DictReader(handle)}


def _level(force_id: str, district: str) -> str:
    if force_id in WELSH_FORCES or district in UNITARY:
        return "Unitary Authority"
    if force_id in LONDON_FORCES:
        return "London Borough"
    if force_id in METROPOLITAN_FORCES:
        return "Metropolitan District"
    return "Non-metropolitan District"


_LAD_PREFIX = {"Unitary Authority": "E06", "Non-metropolitan District": "E07", "Metropolitan District": "E08",
               "London Borough": "E09"}


@lru_cache(maxsize=1)
def all_districts() -> dict[str, District]:
    """Every territorial force's districts, numbered in a fixed order (codes never depend on the force list)."""
    areas = force_areas()
    out: dict[str, District] = {}
    number = 0
    for force_id, force in FORCES.items():
        if force_id not in areas:  # British Transport Police has no force area or districts of its own
            continue
        pfa_code, pfa_name = areas[force_id]
        for district in sorted(force.districts):
            number += 1
            level = _level(force_id, district)
            welsh = force_id in WELSH_FORCES
            lad_prefix = "W06" if welsh else _LAD_PREFIX[level]
            out[district] = District(
                force_id=force_id, name=district, ons_name=ONS_NAMES.get(district, district), level=level,
                lad_code=f"{lad_prefix}9{number:05d}", csp_code=f"{'W14' if welsh else 'E22'}9{number:05d}",
                csp_name=ONS_NAMES.get(district, district), pfa_code=pfa_code, pfa_name=pfa_name,
                welsh_name=WELSH_NAMES.get(district) if welsh else None,
            )
    return out


def lookup_forces(force_ids: Sequence[str]) -> list[str]:
    """The forces whose LSOAs the sample police.uk files use (BTP's crimes sit in its host forces' LSOAs)."""
    forces = [f for f in dict.fromkeys(force_ids) if f != "btp"]
    if "btp" in force_ids:
        forces += [h for h in BTP_HOST_FORCES if h not in forces]
    for force_id in forces:
        get_force(force_id)
    return forces


def districts_for(force_ids: Sequence[str]) -> list[District]:
    chosen = set(lookup_forces(force_ids))
    return [d for d in all_districts().values() if d.force_id in chosen]


def _double_encode(text: str) -> str:
    """UTF-8 read as Latin-1 and written out as UTF-8 again: 'Ynys Môn' -> 'Ynys MÃ´n'."""
    return text.encode("utf-8").decode("latin-1")


def _csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]], *, bom: bool = False) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")  # ONS hub exports: LF, quotes only where needed
    writer.writerow(header)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


def generate(out_dir: Path, force_ids: Sequence[str]) -> dict:
    """Write the four lookup files for ``force_ids``; returns rows per file."""
    from devtools.sample.police_uk import lsoa_lookup

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    forces = lookup_forces(force_ids)
    by_name = all_districts()
    districts = districts_for(force_ids)

    lsoa_rows = []
    wards: dict[tuple[str, str], tuple[str, str]] = {}
    for fid, lsoa in enumerate(lsoa_lookup(forces), start=1):
        district = by_name[lsoa.district]
        msoa = lsoa.name.rsplit(" ", 1)[-1][:3]  # "Preston 013B" -> "013": one ward per MSOA here
        key = (district.name, msoa)
        if key not in wards:
            n = len(wards) + 1
            stem = _WARD_STEMS[(int(msoa) - 1) % len(_WARD_STEMS)]
            suffix = "" if int(msoa) <= len(_WARD_STEMS) else f" {int(msoa) // len(_WARD_STEMS) + 1}"
            wards[key] = (f"{district.lad_code[:1]}059{n:05d}", f"{stem}{suffix}")
        ward_code, ward_name = wards[key]
        lsoa_rows.append([fid, lsoa.code, lsoa.name, ward_code, ward_name, district.lad_code, district.ons_name])
    files = {
        LSOA_LOOKUP_FILE: _csv_bytes(["FID", "LSOA21CD", "LSOA21NM", "WD23CD", "WD23NM", "LAD23CD", "LAD23NM"],
                                     lsoa_rows),
        LAD_CSP_PFA_FILE: _csv_bytes(
            ["LAD23CD", "LAD23NM", "CSP23CD", "CSP23NM", "PFA23CD", "PFA23NM", "ObjectId"],
            [[d.lad_code, d.ons_name, d.csp_code, d.csp_name, d.pfa_code, d.pfa_name, i]
             for i, d in enumerate(districts, start=1)],
            bom=True,
        ),
        CSP_NAMES_FILE: _csv_bytes(
            ["FID", "CSP23CD", "CSP23NM", "CSP23NMW"],
            [[i, d.csp_code, d.csp_name,
              (_double_encode(d.welsh_name) if d.name in DOUBLE_ENCODED else d.welsh_name) if d.welsh_name else ""]
             for i, d in enumerate(districts, start=1)],
        ),
        PFA_NAMES_FILE: _csv_bytes(["PFA23CD", "PFA23NM", "ObjectId"],
                                   [[code, name, i] for i, (code, name) in enumerate(force_areas().values(), start=1)]),
    }
    for name, body in files.items():
        (out_dir / name).write_bytes(body)
    summary = {name: body.count(b"\n") - 1 for name, body in files.items()}
    log.info("ONS geography sample for %s: %s", ", ".join(forces), summary)
    return summary


def generate_sample(settings) -> Path:
    """The demo's geography files, where ``[ons_geography] sample_dir`` says (see config/demo.toml),
    for every force the police.uk sample has (its most similar group peers too)."""
    out_dir = settings.root / settings.source("ons_geography").get("sample_dir", "var/sample/ons_geography")
    generate(out_dir, list(settings.police_uk.forces_to_load))
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.sample.geography", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--forces", nargs="+", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    generate(args.out, args.forces)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
