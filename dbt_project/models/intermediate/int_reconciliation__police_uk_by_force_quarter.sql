with

street_crimes as (

    select * from {{ ref('stg_police_uk__street_crimes') }}

),

crime_types as (

    select * from {{ ref('crime_types') }}

),

crimes_in_quarters as (

    -- financial quarters, as the Home Office counts: quarter 1 is April to June
    select
        street_crimes.force_id,
        street_crimes.month_start,
        cast(year(street_crimes.month_start - interval 3 month) as integer) as financial_year_start,
        cast(quarter(street_crimes.month_start - interval 3 month) as integer) as financial_quarter,
        crime_types.crime_type_group
    from street_crimes
    inner join crime_types
        on street_crimes.crime_type = crime_types.crime_type
    -- anti-social behaviour incidents are not recorded crimes
    where not crime_types.is_anti_social_behaviour

),

months_loaded as (

    select
        force_id,
        financial_year_start,
        financial_quarter,
        count(distinct month_start) as police_uk_month_count
    from crimes_in_quarters
    group by all

),

quarterly_counts as (

    select
        force_id,
        financial_year_start,
        financial_quarter,
        crime_type_group,
        count(*) as police_uk_count
    from crimes_in_quarters
    group by all

),

final as (

    select
        quarterly_counts.*,
        months_loaded.police_uk_month_count
    from quarterly_counts
    inner join months_loaded
        on {{ keys_match('quarterly_counts', 'months_loaded', [
            'force_id', 'financial_year_start', 'financial_quarter'
        ]) }}

)

select * from final
