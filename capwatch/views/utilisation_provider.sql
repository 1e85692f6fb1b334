-- grain: one row per provider × service line, over every loaded week

SELECT u.provider_code, p.provider_name, p."group", p.region, u.service_line,
       count(DISTINCT u.site_code) AS sites, count(DISTINCT u.week_start) AS weeks,
       min(u.week_start) AS first_week, max(u.week_start) AS last_week,
       CAST(sum(u.capacity_units) AS BIGINT) AS capacity_units,
       CAST(sum(u.nhs_units) AS BIGINT) AS nhs_units,
       CAST(sum(u.private_units) AS BIGINT) AS private_units,
       sum(u.nhs_units) / nullif(sum(u.capacity_units), 0) AS utilisation,
       sum(u.capacity_value_gbp) AS capacity_value_gbp,
       sum(u.nhs_value_gbp) AS nhs_value_gbp,
       sum(u.unused_capacity_cost_gbp) AS unused_capacity_cost_gbp
FROM utilisation_weekly u
LEFT JOIN providers p ON p.provider_code = u.provider_code
GROUP BY u.provider_code, p.provider_name, p."group", p.region, u.service_line
