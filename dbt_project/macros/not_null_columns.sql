{#-
    Column rule: none of `columns` holds a NULL, checked in one query (one scan) for the whole
    model. Every data test is a dbt node, and each node costs dbt about 50 ms of its own Python,
    which runs on one core whatever the thread count: one not_null test per column made the
    demo's build wait on dbt, not on the data. Fails with a row per column that has NULLs:
    the column and how many rows.
-#}
{% test not_null_columns(model, columns) %}

with null_counts as (

    select
        {%- for column in columns %}
        count(*) filter (where {{ column }} is null) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

)

select column_name, null_rows
from null_counts
unpivot (null_rows for column_name in ({{ columns | join(", ") }}))
where null_rows > 0

{% endtest %}
