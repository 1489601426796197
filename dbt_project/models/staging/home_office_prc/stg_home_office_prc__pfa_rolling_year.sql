with

source as (

    select * from {{ source('home_office_prc', 'prc_pfa_rolling_year') }}

),

renamed as (

    select
        -- dates
        period_end_date,
        -- annual points (year ending March) until 2007, quarterly after
        period_end_date < date '2007-06-30' as is_annual_point,

        -- geography
        trim(pfa_name) as pfa_name,
        {{ name_key('pfa_name') }} as pfa_name_key,
        trim(region) as region,
        -- national fraud bodies (Action Fraud, CIFAS, UK Finance) and British Transport Police
        -- are rows of their own, not force areas
        not (region like 'Fraud:%' or pfa_name = 'British Transport Police') as is_territorial,

        -- classification
        trim(offence) as offence,

        -- measures
        offence_count as rolling_year_offence_count,

        -- lineage
        _edition as edition,
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
