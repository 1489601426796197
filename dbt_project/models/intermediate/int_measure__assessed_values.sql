-- The assessed period's numbers for every measure, area and reporting quarter: the value, its
-- interval and change (int_measure__values, int_measure__change), for disproportionality measures
-- the twelve months to the end of the assessed quarter (int_measure__disproportionality), and the
-- SPC signal of the quarter: every month of it on the chart as it stood at the quarter's end
-- (int_measure__spc), so a special cause in the quarter's first month is not lost when its last
-- month is common cause.
with

assessed_periods as (

    select * from {{ ref('int_measure__assessed_periods') }}

),

plan as (

    select * from {{ ref('int_measure__plan') }}

),

measure_values as (

    select * from {{ ref('int_measure__values') }}

),

measure_change as (

    select * from {{ ref('int_measure__change') }}

),

disproportionality as (

    select * from {{ ref('int_measure__disproportionality') }}

),

spc as (

    select * from {{ ref('int_measure__spc') }}

),

with_values as (

    select
        assessed_periods.*,
        coalesce(measure_values.period_label, case when assessed_periods.period_grain <> 'year'
            then {{ quarter_label('assessed_periods.assessed_quarter_start') }} end) as assessed_period_label,
        measure_values.numerator,
        measure_values.denominator,
        measure_values.value,
        measure_values.value_lower_95,
        measure_values.value_upper_95,
        measure_change.baseline_periods,
        measure_change.baseline_value,
        measure_change.compared_value,
        measure_change.comparison_basis,
        measure_change.change_value,
        measure_change.change_ratio,
        measure_change.rate_ratio,
        measure_change.rate_ratio_lower_95,
        measure_change.rate_ratio_upper_95,
        measure_change.test_name,
        measure_change.p_value,
        measure_change.is_significant,
        measure_change.direction
    from assessed_periods
    left join measure_values
        on {{ keys_match('assessed_periods', 'measure_values', ['measure_id', 'area_type', 'area_code']) }}
        and assessed_periods.assessed_period_type = measure_values.period_type
        and assessed_periods.assessed_period_start = measure_values.period_start
    left join measure_change
        on {{ keys_match('assessed_periods', 'measure_change', ['measure_id', 'area_type', 'area_code']) }}
        and assessed_periods.assessed_period_type = measure_change.period_type
        and assessed_periods.assessed_period_start = measure_change.period_start

),

with_disproportionality as (

    -- Disproportionality measures: the twelve months to the end of the assessed quarter.
    select
        with_values.* exclude (
            value, value_lower_95, value_upper_95, numerator, denominator, baseline_periods, baseline_value,
            compared_value, change_value, change_ratio, rate_ratio, rate_ratio_lower_95, rate_ratio_upper_95,
            test_name, p_value, is_significant, direction
        ),
        case when with_values.statistic = 'disproportionality' then disproportionality.rate_ratio else with_values.value end as value,
        case when with_values.statistic = 'disproportionality' then disproportionality.rate_ratio_lower_95 else with_values.value_lower_95 end as value_lower_95,
        case when with_values.statistic = 'disproportionality' then disproportionality.rate_ratio_upper_95 else with_values.value_upper_95 end as value_upper_95,
        case when with_values.statistic = 'disproportionality' then disproportionality.event_count else with_values.numerator end as numerator,
        case when with_values.statistic = 'disproportionality' then disproportionality.population_count else with_values.denominator end as denominator,
        case when with_values.statistic = 'disproportionality' and disproportionality.baseline_rate_ratio is not null
            then 'twelve months to ' || {{ quarter_label('cast(with_values.assessed_quarter_start - interval 12 month as date)') }}
            else with_values.baseline_periods end as baseline_periods,
        case when with_values.statistic = 'disproportionality' then disproportionality.baseline_rate_ratio else with_values.baseline_value end as baseline_value,
        case when with_values.statistic = 'disproportionality' then disproportionality.rate_ratio else with_values.compared_value end as compared_value,
        case when with_values.statistic = 'disproportionality'
            then round(disproportionality.rate_ratio - disproportionality.baseline_rate_ratio, 10) else with_values.change_value end as change_value,
        case when with_values.statistic = 'disproportionality'
            then round((disproportionality.rate_ratio - disproportionality.baseline_rate_ratio) / nullif(disproportionality.baseline_rate_ratio, 0), 10)
            else with_values.change_ratio end as change_ratio,
        case when with_values.statistic = 'disproportionality'
            then round(disproportionality.rate_ratio / nullif(disproportionality.baseline_rate_ratio, 0), 10) else with_values.rate_ratio end as rate_ratio,
        case when with_values.statistic = 'disproportionality' then null else with_values.rate_ratio_lower_95 end as rate_ratio_lower_95,
        case when with_values.statistic = 'disproportionality' then null else with_values.rate_ratio_upper_95 end as rate_ratio_upper_95,
        case when with_values.statistic = 'disproportionality'
            then case when disproportionality.change_z_statistic is not null then 'difference of log rate ratios (z)' end
            else with_values.test_name end as test_name,
        case when with_values.statistic = 'disproportionality' then disproportionality.change_p_value else with_values.p_value end as p_value,
        case when with_values.statistic = 'disproportionality' then disproportionality.is_change_significant else with_values.is_significant end as is_significant,
        case when with_values.statistic = 'disproportionality' then
            case
                when disproportionality.rate_ratio is null or disproportionality.baseline_rate_ratio is null then null
                when disproportionality.rate_ratio > disproportionality.baseline_rate_ratio then 'higher'
                when disproportionality.rate_ratio < disproportionality.baseline_rate_ratio then 'lower'
                else 'unchanged'
            end
            else with_values.direction end as direction,
        disproportionality.measure_id is not null as has_disproportionality_window,
        disproportionality.population_count as disproportionality_population
    from with_values
    inner join plan
        on with_values.measure_id = plan.measure_id
    left join disproportionality
        on with_values.statistic = 'disproportionality'
        and with_values.area_type = 'force'
        and with_values.measure_id = disproportionality.measure_id
        and with_values.area_code = disproportionality.force_id
        and disproportionality.ethnic_group = plan.disproportionality_group
        and disproportionality.period_label = with_values.assessed_period_label

),

