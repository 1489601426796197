-- A source file's rows must come from one load. Two loads of the same file side by side
-- (an append where the loader should replace the partition) would double every count, and
-- identical rows are otherwise indistinguishable. Returns one row per file loaded twice.
--
-- On an incremental `dbt build` it looks only at the files with rows loaded since the least
-- advanced police.uk model last built (every row of those files, in their months), as the staging
-- tests do: a file loaded before was checked then, and reading every raw row's file and load time
-- made each new month's build grow with history (1.5 s of it at ten years). A first build,
-- `--full-refresh` and a plain `dbt test` check every file. The raw tables are read twice each,
-- so their CTEs are `not materialized` (materialized, DuckDB copied every raw row first: 4 s).

{% set loaded_since = none %}
{% if execute and not flags.FULL_REFRESH and flags.WHICH == 'build' %}
    {% set loaded_since = run_query(
        "select min(raw_loaded_through) from (select model, max(raw_loaded_through) as raw_loaded_through "
        ~ "from " ~ police_uk_build_log() ~ " group by model)"
    ).columns[0].values()[0] %}
{% endif %}

{#- A literal, so that DuckDB skips the row groups loaded before it. -#}
{% set since = "cast('" ~ loaded_since ~ "' as timestamp)" %}

with

street as not materialized (

    select * from {{ source('police_uk', 'street') }}

),

outcomes as not materialized (

    select * from {{ source('police_uk', 'outcomes') }}

),

stop_search as not materialized (

    select * from {{ source('police_uk', 'stop_search') }}

),

loads_per_file as (

    select 'street' as dataset, _source_file, count(distinct _loaded_at) as load_count
    from street
    {% if loaded_since is not none %}
    where _month in (select _month from street where _loaded_at > {{ since }})
        and _source_file in (select _source_file from street where _loaded_at > {{ since }})
    {% endif %}
    group by _source_file

    union all

    select 'outcomes' as dataset, _source_file, count(distinct _loaded_at) as load_count
    from outcomes
    {% if loaded_since is not none %}
    where _month in (select _month from outcomes where _loaded_at > {{ since }})
        and _source_file in (select _source_file from outcomes where _loaded_at > {{ since }})
    {% endif %}
    group by _source_file

    union all

    select 'stop_search' as dataset, _source_file, count(distinct _loaded_at) as load_count
    from stop_search
    {% if loaded_since is not none %}
    where _month in (select _month from stop_search where _loaded_at > {{ since }})
        and _source_file in (select _source_file from stop_search where _loaded_at > {{ since }})
    {% endif %}
    group by _source_file

),

files_loaded_twice as (

    select * from loads_per_file
    where load_count > 1

)

select * from files_loaded_twice
