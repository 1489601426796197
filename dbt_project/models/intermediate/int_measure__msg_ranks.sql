-- Where each force stands in its most similar group on each measure it is assessed on: rank 1 =
-- best, among the group's forces with a value for the same period. police.uk measures take the
-- rank, the funnel position and the missing peers from their funnel plot (int_measure__peer_funnel,
-- counts compared as rates per 1,000 residents); other measures ranked with comparator `msg` (a
-- rate, proportion or disproportionality) are ranked here on their values.
with

assessed_values as (

    select * from {{ ref('int_measure__assessed_values') }}

),

plan as (

    select * from {{ ref('int_measure__plan') }}

),

most_similar_groups as (

    select * from {{ ref('int_measure__msg') }}

),

measure_values as (

    select * from {{ ref('int_measure__values') }}

),

disproportionality as (

    select * from {{ ref('int_measure__disproportionality') }}

),

peer_funnel as (

    select * from {{ ref('int_measure__peer_funnel') }}
    where comparison = 'msg'

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

funnel_ranks as (

    -- police.uk measures: the force's row of its group's funnel plot, and the peers without a value.
    select
        measure_id,
        force_id as area_code,
        reporting_period_start,
        count(*) as msg_group_size,
        count(comparison_value) as msg_forces_with_data,
        max(member_rank) filter (where is_compared_force) as msg_rank,
        max(funnel_position) filter (where is_compared_force) as msg_funnel_position,
        max(group_value) as msg_group_value,
        max(comparison_statistic) as msg_comparison_statistic,
        string_agg(member_area_name || ': ' || missing_reason, '; ' order by member_area_name)
            filter (where missing_reason is not null and not is_compared_force) as msg_missing_peers
    from peer_funnel
    group by all

),

value_ranks as (

    -- Rank 1 = best in the force's most similar group, among the forces with a value for the period.
    select
        assessed_values.measure_id,
        assessed_values.area_code,
        assessed_values.reporting_period_start,
        max(most_similar_groups.group_size) as msg_group_size,
        count(peer.value) as msg_forces_with_data,
        1 + count(*) filter (where
            (plan.polarity = 'lower_is_better' and peer.value < assessed_values.value)
            or (plan.polarity = 'higher_is_better' and peer.value > assessed_values.value)
        ) as msg_rank,
        cast(null as varchar) as msg_funnel_position,
        cast(null as double) as msg_group_value,
        max(plan.statistic) as msg_comparison_statistic,
        string_agg(most_similar_groups.member_force_id || ': no value for ' || assessed_values.assessed_period_label,
            '; ' order by most_similar_groups.member_force_id)
            filter (where peer.value is null and most_similar_groups.member_force_id <> assessed_values.area_code)
            as msg_missing_peers
    from assessed_values
    inner join plan
        on assessed_values.measure_id = plan.measure_id
        and plan.comparator = 'msg'
        and plan.polarity <> 'neutral'
        and plan.statistic in ('rate_per_1000_population', 'proportion', 'disproportionality')
    inner join most_similar_groups
        on assessed_values.area_code = most_similar_groups.force_id
    left join force_values as peer
        on assessed_values.measure_id = peer.measure_id
        and most_similar_groups.member_force_id = peer.force_id
        and assessed_values.assessed_period_label = peer.period_label
    where assessed_values.area_type = 'force' and assessed_values.value is not null
        and assessed_values.measure_id not in (select measure_id from peer_funnel)
    group by all

),

msg_ranks as (

    select * from funnel_ranks
    union all by name
    select * from value_ranks

)

select * from msg_ranks
