-- The survey's weighted totals per force, month and victim group: what a share and its interval
-- over any run of months are computed from (sums add across months; shares do not).
with

responses as (

    select * from {{ ref('stg_victim_satisfaction__responses') }}

),

-- each interview counts for all victims, its crime group and, if domestic abuse-related, that group
grouped as (

    select force_id, survey_month_start, 'All victims' as victim_group, is_satisfied, design_weight from responses
    union all
    select force_id, survey_month_start, crime_group, is_satisfied, design_weight from responses
    union all
    select force_id, survey_month_start, 'Domestic abuse victims', is_satisfied, design_weight
    from responses where is_domestic_abuse

),

monthly_totals as (

    select
        force_id,
        survey_month_start as month_start,
        victim_group,
        {{ victim_survey_totals() }}
    from grouped
    group by all

)

select * from monthly_totals
