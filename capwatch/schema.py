"""The data dictionary: every stored table and documented view, its grain and its columns.

This is the one source of truth for the database's shape. The input tables' stored tables come
from their declarations in `capwatch.catalogue`, each view's SQL and grain from its file in
`capwatch/views/`. `capwatch.db` builds the views from it (the tables come from the frozen
migrations, checked against it), `capwatch schema` prints it, docs/ shows it, and the SQL page
browses it. Nothing here touches DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

from capwatch import catalogue
from capwatch.catalogue import ACTIVITY_LABEL as ACTIVITY_LABEL
from capwatch.catalogue import LOAD_ID as LOAD_ID
from capwatch.catalogue import Column as Column


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


def _stored(table: catalogue.Table) -> Relation:
    """The stored table of an input table, from its declaration in the catalogue."""
    return Relation(
        table.stored, table.grain, table.description, table.stored_columns(), primary_key=table.key
    )


def view_source(name: str) -> tuple[str, str]:
    """A view's grain and SELECT, from `capwatch/views/<name>.sql`: the file starts with
    `-- grain: ...` and any other comment lines, which are not part of the SELECT."""
    text = resources.files("capwatch.views").joinpath(f"{name}.sql").read_text(encoding="utf-8")
    header: list[str] = []
    while text.startswith("--"):
        line, _, text = text.partition("\n")
        header.append(line)
    grains = [h.removeprefix("-- grain:").strip() for h in header if h.startswith("-- grain:")]
    if len(grains) != 1:
        raise ValueError(f"capwatch/views/{name}.sql must start with one `-- grain:` line")
    return grains[0], text


def _view(
    name: str,
    description: str,
    columns: tuple[Column, ...],
    *,
    primary_key: tuple[str, ...] = (),
    materialised: bool = False,
    fill: dict[str, str] | None = None,
) -> Relation:
    """A documented view (or derived table) whose grain and SQL sit in its `.sql` file; each
    `{name}` in the SQL that `fill` names is replaced by its text."""
    grain, sql = view_source(name)
    for key, text in (fill or {}).items():
        sql = sql.replace("{" + key + "}", text)
    return Relation(name, grain, description, columns, sql, primary_key, materialised)


TABLES: tuple[Relation, ...] = (
    Relation(
        "load_log",
        "one row per file loaded",
        "Every file that was loaded: where it came from, its content hash and what it added. "
        "Rejected files are recorded apart, in `rejected_files`: a rejected file loads no rows.",
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
    *(_stored(t) for t in catalogue.TABLES),
)

# Rows a load holds, by the input table it was read as (activity is stored per day).
STORED_AS = {t.name: t.stored for t in catalogue.TABLES if t.stored != t.name}

# What a newer load replaces: rows with the same key (`catalogue.Table.replaced_by`; activity
# by the day, reference tables and capacity by their primary key).
REPLACE_KEYS: dict[str, tuple[str, ...]] = {
    t.stored: t.replace_key for t in catalogue.TABLES if t.replace_key
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


REJECTED_FILES = Relation(
    "rejected_files",
    "one row per file rejected by a load",
    "Every file a load rejected whole (nothing of it was stored), so that the Data page can "
    "show it and its problems; the problems are in `rejected_file_problems`.",
    (
        Column("rejection_id", "INTEGER", "Identifier of the rejection, in order.", True),
        Column("table_name", "VARCHAR", "Input table the file was read as ('?' if unknown).", True),
        Column("file_name", "VARCHAR", "File name as given.", True),
        Column("file_path", "VARCHAR", "Absolute path of the file when it was rejected.", True),
        Column("file_hash", "VARCHAR", "SHA-256 of the file's bytes, where it could be read."),
        Column("file_bytes", "BIGINT", "Size of the file in bytes, where it could be read."),
        Column("problem_count", "BIGINT", "Problems found (some may not be listed).", True),
        Column("rejected_at", "TIMESTAMP", "When the load rejected it (UTC).", True),
    ),
    primary_key=("rejection_id",),
)

REJECTED_FILE_PROBLEMS = Relation(
    "rejected_file_problems",
    "one row per problem listed for a rejected file",
    "What was wrong with a rejected file, by row and column as a person counts them (the "
    "header is row 1), the first ones found.",
    (
        Column("rejection_id", "INTEGER", "The rejection (see `rejected_files`).", True),
        Column("problem_no", "INTEGER", "Order of the problem within the file, from 1.", True),
        Column("row_number", "BIGINT", "Row of the file (header = 1), where one is to blame."),
        Column("column_name", "VARCHAR", "Column, where one is to blame."),
        Column("problem", "VARCHAR", "What is wrong.", True),
    ),
    primary_key=("rejection_id", "problem_no"),
)

REJECTION_TABLES = frozenset({REJECTED_FILES.name, REJECTED_FILE_PROBLEMS.name})
"""The load history's record of rejected files: no figure reads them."""

