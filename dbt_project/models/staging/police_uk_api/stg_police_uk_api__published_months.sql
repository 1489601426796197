with

source as (

    select * from {{ source('police_uk_api', 'street_dates') }}

),

renamed as (

    select
        -- dates
        cast(month || '-01' as date) as month_start,

        -- what is published
        list_sort(coalesce(stop_and_search_force_ids, [])) as stop_search_force_ids,
        len(coalesce(stop_and_search_force_ids, [])) as stop_search_force_count,

        -- lineage
        _source_url as source_url,
        _loaded_at as loaded_at

    from source

),

with_latest as (

    select
        *,
        month_start = max(month_start) over () as is_latest_month
    from renamed

)

select * from with_latest
