with

plan as (

    select * from {{ ref('int_measure__plan') }}

),

mart_values as (

    select * from {{ ref('int_measure__mart_values') }}

),

with_matching_rows as (

    select
        plan.*,
        plan.measure_id in (select measure_id from mart_values) as has_matching_rows
    from plan

),

final as (

    select
        cast(measure_id as varchar) as measure_id,
        cast(measure_name as varchar) as measure_name,
        cast(measure_order as integer) as measure_order,
        cast(objective_id as varchar) as objective_id,
        cast(objective as varchar) as objective,
        cast(objective_order as integer) as objective_order,
        cast(objective_statement as varchar) as objective_statement,
        cast(plan_title as varchar) as plan_title,
        cast(plan_version as varchar) as plan_version,
        cast(plan_period_start as date) as plan_period_start,
        cast(plan_period_end as date) as plan_period_end,
        cast(description as varchar) as description,
        cast(mart as varchar) as mart,
        cast(numerator as varchar) as numerator,
        cast(denominator as varchar) as denominator,
        cast(filter as varchar) as filter,
        cast(statistic as varchar) as statistic,
        cast(unit as varchar) as unit,
        cast(polarity as varchar) as polarity,
        cast(case polarity when 'lower_is_better' then 'lower' when 'higher_is_better' then 'higher' else 'none' end as varchar)
            as direction_of_improvement,
        cast(geography as varchar) as geography,
        cast(frequency as varchar) as frequency,
        cast(period_grain as varchar) as period_grain,
        cast(baseline_rule as varchar) as baseline_rule,
        cast(target as double) as target,
        cast(target_value as double) as target_value,
        cast(comparator as varchar) as comparator,
        cast(maturity_months as integer) as maturity_months,
        cast(is_national as boolean) as is_national,
        cast(national_priority as varchar) as national_priority,
        cast(case national_priority
            when 'homicide' then 'Reduce murder and other homicide'
            when 'serious_violence' then 'Reduce serious violence'
            when 'drugs_county_lines' then 'Disrupt drugs supply and county lines'
            when 'neighbourhood_crime' then 'Reduce neighbourhood crime'
            when 'cyber_crime' then 'Tackle cyber crime'
            when 'victim_satisfaction' then 'Improve satisfaction among victims, with a particular focus on victims of domestic abuse'
        end as varchar) as national_priority_name,
        cast(is_source_readable as boolean) as is_source_readable,
        cast(has_matching_rows as boolean) as has_matching_rows,
        cast(coalesce(source_gap_reason, case when not has_matching_rows then coalesce(
            data_gap_reason,
            'no row of evidence.' || mart || ' matches the filter ' || coalesce(filter, '(none)') || ' yet'
        ) end) as varchar) as source_gap_reason,
        cast(source_line as integer) as source_line
    from with_matching_rows

)

select * from final
