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

),

-- a force-month in two files (the force's own return and police.uk's national 999 file): the
-- force's own return wins (it carries 101), else the newest load
one_per_force_month as (

    select * from with_force
    qualify row_number() over (
        partition by force_id, month_start
        order by (edition = force_id) desc, loaded_at desc, edition
    ) = 1

)

select * from one_per_force_month
