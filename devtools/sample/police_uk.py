"""Synthetic data.police.uk bulk archive, byte-compatible with the publisher's files.

For each month from ``first`` to ``last`` it writes ``<out>/archive/YYYY-MM.zip`` holding
``YYYY-MM/YYYY-MM-<force>-street.csv``, ``-outcomes.csv`` and ``-stop-and-search.csv`` per
force (headers from :mod:`ingest.sources.police_uk_contract`), plus ``<out>/archive/index.json``
(months, forces, rows per member, absent members) and ``<out>/lsoa_lookup.csv`` (the synthetic
LSOAs with their district and force).

Everything is a pure function of (seed, force, month, scale) and of the archive window:

* a force-month's crimes (ids, types, places, and each crime's whole outcome history) come
  from a random stream keyed by (seed, force, month), so any month can be recomputed alone;
* a street file shows each crime's *last* outcome as of ``as_of`` (default: the last month
  of the window), so older months are more resolved, like one release of the real archive;
* an outcomes file for month M lists the outcome events dated M of crimes from M and earlier
  months inside the window (or, with ``prewindow_outcomes``, also from up to ``MAX_LAG``
  months before it, whose ids then match no street file, as in the real archive).

Generation streams month by month: a month's rows are built, zipped and dropped; the
only state kept across months is the queue of future outcome events (compact arrays).

CLI::

    python -m devtools.sample.police_uk --out var/sample/police_uk --first 2022-10 --last 2025-09 \\
        --forces lancashire west-midlands --seed 2011 [--scale 1.0]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import logging
import os
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path


from ingest.months import check_month as _check_month, month_from_index, month_index, month_range
from devtools.sample.police_uk_places import (  # noqa: F401 - re-exported for callers
    CRIMES_PER_LSOA_MONTH,
    GEOGRAPHY_SEED,
    POINTS_PER_LSOA,
    SYNTHETIC_LSOA_BASE,
    Geography,
    Lsoa,
    geography,
    lsoa_lookup,
)
from devtools.sample.police_uk_stop_search import (  # noqa: F401 - re-exported for callers
    GENDERS,
    SELF_DEFINED_ETHNICITIES,
    ETHNICITY_NOT_STATED,
    LEGISLATIONS,
    POLICING_OPERATIONS,
    OBJECTS_OF_SEARCH,
    SELF_DEFINED_ETHNICITY_VALUES,
    expected_stop_search_rows,
    stop_search_csv,
)
from devtools.sample.police_uk_crimes import (  # noqa: F401 - re-exported for callers
    MAX_LAG,
    CrimeMonth,
    Events,
    expected_street_rows,
    generate_crimes,
    outcomes_csv,
    queue_events,
    street_csv,
)
from devtools.sample.forces import BTP_HOST_FORCES, FORCE_IDS, FORCES, get_force
from ingest.sources.police_uk_contract import (
    AGE_RANGES,
    OFFICER_DEFINED_ETHNICITIES,
    OUTCOMES,
    STOP_AND_SEARCH,
    STOP_SEARCH_OUTCOMES,
    STOP_SEARCH_TYPES,
    STREET,
)

log = logging.getLogger(__name__)


# --- vocabularies the contract does not carry -------------------------------------------
# Force-months with no stop-and-search file at all (a real, common gap).
STOP_SEARCH_GAPS: dict[str, frozenset[str]] = {
    "west-midlands": frozenset({"2023-07"}),
    "gwent": frozenset({"2024-02"}),
    "north-yorkshire": frozenset({"2022-12", "2023-01"}),
}

# --- crime mix and seasonality ----------------------------------------------------------

# --- outcome paths ------------------------------------------------------------------------


# --- place names ---------------------------------------------------------------------------


# --- small helpers ----------------------------------------------------------------------------






















# --- geography --------------------------------------------------------------------------------






# Synthetic LSOA codes start here: real E01/W01 codes stay below 100000, so a synthetic
# code can never be mistaken for (or silently join to) a real LSOA.














# --- volumes ------------------------------------------------------------------------------------












# --- crimes -------------------------------------------------------------------------------------




# --- file bodies ----------------------------------------------------------------------------------


















# Rows are joined without quoting these: none may need it.
assert not any(set(v) & {",", '"', "\n", "\r"} for v in (
    *SELF_DEFINED_ETHNICITY_VALUES, *OBJECTS_OF_SEARCH, *LEGISLATIONS, *STOP_SEARCH_OUTCOMES, *STOP_SEARCH_TYPES,
    *OFFICER_DEFINED_ETHNICITIES, *AGE_RANGES, *GENDERS,
))




# --- the archive ----------------------------------------------------------------------------------
def zip_info(name: str, month: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(int(month[:4]), int(month[5:]), 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


class MonthZip:
    """One month's zip, written member by member in name order (the zip lists them sorted).

    Members are compressed and written by one background thread, in the order they were added,
    while the caller generates the next: zlib releases the GIL, so generating and compressing
    share the two cores (compression is about half of the sample's time). The file appears
    under its name only when complete; ``close`` returns its sha256.
    """

    def __init__(self, path: Path, month: str, compresslevel: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.path, self.month, self.compresslevel = path, month, compresslevel
        self._tmp = path.with_name(path.name + ".part")
        self._zip = zipfile.ZipFile(self._tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"zip-{month}")
        self._pending: list = []
        self._last = ""

    def add(self, name: str, data: bytes) -> None:
        if name <= self._last:
            raise AssertionError(f"zip members out of order: {name} after {self._last}")
        self._last = name
        self._pending.append(self._writer.submit(self._zip.writestr, zip_info(name, self.month), data,
                                                 compresslevel=self.compresslevel))

    def close(self) -> str:
        self._writer.shutdown(wait=True)
        try:
            for write in self._pending:
                write.result()  # the first failed write raises here
            self._zip.close()
        except BaseException:
            self.abort()
            raise
        digest = hashlib.sha256()
        with self._tmp.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        os.replace(self._tmp, self.path)
        return digest.hexdigest()

    def abort(self) -> None:
        """Stop writing and remove the part file; the error that caused it is the caller's to raise."""
        self._writer.shutdown(wait=True, cancel_futures=True)
        try:
            self._zip.close()
        except Exception:  # noqa: BLE001 - a zip left half-written by a failed member cannot close cleanly
            log.debug("%s: closing the abandoned zip failed", self._tmp, exc_info=True)
        self._tmp.unlink(missing_ok=True)


def _write_lookup(path: Path, force_ids: Sequence[str]) -> int:
    rows = lsoa_lookup(force_ids)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["LSOA code", "LSOA name", "District", "Force ID", "Force name", "Longitude", "Latitude"])
    for l in rows:
        w.writerow([l.code, l.name, l.district, l.force_id, FORCES[l.force_id].name, f"{l.lon:.6f}", f"{l.lat:.6f}"])
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return len(rows)


