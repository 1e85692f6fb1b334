-- grain: one row per load
-- {live_rows}: the rows of each table a load writes, counted per load (schema.LOADED_TABLES).

WITH live AS (
    SELECT load_id, sum(n) AS n FROM (
{live_rows}
    ) GROUP BY load_id
),
pairs AS (
    SELECT DISTINCT load_id, by_load_id FROM load_changes WHERE action = 'superseded'
),
superseded AS (
    SELECT load_id, string_agg(CAST(by_load_id AS VARCHAR), ', ' ORDER BY by_load_id)
               AS superseded_by
    FROM pairs
    -- a retracted replacement put the rows back: it no longer supersedes anything
    WHERE by_load_id NOT IN (SELECT load_id FROM load_changes WHERE action = 'retracted')
    GROUP BY load_id
),
replaces AS (
    SELECT by_load_id AS load_id,
           string_agg(CAST(load_id AS VARCHAR), ', ' ORDER BY load_id) AS replaces
    FROM pairs GROUP BY by_load_id
),
retracted AS (
    SELECT load_id, max(changed_at) AS retracted_at, max(note) AS retraction_note
    FROM load_changes WHERE action = 'retracted' GROUP BY load_id
)
SELECT l.load_id, l.table_name, l.file_name, l.rows_stored,
       CAST(coalesce(live.n, 0) AS BIGINT) AS rows_live, l.loaded_at,
       CASE WHEN r.retracted_at IS NOT NULL THEN 'retracted'
            WHEN coalesce(live.n, 0) = 0 THEN 'superseded'
            WHEN live.n < l.rows_stored THEN 'partly superseded'
            ELSE 'current'
       END AS status,
       rp.replaces, s.superseded_by, r.retracted_at, r.retraction_note
FROM load_log l
LEFT JOIN live USING (load_id)
LEFT JOIN superseded s USING (load_id)
LEFT JOIN replaces rp USING (load_id)
LEFT JOIN retracted r USING (load_id)
