-- grain: one row per week × site × service line

WITH cap AS (
    SELECT week_start, site_code, service_line,
           sum(capacity_units) AS capacity_units,
           sum(capacity_value_gbp) AS capacity_value_gbp,
           sum(unused_capacity_cost_gbp) AS unused_capacity_cost_gbp
    FROM capacity_use GROUP BY ALL
),
act AS (
    SELECT week_start, site_code, service_line,
           sum(nhs_units) AS nhs_units, sum(private_units) AS private_units,
           sum(nhs_value_gbp) AS nhs_value_gbp
    FROM activity_weekly GROUP BY ALL
)
SELECT week_start, site_code, s.site_name, s.provider_code, p.provider_name, p."group",
       s.region, service_line,
       CAST(coalesce(cap.capacity_units, 0) AS BIGINT) AS capacity_units,
       CAST(coalesce(act.nhs_units, 0) AS BIGINT) AS nhs_units,
       CAST(coalesce(act.private_units, 0) AS BIGINT) AS private_units,
       coalesce(act.nhs_units, 0) / nullif(coalesce(cap.capacity_units, 0), 0) AS utilisation,
       coalesce(cap.capacity_value_gbp, 0) AS capacity_value_gbp,
       coalesce(act.nhs_value_gbp, 0) AS nhs_value_gbp,
       coalesce(cap.unused_capacity_cost_gbp, 0) AS unused_capacity_cost_gbp
FROM cap FULL OUTER JOIN act USING (week_start, site_code, service_line)
LEFT JOIN sites s USING (site_code)
LEFT JOIN providers p ON p.provider_code = s.provider_code
