with

source as (

    select * from {{ source('home_office_prc', 'prc_csp') }}

),

renamed as (

    select
        -- ids and dates (the same in the force-area table)
        {{ home_office_prc_quarter_columns() }},

        -- geography as the Home Office names it
        trim(force_name) as force_name,
        trim(csp_name) as csp_name,
        -- for matching ONS spellings (the same key as stg_ons_geography__lad_csp_pfa_lookup.csp_name_key)
        {{ name_key('force_name') }} as force_name_key,
        {{ name_key('csp_name') }} as csp_name_key,
        lower(trim(csp_name)) like 'unassigned%' as is_unassigned_csp,

        -- classification as published, measures, lineage (the same in the force-area table)
        {{ home_office_prc_offence_count_columns() }}

    from source

)

select * from renamed
