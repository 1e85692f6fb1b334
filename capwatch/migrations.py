"""The schema's history: every migration, written out as it was released.

A released migration is never edited, so a database made by any earlier release is upgraded
step by step to exactly the shape the current one has. A schema change is a new migration at
the end; `tests/test_migrations.py` checks that applying them all gives the tables that
`capwatch.schema` documents, and that a database made by the first release upgrades with its
data intact.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One versioned step of the schema. Never edit a released one: add another."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "reference tables, capacity, daily activity and the load log",
        (
            """
CREATE TABLE load_log (
    "load_id" INTEGER NOT NULL,
    "table_name" VARCHAR NOT NULL,
    "file_name" VARCHAR NOT NULL,
    "file_path" VARCHAR NOT NULL,
    "file_hash" VARCHAR NOT NULL,
    "file_bytes" BIGINT NOT NULL,
    "rows_read" BIGINT NOT NULL,
    "rows_stored" BIGINT NOT NULL,
    "warnings" VARCHAR,
    "loaded_at" TIMESTAMP NOT NULL,
    "duration_ms" DOUBLE NOT NULL,
    PRIMARY KEY ("load_id")
)
        """,
            """
CREATE TABLE providers (
    "provider_code" VARCHAR NOT NULL,
    "provider_name" VARCHAR NOT NULL,
    "group" VARCHAR NOT NULL,
    "region" VARCHAR NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("provider_code")
)
        """,
            """
CREATE TABLE sites (
    "site_code" VARCHAR NOT NULL,
    "provider_code" VARCHAR NOT NULL,
    "site_name" VARCHAR NOT NULL,
    "region" VARCHAR NOT NULL,
    "latitude" DOUBLE,
    "longitude" DOUBLE,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("site_code")
)
        """,
            """
CREATE TABLE contracts (
    "contract_id" VARCHAR NOT NULL,
    "provider_code" VARCHAR NOT NULL,
    "start_date" DATE NOT NULL,
    "end_date" DATE NOT NULL,
    "monthly_value_gbp" DOUBLE NOT NULL,
    "status" VARCHAR,
    "removed_date" DATE,
    "removal_reason" VARCHAR,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("contract_id")
)
        """,
            """
CREATE TABLE unit_prices (
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "unit_price_gbp" DOUBLE NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("service_line", "activity_type")
)
        """,
            """
CREATE TABLE capacity (
    "site_code" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "week_start" DATE NOT NULL,
    "capacity_units" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("site_code", "service_line", "activity_type", "week_start")
)
        """,
            """
CREATE TABLE activity_daily (
    "site_code" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_date" DATE NOT NULL,
    "funding" VARCHAR NOT NULL,
    "units" BIGINT NOT NULL,
    "source_rows" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL
)
        """,
        ),
    ),
    Migration(
        2,
        "published NHS data: DM01 diagnostics by month, the ODS independent-sector list, "
        "and the reader that took each file in the load log",
        (
            """
ALTER TABLE load_log ADD COLUMN "reader" VARCHAR NOT NULL DEFAULT 'contract'
        """,
            """
CREATE TABLE dm01_monthly (
    "month" DATE NOT NULL,
    "org_code" VARCHAR NOT NULL,
    "org_name" VARCHAR NOT NULL,
    "region_code" VARCHAR NOT NULL,
    "region_name" VARCHAR NOT NULL,
    "region" VARCHAR NOT NULL,
    "diagnostic_id" INTEGER NOT NULL,
    "test" VARCHAR NOT NULL,
    "test_name" VARCHAR NOT NULL,
    "waiting_list" BIGINT NOT NULL,
    "waiting_6_plus" BIGINT NOT NULL,
    "waiting_13_plus" BIGINT NOT NULL,
    "planned_tests" BIGINT NOT NULL,
    "unscheduled_tests" BIGINT NOT NULL,
    "waiting_list_tests" BIGINT NOT NULL,
    "source_row" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("month", "org_code", "test")
)
        """,
            """
CREATE TABLE ods_independent_orgs (
    "org_code" VARCHAR NOT NULL,
    "org_name" VARCHAR NOT NULL,
    "national_grouping" VARCHAR,
    "health_geography" VARCHAR,
    "postcode" VARCHAR,
    "open_date" DATE,
    "close_date" DATE,
    "source_row" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("org_code")
)
        """,
        ),
    ),
    Migration(
        3,
        "activity type labels beside their keys; load changes (supersessions, retractions) and "
        "the rows replaced by later loads",
        (
            """
CREATE TABLE unit_prices_v2 (
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "unit_price_gbp" DOUBLE NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("service_line", "activity_type")
)
        """,
            """
INSERT INTO unit_prices_v2
SELECT "service_line", "activity_type",
       "activity_type" AS "activity_label",
       "unit_price_gbp", "load_id"
FROM unit_prices
        """,
            """
DROP TABLE unit_prices
        """,
            """
ALTER TABLE unit_prices_v2 RENAME TO unit_prices
        """,
            """
CREATE TABLE capacity_v2 (
    "site_code" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "week_start" DATE NOT NULL,
    "capacity_units" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("site_code", "service_line", "activity_type", "week_start")
)
        """,
            """
