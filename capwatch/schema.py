"""The data dictionary: every stored table and documented view, its grain and its columns.

This is the one source of truth for the database's shape. `capwatch.db` builds the tables and
views from it, `capwatch schema` prints it, the README shows it, and the SQL page browses it.
Nothing here touches DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One column: name, DuckDB type and what it means."""

    name: str
    type: str
    description: str
    not_null: bool = False


@dataclass(frozen=True)
class Relation:
    """A stored table (`sql` empty) or a documented view (`sql` is its SELECT)."""

    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]
    sql: str = ""
    primary_key: tuple[str, ...] = field(default_factory=tuple)  # for a view: its unique key
    materialised: bool = False

    @property
    def is_view(self) -> bool:
        """Derived from other relations (a view, or a table rebuilt on every load)."""
        return bool(self.sql)

    @property
    def kind(self) -> str:
        if not self.sql:
            return "table"
        return "derived table, rebuilt on every load" if self.materialised else "view"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def quote(name: str) -> str:
    """Quote an identifier for DuckDB (`group` is a reserved word)."""
    return '"' + name.replace('"', '""') + '"'


LOAD_ID = Column("load_id", "INTEGER", "The load that wrote this row (see `load_log`).", True)
ACTIVITY_LABEL = Column(
    "activity_label",
    "VARCHAR",
    "Activity type as the file wrote it (trimmed), for display; '' where none.",
    True,
)

