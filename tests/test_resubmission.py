"""Resubmission (`ingest --replace`) and retraction (`unload`) on the tiny dataset.

Figures are worked out by hand from tests/untidy_returns.py (loads 1-6) and the corrections below;
prices: diagnostics £100 (MRI £200), day case £1,000.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from capwatch import db
from capwatch.cli import app
from capwatch.contract import INPUT_TABLES
from capwatch.errors import UnloadRefused
from capwatch.load import ingest, load_file
from tests import untidy_returns
from tests.tables_support import header

DATA_TABLES = ("providers", "sites", "contracts", "unit_prices", "capacity", "activity_daily")
JUN1, JUN15 = date(2020, 6, 1), date(2020, 6, 15)
CAP_HEADER = header("capacity", "activity_type")

# The provider resends NX201's day-case capacity for 15 June (1,000 was a typo for 100) and
# NX101's diagnostics activity for 2 June (4 MRI, not 3, and 1 CT it had left out).
CORRECTIONS = {
    "capacity_corrected.csv": (
        header("capacity", "activity_type") + "NX201,day_case,,2020-06-15,100\n"
    ),
    "activity_2020-06-02_corrected.csv": (
        header("activity", "activity_type", "units") + "NX101,diagnostics,MRI,2020-06-02,nhs,4\n"
        "NX101,diagnostics,CT,2020-06-02,nhs,1\n"
    ),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("resubmission")
    path = folder / "capacity.duckdb"
    assert ingest([untidy_returns.write(folder / "tiny")], path).ok
    return path


@pytest.fixture
def database(base: Path, tmp_path: Path) -> Path:
    path = tmp_path / "capacity.duckdb"
    shutil.copyfile(base, path)
    return path


def corrections(tmp_path: Path) -> Path:
    return untidy_returns.write(tmp_path / "corrections", CORRECTIONS)


def weekly(path: Path) -> pl.DataFrame:
    return db.Database(path).query(
        "SELECT week_start, site_code, service_line, capacity_units, nhs_units, private_units, "
        "capacity_value_gbp, nhs_value_gbp, unused_capacity_cost_gbp "
        "FROM utilisation_weekly ORDER BY week_start, site_code, service_line"
    )


def data_tables(path: Path) -> dict[str, str]:
    fingerprint = db.table_fingerprint(path)
    return {t: fingerprint[t] for t in DATA_TABLES}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_without_replace_an_overlap_is_refused_and_the_message_names_replace(
    database: Path, tmp_path: Path
) -> None:
    before = db.table_fingerprint(database)
    report = ingest([corrections(tmp_path)], database)
    assert [o.status for o in report.outcomes] == ["rejected", "rejected"]
    for outcome in report.outcomes:
        assert "`capwatch ingest --replace`" in outcome.problems[0].message
    assert db.table_fingerprint(database) == before  # no data changed
    # ... but the load history keeps both rejected files (migration 6)
    rejected = db.Database(database).scalar("SELECT count(*) FROM rejected_files")
    assert rejected == 2


def test_a_resubmission_changes_exactly_the_replaced_figures(
    database: Path, tmp_path: Path
) -> None:
    before = weekly(database)
    report = ingest([corrections(tmp_path)], database, replace=True)
    assert [o.status for o in report.outcomes] == ["loaded", "loaded"], [
        str(p) for o in report.outcomes for p in o.problems
    ]
    after = weekly(database)
    key = ["week_start", "site_code", "service_line"]
    changed = after.join(before, on=key, suffix="_before").filter(
        pl.any_horizontal(pl.col(c) != pl.col(f"{c}_before") for c in after.columns if c not in key)
    )
    assert changed.select(key).rows() == [
        (JUN1, "NX101", "diagnostics"),
        (JUN15, "NX201", "day_case"),
    ]
    assert after.height == before.height
    rows = {r["site_code"]: r for r in after.filter(pl.col("week_start").is_in([JUN1, JUN15]))
            .filter(pl.col("site_code") != "NX102").iter_rows(named=True)}  # fmt: skip
    # NX101, week of 1 June: capacity 10 MRI + 5 whole line. NHS: 4 MRI and 1 CT on 2 June (the
    # corrected day), 7 CT on 3 June (kept) = 12. MRI meets its own capacity: (10 - 4) x £200
    # unused; CT (8) meets the whole-line 5: nothing unused. NHS value 4 x 200 + 8 x 100.
    assert rows["NX101"]["capacity_units"] == 15
    assert rows["NX101"]["nhs_units"] == 12
    assert rows["NX101"]["private_units"] == 2
    assert rows["NX101"]["unused_capacity_cost_gbp"] == 1200
    assert rows["NX101"]["nhs_value_gbp"] == 1600
    # NX201, week of 15 June: capacity 100 (was 1,000) at £1,000, no NHS units.
    assert rows["NX201"]["capacity_units"] == 100
    assert rows["NX201"]["capacity_value_gbp"] == 100_000
    assert rows["NX201"]["unused_capacity_cost_gbp"] == 100_000
    assert rows["NX201"]["private_units"] == 5

    changes = db.Database(database).query(
        "SELECT load_id, action, by_load_id, rows_removed, rows_added FROM load_changes "
        "ORDER BY change_id"
    )
    # Load 7 (capacity) replaced 1 row of load 5; load 8 (activity) replaced the one stored
    # row of load 6 for NX101 diagnostics on 2 June with its 2.
    assert changes.rows() == [(5, "superseded", 7, 1, 1), (6, "superseded", 8, 1, 2)]
    notes = [n for o in report.outcomes for n in o.notes]
    assert "replaced 1 row(s) of load 5 (capacity.csv) with 1" in notes
    assert "replaced 1 row(s) of load 6 (activity_2020-06.csv) with 2" in notes
    history = db.Database(database).query(
        "SELECT load_id, status, rows_live, replaces, superseded_by FROM load_history "
        "WHERE load_id >= 5 ORDER BY load_id"
    )
    assert history.rows() == [
        (5, "partly superseded", 4, None, "7"),
        (6, "partly superseded", 5, None, "8"),
        (7, "current", 1, "5", None),
        (8, "current", 2, "6", None),
    ]


def test_unloading_a_resubmission_restores_the_figures_before_it(
    database: Path, tmp_path: Path
) -> None:
    before_weekly, before_tables = weekly(database), data_tables(database)
    assert ingest([corrections(tmp_path)], database, replace=True).ok
    assert weekly(database).to_dicts() != before_weekly.to_dicts()
    with db.write_session(database) as writer:
        capacity = writer.unload(7, "typo was right after all")
        activity = writer.unload(8)
    assert [(c.action, c.load_id, c.rows_removed, c.rows_added) for c in capacity] == [
        ("retracted", 7, 1, 0),
        ("restored", 5, 0, 1),
    ]
    assert [(c.action, c.load_id, c.rows_removed, c.rows_added) for c in activity] == [
        ("retracted", 8, 2, 0),
        ("restored", 6, 0, 1),
    ]
    assert weekly(database).to_dicts() == before_weekly.to_dicts()
    assert data_tables(database) == before_tables  # the very rows, with their load ids
    history = db.Database(database).query(
        "SELECT load_id, status, retraction_note FROM load_history WHERE load_id >= 5 "
        "ORDER BY load_id"
    )
    assert history.rows() == [
        (5, "current", None),
        (6, "current", None),
        (7, "retracted", "typo was right after all"),
        (8, "retracted", None),
    ]


def test_an_unload_takes_exactly_that_loads_rows_and_the_file_may_be_loaded_again(
    database: Path, tmp_path: Path
) -> None:
    before_weekly, before_tables = weekly(database), data_tables(database)
    with db.write_session(database) as writer:
        writer.unload(6)  # the June activity
    reader = db.Database(database)
    assert reader.scalar("SELECT count(*) FROM activity_daily") == 0
    assert reader.scalar("SELECT sum(nhs_units) + sum(private_units) FROM utilisation_weekly") == 0
    # Capacity is untouched: the same weeks, sites and units as before.
    assert (
        weekly(database).select("week_start", "site_code", "capacity_units").to_dicts()
        == before_weekly.select("week_start", "site_code", "capacity_units").to_dicts()
    )
    # The same content again is no longer "already loaded": it loads, as load 7.
    again = tmp_path / "again"
    again.mkdir()
    (again / "activity_2020-06.csv").write_text(untidy_returns.FILES["activity_2020-06.csv"])
    report = ingest([again], database)
    assert [(o.status, o.load_id) for o in report.outcomes] == [("loaded", 7)]
    assert weekly(database).to_dicts() == before_weekly.to_dicts()
    after = data_tables(database)
    assert {t: v for t, v in after.items() if t != "activity_daily"} == {
        t: v for t, v in before_tables.items() if t != "activity_daily"
    }


def test_a_chain_of_replacements_unwinds_whatever_the_order(database: Path, tmp_path: Path) -> None:
    def capacity(units: int) -> Path:
        folder = tmp_path / f"capacity_{units}"
        return untidy_returns.write(
            folder,
            {
                f"capacity_{units}.csv": (
                    header("capacity", "activity_type") + f"NX102,diagnostics,,2020-06-01,{units}\n"
                )
            },
        )

    def nx102() -> list[tuple[int, int]]:
        return (
            db.Database(database)
            .query(
                "SELECT capacity_units, load_id FROM capacity "
                "WHERE site_code = 'NX102' AND week_start = '2020-06-01'"
            )
            .rows()
        )

    assert nx102() == [(20, 5)]
    assert ingest([capacity(21)], database, replace=True).ok  # load 7 replaces load 5's 20
    assert ingest([capacity(22)], database, replace=True).ok  # load 8 replaces load 7's 21
    assert nx102() == [(22, 8)]
    with db.write_session(database) as writer:
        writer.unload(7)  # its row is already replaced: nothing comes back, 22 stays
    assert nx102() == [(22, 8)]
    with db.write_session(database) as writer:
        changes = writer.unload(8)  # load 5's row, replaced by 7 then 8, comes back
    assert [(c.action, c.load_id, c.rows_added) for c in changes] == [
        ("retracted", 8, 0),
        ("restored", 5, 1),
    ]
    assert nx102() == [(20, 5)]


def test_a_retraction_that_would_leave_rows_pointing_at_nothing_is_refused(
    database: Path,
) -> None:
    before = sha256(database)
    with (
        pytest.raises(UnloadRefused) as refused,
        db.write_session(database) as writer,
    ):
        writer.unload(2)  # the sites that capacity and activity name
    message = str(refused.value)
    assert "cannot unload load 2 (sites.csv)" in message
    assert "5 capacity row(s) from load(s) 5" in message
    assert "6 activity_daily row(s) from load(s) 6" in message
    assert sha256(database) == before


def test_a_newer_reference_file_is_recorded_as_replacing_rows_and_an_unload_puts_them_back(
    database: Path, tmp_path: Path
) -> None:
    folder = untidy_returns.write(
        tmp_path / "renamed",
        {
            "providers_renamed.csv": (
                header("providers") + "NX1,Alpha Health Ltd,Alpha Group,London\n"
            )
        },
    )
    report = ingest([folder], database)  # reference rows are replaced by key, as before
    assert report.outcomes[0].notes == ["replaced 1 row(s) of load 1 (providers.csv) with 1"]
    name = "SELECT provider_name FROM providers WHERE provider_code = 'NX1'"
    assert db.Database(database).scalar(name) == "Alpha Health Ltd"
    with db.write_session(database) as writer:
        writer.unload(7)
    assert db.Database(database).scalar(name) == "Alpha Health"


def test_the_cli_lists_loads_and_unloads_one(database: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(corrections(tmp_path)), "--db", str(database)])
    assert result.exit_code == 1
    assert "--replace" in result.output + (result.stderr or "")
    result = runner.invoke(
        app, ["ingest", str(corrections(tmp_path)), "--replace", "--db", str(database)]
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["loads", "--db", str(database), "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    rows = pl.read_csv(listed.stdout.encode(), infer_schema=False)
    assert rows["load_id"].to_list() == [str(i) for i in range(1, 9)]
    assert rows.filter(pl.col("load_id") == "5")["status"].item() == "partly superseded"
    assert rows.filter(pl.col("load_id") == "5")["superseded_by"].item() == "7"

    unloaded = runner.invoke(app, ["unload", "7", "--db", str(database), "--reason", "wrong"])
    assert unloaded.exit_code == 0, unloaded.output
    assert "put back 1 row(s) of load 5 (capacity.csv)" in unloaded.output
    table = runner.invoke(app, ["loads", "--db", str(database)])
    assert "retracted" in table.output

    refused = runner.invoke(app, ["unload", "7", "--db", str(database)])
    assert refused.exit_code == 1
    assert "was already unloaded" in str(refused.exception or "") + refused.output + (
        refused.stderr or ""
    )
    unknown = runner.invoke(app, ["unload", "99", "--db", str(database)])
    assert unknown.exit_code == 1


# ---- any sequence of replacements and unloads, against a model ---------------------------------

KEYS = [
    ("NX102", date(2020, 6, 1)),  # load 5 holds this one (20 units)
    ("NX102", date(2020, 6, 8)),
    ("NX102", date(2020, 6, 15)),
    ("NX101", date(2020, 6, 8)),
]
operation = st.one_of(
    st.tuples(
        st.just("load"),
        st.dictionaries(st.sampled_from(range(len(KEYS))), st.integers(0, 99), min_size=1),
    ),
    st.tuples(st.just("unload"), st.integers(0, 7)),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operation, min_size=1, max_size=8))
@example([("load", {1: 1}), ("load", {1: 2}), ("load", {1: 3}), ("unload", 2)])  # the middle one
@example([("load", {0: 1, 1: 1}), ("unload", 0), ("unload", 1), ("unload", 1)])
# Found by Hypothesis: unloading load 6 re-points load 5's archived row at key 0 to load 9
# (live there); unloading load 9 then finds load 5's and load 8's rows both waiting on it.
# Only load 8's (the latest) may come back; it once put both back (a primary-key error).
@example(
    [("load", {0: 0, 1: 0}), ("load", {0: 0}), ("load", {0: 0, 1: 0}), ("load", {0: 0}),
     ("unload", 1), ("unload", 4)]
)  # fmt: skip
def test_any_sequence_of_replacements_and_unloads_leaves_the_latest_live_load_at_each_key(
    base: Path, tmp_path: Path, operations: list[tuple[str, object]]
) -> None:
    """Model: at each key, the value of the most recent load holding it that is not retracted.
    Load 5 (the tiny capacity file) starts with 20 units at NX102, 1 June. Every operation
    runs in one write session, each in its own transaction, as `capwatch ingest` does."""
    path = tmp_path / "model.duckdb"
    shutil.copyfile(base, path)
    capacity = next(t for t in INPUT_TABLES if t.name == "capacity")
    loads: dict[int, dict[int, int]] = {5: {0: 20}}
    retracted: set[int] = set()
    with db.write_session(path) as writer:
        for step, (kind, arg) in enumerate(operations):
            if kind == "load":
                rows = "".join(
                    f"{KEYS[k][0]},diagnostics,,{KEYS[k][1]},{v}\n" for k, v in sorted(arg.items())
                )
                file = tmp_path / f"capacity_{step}.csv"
                file.write_text(CAP_HEADER + rows)
                outcome = load_file(writer, file, capacity, replace=True)
                if outcome.status == "skipped":  # the same content as a load still in place
                    continue
                assert outcome.status == "loaded", outcome.problems
                loads[outcome.load_id] = dict(arg)
            else:
                target = sorted(loads)[arg % len(loads)]
                if target in retracted:
                    with pytest.raises(UnloadRefused):
                        writer.unload(target)
                    continue
                writer.unload(target)
                retracted.add(target)
        got = {
            (site, week): (units, load_id)
            for site, week, units, load_id in writer.query(
                "SELECT site_code, week_start, capacity_units, load_id FROM capacity "
                "WHERE service_line = 'diagnostics' AND activity_type = ''"
            ).rows()
            if (site, week) in KEYS
        }
        archived = writer.query("SELECT count(*) AS n FROM capacity_replaced")["n"].item()
    expected = {}
    for k in range(len(KEYS)):
        holders = [i for i in sorted(loads) if k in loads[i] and i not in retracted]
        if holders:
            expected[KEYS[k]] = (loads[holders[-1]][k], holders[-1])
    assert got == expected
    # Kept aside: each key's rows of loads still in place, other than the one that is live.
    assert archived == sum(
        1
        for k in range(len(KEYS))
        for i in loads
        if k in loads[i] and i not in retracted and expected[KEYS[k]][1] != i
    )
    live = dict(db.Database(path).query("SELECT load_id, rows_live FROM load_history").rows())
    for load_id in loads:
        assert live[load_id] == sum(v[1] == load_id for v in expected.values()) + (
            4 if load_id == 5 and load_id not in retracted else 0  # its other 4 rows
        )
