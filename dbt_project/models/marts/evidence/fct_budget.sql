with

with_line as (

    -- each budget line with its group, income signed negative (macros/finance_plan_year.sql)
    {{ finance_signed_budget_lines() }}

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
