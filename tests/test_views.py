"""The documented views against figures worked out by hand from `tests/untidy_returns.py`.

Unit prices: diagnostics £100 (MRI £200), day case £1,000. Matching rule: activity meets the
capacity row naming its type, else the line's untyped capacity.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from capwatch import db, schema
from capwatch.load import ingest
from tests import untidy_returns


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> db.Database:
    folder = tmp_path_factory.mktemp("views")
    path = folder / "capacity.duckdb"
    assert ingest([untidy_returns.write(folder / "in")], path).ok
    return db.Database(path)


def test_utilisation_weekly_matches_the_hand_worked_figures(reader: db.Database) -> None:
    got = reader.query(
        "SELECT week_start, site_code, service_line, capacity_units, nhs_units, private_units, "
        "utilisation, capacity_value_gbp, nhs_value_gbp, unused_capacity_cost_gbp "
        "FROM utilisation_weekly ORDER BY week_start, site_code"
    )
    expected = pl.DataFrame(
        {
            "week_start": [date(2020, 6, 1), date(2020, 6, 1), date(2020, 6, 8), date(2020, 6, 15)],
            "site_code": ["NX101", "NX102", "NX201", "NX201"],
            "service_line": ["diagnostics", "diagnostics", "day_case", "day_case"],
            # NX101: MRI 10 + untyped 5; NX102: untyped 20; NX201: 4, then 1,000
            "capacity_units": [15, 20, 4, 1000],
            "nhs_units": [10, 2, 1, 0],  # NX101: 3 MRI + 7 CT; NX102: two CT rows of 1
            "private_units": [2, 0, 0, 5],
            "utilisation": [10 / 15, 2 / 20, 1 / 4, 0.0],
            # NX101: 10×200 + 5×100; NX102: 20×100; NX201: 4×1000, 1000×1000
            "capacity_value_gbp": [2500.0, 2000.0, 4000.0, 1_000_000.0],
            "nhs_value_gbp": [3 * 200 + 7 * 100.0, 200.0, 1000.0, 0.0],
            # NX101: MRI (10−3)×200 + untyped max(5−7, 0)×100 — the floor is per capacity row
            "unused_capacity_cost_gbp": [1400.0, 1800.0, 3000.0, 1_000_000.0],
        },
        schema_overrides={
            "capacity_units": pl.Int64,
            "nhs_units": pl.Int64,
            "private_units": pl.Int64,
        },
    )
    assert_frame_equal(got, expected)


def test_utilisation_weekly_carries_provider_group_and_site_region(reader: db.Database) -> None:
    got = reader.query(
        'SELECT DISTINCT site_code, provider_code, provider_name, "group", region '
        "FROM utilisation_weekly ORDER BY 1"
    )
    assert got.rows() == [
        ("NX101", "NX1", "Alpha Health", "Alpha Group", "London"),
        ("NX102", "NX1", "Alpha Health", "Alpha Group", "London"),
        ("NX201", "NX2", "Beta Care", "Alpha Group", "North East and Yorkshire"),
    ]


def test_utilisation_provider_is_a_ratio_of_sums(reader: db.Database) -> None:
    got = reader.query(
        "SELECT provider_code, service_line, capacity_units, nhs_units, utilisation, weeks, "
        "unused_capacity_cost_gbp FROM utilisation_provider ORDER BY 1"
    )
    assert got.rows() == [
        # 12 of 35, not the mean of 10/15 and 2/20
        ("NX1", "diagnostics", 35, 12, pytest.approx(12 / 35), 1, 3200.0),
        ("NX2", "day_case", 1004, 1, pytest.approx(1 / 1004), 2, 1_003_000.0),
    ]


def test_contract_value_is_apportioned_by_days_covered(reader: db.Database) -> None:
    got = reader.query(
        "SELECT contract_id, sum(days_covered) AS days, sum(contract_value_gbp) AS value, "
        "count(*) AS weeks FROM contract_weekly GROUP BY 1 ORDER BY 1"
    )
    # C1: £3.65m a month = £120,000 a day, 1–30 June. C2: £24,000 a day until removed on 15 June.
    assert got.rows() == [
        ("C1", 30, pytest.approx(3_600_000.0), 5),
        ("C2", 14, pytest.approx(336_000.0), 2),
    ]
    last = reader.query(
        "SELECT days_covered FROM contract_weekly "
        "WHERE contract_id = 'C1' AND week_start = DATE '2020-06-29'"
    )
    assert last.item() == 2


def test_data_quality_lists_activity_without_capacity(tmp_path: Path) -> None:
    files = dict(untidy_returns.FILES)
    files["activity_2020-06.csv"] += "NX102,day_case,,2020-06-10,nhs,4\n"
    path = tmp_path / "c.duckdb"
    assert ingest([untidy_returns.write(tmp_path / "in", files)], path).ok
    found = db.Database(path).query(
        "SELECT site_code, service_line, check_name FROM data_quality "
        "WHERE check_name = 'activity_without_capacity'"
    )
    assert found.rows() == [("NX102", "day_case", "activity_without_capacity")]


@pytest.mark.parametrize("relation", schema.RELATIONS, ids=lambda r: r.name)
def test_every_documented_relation_has_exactly_its_documented_columns(
    reader: db.Database, relation: schema.Relation
) -> None:
    described = reader.query(f"DESCRIBE {relation.name}")
    assert described["column_name"].to_list() == relation.column_names
    types = dict(zip(described["column_name"], described["column_type"], strict=True))
    for column in relation.columns:
        assert types[column.name] == column.type, column.name