REPLACED: tuple[Relation, ...] = tuple(_replaced(t) for t in TABLES if t.name != "load_log")
TABLES = (*TABLES, LOAD_CHANGES, *REPLACED, REJECTED_FILES, REJECTED_FILE_PROBLEMS)


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
            Column(
                "region_code",
                "VARCHAR",
                "Region code as published (Y56–Y63 from Apr 2019; Y54–Y59, Q70–Q81 or XDH before).",
                True,
            ),
            Column("region_name", "VARCHAR", "Region name as published.", True),
            Column(
                "region",
                "VARCHAR",
                "One of the seven NHS England regions, from Apr 2019; empty before (the view "
                "`diagnostics_monthly` places earlier months by the organisation's own later "
                "returns).",
            ),
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
# A revised DM01 month (`ingest --replace`) replaces the whole month; the old rows are kept.
DM01_REPLACED = _replaced(PUBLISHED_TABLES[0])
REPLACED = (*REPLACED, DM01_REPLACED)
REPLACE_KEYS["dm01_monthly"] = ("month",)
TABLES = TABLES + PUBLISHED_TABLES + (DM01_REPLACED,)

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

_PUBLISHED_VIEWS: tuple[Relation, ...] = (
    _view(
        "diagnostics_monthly",
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
            Column(
                "region",
                "VARCHAR",
                "One of the seven NHS England regions (the 2019 map). Before Apr 2019: the "
                "organisation's region in its first return from Apr 2019; empty if it stopped "
                "reporting before then.",
            ),
            Column("region_code", "VARCHAR", "Region code as published."),
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
            Column("region_as_published", "VARCHAR", "Region name as published that month."),
            Column(
                "region_basis",
                "VARCHAR",
                "as_published (Apr 2019 on), by_own_later_returns (placed by the organisation's "
                "first return from Apr 2019) or not_placed (it stopped reporting before then).",
            ),
            Column("load_id", "INTEGER", "Load that wrote the row."),
        ),
        primary_key=("month", "org_code", "diagnostic_id"),
    ),
    _view(
        "diagnostics_vs_baseline",
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
        primary_key=("month", "org_code", "test"),
    ),
)

# Every table a load writes rows to: the input tables' and the published readers' ones.
LOADED_TABLES = (
    *(t.stored for t in catalogue.TABLES),
    *(t.name for t in PUBLISHED_TABLES),
    ANSWER_KEY.name,
)


def _live_rows() -> str:
    """The `live` rows of `load_history`: each loaded table's rows counted per load."""
    first, *rest = LOADED_TABLES
    lines = [f"        SELECT load_id, count(*) AS n FROM {first} GROUP BY load_id"]
    lines += [f"        UNION ALL SELECT load_id, count(*) FROM {t} GROUP BY load_id" for t in rest]
    return "\n".join(lines)


VIEWS: tuple[Relation, ...] = (
    _view(
        "activity_types",
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
        materialised=True,
    ),
    _view(
        "activity_weekly",
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
        materialised=True,
    ),
    _view(
        "capacity_use",
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
        materialised=True,
    ),
    _view(
        "utilisation_weekly",
        "Capacity against NHS and private activity, the core of every page.",
        (
            Column("week_start", "DATE", "Monday of the week."),
            Column("site_code", "VARCHAR", "Site."),
            Column("site_name", "VARCHAR", "Site name."),
            *_GEO,
            Column("service_line", "VARCHAR", "Service line."),
            *_MEASURES,
        ),
        materialised=True,
    ),
    _view(
        "utilisation_provider",
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
    ),
    _view(
        "contract_weekly",
        "Contract value apportioned to each week: monthly value × 12 ÷ 365 per day covered.",
        (
            Column("contract_id", "VARCHAR", "Contract."),
            Column("provider_code", "VARCHAR", "Provider."),
            Column("week_start", "DATE", "Monday of the week."),
            Column("status", "VARCHAR", "Contract status."),
            Column("days_covered", "INTEGER", "Days of the week the contract covers (1–7)."),
            Column("contract_value_gbp", "DOUBLE", "Contract value apportioned to the week, £."),
        ),
    ),
    _view(
        "data_quality",
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
    ),
    _view(
        "load_history",
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
            Column(
                "superseded_by",
                "VARCHAR",
                "Loads that replaced rows of this one and still stand (not retracted).",
            ),
            Column("retracted_at", "TIMESTAMP", "When `capwatch unload` took it out (UTC)."),
            Column("retraction_note", "VARCHAR", "The reason given, if any."),
        ),
        fill={"live_rows": _live_rows()},
    ),
)

VIEWS = VIEWS + _PUBLISHED_VIEWS

RELATIONS: tuple[Relation, ...] = TABLES + VIEWS


def relation(name: str) -> Relation:
    """Look up a documented table or view by name."""
    for r in RELATIONS:
        if r.name == name:
            return r
    import difflib

    names = [r.name for r in RELATIONS]
    close = difflib.get_close_matches(name.strip().lower(), names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise KeyError(
        f"unknown table or view {name!r}; documented ones: {', '.join(names)}"
        if not close
        else f"unknown table or view {name!r}{hint} (`capwatch schema` lists every one)"
    )


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
