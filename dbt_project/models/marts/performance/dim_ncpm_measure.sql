with

measures as (

    select * from {{ ref('ncpm_measures') }}

)

select
    priority_id,
    priority_order,
    priority_name,
    measure_id,
    measure_order,
    measure_name,
    unit,
    polarity,
    source_name,
    definition,
    data_gap_reason,
    comparison_note
from measures
