with

funding as (

    select * from {{ ref('stg_finance__funding') }}

),

settlement as (

    select * from {{ ref('stg_finance__police_grant') }}

),

with_totals as (

    select
        funding.*,
        funding.police_grant_gbp + funding.precept_gbp + funding.other_grants_gbp as total_funding_gbp,
        -- The precept the Band D figure and tax base imply (the collection fund makes the difference).
        funding.band_d_precept_gbp * funding.council_tax_base as precept_from_band_d_gbp,
        lag(funding.band_d_precept_gbp) over (
            partition by funding.force_id, funding.plan_first_year order by funding.financial_year
        ) as previous_band_d_precept_gbp
    from funding

),

with_plan_year as (

    -- the plan's is_latest_plan and the year's net revenue budget (macros/finance_plan_year.sql)
    {{ finance_with_plan_year('with_totals') }}

),

joined as (

    select
        with_plan_year.*,
        settlement.grant_gbp as settlement_police_grant_gbp
    from with_plan_year
    left join settlement
        on {{ keys_match('with_plan_year', 'settlement', ['force_id', 'financial_year']) }}

),

with_changes as (

    select
        *,
        precept_gbp / nullif(total_funding_gbp, 0) as precept_share_of_funding,
        band_d_precept_gbp - previous_band_d_precept_gbp as band_d_change_gbp,
        (band_d_precept_gbp - previous_band_d_precept_gbp) / nullif(previous_band_d_precept_gbp, 0) as band_d_change_pct,
        total_funding_gbp - net_revenue_budget_gbp as funding_less_net_budget_gbp,
        police_grant_gbp - settlement_police_grant_gbp as police_grant_less_settlement_gbp
    from joined

),

final as (

    select
        {{ contract_columns() }}
    from with_changes

)

select * from final
