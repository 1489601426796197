with

savings_plan as (

    select * from {{ ref('stg_finance__savings_plan') }}

),

with_gap as (

    select
        *,
        savings_required_gbp - savings_identified_gbp as savings_gap_gbp,
        row_number() over plan_years as plan_year_number,
        sum(savings_required_gbp) over plan_years as cumulative_savings_required_gbp,
        sum(savings_required_gbp - savings_identified_gbp) over plan_years as cumulative_savings_gap_gbp
    from savings_plan
    window plan_years as (
        partition by force_id, plan_first_year order by financial_year
        rows between unbounded preceding and current row
    )

),

with_plan_year as (

    -- the plan's is_latest_plan and the year's net revenue budget (macros/finance_plan_year.sql)
    {{ finance_with_plan_year('with_gap') }}

),

with_shares as (

    select
        *,
        savings_identified_gbp / nullif(savings_required_gbp, 0) as savings_identified_share,
        savings_required_gbp / nullif(net_revenue_budget_gbp, 0) as savings_required_share_of_net_budget
    from with_plan_year

),

final as (

    select
        {{ contract_columns() }}
    from with_shares

)

select * from final
