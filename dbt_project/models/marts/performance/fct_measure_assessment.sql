with

plan as (

    select * from {{ ref('int_measure__plan') }}

),

measures as (

    select * from {{ ref('dim_measure') }}

),

source_status as (

    select * from {{ ref('int_measure__source_status') }}

),

coverage as (

    select * from {{ ref('int_measure__mart_coverage') }}

),

areas as (

    select * from {{ ref('int_measure__areas') }}

),

most_similar_groups as (

    select * from {{ ref('int_measure__msg') }}

),

measure_values as (

    select * from {{ ref('fct_measure_values') }}

),

measure_change as (

    select * from {{ ref('fct_measure_change') }}

),

spc as (

    select * from {{ ref('fct_spc') }}

),

disproportionality as (

    select * from {{ ref('fct_stop_search_disproportionality') }}

),

reporting_quarters as (

    -- The quarters a force can be reported for: all three months in at least one monthly mart.
    select distinct force_id, quarter_start
    from (
        select
            coverage.force_id,
            cast(date_trunc('quarter', coverage.period_start) as date) as quarter_start
        from coverage
        inner join source_status
            on coverage.mart = source_status.source_name
            and source_status.grain = 'month'
        where coverage.area_type = 'force'
        group by coverage.force_id, coverage.mart, 2
        having count(distinct coverage.period_start) = 3
    )

),

measure_areas as (

    select plan.measure_id, 'force' as area_type, forces.force_id as area_code, forces.force_id
    from plan
    cross join (select distinct force_id from reporting_quarters) as forces
    union all
    select distinct measure_id, area_type, area_code, force_id
    from measure_values
    where area_type = 'csp'

),

assessed_periods as (

    select
        measure_areas.*,
        reporting_quarters.quarter_start as reporting_period_start,
        plan.period_grain,
        plan.statistic,
        -- a measure that needs time to settle is reported for the latest quarter that old
        cast(reporting_quarters.quarter_start - to_months(3 * plan.maturity_quarters) as date) as assessed_quarter_start,
        cast(reporting_quarters.quarter_start + interval 3 month - interval 1 day as date) as reporting_period_end
    from measure_areas
    inner join plan
        on measure_areas.measure_id = plan.measure_id
    inner join reporting_quarters
        on measure_areas.force_id = reporting_quarters.force_id

),

year_values as (

    select * from measure_values where period_type = 'year' and value is not null

),

