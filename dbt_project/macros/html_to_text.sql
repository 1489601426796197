{#-
    Text of an HTML fragment as the data.police.uk API publishes them (priorities, descriptions,
    biographies): tags become spaces, the entities the API uses are decoded, runs of
    whitespace (including the \r\n between paragraphs) become one space. NULL when nothing is
    left. `&amp;` is decoded last, so `&amp;lt;` stays the text `&lt;`, as the author wrote it.
-#}
{% macro html_to_text(column_name) -%}
    nullif(trim(regexp_replace(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
            regexp_replace({{ column_name }}, '<[^>]*>', ' ', 'g'),
            '&nbsp;', ' '), '&#39;', ''''), '&#039;', ''''), '&rsquo;', '’'), '&lsquo;', '‘'),
            '&quot;', '"'), '&ndash;', '–'), '&lt;', '<'), '&gt;', '>'),
            '&amp;', '&'),
        '\s+', ' ', 'g')), '')
{%- endmacro %}