def _kind(member: str) -> str:
    for ds in (STOP_AND_SEARCH, OUTCOMES, STREET):
        if member.endswith(f"-{ds.kind}.csv"):
            return ds.kind
    raise AssertionError(member)


def _add_month(archive: MonthZip, month: str, force_ids: list[str], queues: dict[str, dict[int, Events]],
               rows: dict[str, int], absent: dict[str, str], totals: dict[str, int], seed: int, scale: float,
               as_of: str, last_idx: int, peers_from: dict[str, int] | None = None) -> None:
    """Generate every force's files for a month into its zip, in member-name order.

    A force in ``peers_from`` (a most similar group peer) has files only from that month index on.
    """
    for fid in sorted(force_ids):
        force = get_force(fid)
        if peers_from and month_index(month) < peers_from.get(fid, -1):
            for dataset in (STREET, OUTCOMES, STOP_AND_SEARCH):
                absent[dataset.member_name(month, fid)] = (
                    "most similar group peer: the sample has its files for the last months only")
            continue
        members: dict[str, tuple[bytes, int]] = {}
        crimes = generate_crimes(fid, month, seed, scale)
        members[STREET.member_name(month, fid)] = (street_csv(crimes, as_of), crimes.n)
        name = OUTCOMES.member_name(month, fid)
        if force.publishes_outcomes:
            queue_events(crimes, queues[fid], last_idx)
            members[name] = outcomes_csv(fid, month, queues[fid].pop(month_index(month), None))
        else:
            absent[name] = "British Transport Police publishes no outcomes"
        del crimes
        name = STOP_AND_SEARCH.member_name(month, fid)
        if month in STOP_SEARCH_GAPS.get(fid, ()):
            absent[name] = "no stop-and-search file this month (a publisher gap)"
        else:
            members[name] = stop_search_csv(fid, month, seed, scale)
        for name in sorted(members):
            body, n = members.pop(name)
            archive.add(name, body)
            rows[name] = n
            totals[_kind(name)] += n


