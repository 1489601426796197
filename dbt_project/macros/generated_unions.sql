{#-
    The performance models generate one CTE per measure or mart from the plan (seeds/plan_measures.csv)
    and stack them. A plan may generate none, so the stack starts from a typed relation with no rows:
    the model keeps its columns and types either way.
-#}

{#- A relation with the given columns (`{name: type}`, in order) and no rows. -#}
{% macro empty_relation(columns) -%}
    select
    {%- for name, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
    where false
{%- endmacro %}


{#- `first` (an `empty_relation`) and the generated CTEs `<prefix>1` to `<prefix><count>`, stacked. -#}
{% macro union_all_generated(first, prefix, count) -%}
    select * from {{ first }}
    {%- for index in range(1, count + 1) %}
    union all
    select * from {{ prefix }}{{ index }}
    {%- endfor %}
{%- endmacro %}