TABLES: tuple[Relation, ...] = (
    Relation(
        "load_log",
        "one row per file loaded",
        "Every file that was loaded: where it came from, its content hash and what it added. "
        "Rejected files are not recorded here: a rejected file changes nothing.",
        (
            Column(
                "load_id", "INTEGER", "Identifier of the load; every stored row carries it.", True
            ),
            Column("table_name", "VARCHAR", "Input table the file was read as.", True),
            Column("file_name", "VARCHAR", "File name as given.", True),
            Column("file_path", "VARCHAR", "Absolute path of the file when it was loaded.", True),
            Column(
                "file_hash", "VARCHAR", "SHA-256 of the file's bytes; a file is loaded once.", True
            ),
            Column("file_bytes", "BIGINT", "Size of the file in bytes.", True),
            Column("rows_read", "BIGINT", "Data rows read from the file.", True),
            Column("rows_stored", "BIGINT", "Rows stored (activity is stored per day).", True),
            Column("warnings", "VARCHAR", "Data-quality warnings noted while loading, if any."),
            Column("loaded_at", "TIMESTAMP", "When the load committed (UTC).", True),
            Column("duration_ms", "DOUBLE", "How long reading, checking and storing took.", True),
            Column(
                "reader",
                "VARCHAR",
                "Which reader took the file: contract (the input contract), dm01_provider (a "
                "published DM01 workbook), dm01_extract (capwatch's own DM01 extract) or ods_ephp "
                "(the ODS independent-sector list).",
                True,
            ),
        ),
        primary_key=("load_id",),
    ),
    Relation(
        "providers",
        "one row per provider",
        "Independent-sector organisations holding a contract.",
        (
            Column("provider_code", "VARCHAR", "ODS-style provider code, e.g. NX1.", True),
            Column("provider_name", "VARCHAR", "Provider name.", True),
            Column("group", "VARCHAR", "Parent company; several providers may share one.", True),
            Column("region", "VARCHAR", "NHS England region of the provider.", True),
            LOAD_ID,
        ),
        primary_key=("provider_code",),
    ),
    Relation(
        "sites",
        "one row per site",
        "Hospitals and clinics of each provider.",
        (
            Column("site_code", "VARCHAR", "Five-character site code, e.g. NX101.", True),
            Column("provider_code", "VARCHAR", "Provider that runs the site.", True),
            Column("site_name", "VARCHAR", "Site name.", True),
            Column("region", "VARCHAR", "NHS England region of the site.", True),
            Column("latitude", "DOUBLE", "Latitude (optional)."),
            Column("longitude", "DOUBLE", "Longitude (optional)."),
            LOAD_ID,
        ),
        primary_key=("site_code",),
    ),
    Relation(
        "contracts",
        "one row per contract",
        "Contracts between the NHS and a provider, with their monthly value.",
        (
            Column("contract_id", "VARCHAR", "Contract identifier.", True),
            Column("provider_code", "VARCHAR", "Provider holding the contract.", True),
            Column("start_date", "DATE", "First day covered.", True),
            Column("end_date", "DATE", "Last day covered.", True),
            Column("monthly_value_gbp", "DOUBLE", "Contract value per month, £.", True),
            Column("status", "VARCHAR", "Contract status, e.g. active or removed."),
            Column("removed_date", "DATE", "Day the provider was taken off the contract."),
            Column("removal_reason", "VARCHAR", "Why the provider was taken off."),
            LOAD_ID,
        ),
        primary_key=("contract_id",),
    ),
    Relation(
        "unit_prices",
        "one row per service line × activity type",
        "Illustrative reference price of one unit; activity_type '' is the line's default price.",
        (
            Column(
                "service_line",
                "VARCHAR",
                "diagnostics, day_case, chemotherapy or outpatients.",
                True,
            ),
            Column(
                "activity_type",
                "VARCHAR",
                "Activity type key (see `activity_types`), or '' for the default price.",
                True,
            ),
            ACTIVITY_LABEL,
            Column("unit_price_gbp", "DOUBLE", "Price of one unit, £.", True),
            LOAD_ID,
        ),
        primary_key=("service_line", "activity_type"),
    ),
    Relation(
        "capacity",
        "one row per week × site × service line × activity type",
        "Units contracted / made available to the NHS. activity_type '' means the whole line.",
        (
            Column("site_code", "VARCHAR", "Site.", True),
            Column("service_line", "VARCHAR", "Service line.", True),
            Column(
                "activity_type", "VARCHAR", "Activity type key the capacity names, or ''.", True
            ),
            ACTIVITY_LABEL,
            Column("week_start", "DATE", "Monday of the week.", True),
            Column("capacity_units", "BIGINT", "Units of capacity made available.", True),
            LOAD_ID,
        ),
        primary_key=("site_code", "service_line", "activity_type", "week_start"),
    ),
    Relation(
        "activity_daily",
        "one row per load × day × site × service line × activity type label × funding",
        "Units delivered, summed from event-level returns to the day at load time.",
        (
            Column("site_code", "VARCHAR", "Site.", True),
            Column("service_line", "VARCHAR", "Service line.", True),
            Column(
                "activity_type",
                "VARCHAR",
                "Activity type key, or '' where the return gave none.",
                True,
            ),
            ACTIVITY_LABEL,
            Column("activity_date", "DATE", "Day the activity was delivered.", True),
            Column("funding", "VARCHAR", "nhs or private.", True),
            Column("units", "BIGINT", "Units delivered.", True),
            Column(
                "source_rows", "BIGINT", "Event rows in the source file summed into this row.", True
            ),
            LOAD_ID,
        ),
    ),
    Relation(
        "demand",
        "one row per week × region × service line × activity type",
        "NHS demand beside the contract: patients waiting and referrals offered to the "
        "independent sector, per region and service line (activity_type '' means the whole "
        "line). It tells a capacity that sat unused because the NHS referred little (route "
        "work to it) from a provider that could not deliver. Published DM01 waiting lists "
        "(`dm01_monthly`) are its real-world twin at region × test × month.",
        (
            Column("region", "VARCHAR", "One of the seven NHS England regions.", True),
            Column("service_line", "VARCHAR", "Service line.", True),
            Column("activity_type", "VARCHAR", "Activity type key, or '' for the line.", True),
            ACTIVITY_LABEL,
            Column("week_start", "DATE", "Monday of the week.", True),
            Column(
                "patients_waiting",
                "BIGINT",
                "NHS patients waiting in the region and line at the week's start.",
                True,
            ),
            Column(
                "referrals_offered",
                "BIGINT",
                "Referrals offered to the independent sector in the week.",
                True,
            ),
            LOAD_ID,
        ),
        primary_key=("region", "service_line", "activity_type", "week_start"),
    ),
)

# Rows a load holds, by the input table it was read as (activity is stored per day).
STORED_AS = {"activity": "activity_daily"}

