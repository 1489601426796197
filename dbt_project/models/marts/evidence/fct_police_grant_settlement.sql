with

settlement as (

    select * from {{ ref('stg_finance__police_grant') }}

),

police_forces as (

    select * from {{ ref('police_forces') }}

),

national_totals as (

    select
        financial_year,
        sum(grant_gbp) as national_total_gbp
    from settlement
    group by financial_year

),

joined as (

    select
        settlement.*,
        national_totals.national_total_gbp,
        police_forces.country
    from settlement
    inner join national_totals
        on settlement.financial_year = national_totals.financial_year
    left join police_forces
        on settlement.force_id = police_forces.force_id

),

final as (

    select
        cast(force_id as varchar) as force_id,
        cast(financial_year as varchar) as financial_year,
        cast(financial_year_start as integer) as financial_year_start,
        cast(force_as_published as varchar) as force_as_published,
        cast(grant_gbp as bigint) as grant_gbp,
        cast(national_total_gbp as bigint) as national_total_gbp,
        cast(grant_gbp / national_total_gbp as double) as share_of_national_total,
        cast(country as varchar) as country,
        -- Welsh forces' figure is Police Main Grant + Welsh top-up only: other streams come via Cardiff.
        cast(country = 'Wales' as boolean) as is_main_grant_and_welsh_top_up_only,
        cast(source_file as varchar) as source_file
    from joined

)

select * from final
