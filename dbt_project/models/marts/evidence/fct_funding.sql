with

funding as (

    select * from {{ ref('stg_finance__funding') }}

),

plans as (

    select * from {{ ref('stg_finance__plans') }}

),

settlement as (

    select * from {{ ref('stg_finance__police_grant') }}

),

net_budgets as (

    select * from {{ ref('int_finance__net_revenue_budget') }}

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

joined as (

    select
        with_totals.*,
        net_budgets.net_revenue_budget_gbp,
        settlement.grant_gbp as settlement_police_grant_gbp,
        plans.is_latest_plan
    from with_totals
    inner join plans
        on with_totals.force_id = plans.force_id
        and with_totals.plan_first_year = plans.plan_first_year
    left join net_budgets
        on with_totals.force_id = net_budgets.force_id
        and with_totals.plan_first_year = net_budgets.plan_first_year
        and with_totals.financial_year = net_budgets.financial_year
    left join settlement
        on with_totals.force_id = settlement.force_id
        and with_totals.financial_year = settlement.financial_year

),

final as (

    select
        cast(force_id as varchar) as force_id,
        cast(plan_first_year as varchar) as plan_first_year,
        cast(financial_year as varchar) as financial_year,
        cast(financial_year_start as integer) as financial_year_start,
        cast(police_grant_gbp as decimal(18, 2)) as police_grant_gbp,
        cast(precept_gbp as decimal(18, 2)) as precept_gbp,
        cast(other_grants_gbp as decimal(18, 2)) as other_grants_gbp,
        cast(total_funding_gbp as decimal(18, 2)) as total_funding_gbp,
        cast(precept_gbp / nullif(total_funding_gbp, 0) as double) as precept_share_of_funding,
        cast(band_d_precept_gbp as decimal(18, 2)) as band_d_precept_gbp,
        cast(band_d_precept_gbp - previous_band_d_precept_gbp as decimal(18, 2)) as band_d_change_gbp,
        cast((band_d_precept_gbp - previous_band_d_precept_gbp) / nullif(previous_band_d_precept_gbp, 0) as double)
            as band_d_change_pct,
        cast(council_tax_base as double) as council_tax_base,
        cast(precept_from_band_d_gbp as decimal(18, 2)) as precept_from_band_d_gbp,
        cast(net_revenue_budget_gbp as decimal(18, 2)) as net_revenue_budget_gbp,
        cast(total_funding_gbp - net_revenue_budget_gbp as decimal(18, 2)) as funding_less_net_budget_gbp,
        cast(settlement_police_grant_gbp as decimal(18, 2)) as settlement_police_grant_gbp,
        cast(police_grant_gbp - settlement_police_grant_gbp as decimal(18, 2)) as police_grant_less_settlement_gbp,
        cast(is_latest_plan as boolean) as is_latest_plan
    from joined

)

select * from final
