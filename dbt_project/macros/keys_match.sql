{#-
    The condition that joins two relations on a key of several columns, each named the same on
    both sides: `keys_match('a', 'b', ['force_id', 'financial_year'])` is
    `a.force_id = b.force_id and a.financial_year = b.financial_year`. Written after `on`, it
    names the join's key once (the grain the two relations share) instead of spelling out one
    equality a line for every column.
-#}
{% macro keys_match(left, right, columns) -%}
    {%- for column in columns -%}
        {{ left }}.{{ column }} = {{ right }}.{{ column }}{% if not loop.last %} and {% endif %}
    {%- endfor -%}
{%- endmacro %}
