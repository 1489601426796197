with

revenue_budget as (

    select * from {{ ref('stg_finance__revenue_budget') }}

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

with_plan_year as (

    -- the plan's is_latest_plan and the year's totals (macros/finance_plan_year.sql); every line
    -- is in its year's totals, which are summed from the same lines
    {{ finance_with_plan_year('with_line') }}

),

with_totals as (

    select
        *,
        case
            when not is_income and gross_expenditure_gbp > 0 then amount_gbp / gross_expenditure_gbp
        end as share_of_gross_expenditure
    from with_plan_year

),

final as (

    select
        {{ finance_plan_year_key_columns() }},
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
