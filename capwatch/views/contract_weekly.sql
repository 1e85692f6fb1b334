-- grain: one row per contract × week it covers
-- A week's share of a contract is its monthly value × 12 ÷ 365 for each day of that week the
-- contract covers (from start_date to the earlier of end_date and the day before removal).

WITH spans AS (
    SELECT contract_id, provider_code, monthly_value_gbp, status, start_date,
           least(end_date, coalesce(removed_date - 1, end_date)) AS last_date
    FROM contracts
),
weeks AS (
    SELECT spans.*, CAST(w AS DATE) AS week_start
    FROM spans,
         unnest(generate_series(CAST(date_trunc('week', start_date) AS TIMESTAMP),
                                CAST(last_date AS TIMESTAMP), INTERVAL 7 DAY)) AS t(w)
    WHERE last_date >= start_date
)
SELECT contract_id, provider_code, week_start, status,
       CAST(date_diff('day', greatest(week_start, start_date),
                      least(CAST(week_start + 6 AS DATE), last_date)) + 1 AS INTEGER)
           AS days_covered,
       monthly_value_gbp * 12 / 365
           * (date_diff('day', greatest(week_start, start_date),
                        least(CAST(week_start + 6 AS DATE), last_date)) + 1)
           AS contract_value_gbp
FROM weeks
