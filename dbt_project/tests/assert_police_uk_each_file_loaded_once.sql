-- A source file's rows must come from one load. Two loads of the same file side by side
-- (an append where the loader should replace the partition) would double every count, and
-- identical rows are otherwise indistinguishable. Returns one row per file loaded twice.
--
-- On an incremental `dbt build` it looks only at the files with rows loaded since the least
-- advanced police.uk model last built (every row of those files, in their months), as the staging
-- tests do: a file loaded before was checked then, and reading every raw row's file and load time
-- made each new month's build grow with history (1.5 s of it at ten years). A first build,
-- `--full-refresh` and a plain `dbt test` check every file.

{% set loaded_since = none %}
{% if execute and not flags.FULL_REFRESH and flags.WHICH == 'build' %}
    {% set loaded_since = run_query(
        "select min(raw_loaded_through) from (select model, max(raw_loaded_through) as raw_loaded_through "
        ~ "from " ~ police_uk_build_log() ~ " group by model)"
    ).columns[0].values()[0] %}
{% endif %}

{% set datasets = ['street', 'outcomes', 'stop_search'] %}

with

{% for dataset in datasets %}

{{ dataset }} as (

    select * from {{ source('police_uk', dataset) }}

),

{% if loaded_since is not none %}

{{ dataset }}_files_to_check as (

    -- a literal, so that DuckDB skips the row groups loaded before it
    select distinct _month, _source_file from {{ dataset }}
    where _loaded_at > cast('{{ loaded_since }}' as timestamp)

),

{% endif %}

{% endfor %}

loads_per_file as (

    {% for dataset in datasets %}
    select '{{ dataset }}' as dataset, _source_file, count(distinct _loaded_at) as load_count
    from {{ dataset }}
    {% if loaded_since is not none %}
    where _month in (select _month from {{ dataset }}_files_to_check)
        and _source_file in (select _source_file from {{ dataset }}_files_to_check)
    {% endif %}
    group by _source_file
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

files_loaded_twice as (

    select * from loads_per_file
    where load_count > 1

)

select * from files_loaded_twice
