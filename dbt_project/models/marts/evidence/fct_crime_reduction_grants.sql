with

grants as (

    select * from {{ ref('stg_finance__crime_reduction_grants') }}

),

plans as (

    select * from {{ ref('stg_finance__plans') }}

),

year_totals as (

    select
        force_id,
        plan_first_year,
        financial_year,
        sum(amount_gbp) as year_total_gbp
    from grants
    group by force_id, plan_first_year, financial_year

),

joined as (

    select
        grants.*,
        year_totals.year_total_gbp,
        plans.is_latest_plan
    from grants
    inner join plans
        on {{ keys_match('grants', 'plans', ['force_id', 'plan_first_year']) }}
    inner join year_totals
        on {{ keys_match('grants', 'year_totals', ['force_id', 'plan_first_year', 'financial_year']) }}

),

with_shares as (

    select
        *,
        amount_gbp / nullif(year_total_gbp, 0) as share_of_year_total,
        outcome is not null as has_outcome
    from joined

),

final as (

    select
        {{ contract_columns() }}
    from with_shares

)

select * from final