# What a newer load replaces: rows with the same key. Activity is replaced by the day (every
# row of the earlier load for that site, service line and day), reference tables and capacity
# by their primary key.
REPLACE_KEYS: dict[str, tuple[str, ...]] = {
    "activity_daily": ("site_code", "service_line", "activity_date"),
}


def stored_table(input_table: str) -> str:
    """The stored table that holds the rows of a file read as `input_table`."""
    return STORED_AS.get(input_table, input_table)


LOAD_CHANGES = Relation(
    "load_changes",
    "one row per change to an earlier load: a supersession, a retraction or a restoration",
    "What happened to loads after they were stored. `superseded`: a later load (by_load_id) "
    "replaced rows_removed rows of load_id with rows_added rows of its own (`capwatch ingest "
    "--replace`, or a newer reference file). `retracted`: `capwatch unload` took the load's "
    "rows_removed rows out. `restored`: retracting by_load_id put back rows_added rows of "
    "load_id that it had replaced.",
    (
        Column(
            "change_id", "INTEGER", "Identifier of the change, in the order they happened.", True
        ),
        Column("load_id", "INTEGER", "The load whose rows changed.", True),
        Column("action", "VARCHAR", "superseded, retracted or restored.", True),
        Column(
            "by_load_id",
            "INTEGER",
            "superseded: the replacing load; restored: the retracted load; retracted: NULL.",
        ),
        Column("rows_removed", "BIGINT", "Rows of load_id taken out.", True),
        Column(
            "rows_added",
            "BIGINT",
            "superseded: rows of by_load_id put in their place; restored: rows of load_id put "
            "back; retracted: 0.",
            True,
        ),
        Column("changed_at", "TIMESTAMP", "When the change committed (UTC).", True),
        Column("note", "VARCHAR", "Reason given with `capwatch unload --reason`, if any."),
    ),
    primary_key=("change_id",),
)


def _replaced(table: Relation) -> Relation:
    return Relation(
        f"{table.name}_replaced",
        f"one row per {table.name} row replaced by a later load",
        f"Rows of `{table.name}` that a later load replaced, kept so that unloading that later "
        "load puts them back. Not part of any figure.",
        (
            *table.columns,
            Column("replaced_by", "INTEGER", "The load whose rows replaced this one.", True),
        ),
    )


REPLACED: tuple[Relation, ...] = tuple(_replaced(t) for t in TABLES if t.name != "load_log")
TABLES = (*TABLES, LOAD_CHANGES, *REPLACED)


def replace_key(table: str) -> tuple[str, ...]:
    """Columns by which a newer load replaces rows of an earlier one in `table`."""
    return REPLACE_KEYS.get(table) or relation(table).primary_key


PUBLISHED_TABLES: tuple[Relation, ...] = (
    Relation(
        "dm01_monthly",
        "one row per month × reporting organisation × test",
        "NHS England's DM01 diagnostics returns as published (Monthly Diagnostics Web File – "
        "Provider, `Provider by Test` sheet), every organisation: NHS trusts and the "
        "independent sector. The file's Total rows are checks, not stored. Open Government "
        "Licence v3.0. Read it through `diagnostics_monthly`.",
        (
            Column("month", "DATE", "First day of the month reported.", True),
            Column(
                "org_code",
                "VARCHAR",
                "Reporting organisation (ODS code: trust, IS org or site).",
                True,
            ),
            Column("org_name", "VARCHAR", "Organisation name as published.", True),
            Column("region_code", "VARCHAR", "Region code as published (Y56–Y63).", True),
            Column("region_name", "VARCHAR", "Region name as published.", True),
            Column("region", "VARCHAR", "One of the seven NHS England regions.", True),
            Column("diagnostic_id", "INTEGER", "DM01 diagnostic ID (1–15).", True),
            Column("test", "VARCHAR", "Stable key of the test, e.g. mri, ct.", True),
            Column("test_name", "VARCHAR", "Test name as published.", True),
            Column("waiting_list", "BIGINT", "Patients waiting at month end.", True),
            Column("waiting_6_plus", "BIGINT", "Of them, waiting 6 weeks or more.", True),
            Column("waiting_13_plus", "BIGINT", "Of them, waiting 13 weeks or more.", True),
            Column("planned_tests", "BIGINT", "Planned tests / procedures in the month.", True),
            Column(
                "unscheduled_tests", "BIGINT", "Unscheduled tests / procedures in the month.", True
            ),
            Column(
                "waiting_list_tests",
                "BIGINT",
                "Waiting-list tests / procedures (excluding planned) in the month.",
                True,
            ),
            Column(
                "source_row", "BIGINT", "Row of the `Provider by Test` sheet it came from.", True
            ),
            LOAD_ID,
        ),
        primary_key=("month", "org_code", "test"),
    ),
    Relation(
        "ods_independent_orgs",
        "one row per organisation",
        "NHS Digital ODS list of independent-sector healthcare providers (`ephp`), as "
        "published. Used to tell independent-sector organisations from NHS ones. Open "
        "Government Licence v3.0.",
        (
            Column("org_code", "VARCHAR", "Three-character ODS organisation code.", True),
            Column("org_name", "VARCHAR", "Organisation name.", True),
            Column("national_grouping", "VARCHAR", "National grouping (legacy region code)."),
            Column("health_geography", "VARCHAR", "High-level health geography (Q code)."),
            Column("postcode", "VARCHAR", "Postcode of the head office."),
            Column("open_date", "DATE", "Date opened."),
            Column("close_date", "DATE", "Date closed, if closed."),
            Column("source_row", "BIGINT", "Row of the list it came from.", True),
            LOAD_ID,
        ),
        primary_key=("org_code",),
    ),
)
TABLES = TABLES + PUBLISHED_TABLES

