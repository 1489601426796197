-- The statistics behind performance.fct_measure_change, which publishes these rows as they are (documented and
-- contracted there). A table: the mart and the assessment steps (int_measure__assessed_*) read it.
{{ config(materialized='table') }}
with

measure_values as (

    select * from {{ ref('int_measure__values') }}

),

plan as (

    select * from {{ ref('int_measure__plan') }}

),

inspection_areas as (

    -- inspection measures compare only the areas graded in both programmes
    select * from {{ ref('int_measure__inspection_areas') }}

),

periods as (

    -- Year-on-year change is reported for quarters and years (months feed the SPC charts).
    select
        measure_values.*,
        plan.statistic,
        plan.baseline_rule,
        plan.baseline_year_count,
        lag(measure_values.period_start) over (
            partition by measure_values.measure_id, measure_values.area_type, measure_values.area_code,
                measure_values.period_type
            order by measure_values.period_start
        ) as previous_period_start
    from measure_values
    inner join plan
        on measure_values.measure_id = plan.measure_id
    where measure_values.period_type in ('quarter', 'year')

),

baseline_years as (

    -- The same period one year back (or one, two and three years back) ...
    select
        periods.measure_id, periods.area_type, periods.area_code, periods.period_type, periods.period_start,
        years_back.years_back,
        cast(periods.period_start - to_years(cast(years_back.years_back as integer)) as date) as baseline_start
    from periods
    cross join (select unnest(range(1, 4)) as years_back) as years_back
    where periods.baseline_rule in ('same_period_last_year', 'mean_previous_3_years')
        and years_back.years_back <= periods.baseline_year_count
    union all
    -- ... or the period before, however long ago (inspections)
    select
        measure_id, area_type, area_code, period_type, period_start,
        1 as years_back,
        previous_period_start as baseline_start
    from periods
    where baseline_rule = 'previous_period' and previous_period_start is not null

),

baseline_periods as (

    select
        baseline_years.*,
        earlier.period_label as baseline_period_label,
        earlier.numerator,
        earlier.denominator,
        earlier.population,
        earlier.value
    from baseline_years
    left join measure_values as earlier
        on baseline_years.measure_id = earlier.measure_id
        and baseline_years.area_type = earlier.area_type
        and baseline_years.area_code = earlier.area_code
        and baseline_years.period_type = earlier.period_type
        and earlier.period_start = baseline_years.baseline_start

),

baselines as (

    -- A baseline needs every one of its periods (one year back, or each of three).
    select
        measure_id, area_type, area_code, period_type, period_start,
        count(value) as baseline_period_count,
        string_agg(baseline_period_label, ', ' order by years_back desc) as baseline_periods,
        sum(numerator) as baseline_numerator,
        sum(denominator) as baseline_denominator,
        sum(population) as baseline_population,
        avg(value) as baseline_mean_value
    from baseline_periods
    group by all
    having count(value) = count(*)

),

with_baseline as (

    select
        periods.*,
        baselines.baseline_period_count,
        case when inspection_areas.measure_id is not null then inspection_areas.previous_programme
            else baselines.baseline_periods end as baseline_periods,
        baselines.baseline_numerator,
        baselines.baseline_denominator,
        baselines.baseline_population,
        case
            when inspection_areas.measure_id is not null then inspection_areas.baseline_value
            else case periods.statistic
                when 'count' then baselines.baseline_numerator / baselines.baseline_period_count
                when 'total' then baselines.baseline_mean_value
                when 'rate_per_1000_population'
                    then baselines.baseline_numerator * 1000.0 / nullif(baselines.baseline_population, 0)
                -- proportions and ratios pool the baseline periods (numerators over denominators)
                else baselines.baseline_numerator / nullif(baselines.baseline_denominator, 0)
            end
        end as baseline_value,
        -- the value the baseline is compared with: the value itself, or for an inspection
        -- measure the value over the areas graded in both programmes
        case when inspection_areas.measure_id is not null then inspection_areas.compared_value
            else periods.value end as compared_value,
        inspection_areas.comparison_basis
    from periods
    left join baselines
        on {{ keys_match('periods', 'baselines', [
            'measure_id', 'area_type', 'area_code', 'period_type', 'period_start'
        ]) }}
    left join inspection_areas
        on periods.measure_id = inspection_areas.measure_id
        and periods.area_type = 'force'
        and periods.area_code = inspection_areas.force_id
        and periods.period_type = 'year'
        and periods.period_start = inspection_areas.period_start
        and inspection_areas.previous_programme is not null

),

poisson_inputs as (

    -- Counts: X1 events now against X0 in the baseline, with exposures E1 and E0 (periods, or
    -- residents for a rate). Under "no change in the underlying rate", X1 given X1 + X0 is
    -- binomial with p0 = E1 / (E1 + E0).
    select
        *,
        numerator as events_now,
        baseline_numerator as events_baseline,
        numerator + baseline_numerator as events_total,
        case statistic
            when 'count' then 1.0 / (1.0 + baseline_period_count)
            when 'rate_per_1000_population' then population / nullif(population + baseline_population, 0)
        end as expected_share_now
    from with_baseline

),

