-- Benjamini-Hochberg false-discovery-rate adjustment of the assessment's p-values. The family is
-- every test the assessment reports for one force and reporting quarter: each measure x area
-- (the force and its CSPs) with a p-value. Sorted p_(1) <= ... <= p_(m), the adjusted value
-- (q-value) of the i-th is min over j >= i of p_(j) x m / j, capped at 1 (the monotone step-up):
-- a change counts as significant only when its q-value is under the significance level, so of
-- the changes called significant in a quarter the expected share of false ones is at most that level.
with

assessed_values as (

    select * from {{ ref('int_measure__assessed_values') }}

),

tests as (

    select measure_id, area_type, area_code, force_id, reporting_period_start, p_value
    from assessed_values
    where p_value is not null

),

ranked as (

    select
        *,
        count(*) over family as family_size,
        -- ties take consecutive ranks; the step-up below gives them the same q-value
        row_number() over (family order by p_value, measure_id, area_type, area_code) as p_rank
    from tests
    window family as (partition by force_id, reporting_period_start)

),

stepped_up as (

    select
        *,
        min(p_value * family_size / p_rank) over (
            partition by force_id, reporting_period_start
            order by p_rank desc
            rows between unbounded preceding and current row
        ) as step_up_value
    from ranked

),

final as (

    select
        cast(measure_id as varchar) as measure_id,
        cast(area_type as varchar) as area_type,
        cast(area_code as varchar) as area_code,
        cast(force_id as varchar) as force_id,
        cast(reporting_period_start as date) as reporting_period_start,
        cast(p_value as double) as p_value,
        cast(p_rank as integer) as p_rank,
        cast(family_size as integer) as family_size,
        cast({{ stat_round('least(1.0, step_up_value)') }} as double) as q_value,
        cast({{ stat_round('least(1.0, step_up_value)') }} < {{ var('significance_level', 0.05) }} as boolean) as is_significant_adjusted
    from stepped_up

)

select * from final
