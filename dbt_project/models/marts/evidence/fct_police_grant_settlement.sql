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

with_national_share as (

    select
        *,
        grant_gbp / national_total_gbp as share_of_national_total,
        -- Welsh forces' figure is Police Main Grant + Welsh top-up only: other streams come via Cardiff.
        country = 'Wales' as is_main_grant_and_welsh_top_up_only
    from joined

),

final as (

    select
        {{ contract_columns() }}
    from with_national_share

)

select * from final
