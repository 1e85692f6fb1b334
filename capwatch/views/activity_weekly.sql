-- grain: one row per week × site × service line × activity type

SELECT CAST(date_trunc('week', a.activity_date) AS DATE) AS week_start,
       a.site_code, a.service_line, a.activity_type,
       CAST(coalesce(sum(a.units) FILTER (WHERE a.funding = 'nhs'), 0) AS BIGINT) AS nhs_units,
       CAST(coalesce(sum(a.units) FILTER (WHERE a.funding = 'private'), 0) AS BIGINT)
           AS private_units,
       any_value(coalesce(typed.unit_price_gbp, dflt.unit_price_gbp)) AS unit_price_gbp,
       coalesce(sum(a.units) FILTER (WHERE a.funding = 'nhs'), 0)
           * any_value(coalesce(typed.unit_price_gbp, dflt.unit_price_gbp)) AS nhs_value_gbp
FROM activity_daily a
LEFT JOIN unit_prices typed
  ON typed.service_line = a.service_line AND typed.activity_type = a.activity_type
 AND a.activity_type <> ''
LEFT JOIN unit_prices dflt ON dflt.service_line = a.service_line AND dflt.activity_type = ''
GROUP BY ALL
