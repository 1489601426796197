-- Victim satisfaction by protected characteristic over each rolling 12 months: the weighted share
-- satisfied per group, a 95% Wilson interval on Kish's effective sample size, small groups flagged.
with

group_monthly as (

    select * from {{ ref('int_victim_satisfaction__group_monthly') }}

),

-- the months the force surveyed, and every group it has ever had, so a group with no interview in
-- a month still counts that month as zero (a 12-month window needs every month present)
force_months as (

    select distinct force_id, month_start from group_monthly

),

force_groups as (

    select force_id, characteristic, group_value, min(group_order) as group_order
    from group_monthly
    group by all

),

spine as (

    select
        force_months.force_id,
        force_months.month_start,
        force_groups.characteristic,
        force_groups.group_value,
        force_groups.group_order,
        coalesce(group_monthly.respondent_count, 0) as respondent_count,
        coalesce(group_monthly.satisfied_respondent_count, 0) as satisfied_respondent_count,
        coalesce(group_monthly.weight_sum, 0) as weight_sum,
        coalesce(group_monthly.weight_squared_sum, 0) as weight_squared_sum,
        coalesce(group_monthly.satisfied_weight_sum, 0) as satisfied_weight_sum
    from force_months
    inner join force_groups using (force_id)
    left join group_monthly
        on {{ keys_match('group_monthly', 'force_months', ['force_id', 'month_start']) }}
        and {{ keys_match('group_monthly', 'force_groups', ['characteristic', 'group_value']) }}

),

rolling_totals as (

    select
        force_id,
        characteristic,
        group_value,
        group_order,
        month_start,
        count(*) over twelve_months as months_surveyed,
        sum(respondent_count) over twelve_months as respondent_count,
        sum(satisfied_respondent_count) over twelve_months as satisfied_respondent_count,
        sum(weight_sum) over twelve_months as weight_sum,
        sum(weight_squared_sum) over twelve_months as weight_squared_sum,
        sum(satisfied_weight_sum) over twelve_months as satisfied_weight_sum
    from spine
    window twelve_months as (
        partition by force_id, characteristic, group_value
        order by month_start
        range between interval 11 month preceding and current row
    )

),

with_shares as (

    select
        *,
        {{ victim_survey_shares() }}
    from rolling_totals
    where months_surveyed = 12 and respondent_count > 0

),

with_period_and_flags as (

    -- Statistics to 10 decimal places (stat_round): the twelve-month window sums of weights can
    -- differ in their last binary digit from one build to the next, and a published figure must not.
    select
        * replace (
            {{ stat_round('weighted_share_satisfied') }} as weighted_share_satisfied,
            {{ stat_round('effective_sample_size') }} as effective_sample_size
        ),
        -- dates: the 12 months
        month_start - interval 11 month as period_start_date,
        last_day(month_start) as period_end_date,
        {{ stat_round(weighted_share_ci_lower('weighted_share_satisfied', 'effective_sample_size')) }} as ci_lower_95,
        {{ stat_round(weighted_share_ci_upper('weighted_share_satisfied', 'effective_sample_size')) }} as ci_upper_95,
        -- flags (a small group is shown with its warning, never hidden)
        respondent_count < {{ var('consultation_min_group_respondents') }} as is_small_group,
        effective_sample_size < {{ var('consultation_min_effective_sample_size') }} as is_low_effective_sample
    from with_shares

),

final as (

    select
        {{ contract_columns() }}
    from with_period_and_flags

)

select * from final
