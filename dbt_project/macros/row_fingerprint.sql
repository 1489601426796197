{#-
    md5 of the given columns, NULL-safe (JSON keeps NULL apart from the text 'NULL'
    and from an empty string). Used to give each published row a stable id: the
    publisher's files carry no row id, and identical rows do occur.
-#}
{% macro row_fingerprint(column_names) -%}
    md5(cast(to_json(struct_pack(
        {%- for column_name in column_names %}
        {{ column_name }} := {{ column_name }}{{ "," if not loop.last }}
        {%- endfor %}
    )) as varchar))
{%- endmacro %}


{#- Each row of `relation` with its `row_fingerprint` (of `column_names`) and `copy_number`: 1, 2, ...
    among the rows with the same fingerprint, so that `row_copy_id()` tells identical published rows
    apart. The body of a CTE. -#}
{% macro with_copy_number(relation, column_names) %}
    select
        *,
        row_number() over (partition by row_fingerprint) as copy_number
    from (
        select
            *,
            {{ row_fingerprint(column_names) }} as row_fingerprint
        from {{ relation }}
    ) as fingerprinted
{% endmacro %}


{#- A stable id of a published row that has none: its fingerprint and copy number (`with_copy_number`). -#}
{% macro row_copy_id() -%}
    md5(row_fingerprint || ':' || copy_number)
{%- endmacro %}
