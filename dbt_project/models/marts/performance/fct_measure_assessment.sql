-- The scorecard's rows: every measure of the plan, for every area and reporting quarter, with its
-- status against its target, its most similar group and its chart. The numbers are assembled in
-- intermediate steps: int_measure__reporting_quarters -> int_measure__assessed_periods ->
-- int_measure__assessed_values -> int_measure__msg_ranks, and int_measure__adjusted_p_values (the
-- false-discovery-rate adjustment of the quarter's tests, which the status reads).
with

assessed_values as (

    select * from {{ ref('int_measure__assessed_values') }}

),

plan as (

    select * from {{ ref('int_measure__plan') }}

),

measures as (

    select * from {{ ref('dim_measure') }}

),

msg_ranks as (

    select * from {{ ref('int_measure__msg_ranks') }}

),

areas as (

    select * from {{ ref('int_measure__areas') }}

),

adjusted_p_values as (

    select * from {{ ref('int_measure__adjusted_p_values') }}

),

with_status as (

    select
        assessed_values.*,
        plan.objective_id,
        plan.objective,
        plan.objective_order,
        plan.objective_statement,
        plan.plan_version,
        plan.measure_name,
        plan.measure_order,
        plan.unit,
        plan.polarity,
        plan.mart,
        plan.is_national,
        plan.national_priority,
        plan.target_value,
        case
            when assessed_values.value is null or plan.target_value is null or plan.polarity = 'neutral' then null
            when plan.polarity = 'lower_is_better' then assessed_values.value <= plan.target_value
            else assessed_values.value >= plan.target_value
        end as meets_target,
        case when msg_ranks.msg_forces_with_data >= 2 then msg_ranks.msg_rank end as msg_rank,
        msg_ranks.msg_forces_with_data,
        msg_ranks.msg_group_size,
        msg_ranks.msg_funnel_position,
        msg_ranks.msg_group_value,
        msg_ranks.msg_comparison_statistic,
        msg_ranks.msg_missing_peers,
        adjusted_p_values.q_value,
        adjusted_p_values.family_size as fdr_family_size,
        adjusted_p_values.is_significant_adjusted,
        case
            when assessed_values.value is null then 'data gap'
            when plan.polarity = 'neutral' then 'not assessed'
            when assessed_values.direction is null then 'not assessed'
            when assessed_values.statistic in ('ratio', 'total') then case
                when assessed_values.direction = 'unchanged' then 'no significant change'
                when (assessed_values.direction = 'lower') = (plan.polarity = 'lower_is_better') then 'improving'
                else 'deteriorating'
            end
            -- significant only after the false-discovery-rate adjustment across the quarter's tests
            when assessed_values.test_name is null or adjusted_p_values.q_value is null then 'not assessed'
            when not adjusted_p_values.is_significant_adjusted then 'no significant change'
            when (assessed_values.direction = 'lower') = (plan.polarity = 'lower_is_better') then 'improving'
            else 'deteriorating'
        end as status,
        case when assessed_values.value is null then coalesce(
            measures.source_gap_reason,
            case when assessed_values.statistic = 'rate_per_1000_population' and assessed_values.numerator is not null
                then 'no resident population for this area and year (evidence.fct_population)' end,
            case when assessed_values.statistic = 'disproportionality' and assessed_values.has_disproportionality_window
                and assessed_values.disproportionality_population is null
                then 'no Census population by ethnic group for this force (evidence.fct_population)' end,
            case when assessed_values.statistic = 'disproportionality' and assessed_values.has_disproportionality_window
                then 'no searches of White people in the twelve months: no rate to compare with' end,
            case when assessed_values.statistic = 'disproportionality'
                then 'fewer than twelve months of stop and search data to the end of ' || assessed_values.assessed_period_label end,
            case when assessed_values.statistic in ('proportion', 'ratio') and assessed_values.denominator = 0
                then 'nothing to divide by in the period (denominator 0)' end,
            case when assessed_values.period_grain = 'year'
                then 'no year with ' || plan.numerator || ' reported in evidence.' || plan.mart || ' for this area yet' end,
            'no data in evidence.' || plan.mart || ' for this area and ' || coalesce(assessed_values.assessed_period_label, 'period')
        ) end as data_gap_reason
    from assessed_values
    inner join plan
        on assessed_values.measure_id = plan.measure_id
    inner join measures
        on assessed_values.measure_id = measures.measure_id
    left join msg_ranks
        on assessed_values.measure_id = msg_ranks.measure_id
        and assessed_values.area_code = msg_ranks.area_code
        and assessed_values.reporting_period_start = msg_ranks.reporting_period_start
        and assessed_values.area_type = 'force'
    left join adjusted_p_values
        on {{ keys_match('assessed_values', 'adjusted_p_values', [
            'measure_id', 'area_type', 'area_code', 'reporting_period_start'
        ]) }}

),

with_area_and_period as (

    select
        with_status.* replace (nullif(with_status.spc_rules, '') as spc_rules),
        {{ quarter_label('with_status.reporting_period_start') }} as reporting_period,
        with_status.reporting_period_start = max(with_status.reporting_period_start)
            over (partition by with_status.force_id) as is_latest_reporting_period,
        coalesce(areas.area_name, with_status.area_code) as area_name
    from with_status
    left join areas
        on {{ keys_match('with_status', 'areas', ['area_type', 'area_code']) }}

),

final as (

    select
        {{ contract_columns() }}
    from with_area_and_period

)

select * from final
