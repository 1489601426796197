{#-
    The 12-month windows a quarter's figures are stated over: each quarter-end month in `months`
    (a relation of `keys` + `month_start`, one row per month with data) with the eleven months before
    it, kept only when all twelve are present, so a window is never a year with a hole in it.
    Columns: `keys`, `window_end_month`, `month_count` (always 12). Used as the body of a CTE:
    `windows as ({{ quarter_end_windows('force_months', ['force_id']) }})`.
-#}
{% macro quarter_end_windows(months, keys) %}
    select
        {%- for key in keys %}
        quarter_ends.{{ key }},
        {%- endfor %}
        quarter_ends.month_start as window_end_month,
        count(*) as month_count
    from {{ months }} as quarter_ends
    inner join {{ months }}
        on {{ keys_match('quarter_ends', months, keys) }}
        and {{ in_twelve_months_to(months ~ '.month_start', 'quarter_ends.month_start') }}
    where month(quarter_ends.month_start) in (3, 6, 9, 12)
    group by all
    having count(*) = 12
{% endmacro %}

{#- A month of the 12 months to `window_end` (a month start): the end month and the eleven before it. -#}
{% macro in_twelve_months_to(month, window_end) -%}
    {{ month }} between {{ window_end }} - interval 11 month and {{ window_end }}
{%- endmacro %}
