with

respondents as (

    select * from {{ ref('int_consultation__respondents') }}

),

priorities as (

    select * from {{ ref('consultation_priorities') }}

),

choices as (

    select
        survey_id,
        respondent_key,
        is_ranked_layout,
        unnest(priority_choices) as priority_label,
        generate_subscripts(priority_choices, 1) as choice_position
    from respondents

),

with_priority as (

    -- a repeated choice (a ranked form that let one option be picked twice) counts once, at its best rank
    select
        choices.survey_id,
        choices.respondent_key,
        priorities.priority_id,
        min(case when choices.is_ranked_layout then choices.choice_position end) as choice_rank
    from choices
    inner join priorities
        on lower(priorities.priority_label) = lower(choices.priority_label)
    group by all

)

select * from with_priority
