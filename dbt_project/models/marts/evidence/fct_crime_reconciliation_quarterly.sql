{#- Flag a gap when police.uk differs from the Home Office by more than this share of the
    Home Office count AND by at least this many crimes (small groups swing by a few crimes). -#}
{%- set tolerance_pct = var('reconciliation_tolerance_pct', 5) -%}
{%- set min_gap_count = var('reconciliation_min_gap_count', 20) -%}

with

recorded_crime as (

    select * from {{ ref('int_recorded_crime__csp_quarterly') }}

),

police_uk as (

    select * from {{ ref('int_reconciliation__police_uk_by_force_quarter') }}

),

home_office_by_group as (

    -- fraud is left out: police.uk does not publish it by force
    select
        force_id,
        financial_year_start,
        financial_quarter,
        police_uk_crime_type_group as comparison_group,
        sum(offence_count) as home_office_count
    from recorded_crime
    where is_in_police_uk
    group by all

),

home_office as (

    -- each group and their total (macros/home_office_recorded_crime.sql)
    {{ with_all_recorded_crime_total('home_office_by_group', 'home_office_count') }}

),

police_uk_by_group as (

    select
        force_id,
        financial_year_start,
        financial_quarter,
        crime_type_group as comparison_group,
        police_uk_count
    from police_uk

),

police_uk_counts as (

    -- each group and their total (macros/home_office_recorded_crime.sql)
    {{ with_all_recorded_crime_total('police_uk_by_group', 'police_uk_count') }}

),

police_uk_quarters as (

    -- months loaded per force and quarter: a group police.uk shows no crime for still has data
    select distinct
        force_id,
        financial_year_start,
        financial_quarter,
        police_uk_month_count
    from police_uk

),

compared as (

    select
        coalesce(home_office.force_id, police_uk_counts.force_id) as force_id,
        coalesce(home_office.financial_year_start, police_uk_counts.financial_year_start) as financial_year_start,
        coalesce(home_office.financial_quarter, police_uk_counts.financial_quarter) as financial_quarter,
        coalesce(home_office.comparison_group, police_uk_counts.comparison_group) as comparison_group,
        home_office.home_office_count,
        police_uk_counts.police_uk_count
    from home_office
    full outer join police_uk_counts
        on {{ keys_match('home_office', 'police_uk_counts', [
            'force_id', 'financial_year_start', 'financial_quarter', 'comparison_group'
        ]) }}

),

with_months as (

    select
        compared.force_id,
        compared.financial_year_start,
        compared.financial_quarter,
        compared.comparison_group,
        compared.home_office_count,
        case when police_uk_quarters.police_uk_month_count is not null
            then coalesce(compared.police_uk_count, 0) end as police_uk_count,
        coalesce(police_uk_quarters.police_uk_month_count, 0) as police_uk_month_count
    from compared
    left join police_uk_quarters
        on {{ keys_match('compared', 'police_uk_quarters', [
            'force_id', 'financial_year_start', 'financial_quarter'
        ]) }}

),

with_status as (

    select
        *,
        police_uk_count - home_office_count as difference_count,
        100.0 * (police_uk_count - home_office_count) / nullif(home_office_count, 0) as difference_pct,
        case
            when home_office_count is null then 'no_home_office_figure'
            when police_uk_month_count = 0 then 'no_police_uk_data'
            when police_uk_month_count < 3 then 'police_uk_incomplete'
            when abs(police_uk_count - home_office_count) > {{ tolerance_pct }} / 100.0 * home_office_count
                and abs(police_uk_count - home_office_count) >= {{ min_gap_count }} then 'gap_over_tolerance'
            else 'within_tolerance'
        end as reconciliation_status
    from with_months

),

with_quarter as (

    select
        *,
        financial_year_start || '/' || lpad(cast((financial_year_start + 1) % 100 as varchar), 2, '0') as financial_year,
        make_date(financial_year_start, 4, 1) + to_months(3 * (financial_quarter - 1)) as quarter_start_date,
        {{ tolerance_pct }} as tolerance_pct,
        {{ min_gap_count }} as min_gap_count,
        reconciliation_status = 'gap_over_tolerance' as is_gap_over_tolerance
    from with_status

),

final as (

    select
        {{ contract_columns() }}
    from with_quarter

)

select * from final
