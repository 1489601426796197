with

respondents as (

    select * from {{ ref('int_consultation__respondents') }}

),

weights as (

    select * from {{ ref('int_consultation__weights') }}

),

weighted as (

    select
        respondents.*,
        weights.weight,
        weights.expansion_weight
    from respondents
    inner join weights
        on {{ keys_match('weights', 'respondents', ['survey_id', 'respondent_key']) }}

),

by_group as (

    -- every respondent is in the 'all' group and in one group of each breakdown
    unpivot (
        select
            *,
            'All respondents' as all_group,
            mode as mode_group
        from weighted
    )
    on all_group as 'all', age_group as 'age_band', sex_group as 'sex', ethnic_group as 'ethnic_group',
        disability_group as 'disability', mode_group as 'mode'
    into name group_variable value group_value

),

final as (

    select
        survey_id,
        respondent_key,
        force_id,
        force_name,
        lad_code,
        lad_name,
        csp_code,
        csp_name,
        group_variable,
        group_value,
        weight,
        expansion_weight,
        is_confident,
        is_not_confident,
        confidence_answer
    from by_group

)

select * from final
