"""Assets the DAGs produce and consume: one name each, shared by producer and consumer."""

from airflow.sdk import Asset

RAW_POLICE_UK = Asset(name="raw_police_uk", uri="duckdb://warehouse/raw/police_uk")
RAW_POLICE_UK_API = Asset(name="raw_police_uk_api", uri="duckdb://warehouse/raw/police_uk_api")
PUBLISHED_EVIDENCE = Asset(name="published_evidence", uri="duckdb://published/evidence")

# Reference data (geography, population, Home Office recorded crime): one Asset per source.
RAW_ONS_GEOGRAPHY = Asset(name="raw_ons_geography", uri="duckdb://warehouse/raw/ons_geography")
RAW_ONS_POPULATION = Asset(name="raw_ons_population", uri="duckdb://warehouse/raw/ons_population")
RAW_HOME_OFFICE_PRC = Asset(name="raw_home_office_prc", uri="duckdb://warehouse/raw/home_office_prc")

# Annual and on-publication sources (dags/annual_sources.py): one Asset per source.
RAW_HMICFRS = Asset(name="raw_hmicfrs", uri="duckdb://warehouse/raw/hmicfrs")
RAW_FINANCE = Asset(name="raw_finance", uri="duckdb://warehouse/raw/finance")
RAW_CSP_ASSESSMENTS = Asset(name="raw_csp_assessments", uri="duckdb://warehouse/raw/csp_assessments")
RAW_CONSULTATION = Asset(name="raw_consultation", uri="duckdb://warehouse/raw/consultation")
RAW_VICTIM_SATISFACTION = Asset(name="raw_victim_satisfaction", uri="duckdb://warehouse/raw/victim_satisfaction")
RAW_CALL_HANDLING = Asset(name="raw_call_handling", uri="duckdb://warehouse/raw/call_handling")
RAW_FORCE_VULNERABILITY = Asset(name="raw_force_vulnerability", uri="duckdb://warehouse/raw/force_vulnerability")
RAW_ROAD_SAFETY = Asset(name="raw_road_safety", uri="duckdb://warehouse/raw/road_safety")
