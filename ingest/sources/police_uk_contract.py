"""The data.police.uk archive's file contract: headers as published, raw column names and types.

Kept apart from the loader so the sample generator, the loader, the GX suites and the
tests all read one definition. Headers are byte-for-byte the publisher's
(see ``shared/data-contracts.md``); raw column names are their snake_case form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    header: str  # as the publisher writes it
    name: str  # raw table column
    duckdb_type: str


@dataclass(frozen=True)
class Dataset:
    kind: str  # file suffix in the archive: street | outcomes | stop-and-search
    table: str  # raw table, schema ``raw``
    columns: tuple[Column, ...]
    required: bool  # a force-month without this file is an error (else recorded as absent)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def member_name(self, month: str, force_id: str) -> str:
        return f"{month}/{month}-{force_id}-{self.kind}.csv"


# The columns read as something other than text; every other column is VARCHAR, as published.
COLUMN_TYPES = {
    "Longitude": "DOUBLE",
    "Latitude": "DOUBLE",
    "Date": "TIMESTAMPTZ",
    "Part of a policing operation": "BOOLEAN",
    "Outcome linked to object of search": "BOOLEAN",
    "Removal of more than just outer clothing": "BOOLEAN",
}


def _columns(*headers: str) -> tuple[Column, ...]:
    """The columns of these headers, in order: raw names are the headers' snake_case form."""
    return tuple(Column(header, header.lower().replace(" ", "_").replace("-", "_"), COLUMN_TYPES.get(header, "VARCHAR"))
                 for header in headers)


# The crime and where it happened: the first nine columns of both the street and the outcomes files.
CRIME_AND_PLACE = _columns(
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code", "LSOA name",
)

STREET = Dataset(
    kind="street",
    table="police_uk_street",
    required=True,
    columns=(*CRIME_AND_PLACE, *_columns("Crime type", "Last outcome category", "Context")),
)

OUTCOMES = Dataset(
    kind="outcomes",
    table="police_uk_outcomes",
    required=False,
    columns=(*CRIME_AND_PLACE, *_columns("Outcome type")),
)

STOP_AND_SEARCH = Dataset(
    kind="stop-and-search",
    table="police_uk_stop_search",
    required=False,
    columns=_columns(
        "Type", "Date", "Part of a policing operation", "Policing operation", "Latitude", "Longitude", "Gender",
        "Age range", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation", "Object of search",
        "Outcome", "Outcome linked to object of search", "Removal of more than just outer clothing",
    ),
)

DATASETS: tuple[Dataset, ...] = (STREET, OUTCOMES, STOP_AND_SEARCH)

# Lineage columns every raw row carries (appended after the source columns).
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_force_id", "VARCHAR"),  # partition key: the force id in the file name
    ("_month", "VARCHAR"),  # partition key: YYYY-MM from the file name
    ("_source_file", "VARCHAR"),  # archive member path, e.g. 2024-03/2024-03-lancashire-street.csv
    ("_archive_sha256", "VARCHAR"),  # the landed archive the member came from
    ("_loaded_at", "TIMESTAMP"),  # UTC
)

# The 2011 publication layout (Easting/Northing, no Crime ID or LSOA). Refused by name.
LEGACY_2011_STREET_HEADER = [
    "Month", "Reported by", "Falls within", "Easting", "Northing", "Location", "Crime type", "Context",
]

CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
# Categories used before May 2013, still found in re-issued old months.
LEGACY_CRIME_TYPES = ("Violent crime", "Public disorder and weapons")

OUTCOME_CATEGORIES = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Under investigation",
    "Status update unavailable",
    "Awaiting court outcome",
    "Court result unavailable",
    "Local resolution",
    "Offender given a caution",
    "Offender given penalty notice",
    "Offender fined",
    "Offender sent to prison",
    "Offender given community sentence",
    "Offender given suspended prison sentence",
    "Offender given conditional discharge",
    "Offender given absolute discharge",
    "Offender deprived of property",
    "Offender ordered to pay compensation",
    "Offender otherwise dealt with",
    "Offender given a drugs possession warning",
    "Defendant found not guilty",
    "Defendant sent to Crown Court",
    "Court case unable to proceed",
    "Formal action is not in the public interest",
    "Further investigation is not in the public interest",
    "Further action is not in the public interest",
    "Action to be taken by another organisation",
    "Suspect charged as part of another case",
    "Suspect charged",
)

STOP_SEARCH_TYPES = ("Person search", "Vehicle search", "Person and Vehicle search")
STOP_SEARCH_OUTCOMES = (
    "A no further action disposal",
    "Arrest",
    "Community resolution",
    "Khat or Cannabis warning",
    "Penalty Notice for Disorder",
    "Summons / charged by post",
    "Caution (simple or conditional)",
)
OFFICER_DEFINED_ETHNICITIES = ("White", "Black", "Asian", "Mixed", "Other")
AGE_RANGES = ("under 10", "10-17", "18-24", "25-34", "over 34")
