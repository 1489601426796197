{#- The columns every force monthly return (templates/<source>/, ingest/monthly_returns.py) opens
    its staging model with: the force as the return writes it (for `with_force_id`) and the month's
    first day. Inside a staging model's select list. -#}
{% macro force_return_key_columns() %}
        -- ids
        regexp_replace(trim(force), '\s+', ' ', 'g') as force_as_published,

        -- dates
        strptime(month || '-01', '%Y-%m-%d')::date as month_start,
{% endmacro %}


{#- The lineage every office template's staging model keeps: the partition (the return's edition,
    the force id), the landed file and when it was loaded. Last in a staging model's select list. -#}
{% macro template_lineage_columns() %}
        -- lineage
        _edition as edition,
        _source_file as source_file,
        _loaded_at as loaded_at
{% endmacro %}
