-- Funnel plots for the police.uk measures: each force among its most similar group (`msg`), and each
-- force's CSPs within the force (`csp`), for the period the force is assessed on each quarter.
-- Counts and rates are compared as rates per 1,000 residents, proportions as proportions; the
-- limits are drawn around the group's pooled value with the normal approximation (formula in the yml).
{%- set police_uk_marts = ['fct_crime_monthly', 'fct_outcomes', 'fct_stop_search_monthly'] %}
{%- set z_95 = 1.959964 %}
{%- set z_998 = 3.090232 %}

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

population as (

    select * from {{ ref('int_measure__population') }}
    where population_kind = 'total'

),

areas as (

    select * from {{ ref('int_measure__areas') }}

),

compared_periods as (

    -- The period each force is assessed on, per police.uk measure and reporting quarter.
    select distinct
        assessed_values.measure_id,
        assessed_values.area_code as force_id,
        assessed_values.reporting_period_start,
        assessed_values.assessed_period_label,
        plan.statistic,
        plan.polarity
    from assessed_values
    inner join plan
        on assessed_values.measure_id = plan.measure_id
        and plan.mart in ('{{ police_uk_marts | join("', '") }}')
        and plan.statistic in ('count', 'rate_per_1000_population', 'proportion')
    where assessed_values.area_type = 'force' and assessed_values.assessed_period_label is not null

),

members as (

    -- msg: the force and its peers; csp: the force's CSPs (the CSP rows the measure has).
    select compared_periods.*, 'msg' as comparison, 'force' as member_area_type,
        most_similar_groups.member_force_id as member_area_code
    from compared_periods
    inner join most_similar_groups
        on compared_periods.force_id = most_similar_groups.force_id
    union all
    select distinct compared_periods.*, 'csp', 'csp', measure_values.area_code
    from compared_periods
    inner join measure_values
        on compared_periods.measure_id = measure_values.measure_id
        and compared_periods.force_id = measure_values.force_id
        and measure_values.area_type = 'csp'

),

member_history as (

    -- Whether a member has any row for the measure at all (else its police.uk data is not loaded).
    select distinct measure_id, area_type, area_code
    from measure_values

),

member_periods as (

    -- Each member's values for the period its force is assessed on (none where it has no row for it).
    select
        members.*,
        measure_values.area_name as period_area_name,
        measure_values.numerator,
        measure_values.denominator,
        measure_values.population as period_population,
        year(measure_values.period_start) as period_year,
        measure_values.measure_id is not null as has_period
    from members
    left join measure_values
        on members.measure_id = measure_values.measure_id
        and members.member_area_type = measure_values.area_type
        and members.member_area_code = measure_values.area_code
        and members.assessed_period_label = measure_values.period_label

),

population_choice as (

    -- Residents for counts (int_measure__values carries a population for rates only): the mid-year
    -- estimate nearest the period's year, the later one when two are as near, as for rates.
    select
        period_members.member_area_type,
        period_members.member_area_code,
        period_members.period_year,
        population.population_count,
        {{ nearest_year_rank('population.population_year', 'period_members.period_year', [
            'period_members.member_area_type', 'period_members.member_area_code', 'period_members.period_year'
        ]) }} as preference
    from (
        select distinct member_area_type, member_area_code, period_year
        from member_periods
        where has_period
    ) as period_members
    inner join population
        on period_members.member_area_type = population.area_type
        and period_members.member_area_code = population.area_code

),

member_values as (

    select
        member_periods.* exclude (period_area_name, denominator, period_population, period_year),
        coalesce(member_periods.period_area_name, areas.area_name, member_periods.member_area_code)
            as member_area_name,
        -- exposure: residents for counts and rates, the denominator for proportions
        case
            when member_periods.statistic = 'proportion' then member_periods.denominator
            when member_periods.statistic = 'rate_per_1000_population' then member_periods.period_population
            else population_choice.population_count
        end as exposure,
        member_history.area_code is not null as has_history
    from member_periods
    left join areas
        on member_periods.member_area_type = areas.area_type
        and member_periods.member_area_code = areas.area_code
    left join population_choice
        on member_periods.member_area_type = population_choice.member_area_type
        and member_periods.member_area_code = population_choice.member_area_code
        and member_periods.period_year = population_choice.period_year
        and population_choice.preference = 1
    left join member_history
        on member_periods.measure_id = member_history.measure_id
        and member_periods.member_area_type = member_history.area_type
        and member_periods.member_area_code = member_history.area_code

),