spc_quarter as (

    -- The three months of each chart's quarter, as the chart stood at the quarter's end.
    select
        measure_id, area_type, area_code, as_of_period,
        bool_or(special_cause_direction in ('high', 'mixed')) as has_high,
        bool_or(special_cause_direction in ('low', 'mixed')) as has_low,
        bool_or(variation = 'too_few_points') as has_too_few_points,
        -- with one direction every signalling month has the same variation
        max(variation) filter (where special_cause_direction is not null) as special_cause_variation,
        string_agg(strftime(month_start, '%Y-%m'), ', ' order by month_start)
            filter (where special_cause_direction is not null) as special_cause_months,
        bool_or(rule_beyond_limit is not null) as has_beyond_limit,
        bool_or(rule_shift is not null) as has_shift,
        bool_or(rule_trend is not null) as has_trend,
        bool_or(rule_two_of_three is not null) as has_two_of_three
    from spc
    where month_start > as_of_month_start - interval 3 month
    group by all

),

with_spc as (

    select
        with_disproportionality.*,
        case
            when spc_quarter.has_too_few_points then 'too_few_points'
            when spc_quarter.has_high and spc_quarter.has_low then 'special_cause_mixed'
            when spc_quarter.has_high or spc_quarter.has_low then spc_quarter.special_cause_variation
            when spc_quarter.measure_id is not null then 'common_cause'
        end as spc_variation,
        case
            when spc_quarter.has_high and spc_quarter.has_low then 'mixed'
            when spc_quarter.has_high then 'high'
            when spc_quarter.has_low then 'low'
        end as spc_special_cause_direction,
        concat_ws(', ',
            case when spc_quarter.has_beyond_limit then 'beyond a limit' end,
            case when spc_quarter.has_shift then 'shift' end,
            case when spc_quarter.has_trend then 'trend' end,
            case when spc_quarter.has_two_of_three then 'two of three near a limit' end
        ) as spc_rules,
        spc_quarter.special_cause_months as spc_special_cause_months,
        spc.side_of_centre_line as spc_side_of_centre_line,
        spc.side_run_length as spc_side_run_length,
        spc.centre_line as spc_centre_line,
        spc.assurance as spc_assurance,
        spc.month_start as spc_month_start
    from with_disproportionality
    left join spc
        on {{ keys_match('with_disproportionality', 'spc', ['measure_id', 'area_type', 'area_code']) }}
        and with_disproportionality.assessed_period_label = spc.as_of_period
        and with_disproportionality.period_grain = 'month'
        and spc.is_latest_point
    left join spc_quarter
        on {{ keys_match('with_disproportionality', 'spc_quarter', ['measure_id', 'area_type', 'area_code']) }}
        and with_disproportionality.assessed_period_label = spc_quarter.as_of_period
        and with_disproportionality.period_grain = 'month'

)

select * from with_spc