ANSWER_KEY = Relation(
    "answer_key",
    "one row per provider (synthetic data only)",
    "The answer key of the synthetic 2020 world: each provider's hidden traits and what "
    "should have been done with its contract. `capwatch generate` writes it (answer_key.csv) "
    "and `ingest` loads it; only the backtest reads it, never a flag rule or a decision. A "
    "database of real returns has no rows here. See docs/synthetic-world.md.",
    (
        Column("provider_code", "VARCHAR", "Provider.", True),
        Column(
            "delivery_ability",
            "DOUBLE",
            "Share of its contracted capacity the provider could really deliver (0–1).",
            True,
        ),
        Column(
            "price_ratio",
            "DOUBLE",
            "Contract cost per unit ÷ the reference price (1 = at the reference price).",
            True,
        ),
        Column(
            "referral_propensity",
            "DOUBLE",
            "How much the local NHS referred to it (0–1; low = demand shortfall).",
            True,
        ),
        Column(
            "private_share",
            "DOUBLE",
            "Share of the sites' work that was privately funded (0–1).",
            True,
        ),
        Column(
            "confounder",
            "VARCHAR",
            "What makes it look other than it is: none (it is what its figures say), "
            "demand_shortfall, slow_starter, expensive, missing_returns or private_work.",
            True,
        ),
        Column(
            "true_action",
            "VARCHAR",
            "What a commissioner who knew the truth would do: release, challenge, route or keep.",
            True,
        ),
        Column("released", "BOOLEAN", "Whether the contract was released in 2020.", True),
        Column("released_date", "DATE", "Day it was released; empty if kept."),
        Column("release_reason", "VARCHAR", "Why it was released; empty if kept."),
        LOAD_ID,
    ),
    primary_key=("provider_code",),
)
TABLES = (*TABLES, ANSWER_KEY)

_GEO = (
    Column("provider_code", "VARCHAR", "Provider."),
    Column("provider_name", "VARCHAR", "Provider name."),
    Column("group", "VARCHAR", "Parent company."),
    Column("region", "VARCHAR", "NHS England region (of the site)."),
)

_MEASURES = (
    Column("capacity_units", "BIGINT", "Units of capacity contracted."),
    Column("nhs_units", "BIGINT", "NHS-funded units delivered."),
    Column("private_units", "BIGINT", "Privately funded units delivered."),
    Column(
        "utilisation",
        "DOUBLE",
        "nhs_units ÷ capacity_units; NULL where capacity is 0. A ratio of sums.",
    ),
    Column("capacity_value_gbp", "DOUBLE", "Capacity units × unit price, £."),
    Column("nhs_value_gbp", "DOUBLE", "NHS units × unit price of their activity type, £."),
    Column(
        "unused_capacity_cost_gbp",
        "DOUBLE",
        "Σ max(capacity − NHS units, 0) × unit price, floored at the grain capacity is given, £.",
    ),
)

