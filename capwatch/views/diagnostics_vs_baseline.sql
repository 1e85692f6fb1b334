-- grain: one row per month × organisation × test reported in the month or a year earlier
-- Every (month, organisation, test) reported in the month or in the same month a year
-- earlier (if that later month is loaded): an organisation that stopped reporting counts as
-- 0 this month, not as missing, so that sums of activity and of baseline cover the same rows.

WITH months AS (SELECT DISTINCT month FROM dm01_monthly),
cur AS (SELECT * FROM diagnostics_monthly),
keys AS (
    SELECT month, org_code, test FROM cur
    UNION
    SELECT CAST(month + INTERVAL 1 YEAR AS DATE), org_code, test FROM cur
    WHERE CAST(month + INTERVAL 1 YEAR AS DATE) IN (SELECT month FROM months)
)
SELECT k.month, k.org_code, coalesce(c.org_name, b.org_name) AS org_name,
       coalesce(c.sector, b.sector) AS sector, coalesce(c.region, b.region) AS region,
       k.test, coalesce(c.test_name, b.test_name) AS test_name,
       c.org_code IS NOT NULL AS reported,
       coalesce(c.activity, 0) AS activity,
       CAST(k.month - INTERVAL 1 YEAR AS DATE) AS baseline_month,
       CASE WHEN CAST(k.month - INTERVAL 1 YEAR AS DATE) IN (SELECT month FROM months)
            THEN coalesce(b.activity, 0) END AS baseline_activity,
       CASE WHEN b.activity > 0 THEN coalesce(c.activity, 0) / b.activity END AS activity_ratio
FROM keys k
LEFT JOIN cur c ON c.month = k.month AND c.org_code = k.org_code AND c.test = k.test
LEFT JOIN cur b ON b.month = CAST(k.month - INTERVAL 1 YEAR AS DATE)
    AND b.org_code = k.org_code AND b.test = k.test
ORDER BY k.month, k.org_code, k.test
