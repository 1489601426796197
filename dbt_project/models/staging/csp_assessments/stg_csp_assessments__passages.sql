-- A passage is a sentence or a paragraph: the unit a theme and "priority" must share to count
-- as a priority. Lines a PDF or DOCX wraps are joined first (a single newline is a wrap, a
-- blank line a paragraph break), then the text is split at paragraph breaks and sentence ends.

with

pages as (

    select * from {{ ref('stg_csp_assessments__pages') }}

),

flowed as (

    select
        *,
        replace(regexp_replace(page_text, '\n[ \t]*\n\s*', chr(30), 'g'), chr(10), ' ') as flowed_text
    from pages

),

split as (

    select
        *,
        regexp_split_to_array(flowed_text, '[' || chr(30) || ']+|[.!?]+\s+') as passage_list
    from flowed

),

passages as (

    select
        csp_key,
        csp_name,
        force_id,
        assessment_year,
        document_name,
        document_url,
        page_number,
        unnest(passage_list) as passage_raw,
        unnest(range(1, len(passage_list) + 1)) as passage_number
    from split

),

cleaned as (

    select
        -- ids
        md5(concat_ws('|', csp_key, assessment_year, document_name, page_number, passage_number)) as passage_id,
        csp_key,
        csp_name,
        force_id,
        document_name,
        page_number,
        passage_number,

        -- dates
        assessment_year,

        -- the text
        document_url,
        trim(regexp_replace(regexp_replace(passage_raw, '\s+', ' ', 'g'), '[.!?]+\s*$', '')) as passage_text
    from passages

)

select * from cleaned
where passage_text <> ''
