with

weights as (

    select * from {{ ref('int_consultation__weights') }}

),

respondents as (

    select * from {{ ref('int_consultation__respondents') }}

),

weighted_respondents as (

    select
        weights.*,
        respondents.force_id,
        respondents.lad_name,
        respondents.mode
    from weights
    inner join respondents
        on {{ keys_match('respondents', 'weights', ['survey_id', 'respondent_key']) }}

),

by_district as (

    select
        survey_id,
        force_id,
        lad_code,
        any_value(lad_name) as lad_name,
        count(*) as respondent_count,
        count(*) filter (where mode = 'Telephone') as telephone_respondent_count,
        count(*) filter (where mode = 'Online') as online_respondent_count,
        sum(expansion_weight) as population_aged_16_plus,
        any_value(district_design_effect) as design_effect,
        any_value(district_effective_sample_size) as effective_sample_size,
        min(weight) as min_weight,
        any_value(district_max_weight) as max_weight,
        any_value(trim_cap) as trim_cap,
        any_value(trimmed_respondent_count) as trimmed_respondent_count,
        any_value(trim_rounds) as trim_rounds,
        any_value(raking_iterations) as raking_iterations,
        any_value(max_margin_error) as max_margin_error
    from weighted_respondents
    group by survey_id, force_id, lad_code

),

with_flags as (

    select
        * replace (round(population_aged_16_plus)::bigint as population_aged_16_plus),
        -- the rows stay: a small sample is shown with its warning, not hidden
        {{ consultation_sample_flags('respondent_count', 'effective_sample_size') }}
    from by_district

),

final as (

    select
        {{ contract_columns() }}
    from with_flags

)

select * from final
