with

source as (

    select * from {{ source('call_handling', 'monthly') }}

),

renamed as (

    select
        {{ force_return_key_columns() }}

        -- 999
        calls_999_received as calls_999_received_count,
        calls_999_answered as calls_999_answered_count,
        calls_999_answered_within_10s as calls_999_answered_within_10s_count,

        -- 101
        calls_101_received as calls_101_received_count,
        calls_101_answered as calls_101_answered_count,
        calls_101_abandoned as calls_101_abandoned_count,
        calls_101_average_answer_seconds,

        {{ template_lineage_columns() }}

    from source

),

with_force as (

    {{ with_force_id('renamed') }}

)

select * from with_force
