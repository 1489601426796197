"""Assets the DAGs produce and consume: one name each, shared by producer and consumer."""

from airflow.sdk import Asset


def raw_asset(source: str) -> Asset:
    """The Asset a source's DAG emits when its raw tables change: named ``raw_<source>``, like
    everything else of the source (module, DAG id, config section, staging folder)."""
    return Asset(name=f"raw_{source}", uri=f"duckdb://warehouse/raw/{source}")


RAW_POLICE_UK = raw_asset("police_uk")
RAW_POLICE_UK_API = raw_asset("police_uk_api")
PUBLISHED_EVIDENCE = Asset(name="published_evidence", uri="duckdb://published/evidence")

# Reference data (geography, population, Home Office recorded crime): one Asset per source.
RAW_ONS_GEOGRAPHY = raw_asset("ons_geography")
RAW_ONS_POPULATION = raw_asset("ons_population")
RAW_HOME_OFFICE_PRC = raw_asset("home_office_prc")

# Annual and on-publication sources (dags/annual_sources.py): one Asset per source.
RAW_HMICFRS = raw_asset("hmicfrs")
RAW_FINANCE = raw_asset("finance")
RAW_CSP_ASSESSMENTS = raw_asset("csp_assessments")
RAW_CONSULTATION = raw_asset("consultation")
RAW_VICTIM_SATISFACTION = raw_asset("victim_satisfaction")
RAW_CALL_HANDLING = raw_asset("call_handling")
RAW_FORCE_VULNERABILITY = raw_asset("force_vulnerability")
RAW_ROAD_SAFETY = raw_asset("road_safety")
