-- A source file's rows must come from one load. Two loads of the same file side by side
-- (an append where the loader should replace the partition) would double every count, and
-- identical rows are otherwise indistinguishable. Returns one row per file loaded twice.

with

street as (

    select * from {{ source('police_uk', 'street') }}

),

outcomes as (

    select * from {{ source('police_uk', 'outcomes') }}

),

stop_search as (

    select * from {{ source('police_uk', 'stop_search') }}

),

loads_per_file as (

    select 'street' as dataset, _source_file, count(distinct _loaded_at) as load_count
    from street
    group by _source_file

    union all

    select 'outcomes' as dataset, _source_file, count(distinct _loaded_at) as load_count
    from outcomes
    group by _source_file

    union all

    select 'stop_search' as dataset, _source_file, count(distinct _loaded_at) as load_count
    from stop_search
    group by _source_file

),

files_loaded_twice as (

    select * from loads_per_file
    where load_count > 1

)

select * from files_loaded_twice
