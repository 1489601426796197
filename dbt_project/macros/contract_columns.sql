{#-
    A contracted model's columns as its yml declares them, in that order, each cast to its
    `data_type`: `cast(<column> as <data_type>) as <column>, ...`. A mart's last CTE is
    `final as (select {{ contract_columns() }} from <the step before>)`, so a column's type is
    written once, in the yml that documents it, and the SQL above only computes values under
    the names the contract gives them. (While dbt parses, the yml is not yet attached and this
    renders nothing; it is filled in when the model is compiled and run.) A unit test runs the
    model's SQL as a node of its own that carries no columns: there it selects the step before's
    columns as they are (`*`), and the unit test compares the columns its expected rows name; the
    types themselves are checked by the contract whenever the model is built.
-#}
{% macro contract_columns() -%}
    {%- if model.resource_type == 'unit_test' -%}
        *
    {%- else -%}
    {%- for column in model.columns.values() %}
        {%- if not column.data_type %}
            {{ exceptions.raise_compiler_error(model.name ~ ".yml: column " ~ column.name ~ " has no data_type; the contract needs one") }}
        {%- endif %}
        cast({{ column.name }} as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}