with_comparison_value as (

    select
        *,
        case
            when numerator is null or exposure is null or exposure <= 0 then null
            when statistic = 'proportion' then numerator / exposure
            else numerator * 1000.0 / exposure
        end as comparison_value,
        case
            when numerator is not null and exposure is not null and exposure > 0 then null
            when not has_history then 'no police.uk data loaded ([police_uk] forces and load_msg_peers say which)'
            when not has_period or numerator is null then 'no police.uk data for ' || assessed_period_label
            when statistic = 'proportion' then 'nothing to divide by in ' || assessed_period_label
            else 'no resident population (evidence.fct_population)'
        end as missing_reason
    from member_values

),

group_means as (

    -- The group's pooled value: all members' events over all members' exposure.
    select
        measure_id, force_id, reporting_period_start, comparison,
        sum(numerator) / sum(exposure) as pooled_value,
        count(*) as members_with_data
    from with_comparison_value
    where comparison_value is not null
    group by all

),

with_limits as (

    select
        with_comparison_value.*,
        group_means.members_with_data,
        -- p = pooled events per unit of exposure; se = sqrt(p / n) (Poisson) or sqrt(p (1 - p) / n)
        -- (binomial) at the member's exposure n; rates are shown per 1,000 residents.
        case when with_comparison_value.statistic = 'proportion' then 1.0 else 1000.0 end as display_scale,
        group_means.pooled_value,
        case
            when with_comparison_value.exposure is null or with_comparison_value.exposure <= 0 then null
            when with_comparison_value.statistic = 'proportion'
                then sqrt(group_means.pooled_value * (1 - group_means.pooled_value) / with_comparison_value.exposure)
            else sqrt(group_means.pooled_value / with_comparison_value.exposure)
        end as standard_error
    from with_comparison_value
    left join group_means
        on {{ keys_match('with_comparison_value', 'group_means', [
            'measure_id', 'force_id', 'reporting_period_start', 'comparison'
        ]) }}

),

with_position as (

    select
        *,
        display_scale * pooled_value as group_value,
        -- (DuckDB's greatest() skips NULLs: a member without exposure gets no limits, not 0.)
        case when standard_error is not null
            then display_scale * greatest(pooled_value - {{ z_95 }} * standard_error, 0) end as lower_95,
        display_scale * (pooled_value + {{ z_95 }} * standard_error) as upper_95,
        case when standard_error is not null
            then display_scale * greatest(pooled_value - {{ z_998 }} * standard_error, 0) end as lower_998,
        display_scale * (pooled_value + {{ z_998 }} * standard_error) as upper_998,
        case
            when comparison_value is null or standard_error is null then null
            when comparison_value > display_scale * (pooled_value + {{ z_998 }} * standard_error) then 'above_99_8'
            when comparison_value > display_scale * (pooled_value + {{ z_95 }} * standard_error) then 'above_95'
            when comparison_value < display_scale * (pooled_value - {{ z_998 }} * standard_error) then 'below_99_8'
            when comparison_value < display_scale * (pooled_value - {{ z_95 }} * standard_error) then 'below_95'
            else 'within'
        end as funnel_position,
        case when comparison_value is not null and polarity <> 'neutral' then rank() over (
            partition by measure_id, force_id, reporting_period_start, comparison, comparison_value is null
            order by case when polarity = 'lower_is_better' then comparison_value else -comparison_value end
        ) end as member_rank
    from with_limits

),

published_values as (

    -- rounded for publication, and what is derived from the steps above
    select
        * replace (
            {{ stat_round('comparison_value') }} as comparison_value,
            {{ stat_round('group_value') }} as group_value,
            {{ stat_round('lower_95') }} as lower_95,
            {{ stat_round('upper_95') }} as upper_95,
            {{ stat_round('lower_998') }} as lower_998,
            {{ stat_round('upper_998') }} as upper_998
        ),
        member_area_type = 'force' and member_area_code = force_id as is_compared_force,
        case when statistic = 'proportion' then 'proportion' else 'rate_per_1000_population' end as comparison_statistic
    from with_position

),

final as (

    select {{ contract_columns(of='fct_measure_peers') }}
    from published_values

)

select * from final
