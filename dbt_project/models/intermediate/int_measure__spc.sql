-- The statistics behind performance.fct_spc, which publishes these rows as they are (documented and
-- contracted there). A table: the mart and the assessment steps (int_measure__assessed_*) read it.
{{ config(materialized='table') }}
{%- set k = var('spc_limit_multiplier', 2.66) -%}
{%- set near_sigma = var('spc_near_limit_sigma', 2) -%}
{%- set min_points = var('spc_min_points', 15) -%}
{%- set baseline_points = var('spc_baseline_points', 0) -%}

with

measure_values as (

    select * from {{ ref('int_measure__values') }}

),

plan as (

    select * from {{ ref('int_measure__plan') }}

),

monthly_series as (

    select
        measure_values.measure_id,
        measure_values.area_type,
        measure_values.area_code,
        measure_values.force_id,
        measure_values.period_start as month_start,
        measure_values.value,
        plan.polarity,
        plan.target_value
    from measure_values
    inner join plan
        on measure_values.measure_id = plan.measure_id
    where measure_values.period_type = 'month'
        and measure_values.value is not null

),

reporting_months as (

    -- A chart is drawn as it stood at the end of each quarter the series has: the points up to
    -- that month, so a past quarter's report is not coloured by later data.
    select distinct
        measure_id, area_type, area_code,
        month_start as as_of_month_start,
        {{ quarter_label('month_start') }} as as_of_period
    from monthly_series
    where month(month_start) in (3, 6, 9, 12)

),

points as (

    select
        reporting_months.as_of_period,
        reporting_months.as_of_month_start,
        monthly_series.*,
        row_number() over series_as_of as point_index,
        count(*) over (partition by monthly_series.measure_id, monthly_series.area_type, monthly_series.area_code,
            reporting_months.as_of_period) as point_count,
        abs(monthly_series.value - lag(monthly_series.value) over series_as_of) as moving_range
    from reporting_months
    inner join monthly_series
        on {{ keys_match('reporting_months', 'monthly_series', ['measure_id', 'area_type', 'area_code']) }}
        and monthly_series.month_start <= reporting_months.as_of_month_start
    window series_as_of as (
        partition by monthly_series.measure_id, monthly_series.area_type, monthly_series.area_code,
            reporting_months.as_of_period
        order by monthly_series.month_start
    )

),

with_baseline as (

    select
        *,
        {% if baseline_points | int > 0 -%}
        point_index <= {{ baseline_points | int }}
        {%- else -%}
        true
        {%- endif %} as is_in_baseline
    from points

),

with_limits as (

    -- XmR: centre line = mean of the baseline points; limits at mean +/- {{ k }} x mean moving range.
    select
        *,
        point_count >= {{ min_points }} as has_enough_points,
        avg(case when is_in_baseline then value end) over series_as_of as centre_line,
        avg(case when is_in_baseline and point_index > 1 then moving_range end) over series_as_of as mean_moving_range
    from with_baseline
    window series_as_of as (partition by measure_id, area_type, area_code, as_of_period)

),

with_bands as (

    select
        *,
        centre_line + {{ k }} * mean_moving_range as upper_process_limit,
        centre_line - {{ k }} * mean_moving_range as lower_process_limit,
        -- sigma = {{ k }} / 3 x mean moving range
        centre_line + {{ near_sigma }} * ({{ k }} / 3.0) * mean_moving_range as upper_near_limit,
        centre_line - {{ near_sigma }} * ({{ k }} / 3.0) * mean_moving_range as lower_near_limit
    from with_limits

),

with_sides as (

    select
        *,
        -- A point on the centre line breaks a shift.
        sign(value - centre_line) as side,
        -- A point equal to the one before breaks a trend.
        sign(value - lag(value) over series_as_of) as step,
        value > upper_near_limit as is_near_high,
        value < lower_near_limit as is_near_low
    from with_bands
    window series_as_of as (partition by measure_id, area_type, area_code, as_of_period order by month_start)

),

with_runs as (

    select
        *,
        point_index - row_number() over (
            partition by measure_id, area_type, area_code, as_of_period, side order by month_start
        ) as side_run,
        point_index - row_number() over (
            partition by measure_id, area_type, area_code, as_of_period, step order by month_start
        ) as step_run
    from with_sides

),

with_run_lengths as (

    select
        *,
        count(*) over (partition by measure_id, area_type, area_code, as_of_period, side, side_run) as side_run_length,
        -- points in a trend = consecutive equal steps + the point the first step starts from
        count(*) over (partition by measure_id, area_type, area_code, as_of_period, step, step_run) + 1 as trend_run_points,
        min(point_index) over (partition by measure_id, area_type, area_code, as_of_period, step, step_run) as step_run_first_index
    from with_runs

),

