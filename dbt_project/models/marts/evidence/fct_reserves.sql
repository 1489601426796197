with

reserves as (

    select * from {{ ref('stg_finance__reserves') }}

),

year_totals as (

    select
        force_id,
        plan_first_year,
        financial_year,
        sum(closing_balance_gbp) as total_closing_reserves_gbp,
        sum(closing_balance_gbp) filter (where is_general_reserve) as general_closing_reserves_gbp
    from reserves
    group by force_id, plan_first_year, financial_year

),

with_plan_year as (

    -- the plan's is_latest_plan and the year's net revenue budget (macros/finance_plan_year.sql)
    {{ finance_with_plan_year('reserves') }}

),

joined as (

    select
        with_plan_year.*,
        with_plan_year.closing_balance_gbp - with_plan_year.opening_balance_gbp as net_movement_gbp,
        year_totals.total_closing_reserves_gbp,
        year_totals.general_closing_reserves_gbp
    from with_plan_year
    inner join year_totals
        on {{ keys_match('with_plan_year', 'year_totals', [
            'force_id', 'plan_first_year', 'financial_year'
        ]) }}

),

with_share as (

    select
        *,
        general_closing_reserves_gbp / nullif(net_revenue_budget_gbp, 0) as general_reserves_share_of_net_budget
    from joined

),

final as (

    select
        {{ contract_columns() }}
    from with_share

)

select * from final
