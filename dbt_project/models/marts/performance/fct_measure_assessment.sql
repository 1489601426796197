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
        cast(with_status.objective_statement as varchar) as objective_statement,
        cast(with_status.plan_version as varchar) as plan_version,
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
        cast(with_status.compared_value as double) as compared_value,
        cast(with_status.comparison_basis as varchar) as comparison_basis,
        cast(with_status.change_value as double) as change_value,
        cast(with_status.change_ratio as double) as change_ratio,
        cast(with_status.rate_ratio as double) as rate_ratio,
        cast(with_status.rate_ratio_lower_95 as double) as rate_ratio_lower_95,
        cast(with_status.rate_ratio_upper_95 as double) as rate_ratio_upper_95,
        cast(with_status.test_name as varchar) as test_name,
        cast(with_status.p_value as double) as p_value,
        cast(with_status.q_value as double) as q_value,
        cast(with_status.fdr_family_size as integer) as fdr_family_size,
        cast(with_status.is_significant as boolean) as is_significant,
        cast(with_status.is_significant_adjusted as boolean) as is_significant_adjusted,
        cast(with_status.direction as varchar) as direction,
        cast(with_status.spc_variation as varchar) as spc_variation,
        cast(nullif(with_status.spc_rules, '') as varchar) as spc_rules,
        cast(with_status.spc_special_cause_months as varchar) as spc_special_cause_months,
        cast(with_status.spc_side_of_centre_line as varchar) as spc_side_of_centre_line,
        cast(with_status.spc_side_run_length as integer) as spc_side_run_length,
        cast(with_status.spc_centre_line as double) as spc_centre_line,
        cast(with_status.spc_assurance as varchar) as spc_assurance,
        cast(with_status.target_value as double) as target_value,
        cast(with_status.meets_target as boolean) as meets_target,
        cast(with_status.msg_rank as integer) as msg_rank,
        cast(with_status.msg_forces_with_data as integer) as msg_forces_with_data,
        cast(with_status.msg_group_size as integer) as msg_group_size,
        cast(with_status.msg_funnel_position as varchar) as msg_funnel_position,
        cast(with_status.msg_group_value as double) as msg_group_value,
        cast(with_status.msg_comparison_statistic as varchar) as msg_comparison_statistic,
        cast(with_status.msg_missing_peers as varchar) as msg_missing_peers,
        cast(with_status.status as varchar) as status,
        cast(with_status.data_gap_reason as varchar) as data_gap_reason
    from with_status
    left join areas
        on {{ keys_match('with_status', 'areas', ['area_type', 'area_code']) }}

)

select * from final
