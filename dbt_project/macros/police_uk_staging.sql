{#-
    The column blocks the police.uk staging views share (stg_police_uk__*), renamed and cleaned the
    same way whichever file they come from.
-#}

{#- A crime's ids, month, reporting force and geography, as the street and outcomes files both carry
    them (an outcomes row's geography is that of its crime). `month_start_as` names the month column. -#}
{% macro police_uk_crime_columns(month_start_as='month_start') -%}
        -- ids
        nullif(trim(crime_id), '') as crime_id,
        _force_id as force_id,

        -- dates
        cast(coalesce(month, _month) || '-01' as date) as {{ month_start_as }},

        -- reporting force
        reported_by,
        falls_within,

        -- geography
        longitude,
        latitude,
        longitude is not null and latitude is not null as has_location,
        case when location <> 'No Location' then location end as location_description,
        nullif(trim(lsoa_code), '') as lsoa_code,
        nullif(trim(lsoa_name), '') as lsoa_name
{%- endmacro %}


{#- Where a row came from: the raw table's month partition, file and archive, and when it was loaded. -#}
{% macro police_uk_lineage_columns() -%}
        _month as source_month,
        _source_file as source_file,
        _archive_sha256 as archive_sha256,
        _loaded_at as loaded_at
{%- endmacro %}
