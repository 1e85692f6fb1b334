-- grain: one row per finding

SELECT week_start, site_code, provider_code, service_line, 'nhs_above_capacity' AS check_name,
       'NHS units (' || nhs_units || ') above capacity (' || capacity_units || ')' AS detail
FROM utilisation_weekly WHERE capacity_units > 0 AND nhs_units > capacity_units
UNION ALL
SELECT week_start, site_code, provider_code, service_line, 'activity_without_capacity',
       nhs_units || ' NHS and ' || private_units || ' private units with no capacity'
FROM utilisation_weekly WHERE capacity_units = 0 AND (nhs_units > 0 OR private_units > 0)
UNION ALL
SELECT NULL, NULL, provider_code, NULL, 'provider_without_contract',
       'provider ' || provider_code || ' has no contract'
FROM providers WHERE provider_code NOT IN (SELECT provider_code FROM contracts)
UNION ALL
SELECT NULL, NULL, NULL, service_line, 'activity_type_labels',
       'labels ' || labels || ' are read as one activity type (' || activity_type || ')'
FROM activity_types WHERE label_count > 1