# Activity of a type T meets the capacity row that names T if the site has one that week,
# otherwise the row for the whole line (activity_type ''). Anything left meets no capacity.
_CAPACITY_USE_SQL = """
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
"""

_ACTIVITY_WEEKLY_SQL = """
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
"""

_UTILISATION_WEEKLY_SQL = """
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
"""

_UTILISATION_PROVIDER_SQL = """
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
"""

# A week's share of a contract is its monthly value × 12 ÷ 365 for each day of that week the
# contract covers (from start_date to the earlier of end_date and the day before removal).
_CONTRACT_WEEKLY_SQL = """
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
"""

_DATA_QUALITY_SQL = """
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
"""

# Labels are grouped by their key; the label shown is the one the latest load wrote.
_ACTIVITY_TYPES_SQL = """
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
"""

_LOAD_HISTORY_SQL = """
WITH live AS (
    SELECT load_id, sum(n) AS n FROM (
        SELECT load_id, count(*) AS n FROM providers GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM sites GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM contracts GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM unit_prices GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM capacity GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM activity_daily GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM demand GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM dm01_monthly GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM ods_independent_orgs GROUP BY load_id
        UNION ALL SELECT load_id, count(*) FROM answer_key GROUP BY load_id
    ) GROUP BY load_id
),
pairs AS (
    SELECT DISTINCT load_id, by_load_id FROM load_changes WHERE action = 'superseded'
),
superseded AS (
    SELECT load_id, string_agg(CAST(by_load_id AS VARCHAR), ', ' ORDER BY by_load_id)
               AS superseded_by
    FROM pairs GROUP BY load_id
),
replaces AS (
    SELECT by_load_id AS load_id,
           string_agg(CAST(load_id AS VARCHAR), ', ' ORDER BY load_id) AS replaces
    FROM pairs GROUP BY by_load_id
),
retracted AS (
    SELECT load_id, max(changed_at) AS retracted_at, max(note) AS retraction_note
    FROM load_changes WHERE action = 'retracted' GROUP BY load_id
)
SELECT l.load_id, l.table_name, l.file_name, l.rows_stored,
       CAST(coalesce(live.n, 0) AS BIGINT) AS rows_live, l.loaded_at,
       CASE WHEN r.retracted_at IS NOT NULL THEN 'retracted'
            WHEN coalesce(live.n, 0) = 0 THEN 'superseded'
            WHEN live.n < l.rows_stored THEN 'partly superseded'
            ELSE 'current'
       END AS status,
       rp.replaces, s.superseded_by, r.retracted_at, r.retraction_note
FROM load_log l
LEFT JOIN live USING (load_id)
LEFT JOIN superseded s USING (load_id)
LEFT JOIN replaces rp USING (load_id)
LEFT JOIN retracted r USING (load_id)
"""

# Sector: independent if the organisation (a site's first three characters) is in the ODS
# independent-sector list, or if its code starts with N (the ODS convention for independent
# sector codes, which also covers organisations newer than the list); otherwise nhs.
_DIAGNOSTICS_MONTHLY_SQL = """
SELECT d.month, d.org_code, d.org_name,
       CASE WHEN o.org_code IS NOT NULL OR d.org_code LIKE 'N%' THEN 'independent' ELSE 'nhs' END
           AS sector,
       CASE WHEN o.org_code IS NOT NULL THEN 'ods_list'
            WHEN d.org_code LIKE 'N%' THEN 'n_code' ELSE 'not_independent' END AS sector_basis,
       CASE WHEN length(d.org_code) = 5 THEN left(d.org_code, 3) ELSE d.org_code END
           AS ods_org_code,
       o.org_name AS ods_org_name,
       d.region, d.region_code, d.test, d.test_name, d.diagnostic_id,
       d.waiting_list, d.waiting_6_plus, d.waiting_13_plus,
       d.planned_tests, d.unscheduled_tests, d.waiting_list_tests,
       d.planned_tests + d.unscheduled_tests + d.waiting_list_tests AS activity,
       d.load_id
FROM dm01_monthly d
LEFT JOIN ods_independent_orgs o ON o.org_code = left(d.org_code, 3)
ORDER BY d.month, d.org_code, d.diagnostic_id
"""

