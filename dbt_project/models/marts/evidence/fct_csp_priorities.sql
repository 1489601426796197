-- Themes are found by keyword (seeds csp_themes, csp_theme_keywords): a passage mentions a
-- theme when one of its keywords occurs as whole words. A theme is a PRIORITY of the CSP when
-- at least one passage mentioning it also uses priority language ("priority", "priorities",
-- "prioritise"...), e.g. "Priority 1: Serious violence, including knife crime". The evidence
-- is the first such passage (else the first mention), with its page.
{% set priority_cue = var('csp_priority_cue_pattern', '\\bpriorit(y|ies|ise|ised|ises|ising|isation)\\b') %}

with

passages as (

    select * from {{ ref('stg_csp_assessments__passages') }}

),

theme_keywords as (

    select * from {{ ref('csp_theme_keywords') }}

),

themes as (

    select * from {{ ref('csp_themes') }}

),

passages_with_cue as (

    select
        *,
        lower(passage_text) as passage_lower,
        regexp_matches(lower(passage_text), '{{ priority_cue }}') as has_priority_cue
    from passages

),

keyword_matches as (

    select
        passages_with_cue.*,
        theme_keywords.theme,
        theme_keywords.keyword_pattern,
        -- where the keyword starts (1-based): the length of the shortest prefix before it, plus one
        length(regexp_extract(
            passages_with_cue.passage_lower, '^(.*?)\b(' || theme_keywords.keyword_pattern || ')\b', 1
        )) + 1 as match_position
    from passages_with_cue
    inner join theme_keywords
        on regexp_matches(passages_with_cue.passage_lower, '\b(' || theme_keywords.keyword_pattern || ')\b')

),

passage_themes as (

    -- One row per passage and theme, however many of the theme's keywords it holds.
    select
        passage_id,
        csp_key,
        any_value(csp_name) as csp_name,
        any_value(force_id) as force_id,
        assessment_year,
        any_value(document_name) as document_name,
        any_value(document_url) as document_url,
        any_value(page_number) as page_number,
        any_value(passage_number) as passage_number,
        any_value(passage_text) as passage_text,
        bool_or(has_priority_cue) as has_priority_cue,
        theme,
        min(match_position) as match_position,
        list(distinct keyword_pattern) as matched_keyword_list
    from keyword_matches
    group by passage_id, csp_key, assessment_year, theme

),

per_theme as (

    select
        csp_key,
        any_value(csp_name) as csp_name,
        any_value(force_id) as force_id,
        assessment_year,
        theme,
        count(*) as mention_count,
        count(*) filter (where has_priority_cue) as priority_mention_count,
        min(page_number) as first_mention_page_number,
        -- Evidence: the first passage with priority language, else the first mention.
        arg_min(passage_text, [case when has_priority_cue then 0 else 1 end, page_number, passage_number])
            as evidence_snippet,
        arg_min(match_position, [case when has_priority_cue then 0 else 1 end, page_number, passage_number])
            as evidence_match_position,
        arg_min(page_number, [case when has_priority_cue then 0 else 1 end, page_number, passage_number])
            as evidence_page_number,
        arg_min(document_name, [case when has_priority_cue then 0 else 1 end, page_number, passage_number])
            as evidence_document_name,
        arg_min(document_url, [case when has_priority_cue then 0 else 1 end, page_number, passage_number])
            as evidence_document_url,
        array_to_string(list_sort(list_distinct(flatten(list(matched_keyword_list)))), ', ') as matched_keywords
    from passage_themes
    group by csp_key, assessment_year, theme

),

with_labels as (

    select
        per_theme.*,
        themes.theme_label,
        per_theme.priority_mention_count > 0 as is_priority
    from per_theme
    inner join themes
        on per_theme.theme = themes.theme

),

with_passage as (

    select
        * replace (
            -- long enough to read, short enough for a table cell: a long passage is cut to 300
            -- characters around the keyword (from up to 100 before it), with … where it was cut
            case
                when length(evidence_snippet) <= 300 then evidence_snippet
                else
                    case when greatest(evidence_match_position - 100, 1) > 1 then '…' else '' end
                    || substr(evidence_snippet, greatest(evidence_match_position - 100, 1), 298)
                    || case when greatest(evidence_match_position - 100, 1) + 298 <= length(evidence_snippet) then '…' else '' end
            end as evidence_snippet
        )
    from with_labels

),

final as (

    select
        {{ contract_columns() }}
    from with_passage

)

select * from final
