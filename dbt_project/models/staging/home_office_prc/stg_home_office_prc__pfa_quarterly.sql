with

source as (

    select * from {{ source('home_office_prc', 'prc_pfa_quarterly') }}

),

renamed as (

    select
        -- ids and dates (the same in the CSP table)
        {{ home_office_prc_quarter_columns() }},

        -- geography as the Home Office names it
        trim(force_name) as force_name,
        -- for matching (joins seed home_office_force_names)
        {{ name_key('force_name') }} as force_name_key,
        -- British Transport Police and the national fraud bodies are rows of the table, not force
        -- areas: kept (they are recorded crime), flagged so force comparisons and rates leave them out
        {{ name_key('force_name') }}
            not in ('british transport police', 'action fraud', 'cifas', 'uk finance') as is_territorial_force,
        {{ name_key('force_name') }}
            in ('action fraud', 'cifas', 'uk finance') as is_national_fraud_body,

        -- classification as published, measures, lineage (the same in the CSP table)
        {{ home_office_prc_offence_count_columns() }}

    from source

)

select * from renamed
