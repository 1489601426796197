{#-
    A model's columns as its yml declares them (a contracted mart's, or an intermediate model's
    whose yml gives each column's type), in that order, each cast to its
    `data_type`: `cast(<column> as <data_type>) as <column>, ...`. A mart's last CTE is
    `final as (select {{ contract_columns() }} from <the step before>)`, so a column's type is
    written once, in the yml that documents it, and the SQL above only computes values under
    the names the contract gives them. (While dbt parses, the yml is not yet attached and this
    renders nothing; it is filled in when the model is compiled and run.) A unit test runs the
    model's SQL as a node of its own that carries no columns: there it selects the step before's
    columns as they are (`*`), and the unit test compares the columns its expected rows name; the
    types themselves are checked by the contract whenever the model is built.

    `of`: another model's contract. An intermediate model whose rows a mart publishes as they
    are (`select *`), and which other steps read too, ends with
    `final as (select {{ contract_columns(of='<mart>') }} from <the step before>)`: it is built
    with the mart's columns and types, declared once, in the mart's yml. (A unit test has no
    manifest to look the mart up in: there, too, it selects the step before's columns as they are.)
-#}
{% macro contract_columns(of=none) -%}
    {%- if model.resource_type == 'unit_test' -%}
        *
    {%- else -%}
    {%- set contracted = model if of is none else contracted_model(of) -%}
    {%- for column in contracted.columns.values() %}
        {%- if not column.data_type %}
            {{ exceptions.raise_compiler_error(contracted.name ~ ".yml: column " ~ column.name ~ " has no data_type; the contract needs one") }}
        {%- endif %}
        cast({{ column.name }} as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}


{#- The model named `name` as the manifest has it (its yml's columns), once the project is parsed;
    while dbt parses, a stand-in with no columns. -#}
{% macro contracted_model(name) -%}
    {%- if not execute -%}
        {{ return({'name': name, 'columns': {}}) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("contract_columns: no model named " ~ name) }}
{%- endmacro %}
