-- grain: one row per service line × activity type key
-- Labels are grouped by their key; the label shown is the one the latest load wrote.

WITH seen AS (
    SELECT service_line, activity_type, activity_label, max(load_id) AS load_id,
           bool_or(source = 'capacity') AS in_capacity,
           bool_or(source = 'activity') AS in_activity,
           bool_or(source = 'unit_prices') AS in_unit_prices
    FROM (
        SELECT DISTINCT service_line, activity_type, activity_label, load_id,
               'capacity' AS source FROM capacity
        UNION ALL
        SELECT DISTINCT service_line, activity_type, activity_label, load_id, 'activity'
        FROM activity_daily
        UNION ALL
        SELECT service_line, activity_type, activity_label, load_id, 'unit_prices'
        FROM unit_prices
    )
    WHERE activity_type <> ''
    GROUP BY service_line, activity_type, activity_label
)
SELECT service_line, activity_type,
       first(activity_label ORDER BY load_id DESC, activity_label) AS activity_label,
       string_agg(chr(39) || activity_label || chr(39), ', ' ORDER BY activity_label) AS labels,
       count(*) AS label_count,
       bool_or(in_capacity) AS in_capacity,
       bool_or(in_activity) AS in_activity,
       bool_or(in_unit_prices) AS in_unit_prices
FROM seen
GROUP BY service_line, activity_type
