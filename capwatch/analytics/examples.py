"""Example ad hoc SQL: real questions a commissioner asks, answered over the documented views.

Shown on the SQL page as starting points and run by the tests against DuckDB directly. Each
aggregates as a ratio of sums, like every metric in capwatch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExampleQuery:
    """One worked question: a short title, the question in words, and the SQL that answers it."""

    key: str
    title: str
    question: str
    sql: str


UTILISATION_BY_PROVIDER_MONTH = ExampleQuery(
    "utilisation_by_provider_month",
    "Utilisation by provider and month",
    "How much of the capacity contracted from each provider did the NHS use, month by month? "
    "(A week counts in the month its Monday falls in.)",
    """\
SELECT provider_code,
       any_value(provider_name) AS provider_name,
       CAST(date_trunc('month', week_start) AS DATE) AS month,
       sum(capacity_units) AS capacity_units,
       sum(nhs_units) AS nhs_units,
       round(sum(nhs_units) / nullif(sum(capacity_units), 0), 3) AS utilisation
FROM utilisation_weekly
GROUP BY provider_code, month
ORDER BY provider_code, month""",
)

PRIVATE_VS_NHS_BY_SITE = ExampleQuery(
    "private_vs_nhs_by_site",
    "Private and NHS units by site",
    "At each site, how many units were NHS-funded and how many privately funded, and how "
    "much of the NHS capacity went unused?",
    """\
SELECT site_code,
       any_value(site_name) AS site_name,
       any_value(provider_name) AS provider_name,
       any_value(region) AS region,
       sum(capacity_units) AS capacity_units,
       sum(nhs_units) AS nhs_units,
       sum(private_units) AS private_units,
       round(sum(private_units) / nullif(sum(nhs_units) + sum(private_units), 0), 3)
           AS private_share,
       round(sum(nhs_units) / nullif(sum(capacity_units), 0), 3) AS utilisation
FROM utilisation_weekly
GROUP BY site_code
ORDER BY private_units DESC, site_code""",
)

LOW_UTILISATION_PROVIDERS = ExampleQuery(
    "low_utilisation_providers",
    "Providers flagged for low utilisation",
    "Which providers used less than 25% of their capacity in a service line over any four "
    "consecutive weeks with at least 100 units of capacity? This is a plain-SQL version of "
    "the low-utilisation rule: flags are computed by the app, not stored in the database, so "
    "the Flags page (and `capwatch flags`) is the authority and its parameters may differ.",
    """\
WITH params AS (
    SELECT 0.25 AS threshold, 4 AS window_weeks, 100 AS min_capacity_units
),
weekly AS (
    SELECT provider_code, any_value(provider_name) AS provider_name, service_line, week_start,
           sum(capacity_units) AS capacity_units, sum(nhs_units) AS nhs_units,
           sum(unused_capacity_cost_gbp) AS unused_capacity_cost_gbp
    FROM utilisation_weekly
    GROUP BY provider_code, service_line, week_start
),
windows AS (
    SELECT *,
           count(*) OVER w AS weeks_in_window,
           sum(capacity_units) OVER w AS window_capacity_units,
           sum(nhs_units) OVER w AS window_nhs_units,
           sum(unused_capacity_cost_gbp) OVER w AS window_unused_cost_gbp
    FROM weekly
    WINDOW w AS (PARTITION BY provider_code, service_line ORDER BY week_start
                 RANGE BETWEEN INTERVAL 21 DAYS PRECEDING AND CURRENT ROW)
),
fired AS (
    SELECT windows.*, window_nhs_units / window_capacity_units AS window_utilisation
    FROM windows, params
    WHERE weeks_in_window = window_weeks
      AND window_capacity_units >= min_capacity_units
      AND window_nhs_units / window_capacity_units < threshold
)
SELECT provider_code,
       any_value(provider_name) AS provider_name,
       service_line,
       count(*) AS windows_flagged,
       min(week_start) AS first_window_ending,
       round(min(window_utilisation), 3) AS lowest_utilisation,
       round(arg_min(window_unused_cost_gbp, window_utilisation)) AS unused_cost_gbp_in_that_window
FROM fired
GROUP BY provider_code, service_line
ORDER BY lowest_utilisation, provider_code, service_line""",
)

UNUSED_COST_BY_WEEK = ExampleQuery(
    "unused_cost_by_week",
    "Unused capacity cost by week",
    "What did the unused part of the contracted capacity cost, week by week, nationally?",
    """\
SELECT week_start,
       sum(capacity_units) AS capacity_units,
       sum(nhs_units) AS nhs_units,
       round(sum(nhs_units) / nullif(sum(capacity_units), 0), 3) AS utilisation,
       round(sum(unused_capacity_cost_gbp)) AS unused_capacity_cost_gbp
FROM utilisation_weekly
GROUP BY week_start
ORDER BY week_start""",
)

EXAMPLES: tuple[ExampleQuery, ...] = (
    UTILISATION_BY_PROVIDER_MONTH,
    PRIVATE_VS_NHS_BY_SITE,
    LOW_UTILISATION_PROVIDERS,
    UNUSED_COST_BY_WEEK,
)


def example(key: str) -> ExampleQuery:
    """Look up an example by its key."""
    for e in EXAMPLES:
        if e.key == key:
            return e
    raise KeyError(key)