# Every (month, organisation, test) reported in the month or in the same month a year
# earlier (if that later month is loaded): an organisation that stopped reporting counts as
# 0 this month, not as missing, so that sums of activity and of baseline cover the same rows.
_DIAGNOSTICS_VS_BASELINE_SQL = """
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
"""

_PUBLISHED_VIEWS: tuple[Relation, ...] = (
    Relation(
        "diagnostics_monthly",
        "one row per month × reporting organisation × test",
        "Published DM01 diagnostics (NHS England, Open Government Licence v3.0) with sector "
        "and activity. Sector rule: independent if the organisation (a five-character site's "
        "first three characters) is in the ODS independent-sector list, or its code starts "
        "with N (the ODS convention for independent-sector codes); otherwise nhs.",
        (
            Column("month", "DATE", "First day of the month."),
            Column("org_code", "VARCHAR", "Reporting organisation (ODS code)."),
            Column("org_name", "VARCHAR", "Organisation name as published."),
            Column("sector", "VARCHAR", "independent or nhs (see the rule above)."),
            Column("sector_basis", "VARCHAR", "ods_list, n_code or not_independent."),
            Column(
                "ods_org_code",
                "VARCHAR",
                "The organisation reporting: a five-character site's first three characters "
                "(NT422 → NT4), else org_code.",
            ),
            Column(
                "ods_org_name",
                "VARCHAR",
                "That organisation's name in the ODS independent-sector list, if it is there.",
            ),
            Column("region", "VARCHAR", "One of the seven NHS England regions."),
            Column("region_code", "VARCHAR", "Region code as published (Y56–Y63)."),
            Column("test", "VARCHAR", "Stable key of the test, e.g. mri."),
            Column("test_name", "VARCHAR", "Test name as published."),
            Column("diagnostic_id", "INTEGER", "DM01 diagnostic ID (1–15)."),
            Column("waiting_list", "BIGINT", "Patients waiting at month end."),
            Column("waiting_6_plus", "BIGINT", "Waiting 6 weeks or more."),
            Column("waiting_13_plus", "BIGINT", "Waiting 13 weeks or more."),
            Column("planned_tests", "BIGINT", "Planned tests in the month."),
            Column("unscheduled_tests", "BIGINT", "Unscheduled tests in the month."),
            Column("waiting_list_tests", "BIGINT", "Waiting-list tests in the month."),
            Column(
                "activity",
                "BIGINT",
                "Tests done in the month: planned + unscheduled + waiting-list tests.",
            ),
            Column("load_id", "INTEGER", "Load that wrote the row."),
        ),
        sql=_DIAGNOSTICS_MONTHLY_SQL,
        primary_key=("month", "org_code", "diagnostic_id"),
    ),
    Relation(
        "diagnostics_vs_baseline",
        "one row per month × organisation × test reported in the month or a year earlier",
        "Each month's DM01 activity beside the same month one year earlier (the baseline, as "
        "the NHS measured recovery against 2019/20). An organisation that reported a test a "
        "year earlier but not this month counts 0 this month.",
        (
            Column("month", "DATE", "First day of the month."),
            Column("org_code", "VARCHAR", "Reporting organisation."),
            Column("org_name", "VARCHAR", "Organisation name."),
            Column("sector", "VARCHAR", "independent or nhs."),
            Column("region", "VARCHAR", "NHS England region."),
            Column("test", "VARCHAR", "Stable key of the test."),
            Column("test_name", "VARCHAR", "Test name as published."),
            Column("reported", "BOOLEAN", "Whether the organisation reported the test this month."),
            Column("activity", "BIGINT", "Tests done in the month (0 if not reported)."),
            Column("baseline_month", "DATE", "The same month one year earlier."),
            Column(
                "baseline_activity",
                "BIGINT",
                "Tests done in the baseline month; empty if that month is not loaded.",
            ),
            Column(
                "activity_ratio",
                "DOUBLE",
                "activity ÷ baseline_activity; empty where there is no baseline or it is 0.",
            ),
        ),
        sql=_DIAGNOSTICS_VS_BASELINE_SQL,
        primary_key=("month", "org_code", "test"),
    ),
)