INSERT INTO capacity_v2
SELECT "site_code", "service_line", "activity_type",
       "activity_type" AS "activity_label", "week_start", "capacity_units", "load_id"
FROM capacity
        """,
            """
DROP TABLE capacity
        """,
            """
ALTER TABLE capacity_v2 RENAME TO capacity
        """,
            """
CREATE TABLE activity_daily_v2 (
    "site_code" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "activity_date" DATE NOT NULL,
    "funding" VARCHAR NOT NULL,
    "units" BIGINT NOT NULL,
    "source_rows" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL
)
        """,
            """
INSERT INTO activity_daily_v2
SELECT "site_code", "service_line", "activity_type",
       "activity_type" AS "activity_label", "activity_date", "funding", "units",
       "source_rows", "load_id"
FROM activity_daily
        """,
            """
DROP TABLE activity_daily
        """,
            """
ALTER TABLE activity_daily_v2 RENAME TO activity_daily
        """,
            """
CREATE TABLE load_changes (
    "change_id" INTEGER NOT NULL,
    "load_id" INTEGER NOT NULL,
    "action" VARCHAR NOT NULL,
    "by_load_id" INTEGER,
    "rows_removed" BIGINT NOT NULL,
    "rows_added" BIGINT NOT NULL,
    "changed_at" TIMESTAMP NOT NULL,
    "note" VARCHAR,
    PRIMARY KEY ("change_id")
)
        """,
            """
CREATE TABLE providers_replaced (
    "provider_code" VARCHAR NOT NULL,
    "provider_name" VARCHAR NOT NULL,
    "group" VARCHAR NOT NULL,
    "region" VARCHAR NOT NULL,
    "load_id" INTEGER NOT NULL,
    "replaced_by" INTEGER NOT NULL
)
        """,
            """
CREATE TABLE sites_replaced (
    "site_code" VARCHAR NOT NULL,
    "provider_code" VARCHAR NOT NULL,
    "site_name" VARCHAR NOT NULL,
    "region" VARCHAR NOT NULL,
    "latitude" DOUBLE,
    "longitude" DOUBLE,
    "load_id" INTEGER NOT NULL,
    "replaced_by" INTEGER NOT NULL
)
        """,
            """
CREATE TABLE contracts_replaced (
    "contract_id" VARCHAR NOT NULL,
    "provider_code" VARCHAR NOT NULL,
    "start_date" DATE NOT NULL,
    "end_date" DATE NOT NULL,
    "monthly_value_gbp" DOUBLE NOT NULL,
    "status" VARCHAR,
    "removed_date" DATE,
    "removal_reason" VARCHAR,
    "load_id" INTEGER NOT NULL,
    "replaced_by" INTEGER NOT NULL
)
        """,
            """
CREATE TABLE unit_prices_replaced (
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "unit_price_gbp" DOUBLE NOT NULL,
    "load_id" INTEGER NOT NULL,
    "replaced_by" INTEGER NOT NULL
)
        """,
            """
CREATE TABLE capacity_replaced (
    "site_code" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "week_start" DATE NOT NULL,
    "capacity_units" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    "replaced_by" INTEGER NOT NULL
)
        """,
            """
CREATE TABLE activity_daily_replaced (
    "site_code" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "activity_date" DATE NOT NULL,
    "funding" VARCHAR NOT NULL,
    "units" BIGINT NOT NULL,
    "source_rows" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    "replaced_by" INTEGER NOT NULL
)
        """,
        ),
    ),
    Migration(
        4,
        "weekly NHS demand per region and service line (patients waiting, referrals offered), "
        "its archive of replaced rows, and the synthetic world's answer key",
        (
            """
CREATE TABLE demand (
    "region" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "week_start" DATE NOT NULL,
    "patients_waiting" BIGINT NOT NULL,
    "referrals_offered" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("region", "service_line", "activity_type", "week_start")
)
        """,
            """
CREATE TABLE demand_replaced (
    "region" VARCHAR NOT NULL,
    "service_line" VARCHAR NOT NULL,
    "activity_type" VARCHAR NOT NULL,
    "activity_label" VARCHAR NOT NULL,
    "week_start" DATE NOT NULL,
    "patients_waiting" BIGINT NOT NULL,
    "referrals_offered" BIGINT NOT NULL,
    "load_id" INTEGER NOT NULL,
    "replaced_by" INTEGER NOT NULL
)
        """,
            """
CREATE TABLE answer_key (
    "provider_code" VARCHAR NOT NULL,
    "delivery_ability" DOUBLE NOT NULL,
    "price_ratio" DOUBLE NOT NULL,
    "referral_propensity" DOUBLE NOT NULL,
    "private_share" DOUBLE NOT NULL,
    "confounder" VARCHAR NOT NULL,
    "true_action" VARCHAR NOT NULL,
    "released" BOOLEAN NOT NULL,
    "released_date" DATE,
    "release_reason" VARCHAR,
    "load_id" INTEGER NOT NULL,
    PRIMARY KEY ("provider_code")
)
        """,
        ),
    ),
)
