{#-
    Grain test: no two rows share the same values in `combination_of_columns`
    (NULLs compare equal, as in GROUP BY). Fails with one row per repeated key.
    Written here because dbt-utils cannot be installed offline.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

rows_per_key as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

),

repeated_keys as (

    select * from rows_per_key
    where row_count > 1

)

select * from repeated_keys

{% endtest %}