with_neighbours as (

    select
        *,
        lead(step) over series_as_of as next_step,
        lead(trend_run_points) over series_as_of as next_trend_run_points,
        lead(step_run_first_index) over series_as_of as next_step_run_first_index,
        coalesce(lag(is_near_high, 1) over series_as_of, false) or coalesce(lag(is_near_high, 2) over series_as_of, false)
            or coalesce(lead(is_near_high, 1) over series_as_of, false) or coalesce(lead(is_near_high, 2) over series_as_of, false)
            as has_near_high_neighbour,
        coalesce(lag(is_near_low, 1) over series_as_of, false) or coalesce(lag(is_near_low, 2) over series_as_of, false)
            or coalesce(lead(is_near_low, 1) over series_as_of, false) or coalesce(lead(is_near_low, 2) over series_as_of, false)
            as has_near_low_neighbour
    from with_run_lengths
    window series_as_of as (partition by measure_id, area_type, area_code, as_of_period order by month_start)

),

with_trend_ends as (

    select
        *,
        -- the direction of a trend this point is part of (as the end of one of its steps) ...
        case when step <> 0 and trend_run_points >= {{ var('spc_trend_points', 7) }} then step end as trend_ends,
        -- ... or that starts from it
        case when next_step <> 0 and next_step_run_first_index = point_index + 1
            and next_trend_run_points >= {{ var('spc_trend_points', 7) }} then next_step end as trend_starts
    from with_neighbours

),

with_rules as (

    select
        *,
        -- 1. a point beyond a process limit
        case
            when not has_enough_points then null
            when value > upper_process_limit then 'high'
            when value < lower_process_limit then 'low'
        end as rule_beyond_limit,
        -- 2. a shift: {{ var('spc_shift_points', 7) }} or more consecutive points on one side of the centre line
        case
            when not has_enough_points or side = 0 or side_run_length < {{ var('spc_shift_points', 7) }} then null
            when side > 0 then 'high'
            else 'low'
        end as rule_shift,
        -- 3. a trend: {{ var('spc_trend_points', 7) }} or more consecutive points each above (below) the one before
        --    (a point can end one trend and start the opposite one: 'both')
        case
            when not has_enough_points then null
            when trend_ends is not null and trend_starts is not null and trend_ends <> trend_starts then 'both'
            when coalesce(trend_ends, trend_starts) > 0 then 'high'
            when coalesce(trend_ends, trend_starts) < 0 then 'low'
        end as rule_trend,
        -- 4. two of three consecutive points beyond {{ near_sigma }} sigma on the same side
        case
            when not has_enough_points then null
            when is_near_high and has_near_high_neighbour then 'high'
            when is_near_low and has_near_low_neighbour then 'low'
        end as rule_two_of_three
    from with_trend_ends

),

with_direction as (

    select
        *,
        case
            when (rule_beyond_limit = 'high' or rule_shift = 'high' or rule_trend in ('high', 'both') or rule_two_of_three = 'high')
                and (rule_beyond_limit = 'low' or rule_shift = 'low' or rule_trend in ('low', 'both') or rule_two_of_three = 'low')
                then 'mixed'
            when rule_beyond_limit = 'high' or rule_shift = 'high' or rule_trend = 'high' or rule_two_of_three = 'high' then 'high'
            when rule_beyond_limit = 'low' or rule_shift = 'low' or rule_trend = 'low' or rule_two_of_three = 'low' then 'low'
        end as special_cause_direction
    from with_rules

),

published_values as (

    -- rounded for publication, and what is derived from the steps above
    select
        * replace (
            {{ stat_round('moving_range') }} as moving_range,
            case when has_enough_points then {{ stat_round('centre_line') }} end as centre_line,
            case when has_enough_points then {{ stat_round('mean_moving_range') }} end as mean_moving_range,
            case when has_enough_points then {{ stat_round('upper_process_limit') }} end as upper_process_limit,
            case when has_enough_points then {{ stat_round('lower_process_limit') }} end as lower_process_limit,
            case when has_enough_points then {{ stat_round('upper_near_limit') }} end as upper_near_limit,
            case when has_enough_points then {{ stat_round('lower_near_limit') }} end as lower_near_limit,
            case when has_enough_points and side <> 0 then side_run_length end as side_run_length
        ),
        month_start = as_of_month_start as is_latest_point,
        case when not has_enough_points then null when side > 0 then 'above' when side < 0 then 'below' else 'on' end as side_of_centre_line,
        case
            when not has_enough_points then 'too_few_points'
            when special_cause_direction is null then 'common_cause'
            when special_cause_direction = 'mixed' then 'special_cause_mixed'
            when polarity = 'neutral' then 'special_cause_neither'
            when (special_cause_direction = 'low') = (polarity = 'lower_is_better') then 'special_cause_improvement'
            else 'special_cause_concern'
        end as variation,
        -- Will the process meet the target? (a target outside the limits is met always or never)
        case
            when not has_enough_points or target_value is null or polarity = 'neutral' then null
            when polarity = 'lower_is_better' and upper_process_limit <= target_value then 'consistently_passes'
            when polarity = 'lower_is_better' and lower_process_limit > target_value then 'consistently_fails'
            when polarity = 'higher_is_better' and lower_process_limit >= target_value then 'consistently_passes'
            when polarity = 'higher_is_better' and upper_process_limit < target_value then 'consistently_fails'
            else 'hit_and_miss'
        end as assurance
    from with_direction

),

final as (

    select {{ contract_columns(of='fct_spc') }}
    from published_values

)

select * from final
