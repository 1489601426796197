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

described as (

    select
        * replace (
            coalesce(source_gap_reason, case when not has_matching_rows then coalesce(
                data_gap_reason,
                'no row of evidence.' || mart || ' matches the filter ' || coalesce(filter, '(none)') || ' yet'
            ) end) as source_gap_reason
        ),
        case polarity when 'lower_is_better' then 'lower' when 'higher_is_better' then 'higher' else 'none' end
            as direction_of_improvement,
        case national_priority
            when 'homicide' then 'Reduce murder and other homicide'
            when 'serious_violence' then 'Reduce serious violence'
            when 'drugs_county_lines' then 'Disrupt drugs supply and county lines'
            when 'neighbourhood_crime' then 'Reduce neighbourhood crime'
            when 'cyber_crime' then 'Tackle cyber crime'
            when 'victim_satisfaction' then 'Improve satisfaction among victims, with a particular focus on victims of domestic abuse'
        end as national_priority_name
    from with_matching_rows

),

final as (

    select
        {{ contract_columns() }}
    from described

)

select * from final
