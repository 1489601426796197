with

priority_choices as (

    select * from {{ ref('int_consultation__priority_choices') }}

),

priorities as (

    select * from {{ ref('consultation_priorities') }}

),

respondent_areas as (

    -- a district's estimates use the raking weight; the force area's the expansion weight
    select * from {{ ref('int_consultation__respondent_areas') }}

),

group_totals as (

    select
        {{ consultation_group_columns() }},
        csp_code,
        csp_name,
        count(*) as respondent_count,
        sum(analysis_weight) as weight_total,
        -- Kish: n_eff = (sum w)^2 / sum w^2, deff = n / n_eff
        pow(sum(analysis_weight), 2) / sum(pow(analysis_weight, 2)) as effective_sample_size
    from respondent_areas
    group by all

),

chosen_totals as (

    select
        respondent_areas.survey_id,
        respondent_areas.area_type,
        respondent_areas.area_code,
        respondent_areas.group_variable,
        respondent_areas.group_value,
        priority_choices.priority_id,
        count(*) as choosing_respondent_count,
        count(*) filter (where priority_choices.choice_rank = 1) as first_choice_respondent_count,
        sum(respondent_areas.analysis_weight) as choosing_weight
    from respondent_areas
    inner join priority_choices
        on {{ keys_match('priority_choices', 'respondent_areas', ['survey_id', 'respondent_key']) }}
    group by all

),

every_priority as (

    -- every priority for every group, so one nobody chose shows as 0% rather than vanishing
    select
        group_totals.*,
        priorities.priority_id,
        priorities.priority_label,
        cast(priorities.sort_order as integer) as priority_sort_order,
        priorities.csp_theme,
        priorities.plan_objective_id
    from group_totals
    cross join priorities

),

with_shares as (

    select
        every_priority.*,
        coalesce(chosen_totals.choosing_respondent_count, 0) as choosing_respondent_count,
        coalesce(chosen_totals.first_choice_respondent_count, 0) as first_choice_respondent_count,
        coalesce(chosen_totals.choosing_weight, 0) / every_priority.weight_total as weighted_share
    from every_priority
    left join chosen_totals
        on {{ keys_match('chosen_totals', 'every_priority', [
            'survey_id', 'area_type', 'area_code', 'group_variable', 'group_value', 'priority_id'
        ]) }}

),

with_intervals as (

    select
        *,
        -- Wilson score interval with the effective sample size in place of n
        {{ weighted_share_ci_lower('weighted_share', 'effective_sample_size', z_95()) }} as ci_lower_95,
        {{ weighted_share_ci_upper('weighted_share', 'effective_sample_size', z_95()) }} as ci_upper_95,
        respondent_count / effective_sample_size as design_effect,
        rank() over (
            partition by survey_id, area_type, area_code, group_variable, group_value
            -- equal shares summed in another order differ in the last bits of a double: rounded,
            -- they tie and the questionnaire's order breaks the tie the same way every build
            order by round(weighted_share, 12) desc, priority_sort_order
        ) as priority_rank,
        -- flags (the rows stay: a small group is shown with its warning, not hidden)
        {{ consultation_sample_flags('respondent_count', 'effective_sample_size') }}
    from with_shares

),

final as (

    select
        {{ contract_columns() }}
    from with_intervals

)

select * from final
