"""The default synthetic world held to the published record of the 2020 contract.

Each figure is computed from the generated CSV files by plain SQL (DuckDB reading the files),
for the default seed and scale and for two other seeds. Sources (docs/synthetic-world.md):
HSJ 1 Dec 2020 (about a third of capacity used; day case by month), The Times 6 Aug 2020
(about £400m a month), LaingBuisson News and HSJ 21 Dec 2020 (22 hospitals, 14 in London,
about a quarter of the capacity, released at the end of August / on 8 September 2020).

Utilisation is NHS units ÷ capacity over the capacity rows written (week × site × service
line): NHS units a site recorded after its release, when it had no capacity, count for no
capacity. A week belongs to the month its Thursday falls in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from capwatch.synthetic import generate

SEEDS = (2020, 1, 99)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def files(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"calibration_{request.param}")
    generate(out, seed=request.param)  # the default scale
    return out


@pytest.fixture(scope="module")
def sql(files: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    for name in ("capacity", "sites", "contracts", "unit_prices", "answer_key", "demand"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{files / name}.csv')")
    con.execute(f"CREATE VIEW activity AS SELECT * FROM read_csv('{files}/activity_*.csv')")
    con.execute(
        """
        CREATE TABLE used AS
        WITH cap AS (
            SELECT site_code, service_line, week_start, sum(capacity_units) AS capacity
            FROM capacity GROUP BY ALL
        ),
        nhs AS (
            SELECT site_code, service_line,
                   CAST(date_trunc('week', activity_date) AS DATE) AS week_start,
                   count(*) AS nhs
            FROM activity WHERE funding = 'nhs' GROUP BY ALL
        )
        SELECT cap.*, coalesce(nhs.nhs, 0) AS nhs, month(cap.week_start + 3) AS month
        FROM cap LEFT JOIN nhs USING (site_code, service_line, week_start)
        """
    )
    yield con
    con.close()


def _one(con: duckdb.DuckDBPyConnection, query: str) -> float:
    value = con.execute(query).fetchall()[0][0]
    assert value is not None
    return float(value)


def test_about_a_third_of_capacity_used_overall(sql: duckdb.DuckDBPyConnection) -> None:
    assert 0.30 <= _one(sql, "SELECT sum(nhs) / sum(capacity) FROM used") <= 0.37


def test_about_a_third_of_chemotherapy_capacity_used(sql: duckdb.DuckDBPyConnection) -> None:
    util = _one(
        sql, "SELECT sum(nhs) / sum(capacity) FROM used WHERE service_line = 'chemotherapy'"
    )
    assert 0.30 <= util <= 0.37


def test_day_case_by_month(sql: duckdb.DuckDBPyConnection) -> None:
    by_month = dict(
        sql.execute(
            "SELECT month, sum(nhs) / sum(capacity) FROM used "
            "WHERE service_line = 'day_case' GROUP BY month"
        ).fetchall()
    )
    assert sorted(by_month) == [6, 7, 8, 9]
    assert 0.30 < by_month[6] < 0.36  # just over 30% in June
    assert 0.30 < by_month[7] < 0.36  # ... and July
    assert by_month[8] > 0.40  # over 40% in August
    assert by_month[9] < 0.30  # under 30% in September


def test_about_400m_a_month_of_contract_value(sql: duckdb.DuckDBPyConnection) -> None:
    total = _one(sql, "SELECT sum(monthly_value_gbp) FROM contracts")
    assert 380e6 <= total <= 420e6


def test_releases_as_the_record_has_them(sql: duckdb.DuckDBPyConnection) -> None:
    providers, first, last = sql.execute(
        "SELECT count(*), min(removed_date), max(removed_date) FROM contracts "
        "WHERE removed_date IS NOT NULL"
    ).fetchall()[0]
    assert providers >= 10
    assert date(2020, 8, 24) <= first and last <= date(2020, 9, 8)  # last week of Aug – 8 Sep
    hospitals, london = sql.execute(
        "SELECT count(*), count(*) FILTER (WHERE s.region = 'London') FROM sites s "
        "JOIN contracts c USING (provider_code) WHERE c.removed_date IS NOT NULL"
    ).fetchall()[0]
    assert 20 <= hospitals <= 24  # about 22
    assert 12 <= london <= 16  # about 14


def test_the_released_held_about_a_quarter_of_the_capacity(
    sql: duckdb.DuckDBPyConnection,
) -> None:
    """Capacity valued at unit prices, over the weeks before the first release."""
    share = _one(
        sql,
        """
        WITH valued AS (
            SELECT c.site_code,
                   c.capacity_units * coalesce(typed.unit_price_gbp, dflt.unit_price_gbp) AS v
            FROM capacity c
            LEFT JOIN unit_prices typed ON typed.service_line = c.service_line
                AND typed.activity_type = c.activity_type
            JOIN unit_prices dflt ON dflt.service_line = c.service_line
                AND dflt.activity_type IS NULL
            WHERE c.week_start < (SELECT min(removed_date) FROM contracts)
        )
        SELECT sum(v) FILTER (WHERE k.removed_date IS NOT NULL) / sum(v)
        FROM valued JOIN sites USING (site_code) JOIN contracts k USING (provider_code)
        """,
    )
    assert 0.22 <= share <= 0.28


def test_releases_were_decided_by_price_and_use_london_first(
    sql: duckdb.DuckDBPyConnection,
) -> None:
    """Every released provider was expensive or under-used; the London ones went first."""
    rows = sql.execute(
        """
        SELECT a.provider_code, a.price_ratio, p.region, a.released_date,
               sum(u.nhs) / sum(u.capacity) AS utilisation
        FROM answer_key a
        JOIN (SELECT DISTINCT provider_code, region FROM sites) p USING (provider_code)
        JOIN sites s USING (provider_code)
        JOIN used u USING (site_code)
        WHERE a.released GROUP BY ALL
        """
    ).fetchall()
    assert rows
    for _code, price, _region, _when, util in rows:
        assert price >= 1.5 or util < 0.2
    london = [r for r in rows if r[2] == "London"]
    assert all(r[1] >= 1.5 for r in london)  # expensive
    assert max(r[3] for r in rows if r[2] != "London") <= min(r[3] for r in london)


def test_an_august_holiday_dip_across_providers(sql: duckdb.DuckDBPyConnection) -> None:
    """(e) NHS units in each holiday week (10–24 Aug) below those of the week before (3 Aug,
    the same month, so the same day-case level), provider by provider."""
    dips = sql.execute(
        """
        WITH w AS (
            SELECT s.provider_code, u.week_start, sum(u.nhs) AS nhs
            FROM used u JOIN sites s USING (site_code) GROUP BY ALL
        )
        SELECT provider_code,
               max(nhs) FILTER (WHERE week_start IN ('2020-08-10', '2020-08-17', '2020-08-24'))
                 < any_value(nhs) FILTER (WHERE week_start = '2020-08-03')
        FROM w GROUP BY provider_code
        HAVING count(*) FILTER (WHERE week_start BETWEEN '2020-08-03' AND '2020-08-24') = 4
        """
    ).fetchall()
    assert sum(dipped for _, dipped in dips) >= 0.9 * len(dips)


def test_missing_returns_are_absent_rows_never_zeros(sql: duckdb.DuckDBPyConnection) -> None:
    """(d) a site of each provider with missing returns has two or three weeks absent from
    capacity and activity alike while its contract ran; no capacity row is a zero."""
    gaps = sql.execute(
        """
        WITH weeks AS (SELECT DISTINCT week_start FROM capacity),
        site_weeks AS (
            SELECT s.site_code, s.provider_code, w.week_start,
                   EXISTS (SELECT 1 FROM capacity c WHERE c.site_code = s.site_code
                           AND c.week_start = w.week_start) AS has_capacity,
                   EXISTS (SELECT 1 FROM activity a WHERE a.site_code = s.site_code
                           AND CAST(date_trunc('week', a.activity_date) AS DATE)
                               = w.week_start) AS has_activity
            FROM sites s, weeks w
        )
        SELECT k.provider_code, count(*) AS missing_weeks
        FROM site_weeks sw JOIN answer_key k USING (provider_code)
        WHERE NOT sw.has_capacity AND NOT sw.has_activity
          AND (k.released_date IS NULL OR sw.week_start <= k.released_date)
        GROUP BY ALL ORDER BY 1
        """
    ).fetchall()
    flagged = sql.execute(
        "SELECT provider_code FROM answer_key WHERE confounder = 'missing_returns' ORDER BY 1"
    ).fetchall()
    assert [(code,) for code, _ in gaps] == flagged
    assert all(2 <= n <= 3 for _, n in gaps)
    zero_rows = _one(sql, "SELECT count(*) FROM capacity WHERE capacity_units = 0")
    assert zero_rows == 0
