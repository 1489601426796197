{#-
    The column blocks the Home Office police recorded crime tables share (stg_home_office_prc__*_quarterly:
    the CSP and force-area tables publish the same offence and quarter columns).
-#}

{#- The offence code and the financial quarter: financial years start in April; quarter 1 is April
    to June. -#}
{% macro home_office_prc_quarter_columns() -%}
        -- ids
        trim(offence_code) as offence_code,

        -- dates: financial years start in April; quarter 1 is April to June
        trim(financial_year) as financial_year,
        cast(left(trim(financial_year), 4) as integer) as financial_year_start,
        financial_quarter,
        cast(
            make_date(cast(left(trim(financial_year), 4) as integer), 4, 1)
            + to_months(3 * (financial_quarter - 1)) as date
        ) as quarter_start_date
{%- endmacro %}


{#- The offence as published (labels drift between years; int_recorded_crime__csp_quarterly maps
    them), its count, and where the row came from. -#}
{% macro home_office_prc_offence_count_columns() -%}
        -- classification as published (labels drift between years; see int_recorded_crime__csp_quarterly)
        trim(offence_description) as offence_description,
        trim(offence_group) as published_offence_group,
        trim(offence_subgroup) as published_offence_subgroup,

        -- measures
        offence_count,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at
{%- endmacro %}


{#- The rows of `relation` (one per force, financial quarter and `comparison_group`) and, for each
    force and quarter, their total as the group 'All recorded crime (excluding fraud)': the
    overall line of the reconciliation, summed alike from the Home Office and police.uk sides.
    Used as the body of a CTE. -#}
{% macro with_all_recorded_crime_total(relation, count_column) %}
    select * from {{ relation }}
    union all
    select
        force_id,
        financial_year_start,
        financial_quarter,
        'All recorded crime (excluding fraud)' as comparison_group,
        sum({{ count_column }}) as {{ count_column }}
    from {{ relation }}
    group by all
{% endmacro %}
