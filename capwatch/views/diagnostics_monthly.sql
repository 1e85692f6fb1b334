-- grain: one row per month × reporting organisation × test
-- Sector: independent if the organisation (a site's first three characters) is in the ODS
-- independent-sector list, or if its code starts with N (the ODS convention for independent
-- sector codes, which also covers organisations newer than the list); otherwise nhs.

WITH placed AS (
    SELECT org_code, arg_min(region, month) AS region
    FROM dm01_monthly WHERE region IS NOT NULL GROUP BY org_code
)
SELECT d.month, d.org_code, d.org_name,
       CASE WHEN o.org_code IS NOT NULL OR d.org_code LIKE 'N%' THEN 'independent' ELSE 'nhs' END
           AS sector,
       CASE WHEN o.org_code IS NOT NULL THEN 'ods_list'
            WHEN d.org_code LIKE 'N%' THEN 'n_code' ELSE 'not_independent' END AS sector_basis,
       CASE WHEN length(d.org_code) = 5 THEN left(d.org_code, 3) ELSE d.org_code END
           AS ods_org_code,
       o.org_name AS ods_org_name,
       coalesce(d.region, p.region) AS region, d.region_code,
       d.test, d.test_name, d.diagnostic_id,
       d.waiting_list, d.waiting_6_plus, d.waiting_13_plus,
       d.planned_tests, d.unscheduled_tests, d.waiting_list_tests,
       d.planned_tests + d.unscheduled_tests + d.waiting_list_tests AS activity,
       d.region_name AS region_as_published,
       CASE WHEN d.region IS NOT NULL THEN 'as_published'
            WHEN p.region IS NOT NULL THEN 'by_own_later_returns'
            ELSE 'not_placed' END AS region_basis,
       d.load_id
FROM dm01_monthly d
LEFT JOIN ods_independent_orgs o ON o.org_code = left(d.org_code, 3)
LEFT JOIN placed p ON p.org_code = d.org_code
ORDER BY d.month, d.org_code, d.diagnostic_id
