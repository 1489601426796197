{#-
    Per-crime summaries kept up to date without reading history (int_outcomes__events_per_crime,
    int_outcomes__crime_cohort).

    A month whose rows the summary has never consumed only *adds* rows to the crimes it names:
    each crime's summary so far is merged with the new rows (counts add, earliest and latest
    months and the best-ranked row are kept), so a new month costs its own rows plus a lookup by
    64-bit key in the compact summary, whatever the length of history. A month the summary has
    consumed before (the publisher re-issued it, or a force's file came late) can also *remove*
    rows, which a merge cannot undo: its crimes, and every crime whose rows span that month, are
    summarised again from every raw row, and one left with no rows is deleted by a post-hook.
-#}

{#- The months (`YYYY-MM`) of a police.uk staging view (`stg_police_uk__*`) loaded after the model's
    watermark, as a list. -#}
{% macro police_uk_changed_month_list(staging_relation, model_name=none) %}
    {% if not execute %}
        {{ return([]) }}
    {% endif %}
    {% set found = run_query(
        "select distinct source_month from " ~ staging_relation
        ~ " where loaded_at > " ~ police_uk_watermark(model_name) ~ " order by 1"
    ) %}
    {{ return(found.columns[0].values() | list) }}
{% endmacro %}


{#- `'2025-09', '2025-10'` for a SQL `in (...)` list; `null` (matches nothing) when empty. -#}
{% macro police_uk_month_literals(months) -%}
    {%- if months -%}
        {%- for month in months -%}'{{ month }}'{{ ", " if not loop.last }}{%- endfor -%}
    {%- else -%}
        null
    {%- endif -%}
{%- endmacro %}


{#- `months` (`YYYY-MM`) as a relation of their first days (`month_start`); empty when there is none. -#}
{% macro police_uk_month_starts(months) -%}
    select cast(m || '-01' as date) as month_start
    from (select unnest([{{ police_uk_month_literals(months) }}]::varchar[]) as m)
{%- endmacro %}


{#- The `columns` of the rows of a per-crime summary (`summaries`) whose months (`first_column` to
    `last_column`) span one of `months`: the crimes a reloaded month may have taken rows from, which
    must be summarised again from every row (a merge cannot remove rows). -#}
{% macro police_uk_summaries_spanning(summaries, months, first_column, last_column, columns) -%}
    select {% for column in columns %}{{ summaries }}.{{ column }}{{ ", " if not loop.last }}{% endfor %}
    from {{ summaries }}
    join ({{ police_uk_month_starts(months) }}) as changed
        on changed.month_start
            between {{ summaries }}.{{ first_column }} and {{ summaries }}.{{ last_column }}
{%- endmacro %}


{#- True when every month in `months` is later than the latest month `relation` has summarised
    (`month_column`, a date holding the first day of a month): none of their rows was consumed
    before, so merging them into the summaries is exact. Looked up when the model compiles. -#}
{% macro police_uk_months_are_unseen(months, relation, month_column) %}
    {% if not execute or not months %}
        {{ return(true) }}
    {% endif %}
    {% set latest = run_query(
        "select strftime(max(" ~ month_column ~ "), '%Y-%m') from " ~ relation
    ).columns[0].values()[0] %}
    {{ return(latest is none or (months | min) > latest) }}
{% endmacro %}


{#- The bucket a crime's summary is stored and replaced under: a 64-bit hash of its id.

    Crime ids are 64-character strings; finding the summaries a new month touches by comparing
    them means reading every id of history (~14 M, ~0.8 s each time nationally). Looking up an
    8-byte key reads a seventh of that. The key is not unique in principle (two ids may share a
    hash), so it is used as a bucket: a run that rewrites a crime rewrites every crime in its
    bucket (delete+insert on `crime_key`), carrying the others over unchanged, and rows are
    matched on `crime_id` within a bucket. Nothing depends on the hash being collision-free: the var
    `police_uk_crime_key_buckets` (unset: the full 64 bits) folds the keys into that many buckets,
    each shared by many crimes, which is how the tests check it. -#}
{% macro police_uk_crime_key(crime_id) -%}
    {%- set buckets = var('police_uk_crime_key_buckets', none) -%}
    {%- if buckets -%}
        (hash({{ crime_id }}) % {{ buckets | int }})
    {%- else -%}
        hash({{ crime_id }})
    {%- endif -%}
{%- endmacro %}


{#- The rows of the per-crime summary `relation` (a table) in the buckets `crime_keys` (a query of
    `crime_key`s): a new month's lookup of the summaries it rewrites.

    Filtering the table on `crime_key` directly makes DuckDB read every column of every row of
    history and drop the rows that do not match afterwards, so a new month's cost grew with history
    (the cohort's new-month query 1.0 s at 36 months, 1.85 s at ten years; events 0.47 and 0.93 s).
    Here the keys are matched reading that one column, and the rows found are fetched by row id,
    which reads the other columns of those rows only (cohort 0.65 and 0.82 s, events 0.45 and 0.50 s). -#}
{% macro police_uk_summaries_in_buckets(relation, crime_keys) -%}
    select * from {{ relation }}
    where rowid in (
        select rowid from {{ relation }}
        where crime_key in ({{ crime_keys }})
    )
{%- endmacro %}


{#- post-hook of a per-crime summary (`first_column`..`last_column`: the months its rows came from).
    After a re-issued month, a crime whose rows were all among those the publisher dropped gets no
    new row, and delete+insert only replaces the buckets the new rows fall in: such stale rows
    (built before this run, spanning a month just reloaded) are deleted here. After a month never
    seen before no older row spans it, and nothing is deleted. The two range conditions say no more
    than `exists` does, but DuckDB checks them against each row group's minimum and maximum first:
    after a month never seen before, no row group built before this run reaches it, and the delete
    reads nothing instead of three columns of every crime of history (0.2-0.45 s a model at ten years). -#}
{% macro police_uk_delete_stale_summaries(staging_relation, first_column, last_column) %}
    {% set changed_months = police_uk_changed_month_list(staging_relation) %}
    {% if is_incremental() and changed_months %}
        delete from {{ this }}
        where {{ last_column }} >= date '{{ changed_months | min }}-01'
            and {{ first_column }} <= date '{{ changed_months | max }}-01'
            and built_at < {{ police_uk_run_started_at() }}
            and exists (
                select 1
                from ({{ police_uk_month_starts(changed_months) }}) as changed
                where changed.month_start between {{ first_column }} and {{ last_column }}
            )
    {% else %}
        select 1
    {% endif %}
{% endmacro %}