def generate_archive(
    out_dir: Path,
    first_month: str,
    last_month: str,
    forces: list[str],
    seed: int = 2011,
    scale: float = 1.0,
    progress: Callable[[str, int, int, dict], None] | None = None,
    *,
    as_of: str | None = None,
    prewindow_outcomes: bool = False,
    compresslevel: int = 1,
    peer_forces: Sequence[str] = (),
    peer_months: int | None = None,
) -> dict:
    """Write ``<out_dir>/archive/YYYY-MM.zip`` for every month, ``index.json`` and ``lsoa_lookup.csv``.

    ``peer_forces`` (the configured forces' most similar group peers) are written at the same scale
    (their rates per 1,000 residents must be comparable) but, with ``peer_months``, only for the
    last ``peer_months`` months of the window: enough for the latest quarters' comparisons and
    far fewer rows than their whole history. Earlier months list them as absent.

    ``progress(month, i, total, month_summary)`` is called after each month's zip is written.
    Returns the summary also written to ``index.json``: rows per dataset, files, and per
    month the rows of every member and the members that are absent (and why).
    """
    months = month_range(first_month, last_month)
    force_ids = list(dict.fromkeys([*forces, *peer_forces]))
    peers_from = {}
    if peer_months is not None:
        if peer_months < 1:
            raise ValueError(f"peer_months must be at least 1, found {peer_months}")
        start = max(month_index(first_month), month_index(last_month) - peer_months + 1)
        peers_from = {fid: start for fid in peer_forces if fid not in forces}
    for fid in force_ids:
        get_force(fid)
    if not force_ids:
        raise ValueError("no forces given")
    if scale <= 0:
        raise ValueError(f"scale must be positive, found {scale}")
    as_of = _check_month(as_of or last_month)
    if month_index(as_of) < month_index(last_month):
        raise ValueError(f"as_of {as_of} is before the last month {last_month}")
    out_dir = Path(out_dir)
    archive_dir = out_dir / "archive"
    archive_dir.mkdir(parents=True, exist_ok=True)
    last_idx = month_index(last_month)
    queues: dict[str, dict[int, Events]] = {fid: {} for fid in force_ids}

    if prewindow_outcomes:
        for fid in force_ids:
            if get_force(fid).publishes_outcomes and fid not in peers_from:
                for m in range(month_index(first_month) - MAX_LAG, month_index(first_month)):
                    queue_events(generate_crimes(fid, month_from_index(m), seed, scale), queues[fid], last_idx)

    totals = {"street": 0, "outcomes": 0, "stop-and-search": 0}
    archives = []
    started = time.perf_counter()
    for i, month in enumerate(months, start=1):
        rows: dict[str, int] = {}
        absent: dict[str, str] = {}
        zip_path = archive_dir / f"{month}.zip"
        archive = MonthZip(zip_path, month, compresslevel)
        try:
            _add_month(archive, month, force_ids, queues, rows, absent, totals, seed, scale, as_of, last_idx,
                       peers_from)
        except BaseException:
            archive.abort()
            raise
        digest = archive.close()
        entry = {"month": month, "file": zip_path.name, "sha256": digest, "members": dict(sorted(rows.items())),
                 "absent": dict(sorted(absent.items()))}
        archives.append(entry)
        log.debug("%s: %s", month, rows)
        if progress is not None:
            progress(month, i, len(months), entry)

    lookup_forces = list(force_ids)
    if "btp" in force_ids:
        lookup_forces += [h for h in BTP_HOST_FORCES if h not in lookup_forces]
    n_lsoas = _write_lookup(out_dir / "lsoa_lookup.csv", lookup_forces)
    summary = {
        "generator": "devtools.sample.police_uk",
        "seed": seed,
        "scale": scale,
        "first_month": months[0],
        "last_month": months[-1],
        "as_of": as_of,
        "prewindow_outcomes": prewindow_outcomes,
        "months": months,
        "forces": {fid: FORCES[fid].name for fid in force_ids},
        "peer_forces": {fid: month_from_index(start) for fid, start in sorted(peers_from.items())},
        "rows": totals,
        "files": sum(len(a["members"]) for a in archives),
        "lsoa_lookup": {"file": "lsoa_lookup.csv", "rows": n_lsoas},
        "archives": archives,
    }
    (archive_dir / "index.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("police.uk sample: %d months x %d forces, %d street rows in %.1fs",
             len(months), len(force_ids), totals["street"], time.perf_counter() - started)
    return summary


