with

peel_grades as (

    select * from {{ ref('stg_hmicfrs__peel_grades') }}

),

most_similar_groups as (

    select * from {{ ref('most_similar_groups') }}

),

graded as (

    select * from peel_grades
    where is_graded

),

previous_inspection as (

    -- The force's previous graded inspection of the same area (under its current name),
    -- in programme order.
    select
        peel_grade_id,
        lag(programme) over area_history as previous_programme,
        lag(grade) over area_history as previous_grade,
        lag(grade_rank) over area_history as previous_grade_rank,
        lag(grade_scale) over area_history as previous_grade_scale,
        lag(published_date) over area_history as previous_published_date
    from graded
    window area_history as (
        partition by force_id, canonical_area
        order by programme_start_year, published_date nulls first, programme
    )

),

peer_grades as (

    -- Each graded area beside the same area's grade for every force in the force's most
    -- similar group that was graded in the same programme.
    select
        graded.peel_grade_id,
        peer.grade_rank as peer_grade_rank
    from graded
    inner join most_similar_groups
        on graded.force_id = most_similar_groups.force_id
    inner join graded as peer
        on peer.force_id = most_similar_groups.peer_force_id
        and peer.programme = graded.programme
        and peer.canonical_area = graded.canonical_area

),

group_sizes as (

    select
        force_id,
        count(*) as peer_count
    from most_similar_groups
    group by force_id

),

position_in_group as (

    select
        peer_grades.peel_grade_id,
        count(*) as msg_peers_graded_count,
        count(*) filter (where peer_grades.peer_grade_rank > graded.grade_rank) as msg_peers_better_count,
        count(*) filter (where peer_grades.peer_grade_rank = graded.grade_rank) as msg_peers_same_count,
        count(*) filter (where peer_grades.peer_grade_rank < graded.grade_rank) as msg_peers_worse_count
    from peer_grades
    inner join graded
        on peer_grades.peel_grade_id = graded.peel_grade_id
    group by peer_grades.peel_grade_id

),

joined as (

    select
        peel_grades.*,
        previous_inspection.previous_programme,
        previous_inspection.previous_grade,
        previous_inspection.previous_grade_rank,
        previous_inspection.previous_grade_scale,
        previous_inspection.previous_published_date,
        group_sizes.peer_count,
        position_in_group.msg_peers_graded_count,
        position_in_group.msg_peers_better_count,
        position_in_group.msg_peers_same_count,
        position_in_group.msg_peers_worse_count
    from peel_grades
    left join previous_inspection
        on peel_grades.peel_grade_id = previous_inspection.peel_grade_id
    left join group_sizes
        on peel_grades.force_id = group_sizes.force_id
    left join position_in_group
        on peel_grades.peel_grade_id = position_in_group.peel_grade_id

),

with_change as (

    select
        *,
        case
            when is_graded and previous_grade_scale = grade_scale then grade_rank - previous_grade_rank
        end as grade_change,
        case
            when not is_graded then 'not_graded'
            when previous_grade is null then 'first_graded_inspection'
            when previous_grade_scale <> grade_scale then 'different_scale'
            when grade_rank > previous_grade_rank then 'improved'
            when grade_rank = previous_grade_rank then 'unchanged'
            else 'declined'
        end as change_since_previous,
        -- Position 1 is best: one more than the peers graded better (ties share a position).
        case
            when is_graded and peer_count is not null then 1 + coalesce(msg_peers_better_count, 0)
        end as msg_position,
        case
            when is_graded and peer_count is not null then 1 + coalesce(msg_peers_graded_count, 0)
        end as msg_forces_graded_count
    from joined

),

with_group_position as (

    -- position among the most similar group; the counts are 0 (not null) for a graded area
    select
        * replace (
            case when msg_position is not null then coalesce(msg_peers_better_count, 0) end as msg_peers_better_count,
            case when msg_position is not null then coalesce(msg_peers_same_count, 0) end as msg_peers_same_count,
            case when msg_position is not null then coalesce(msg_peers_worse_count, 0) end as msg_peers_worse_count
        ),
        coalesce(peer_count, 0) + 1 as msg_size
    from with_change

),

final as (

    select
        {{ contract_columns() }}
    from with_group_position

)

select * from final
