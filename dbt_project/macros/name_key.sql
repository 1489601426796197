{#-
    A name as a matching key: lower case, '&' as 'and', every run of punctuation and spaces as one
    space, trimmed. Publishers spell the same force or partnership differently ("Devon & Cornwall",
    "Devon and Cornwall"); the keys of two spellings are equal where the names are.
-#}
{% macro name_key(column_name) -%}
    trim(regexp_replace(lower(replace({{ column_name }}, '&', ' and ')), '[^a-z0-9]+', ' ', 'g'))
{%- endmacro %}
