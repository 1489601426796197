-- The statistics behind performance.fct_stop_search_disproportionality, which publishes these rows as they are (documented and
-- contracted there). A table: the mart and the assessment steps (int_measure__assessed_*) read it.
{{ config(materialized='table') }}
with

covered_periods as (

    select * from {{ ref('int_measure__covered_periods') }}

),

mart_values as (

    select * from {{ ref('int_measure__mart_values') }}

),

population as (

    select * from {{ ref('int_measure__population') }}

),

ethnic_groups as (

    -- The broad groups police.uk's self-defined ethnicity and the Census share ("Not stated" has no population).
    select unnest(['White', 'Black', 'Asian', 'Mixed', 'Other']) as ethnic_group

),

measure_months as (

    select measure_id, force_id, period_start as month_start
    from covered_periods
    where statistic = 'disproportionality' and area_type = 'force'

),

windows as (

    -- Twelve months to the end of each quarter, when all twelve are covered.
    {{ quarter_end_windows('measure_months', ['measure_id', 'force_id']) }}

),

window_events as (

    select
        windows.measure_id,
        windows.force_id,
        windows.window_end_month,
        windows.month_count,
        ethnic_groups.ethnic_group,
        coalesce(sum(mart_values.numerator), 0) as event_count
    from windows
    cross join ethnic_groups
    left join mart_values
        on {{ keys_match('windows', 'mart_values', ['measure_id', 'force_id']) }}
        and ethnic_groups.ethnic_group = mart_values.ethnic_group
        and {{ in_twelve_months_to('mart_values.period_start', 'windows.window_end_month') }}
    group by all

),

census_choice as (

    -- The census nearest the window's end (2021 for every window since 2016).
    select
        window_years.force_id,
        window_years.window_year,
        population.ethnic_group,
        population.population_year,
        population.population_count,
        {{ nearest_year_rank('population.population_year', 'window_years.window_year', [
            'window_years.force_id', 'window_years.window_year', 'population.ethnic_group'
        ]) }} as preference
    from (select distinct force_id, year(window_end_month) as window_year from windows) as window_years
    inner join population
        on population.population_kind = 'ethnic_group'
        and population.area_type = 'force'
        and population.area_code = window_years.force_id

),

with_rates as (

    select
        window_events.*,
        census_choice.population_count,
        census_choice.population_year,
        window_events.event_count * 1000.0 / nullif(census_choice.population_count, 0) as rate_per_1000
    from window_events
    left join census_choice
        on window_events.force_id = census_choice.force_id
        and year(window_events.window_end_month) = census_choice.window_year
        and window_events.ethnic_group = census_choice.ethnic_group
        and census_choice.preference = 1

),

with_white as (

    select
        with_rates.*,
        white.event_count as white_event_count,
        white.population_count as white_population_count,
        white.rate_per_1000 as white_rate_per_1000,
        with_rates.rate_per_1000 / nullif(white.rate_per_1000, 0) as rate_ratio,
        -- log method (Katz): se of ln(rate ratio) = sqrt(1/a - 1/n_group + 1/c - 1/n_white)
        case when with_rates.event_count > 0 and white.event_count > 0 and with_rates.ethnic_group <> 'White' then sqrt(
            1.0 / with_rates.event_count - 1.0 / with_rates.population_count
            + 1.0 / white.event_count - 1.0 / white.population_count
        ) end as log_rate_ratio_se
    from with_rates
    inner join with_rates as white
        on {{ keys_match('with_rates', 'white', ['measure_id', 'force_id', 'window_end_month']) }}
        and white.ethnic_group = 'White'

),

with_baseline as (

    -- The same twelve months a year earlier, and whether the ratio has changed: z on the
    -- difference of the two log ratios (independent years; se = sqrt(se_now^2 + se_then^2)).
    select
        with_white.*,
        earlier.rate_ratio as baseline_rate_ratio,
        earlier.log_rate_ratio_se as baseline_log_rate_ratio_se,
        (ln(with_white.rate_ratio) - ln(earlier.rate_ratio))
            / sqrt(with_white.log_rate_ratio_se ^ 2 + earlier.log_rate_ratio_se ^ 2) as change_z
    from with_white
    left join with_white as earlier
        on {{ keys_match('with_white', 'earlier', ['measure_id', 'force_id', 'ethnic_group']) }}
        and earlier.window_end_month = with_white.window_end_month - interval 12 month

),

published_values as (

    -- rounded for publication, and what is derived from the steps above
    select
        * replace (
            {{ stat_round('rate_per_1000') }} as rate_per_1000,
            {{ stat_round('white_rate_per_1000') }} as white_rate_per_1000,
            {{ stat_round('rate_ratio') }} as rate_ratio,
            {{ stat_round('log_rate_ratio_se') }} as log_rate_ratio_se,
            {{ stat_round('baseline_rate_ratio') }} as baseline_rate_ratio
        ),
        {{ quarter_label('window_end_month') }} as period_label,
        window_end_month - interval 11 month as window_start,
        window_end_month + interval 1 month - interval 1 day as window_end,
        {{ stat_round('rate_ratio * exp(-' ~ z_two_sided() ~ ' * log_rate_ratio_se)') }} as rate_ratio_lower_95,
        {{ stat_round('rate_ratio * exp(' ~ z_two_sided() ~ ' * log_rate_ratio_se)') }} as rate_ratio_upper_95,
        case when log_rate_ratio_se is not null
            then abs(ln(rate_ratio)) > {{ z_two_sided() }} * log_rate_ratio_se end as is_significant,
        {{ stat_round('change_z') }} as change_z_statistic,
        {{ stat_round(normal_two_sided_p('change_z')) }} as change_p_value,
        {{ normal_two_sided_p('change_z') }} < {{ var('significance_level', 0.05) }} as is_change_significant
    from with_baseline

),

final as (

    select {{ contract_columns(of='fct_stop_search_disproportionality') }}
    from published_values

)

select * from final
