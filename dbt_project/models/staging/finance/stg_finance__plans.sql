with

source as (

    select * from {{ source('finance', 'plans') }}

),

renamed as (

    select
        -- ids
        _force_id as force_id,
        _plan_year as plan_first_year,
        force as force_as_published,
        plan_title,

        -- dates
        cast(left(_plan_year, 4) as integer) as plan_first_year_start,
        approved_on,

        -- provenance
        prepared_by,
        source_url,
        _source_file as source_file,
        _loaded_at as loaded_at
    from source

),

with_latest_flag as (

    -- A force's newest plan supersedes the years older plans also cover.
    select
        *,
        plan_first_year = max(plan_first_year) over (partition by force_id) as is_latest_plan
    from renamed

)

select * from with_latest_flag
