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