with_year_period as (

    -- Annual measures: the latest year with a value that had started by the end of the reporting
    -- quarter (a year's outturn or savings are reported after it ends).
    select
        assessed_periods.*,
        year_values.period_start as assessed_year_start
    from assessed_periods
    asof left join year_values
        on assessed_periods.measure_id = year_values.measure_id
        and assessed_periods.area_type = year_values.area_type
        and assessed_periods.area_code = year_values.area_code
        and assessed_periods.reporting_period_end >= year_values.period_start

),

with_assessed_period as (

    select
        *,
        case when period_grain = 'year' then 'year' else 'quarter' end as assessed_period_type,
        case when period_grain = 'year' then assessed_year_start else assessed_quarter_start end as assessed_period_start
    from with_year_period

),

with_values as (

    select
        with_assessed_period.*,
        coalesce(measure_values.period_label, case when with_assessed_period.period_grain <> 'year'
            then {{ quarter_label('with_assessed_period.assessed_quarter_start') }} end) as assessed_period_label,
        measure_values.numerator,
        measure_values.denominator,
        measure_values.value,
        measure_values.value_lower_95,
        measure_values.value_upper_95,
        measure_change.baseline_periods,
        measure_change.baseline_value,
        measure_change.change_value,
        measure_change.change_ratio,
        measure_change.rate_ratio,
        measure_change.rate_ratio_lower_95,
        measure_change.rate_ratio_upper_95,
        measure_change.test_name,
        measure_change.p_value,
        measure_change.is_significant,
        measure_change.direction
    from with_assessed_period
    left join measure_values
        on with_assessed_period.measure_id = measure_values.measure_id
        and with_assessed_period.area_type = measure_values.area_type
        and with_assessed_period.area_code = measure_values.area_code
        and with_assessed_period.assessed_period_type = measure_values.period_type
        and with_assessed_period.assessed_period_start = measure_values.period_start
    left join measure_change
        on with_assessed_period.measure_id = measure_change.measure_id
        and with_assessed_period.area_type = measure_change.area_type
        and with_assessed_period.area_code = measure_change.area_code
        and with_assessed_period.assessed_period_type = measure_change.period_type
        and with_assessed_period.assessed_period_start = measure_change.period_start

),

with_disproportionality as (

    -- Disproportionality measures: the twelve months to the end of the assessed quarter.
    select
        with_values.* exclude (
            value, value_lower_95, value_upper_95, numerator, denominator, baseline_periods, baseline_value,
            change_value, change_ratio, rate_ratio, rate_ratio_lower_95, rate_ratio_upper_95,
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

with_spc as (

    select
        with_disproportionality.*,
        spc.variation as spc_variation,
        spc.special_cause_direction as spc_special_cause_direction,
        concat_ws(', ',
            case when spc.rule_beyond_limit is not null then 'beyond a limit' end,
            case when spc.rule_shift is not null then 'shift' end,
            case when spc.rule_trend is not null then 'trend' end,
            case when spc.rule_two_of_three is not null then 'two of three near a limit' end
        ) as spc_rules,
        spc.side_of_centre_line as spc_side_of_centre_line,
        spc.side_run_length as spc_side_run_length,
        spc.centre_line as spc_centre_line,
        spc.assurance as spc_assurance,
        spc.month_start as spc_month_start
    from with_disproportionality
    left join spc
        on with_disproportionality.period_grain = 'month'
        and with_disproportionality.measure_id = spc.measure_id
        and with_disproportionality.area_type = spc.area_type
        and with_disproportionality.area_code = spc.area_code
        and with_disproportionality.assessed_period_label = spc.as_of_period
        and spc.is_latest_point

),

force_values as (

    select measure_id, area_code as force_id, period_label, value
    from measure_values
    where area_type = 'force' and value is not null
    union all
    select disproportionality.measure_id, disproportionality.force_id, disproportionality.period_label, disproportionality.rate_ratio
    from disproportionality
    inner join plan
        on disproportionality.measure_id = plan.measure_id
        and disproportionality.ethnic_group = plan.disproportionality_group
    where disproportionality.rate_ratio is not null

),

msg_ranks as (

    -- Rank 1 = best in the force's most similar group, among the forces with a value for the period.
    select
        with_spc.measure_id,
        with_spc.area_code,
        with_spc.reporting_period_start,
        max(most_similar_groups.group_size) as msg_group_size,
        count(peer.value) as msg_forces_with_data,
        1 + count(*) filter (where
            (plan.polarity = 'lower_is_better' and peer.value < with_spc.value)
            or (plan.polarity = 'higher_is_better' and peer.value > with_spc.value)
        ) as msg_rank
    from with_spc
    inner join plan
        on with_spc.measure_id = plan.measure_id
        and plan.comparator = 'msg'
        and plan.polarity <> 'neutral'
        and plan.statistic in ('rate_per_1000_population', 'proportion', 'disproportionality')
    inner join most_similar_groups
        on with_spc.area_code = most_similar_groups.force_id
    left join force_values as peer
        on with_spc.measure_id = peer.measure_id
        and most_similar_groups.member_force_id = peer.force_id
        and with_spc.assessed_period_label = peer.period_label
    where with_spc.area_type = 'force' and with_spc.value is not null
    group by all

),

with_status as (

    select
        with_spc.*,
        plan.objective_id,
        plan.objective,
        plan.objective_order,
        plan.measure_name,
        plan.measure_order,
        plan.unit,
        plan.polarity,
        plan.mart,
        plan.is_national,
        plan.national_priority,
        plan.target_value,
        case
            when with_spc.value is null or plan.target_value is null or plan.polarity = 'neutral' then null
            when plan.polarity = 'lower_is_better' then with_spc.value <= plan.target_value
            else with_spc.value >= plan.target_value
        end as meets_target,
        case when msg_ranks.msg_forces_with_data >= 2 then msg_ranks.msg_rank end as msg_rank,
        msg_ranks.msg_forces_with_data,
        msg_ranks.msg_group_size,
        case
            when with_spc.value is null then 'data gap'
            when plan.polarity = 'neutral' then 'not assessed'
            when with_spc.direction is null then 'not assessed'
            when with_spc.statistic in ('ratio', 'total') then case
                when with_spc.direction = 'unchanged' then 'no significant change'
                when (with_spc.direction = 'lower') = (plan.polarity = 'lower_is_better') then 'improving'
                else 'deteriorating'
            end
            when with_spc.test_name is null or with_spc.is_significant is null then 'not assessed'
            when not with_spc.is_significant then 'no significant change'
            when (with_spc.direction = 'lower') = (plan.polarity = 'lower_is_better') then 'improving'
            else 'deteriorating'
        end as status,
        case when with_spc.value is null then coalesce(
            measures.source_gap_reason,
            case when with_spc.statistic = 'rate_per_1000_population' and with_spc.numerator is not null
                then 'no resident population for this area and year (evidence.fct_population)' end,
            case when with_spc.statistic = 'disproportionality' and with_spc.has_disproportionality_window
                and with_spc.disproportionality_population is null
                then 'no Census population by ethnic group for this force (evidence.fct_population)' end,
            case when with_spc.statistic = 'disproportionality' and with_spc.has_disproportionality_window
                then 'no searches of White people in the twelve months: no rate to compare with' end,
            case when with_spc.statistic = 'disproportionality'
                then 'fewer than twelve months of stop and search data to the end of ' || with_spc.assessed_period_label end,
            case when with_spc.statistic in ('proportion', 'ratio') and with_spc.denominator = 0
                then 'nothing to divide by in the period (denominator 0)' end,
            case when with_spc.period_grain = 'year'
                then 'no year with ' || plan.numerator || ' reported in evidence.' || plan.mart || ' for this area yet' end,
            'no data in evidence.' || plan.mart || ' for this area and ' || coalesce(with_spc.assessed_period_label, 'period')
        ) end as data_gap_reason
    from with_spc
    inner join plan
        on with_spc.measure_id = plan.measure_id
    inner join measures
        on with_spc.measure_id = measures.measure_id
    left join msg_ranks
        on with_spc.measure_id = msg_ranks.measure_id
        and with_spc.area_code = msg_ranks.area_code
        and with_spc.reporting_period_start = msg_ranks.reporting_period_start
        and with_spc.area_type = 'force'

),

final as (

    select
        cast({{ quarter_label('with_status.reporting_period_start') }} as varchar) as reporting_period,
        cast(with_status.reporting_period_start as date) as reporting_period_start,
        cast(with_status.reporting_period_start = max(with_status.reporting_period_start)
            over (partition by with_status.force_id) as boolean) as is_latest_reporting_period,
        cast(with_status.force_id as varchar) as force_id,
        cast(with_status.area_type as varchar) as area_type,
        cast(with_status.area_code as varchar) as area_code,
        cast(coalesce(areas.area_name, with_status.area_code) as varchar) as area_name,
        cast(with_status.objective_id as varchar) as objective_id,
        cast(with_status.objective as varchar) as objective,
        cast(with_status.objective_order as integer) as objective_order,
        cast(with_status.measure_id as varchar) as measure_id,
        cast(with_status.measure_name as varchar) as measure_name,
        cast(with_status.measure_order as integer) as measure_order,
        cast(with_status.statistic as varchar) as statistic,
        cast(with_status.unit as varchar) as unit,
        cast(with_status.polarity as varchar) as polarity,
        cast(with_status.is_national as boolean) as is_national,
        cast(with_status.national_priority as varchar) as national_priority,
        cast(with_status.assessed_period_type as varchar) as assessed_period_type,
        cast(with_status.assessed_period_start as date) as assessed_period_start,
        cast(with_status.assessed_period_label as varchar) as assessed_period_label,
        cast(with_status.value as double) as value,
        cast(with_status.value_lower_95 as double) as value_lower_95,
        cast(with_status.value_upper_95 as double) as value_upper_95,
        cast(with_status.numerator as double) as numerator,
        cast(with_status.denominator as double) as denominator,
        cast(with_status.baseline_periods as varchar) as baseline_periods,
        cast(with_status.baseline_value as double) as baseline_value,
        cast(with_status.change_value as double) as change_value,
        cast(with_status.change_ratio as double) as change_ratio,
        cast(with_status.rate_ratio as double) as rate_ratio,
        cast(with_status.rate_ratio_lower_95 as double) as rate_ratio_lower_95,
        cast(with_status.rate_ratio_upper_95 as double) as rate_ratio_upper_95,
        cast(with_status.test_name as varchar) as test_name,
        cast(with_status.p_value as double) as p_value,
        cast(with_status.is_significant as boolean) as is_significant,
        cast(with_status.direction as varchar) as direction,
        cast(with_status.spc_variation as varchar) as spc_variation,
        cast(nullif(with_status.spc_rules, '') as varchar) as spc_rules,
        cast(with_status.spc_side_of_centre_line as varchar) as spc_side_of_centre_line,
        cast(with_status.spc_side_run_length as integer) as spc_side_run_length,
        cast(with_status.spc_centre_line as double) as spc_centre_line,
        cast(with_status.spc_assurance as varchar) as spc_assurance,
        cast(with_status.target_value as double) as target_value,
        cast(with_status.meets_target as boolean) as meets_target,
        cast(with_status.msg_rank as integer) as msg_rank,
        cast(with_status.msg_forces_with_data as integer) as msg_forces_with_data,
        cast(with_status.msg_group_size as integer) as msg_group_size,
        cast(with_status.status as varchar) as status,
        cast(with_status.data_gap_reason as varchar) as data_gap_reason
    from with_status
    left join areas
        on with_status.area_type = areas.area_type
        and with_status.area_code = areas.area_code

)

select * from final
