-- Victim satisfaction over each rolling 12 months (month ends with all 12 months surveyed):
-- the weighted share satisfied, with a 95% Wilson interval on Kish's effective sample size.
with

monthly as (

    select * from {{ ref('int_victim_satisfaction__monthly') }}

),

measure_groups as (

    select 'victim_satisfaction' as measure_id, 'All victims' as victim_group
    union all
    select 'victim_satisfaction_domestic_abuse', 'Domestic abuse victims'

),

month_ends as (

    select distinct force_id, victim_group, month_start from monthly

),

rolling_totals as (

    select
        measure_groups.measure_id,
        month_ends.force_id,
        last_day(month_ends.month_start) as period_end_date,
        count(*) as months_surveyed,
        sum(monthly.respondent_count) as respondent_count,
        sum(monthly.weight_sum) as weight_sum,
        sum(monthly.weight_squared_sum) as weight_squared_sum,
        sum(monthly.satisfied_weight_sum) as satisfied_weight_sum
    from month_ends
    inner join measure_groups using (victim_group)
    inner join monthly
        on monthly.force_id = month_ends.force_id
        and monthly.victim_group = month_ends.victim_group
        and {{ in_twelve_months_to('monthly.month_start', 'month_ends.month_start') }}
    group by all

),

with_shares as (

    select
        measure_id,
        force_id,
        period_end_date,
        respondent_count,
        {{ victim_survey_shares() }}
    from rolling_totals
    where months_surveyed = 12

),

in_percent as (

    select
        measure_id,
        force_id,
        period_end_date,
        round(100 * weighted_share_satisfied, 1) as value,
        round(100 * {{ weighted_share_ci_lower('weighted_share_satisfied', 'effective_sample_size') }}, 1) as value_lower_95,
        round(100 * {{ weighted_share_ci_upper('weighted_share_satisfied', 'effective_sample_size') }}, 1) as value_upper_95,
        respondent_count::double as respondent_count
    from with_shares

)

select * from in_percent
