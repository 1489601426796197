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

final as (

    select
        {{ finance_plan_year_key_columns() }},
        cast(plan_year_number as integer) as plan_year_number,
        cast(savings_required_gbp as decimal(18, 2)) as savings_required_gbp,
        cast(savings_identified_gbp as decimal(18, 2)) as savings_identified_gbp,
        cast(savings_delivered_gbp as decimal(18, 2)) as savings_delivered_gbp,
        cast(savings_gap_gbp as decimal(18, 2)) as savings_gap_gbp,
        cast(savings_identified_gbp / nullif(savings_required_gbp, 0) as double) as savings_identified_share,
        cast(cumulative_savings_required_gbp as decimal(18, 2)) as cumulative_savings_required_gbp,
        cast(cumulative_savings_gap_gbp as decimal(18, 2)) as cumulative_savings_gap_gbp,
        cast(net_revenue_budget_gbp as decimal(18, 2)) as net_revenue_budget_gbp,
        cast(savings_required_gbp / nullif(net_revenue_budget_gbp, 0) as double) as savings_required_share_of_net_budget,
        cast(is_latest_plan as boolean) as is_latest_plan
    from with_plan_year

)

select * from final