test_choice as (

    select
        *,
        case
            when value is null or baseline_value is null then null
            when statistic in ('count', 'rate_per_1000_population') and expected_share_now is null then null
            when statistic in ('count', 'rate_per_1000_population') and events_total = 0 then null
            when statistic in ('count', 'rate_per_1000_population') and events_total <= {{ var('poisson_exact_max_total', 200) }}
                then 'conditional binomial (exact)'
            when statistic in ('count', 'rate_per_1000_population')
                then 'conditional binomial (normal approximation)'
            when statistic = 'proportion' and denominator > 0 and baseline_denominator > 0
                and (numerator + baseline_numerator) > 0
                and (numerator + baseline_numerator) < (denominator + baseline_denominator)
                then 'two-proportion z-test'
        end as test_name
    from poisson_inputs

),

exact_terms as (

    select
        measure_id, area_type, area_code, period_type, period_start,
        events_now,
        k,
        exp(
            lgamma(events_total + 1) - lgamma(k + 1) - lgamma(events_total - k + 1)
            + k * ln(expected_share_now) + (events_total - k) * ln(1 - expected_share_now)
        ) as probability
    from (
        select *, unnest(range(0, cast(events_total as bigint) + 1)) as k
        from test_choice
        where test_name = 'conditional binomial (exact)'
    )

),

exact_p_values as (

    -- Two-sided: the probability of every split at most as likely as the one observed
    -- (the "minimum likelihood" rule of R's binom.test).
    select
        measure_id, area_type, area_code, period_type, period_start,
        least(1.0, sum(probability) filter (where probability <= observed_probability * (1 + 1e-7))) as p_value
    from (
        select
            *,
            max(case when k = events_now then probability end)
                over (partition by measure_id, area_type, area_code, period_type, period_start) as observed_probability
        from exact_terms
    )
    group by all

),

with_statistics as (

    select
        test_choice.*,
        case test_name
            when 'conditional binomial (normal approximation)' then
                -- continuity-corrected
                sign(events_now - events_total * expected_share_now)
                * greatest(abs(events_now - events_total * expected_share_now) - 0.5, 0)
                / sqrt(events_total * expected_share_now * (1 - expected_share_now))
            when 'two-proportion z-test' then
                (numerator / denominator - baseline_numerator / baseline_denominator)
                / sqrt(
                    ((numerator + baseline_numerator) / (denominator + baseline_denominator))
                    * (1 - (numerator + baseline_numerator) / (denominator + baseline_denominator))
                    * (1 / denominator + 1 / baseline_denominator)
                )
        end as z,
        case
            when statistic in ('count', 'rate_per_1000_population') and events_now > 0 and events_baseline > 0
                then sqrt(1.0 / events_now + 1.0 / events_baseline)
            when statistic = 'proportion' and numerator > 0 and baseline_numerator > 0
                then sqrt(1.0 / numerator - 1.0 / denominator + 1.0 / baseline_numerator - 1.0 / baseline_denominator)
        end as log_ratio_se
    from test_choice

),

with_p_values as (

    select
        with_statistics.*,
        case
            when with_statistics.test_name = 'conditional binomial (exact)' then exact_p_values.p_value
            else {{ normal_two_sided_p('with_statistics.z') }}
        end as p_value,
        case when with_statistics.statistic in ('count', 'rate_per_1000_population', 'proportion')
            then with_statistics.value / nullif(with_statistics.baseline_value, 0)
        end as rate_ratio
    from with_statistics
    left join exact_p_values
        on {{ keys_match('with_statistics', 'exact_p_values', [
            'measure_id', 'area_type', 'area_code', 'period_type', 'period_start'
        ]) }}

),

published_values as (

    -- rounded for publication, and what is derived from the steps above
    select
        * replace (
            {{ stat_round('baseline_value') }} as baseline_value,
            {{ stat_round('rate_ratio') }} as rate_ratio,
            round(p_value, 6) as p_value
        ),
        {{ stat_round('compared_value - baseline_value') }} as change_value,
        {{ stat_round('(compared_value - baseline_value) / nullif(abs(baseline_value), 0)') }} as change_ratio,
        {{ stat_round('rate_ratio * exp(-' ~ z_two_sided() ~ ' * log_ratio_se)') }} as rate_ratio_lower_95,
        {{ stat_round('rate_ratio * exp(' ~ z_two_sided() ~ ' * log_ratio_se)') }} as rate_ratio_upper_95,
        {{ stat_round('z') }} as z_statistic,
        p_value < {{ var('significance_level', 0.05) }} as is_significant,
        case
            when compared_value is null or baseline_value is null then null
            when compared_value > baseline_value then 'higher'
            when compared_value < baseline_value then 'lower'
            else 'unchanged'
        end as direction
    from with_p_values

),

final as (

    select {{ contract_columns(of='fct_measure_change') }}
    from published_values

)

select * from final