VIEWS: tuple[Relation, ...] = (
    Relation(
        "activity_types",
        "one row per service line × activity type key",
        "Activity types as the returns label them. A label is matched by its key: lower case, "
        "every run of spaces and punctuation read as one underscore, trimmed of underscores at "
        "the ends, so 'T&O', 't&o ' and 'T & O' are one type (t_o) in capacity, activity and "
        "unit prices. Two labels with one key are noted in `data_quality`.",
        (
            Column("service_line", "VARCHAR", "Service line."),
            Column("activity_type", "VARCHAR", "The key that decides what matches what."),
            Column("activity_label", "VARCHAR", "Label shown: the one the latest load wrote."),
            Column("labels", "VARCHAR", "Every label read as this key, quoted, in order."),
            Column("label_count", "BIGINT", "How many different labels have this key."),
            Column("in_capacity", "BOOLEAN", "Capacity names the type."),
            Column("in_activity", "BOOLEAN", "Activity names the type."),
            Column("in_unit_prices", "BOOLEAN", "A unit price names the type."),
        ),
        sql=_ACTIVITY_TYPES_SQL,
        materialised=True,
    ),
    Relation(
        "activity_weekly",
        "one row per week × site × service line × activity type",
        "Activity summed to the week (weeks start on Monday), valued at the unit price.",
        (
            Column("week_start", "DATE", "Monday of the week."),
            Column("site_code", "VARCHAR", "Site."),
            Column("service_line", "VARCHAR", "Service line."),
            Column("activity_type", "VARCHAR", "Activity type, or ''."),
            Column("nhs_units", "BIGINT", "NHS-funded units delivered."),
            Column("private_units", "BIGINT", "Privately funded units delivered."),
            Column("unit_price_gbp", "DOUBLE", "Unit price of the type (line default if none)."),
            Column("nhs_value_gbp", "DOUBLE", "nhs_units × unit_price_gbp."),
        ),
        sql=_ACTIVITY_WEEKLY_SQL,
        materialised=True,
    ),
    Relation(
        "capacity_use",
        "one row per capacity row: week × site × service line × activity type",
        "Each capacity row with the NHS units that used it and the cost of the unused part. "
        "Activity of a type meets capacity naming that type, else the line's untyped capacity.",
        (
            Column("week_start", "DATE", "Monday of the week."),
            Column("site_code", "VARCHAR", "Site."),
            Column("service_line", "VARCHAR", "Service line."),
            Column("activity_type", "VARCHAR", "Activity type the capacity names, or ''."),
            Column("capacity_units", "BIGINT", "Units of capacity."),
            Column("nhs_units", "BIGINT", "NHS units that met this capacity."),
            Column("unit_price_gbp", "DOUBLE", "Unit price of the type (line default if none)."),
            Column("capacity_value_gbp", "DOUBLE", "capacity_units × unit_price_gbp."),
            Column("unused_units", "BIGINT", "max(capacity_units − nhs_units, 0)."),
            Column("unused_capacity_cost_gbp", "DOUBLE", "unused_units × unit_price_gbp."),
            Column("load_id", "INTEGER", "Load that wrote the capacity row."),
        ),
        sql=_CAPACITY_USE_SQL,
        materialised=True,
    ),
    Relation(
        "utilisation_weekly",
        "one row per week × site × service line",
        "Capacity against NHS and private activity, the core of every page.",
        (
            Column("week_start", "DATE", "Monday of the week."),
            Column("site_code", "VARCHAR", "Site."),
            Column("site_name", "VARCHAR", "Site name."),
            *_GEO,
            Column("service_line", "VARCHAR", "Service line."),
            *_MEASURES,
        ),
        sql=_UTILISATION_WEEKLY_SQL,
        materialised=True,
    ),
    Relation(
        "utilisation_provider",
        "one row per provider × service line, over every loaded week",
        "utilisation_weekly rolled up to the provider (ratios of sums, never means of ratios).",
        (
            *_GEO[:3],
            Column("region", "VARCHAR", "NHS England region of the provider (not of each site)."),
            Column("service_line", "VARCHAR", "Service line."),
            Column("sites", "BIGINT", "Sites with capacity or activity."),
            Column("weeks", "BIGINT", "Weeks with capacity or activity."),
            Column("first_week", "DATE", "First week."),
            Column("last_week", "DATE", "Last week."),
            *_MEASURES,
        ),
        sql=_UTILISATION_PROVIDER_SQL,
    ),
    Relation(
        "contract_weekly",
        "one row per contract × week it covers",
        "Contract value apportioned to each week: monthly value × 12 ÷ 365 per day covered.",
        (
            Column("contract_id", "VARCHAR", "Contract."),
            Column("provider_code", "VARCHAR", "Provider."),
            Column("week_start", "DATE", "Monday of the week."),
            Column("status", "VARCHAR", "Contract status."),
            Column("days_covered", "INTEGER", "Days of the week the contract covers (1–7)."),
            Column("contract_value_gbp", "DOUBLE", "Contract value apportioned to the week, £."),
        ),
        sql=_CONTRACT_WEEKLY_SQL,
    ),
    Relation(
        "data_quality",
        "one row per finding",
        "Warnings about loaded data that are allowed but worth a look, including activity "
        "types written with different labels that are read as one type.",
        (
            Column("week_start", "DATE", "Week, where the finding has one."),
            Column("site_code", "VARCHAR", "Site, where the finding has one."),
            Column("provider_code", "VARCHAR", "Provider."),
            Column("service_line", "VARCHAR", "Service line, where the finding has one."),
            Column("check_name", "VARCHAR", "Which check found it."),
            Column("detail", "VARCHAR", "What was found."),
        ),
        sql=_DATA_QUALITY_SQL,
    ),
    Relation(
        "load_history",
        "one row per load",
        "Every load with what became of it: rows still live, the loads it replaced, the loads "
        "that replaced it and its retraction (see `load_changes`).",
        (
            Column("load_id", "INTEGER", "The load."),
            Column("table_name", "VARCHAR", "Input table the file was read as."),
            Column("file_name", "VARCHAR", "File name as given."),
            Column("rows_stored", "BIGINT", "Rows the load stored."),
            Column("rows_live", "BIGINT", "Of those, rows still in the database."),
            Column("loaded_at", "TIMESTAMP", "When the load committed (UTC)."),
            Column(
                "status",
                "VARCHAR",
                "current, partly superseded, superseded (no rows left) or retracted.",
            ),
            Column("replaces", "VARCHAR", "Loads whose rows this load replaced, e.g. '3, 5'."),
            Column("superseded_by", "VARCHAR", "Loads that replaced rows of this one."),
            Column("retracted_at", "TIMESTAMP", "When `capwatch unload` took it out (UTC)."),
            Column("retraction_note", "VARCHAR", "The reason given, if any."),
        ),
        sql=_LOAD_HISTORY_SQL,
    ),
)

