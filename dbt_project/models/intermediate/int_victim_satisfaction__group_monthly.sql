-- The survey's weighted totals per force, month, protected characteristic and group: what a
-- share and its interval over 12 months are computed from (sums add across months).
with

responses as (

    select * from {{ ref('stg_victim_satisfaction__responses') }}

),

categories as (

    select * from {{ ref('consultation_weighting_categories') }}

),

-- each interview once per characteristic, with the answer it gave (NULL: not asked or not answered)
answers as (

    select force_id, survey_month_start, is_satisfied, design_weight, 'all' as characteristic, 'All victims' as answer
    from responses
    union all
    select force_id, survey_month_start, is_satisfied, design_weight, 'age_band', age_band from responses
    union all
    select force_id, survey_month_start, is_satisfied, design_weight, 'sex', sex from responses
    union all
    select force_id, survey_month_start, is_satisfied, design_weight, 'ethnic_group', ethnic_group from responses
    union all
    select force_id, survey_month_start, is_satisfied, design_weight, 'disability', disability from responses

),

-- the reporting groups the consultation uses (16-34, Disabled, Black ...); an unanswered question
-- joins "Prefer not to say" in its group (Not stated; for sex, Other or not stated)
in_groups as (

    select
        answers.force_id,
        answers.survey_month_start as month_start,
        answers.characteristic,
        case
            when answers.characteristic = 'all' then answers.answer
            else coalesce(categories.reporting_group, 'Not stated')
        end as group_value,
        case when answers.characteristic = 'all' then 0 else coalesce(categories.sort_order, 99) end as group_order,
        answers.is_satisfied,
        answers.design_weight
    from answers
    left join categories
        on categories.variable = answers.characteristic
        and categories.answer = coalesce(answers.answer, 'Prefer not to say')

),

monthly_totals as (

    select
        force_id,
        month_start,
        characteristic,
        group_value,
        min(group_order) as group_order,
        {{ victim_survey_totals() }}
    from in_groups
    group by force_id, month_start, characteristic, group_value

)

select * from monthly_totals
