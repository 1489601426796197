with

revenue_budget as (

    select * from {{ ref('stg_finance__revenue_budget') }}

),

plans as (

    select * from {{ ref('stg_finance__plans') }}

),

budget_lines as (

    select * from {{ ref('finance_budget_lines') }}

),

with_line as (

    select
        revenue_budget.*,
        budget_lines.line_group,
        budget_lines.is_income,
        budget_lines.sort_order,
        -- Income is entered positive: it reduces the net budget.
        case when budget_lines.is_income then -revenue_budget.amount_gbp else revenue_budget.amount_gbp end
            as net_amount_gbp
    from revenue_budget
    inner join budget_lines
        on revenue_budget.budget_line = budget_lines.budget_line

),

year_totals as (

    select * from {{ ref('int_finance__net_revenue_budget') }}

),

with_totals as (

    select
        with_line.*,
        year_totals.gross_expenditure_gbp,
        year_totals.net_revenue_budget_gbp,
        case
            when not with_line.is_income and year_totals.gross_expenditure_gbp > 0
                then with_line.amount_gbp / year_totals.gross_expenditure_gbp
        end as share_of_gross_expenditure,
        plans.is_latest_plan
    from with_line
    inner join year_totals
        on with_line.force_id = year_totals.force_id
        and with_line.plan_first_year = year_totals.plan_first_year
        and with_line.financial_year = year_totals.financial_year
    inner join plans
        on with_line.force_id = plans.force_id
        and with_line.plan_first_year = plans.plan_first_year

),

final as (

    select
        cast(force_id as varchar) as force_id,
        cast(plan_first_year as varchar) as plan_first_year,
        cast(financial_year as varchar) as financial_year,
        cast(financial_year_start as integer) as financial_year_start,
        cast(budget_line as varchar) as budget_line,
        cast(line_group as varchar) as line_group,
        cast(is_income as boolean) as is_income,
        cast(sort_order as integer) as line_sort_order,
        cast(amount_gbp as decimal(18, 2)) as amount_gbp,
        cast(net_amount_gbp as decimal(18, 2)) as net_amount_gbp,
        cast(gross_expenditure_gbp as decimal(18, 2)) as gross_expenditure_gbp,
        cast(net_revenue_budget_gbp as decimal(18, 2)) as net_revenue_budget_gbp,
        cast(share_of_gross_expenditure as double) as share_of_gross_expenditure,
        cast(is_latest_plan as boolean) as is_latest_plan,
        cast(source_file as varchar) as source_file,
        cast(source_row as integer) as source_row
    from with_totals

)

select * from final
