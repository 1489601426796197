"""Survey weights for the consultation: each district's respondents raked to its Census margins.

Weights are derived data built from two sources (the survey and the population tables), so they
are made here, in the build, from the staged models: a Python model because raking is iterative.
The method (raking, trimming, Kish design effect) is ``ingest/weighting.py``, tested on its own;
this model only feeds it and shapes its answer. A margin that cannot be met (a category with
population but no respondents in a district) stops the build with an error naming the district,
the variable and the category: collapse it in seed ``consultation_weighting_categories``.
"""

VARIABLES = ("age_band", "sex", "ethnic_group", "disability")


def model(dbt, session):
    dbt.config(materialized="table")
    import pandas as pd

    from ingest.weighting import weight_districts

    cap = float(dbt.config.get("trim_cap"))
    tolerance = float(dbt.config.get("raking_tolerance"))
    max_iterations = int(dbt.config.get("raking_max_iterations"))

    respondents = dbt.ref("int_consultation__respondents").df()
    margins = dbt.ref("int_consultation__census_margins").df()

    columns = {f"weighting_{v}": v for v in VARIABLES}
    frames = []
    for survey_id, rows in respondents[respondents["lad_code"].notna()].groupby("survey_id", sort=True):
        sample = rows[["respondent_key", "lad_code", *columns]].rename(columns=columns)
        sample = sample.astype({v: "object" for v in VARIABLES}).where(sample.notna(), None)
        weighted, diagnostics = weight_districts(
            sample, margins, variables=VARIABLES, cap=cap, tol=tolerance, max_iter=max_iterations
        )
        by_district = pd.DataFrame([{
            "lad_code": d.district,
            "district_respondent_count": d.respondent_count,
            "raking_iterations": d.iterations,
            "max_margin_error": d.max_margin_error,
            "trim_rounds": d.trim_rounds,
            "trimmed_respondent_count": d.trimmed_count,
            "trim_cap": d.cap,
            "district_max_weight": d.max_weight,
            "district_design_effect": d.design_effect,
            "district_effective_sample_size": d.effective_sample_size,
        } for d in diagnostics])
        frame = weighted[["respondent_key", "lad_code", "weight", "expansion_weight"]].merge(by_district, on="lad_code")
        frame.insert(0, "survey_id", survey_id)
        frames.append(frame)
    if frames:
        return pd.concat(frames, ignore_index=True)
    # no survey loaded yet: an empty table with the same columns and types
    return pd.DataFrame({
        "survey_id": pd.Series(dtype="str"), "respondent_key": pd.Series(dtype="str"),
        "lad_code": pd.Series(dtype="str"), "weight": pd.Series(dtype="float64"),
        "expansion_weight": pd.Series(dtype="float64"), "district_respondent_count": pd.Series(dtype="int64"),
        "raking_iterations": pd.Series(dtype="int64"), "max_margin_error": pd.Series(dtype="float64"),
        "trim_rounds": pd.Series(dtype="int64"), "trimmed_respondent_count": pd.Series(dtype="int64"),
        "trim_cap": pd.Series(dtype="float64"), "district_max_weight": pd.Series(dtype="float64"),
        "district_design_effect": pd.Series(dtype="float64"),
        "district_effective_sample_size": pd.Series(dtype="float64"),
    })
