-- Every weighted respondent's groups in the two areas the consultation reports: their district,
-- weighted by the raking weight, and the force area, weighted by the expansion weight, so each
-- district counts in proportion to its residents aged 16+, not to its respondents.
with

respondent_groups as (

    select * from {{ ref('int_consultation__respondent_groups') }}

),

districts as (

    select
        survey_id, force_id, 'district' as area_type, lad_code as area_code, lad_name as area_name,
        csp_code, csp_name, respondent_key, group_variable, group_value, weight as analysis_weight,
        confidence_answer, is_confident, is_not_confident
    from respondent_groups

),

force_areas as (

    select
        survey_id, force_id, 'force_area' as area_type, force_id as area_code,
        coalesce(force_name, force_id) as area_name,
        null as csp_code, null as csp_name,
        respondent_key, group_variable, group_value, expansion_weight as analysis_weight,
        confidence_answer, is_confident, is_not_confident
    from respondent_groups

),

respondent_areas as (

    select * from districts
    union all
    select * from force_areas

)

select * from respondent_areas
