-- grain: one row per capacity row: week × site × service line × activity type
-- Activity of a type T meets the capacity row that names T if the site has one that week,
-- otherwise the row for the whole line (activity_type ''). Anything left meets no capacity.

WITH act AS (
    SELECT site_code, service_line, activity_type,
           CAST(date_trunc('week', activity_date) AS DATE) AS week_start,
           sum(units) FILTER (WHERE funding = 'nhs') AS nhs_units,
           sum(units) FILTER (WHERE funding = 'private') AS private_units
    FROM activity_daily
    GROUP BY ALL
),
matched AS (
    SELECT a.*,
           CASE WHEN typed.site_code IS NOT NULL THEN a.activity_type
                WHEN whole.site_code IS NOT NULL THEN ''
           END AS capacity_activity_type
    FROM act a
    LEFT JOIN capacity typed
      ON typed.site_code = a.site_code AND typed.service_line = a.service_line
     AND typed.week_start = a.week_start AND typed.activity_type = a.activity_type
     AND a.activity_type <> ''
    LEFT JOIN capacity whole
      ON whole.site_code = a.site_code AND whole.service_line = a.service_line
     AND whole.week_start = a.week_start AND whole.activity_type = ''
),
used AS (
    SELECT site_code, service_line, capacity_activity_type AS activity_type, week_start,
           sum(coalesce(nhs_units, 0)) AS nhs_units
    FROM matched WHERE capacity_activity_type IS NOT NULL
    GROUP BY ALL
)
SELECT c.week_start, c.site_code, c.service_line, c.activity_type, c.capacity_units,
       CAST(coalesce(u.nhs_units, 0) AS BIGINT) AS nhs_units,
       coalesce(typed.unit_price_gbp, dflt.unit_price_gbp) AS unit_price_gbp,
       c.capacity_units * coalesce(typed.unit_price_gbp, dflt.unit_price_gbp)
           AS capacity_value_gbp,
       CAST(greatest(c.capacity_units - coalesce(u.nhs_units, 0), 0) AS BIGINT) AS unused_units,
       greatest(c.capacity_units - coalesce(u.nhs_units, 0), 0)
           * coalesce(typed.unit_price_gbp, dflt.unit_price_gbp) AS unused_capacity_cost_gbp,
       c.load_id
FROM capacity c
LEFT JOIN used u USING (site_code, service_line, activity_type, week_start)
LEFT JOIN unit_prices typed
  ON typed.service_line = c.service_line AND typed.activity_type = c.activity_type
 AND c.activity_type <> ''
LEFT JOIN unit_prices dflt ON dflt.service_line = c.service_line AND dflt.activity_type = ''
