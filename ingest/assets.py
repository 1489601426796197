"""Assets the DAGs produce and consume: one name each, shared by producer and consumer."""

from airflow.sdk import Asset

RAW_POLICE_UK = Asset(name="raw_police_uk", uri="duckdb://warehouse/raw/police_uk")
PUBLISHED_EVIDENCE = Asset(name="published_evidence", uri="duckdb://published/evidence")