VIEWS = VIEWS + _PUBLISHED_VIEWS

RELATIONS: tuple[Relation, ...] = TABLES + VIEWS


def relation(name: str) -> Relation:
    """Look up a documented table or view by name."""
    for r in RELATIONS:
        if r.name == name:
            return r
    known = ", ".join(r.name for r in RELATIONS)
    raise KeyError(f"unknown table or view {name!r}; documented ones are: {known}")


def create_view_sql(view: Relation) -> str:
    """DDL for a documented view, or for a derived table's first, empty build."""
    if view.materialised:
        return f"CREATE TABLE IF NOT EXISTS {view.name} AS {view.sql}"
    return f"CREATE OR REPLACE VIEW {view.name} AS {view.sql}"


def refresh_sql(view: Relation) -> str:
    """DDL that rebuilds a derived table from the stored tables."""
    return f"CREATE OR REPLACE TABLE {view.name} AS {view.sql}"


def dictionary_markdown() -> str:
    """The data dictionary as Markdown (printed by `capwatch schema`, shown in the README)."""
    lines: list[str] = []
    for r in RELATIONS:
        lines += [f"### `{r.name}` ({r.kind})", "", f"{r.description} Grain: {r.grain}.", ""]
        lines += ["| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type} | {c.description} |" for c in r.columns]
        lines.append("")
    return "\n".join(lines)