# --- CLI ----------------------------------------------------------------------------------------
def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m devtools.sample.police_uk",
        description="Write a deterministic synthetic data.police.uk archive (one zip per month).",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (zips go to OUT/archive/)")
    p.add_argument("--first", required=True, help="first month, YYYY-MM")
    p.add_argument("--last", required=True, help="last month, YYYY-MM")
    p.add_argument("--forces", nargs="+", required=True,
                   help="data.police.uk force ids, or 'all' for the 43 territorial forces and BTP")
    p.add_argument("--seed", type=int, default=2011)
    p.add_argument("--scale", type=float, default=1.0, help="multiplier on every force's monthly volume")
    p.add_argument("--as-of", default=None, help="month the street files' last outcomes are as of (default: --last)")
    p.add_argument("--prewindow-outcomes", action="store_true",
                   help="also list outcomes of crimes from before --first (their ids match no street file)")
    p.add_argument("--compresslevel", type=int, default=1, choices=range(0, 10), metavar="0-9")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    forces = list(FORCE_IDS) if args.forces == ["all"] else args.forces
    started = time.perf_counter()

    def report(month: str, i: int, total: int, entry: dict) -> None:
        street = sum(n for k, n in entry["members"].items() if k.endswith("-street.csv"))
        elapsed = time.perf_counter() - started
        log.info("[%d/%d] %s: %d members, %d street rows, %d absent (%.1fs)",
                 i, total, month, len(entry["members"]), street, len(entry["absent"]), elapsed)

    try:
        summary = generate_archive(args.out, args.first, args.last, forces, seed=args.seed, scale=args.scale,
                                   progress=report, as_of=args.as_of, prewindow_outcomes=args.prewindow_outcomes,
                                   compresslevel=args.compresslevel)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    elapsed = time.perf_counter() - started
    r = summary["rows"]
    print(f"wrote {len(summary['months'])} archives ({summary['files']} files) to {args.out / 'archive'}: "
          f"{r['street']} street, {r['outcomes']} outcomes, {r['stop-and-search']} stop-and-search rows "
          f"in {elapsed:.1f}s ({r['street'] / max(elapsed, 1e-9):,.0f} street rows/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
