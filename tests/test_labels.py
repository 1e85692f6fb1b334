"""Activity types as providers write them: the label is kept, a folded key decides matching.

The figures here are worked out by hand from the constructed files (prices £500 and £300).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capwatch import db
from capwatch.load import ingest
from capwatch.ui.scripts import ENTRY_SCRIPT, page_file
from pipelines.normalise import activity_key
from tests import untidy_returns
from tests.tables_support import header

REAL_DM01 = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "real"
    / "derived_dm01_is_provider_by_test_2019-04_2020-09.csv"
)


def key_of(label: str) -> str:
    return pl.select(activity_key(pl.lit(label))).item()


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("T&O", "t_o"),
        ("t&o ", "t_o"),
        ("T & O", "t_o"),
        ("Gastroscopy (OGD)", "gastroscopy_ogd"),
        ("Ophth.", "ophth"),
        ("Follow-up", "follow_up"),
        ("Non-obstetric Ultrasound", "non_obstetric_ultrasound"),
        ("non_obstetric_ultrasound", "non_obstetric_ultrasound"),  # stored keys stay as they are
        ("mri", "mri"),
        ("Crème brûlée", "crème_brûlée"),
    ],
)
def test_a_label_folds_to_its_key(label: str, key: str) -> None:
    assert key_of(label) == key


@given(st.text(max_size=30))
def test_folding_is_idempotent_and_ignores_case_spacing_and_punctuation(label: str) -> None:
    key = key_of(label)
    assert key_of(key) == key
    assert key_of(f"  {label.upper()} ;") == key_of(label.upper())
    if label.isascii():
        assert key_of(label.upper()) == key_of(label.lower()) == key


@pytest.mark.skipif(not REAL_DM01.exists(), reason="needs ../shared/real (DM01 extract)")
def test_every_published_dm01_test_name_is_a_label_with_a_key_of_its_own() -> None:
    """The 15 DM01 test names as NHS England publishes them (e.g. 'Audiology - Audiology
    Assessments'): each is accepted as written and no two fold to one key."""
    names = (
        pl.read_csv(REAL_DM01, columns=["diagnostic_test"])["diagnostic_test"]
        .unique()
        .sort()
        .to_list()
    )
    names = [n for n in names if n.strip().lower() != "total"]
    assert len(names) >= 15
    keys = [key_of(n) for n in names]
    assert all(keys)
    assert len(set(keys)) == len(names), dict(zip(names, keys, strict=True))


# A return written the way providers write them, on the tiny dataset's sites.
LABELLED = {
    "unit_prices_2020-06.csv": (
        header("unit_prices", "activity_type") + "Day case,T&O,500\n"
        "diagnostics,Gastroscopy (OGD),300\n"
    ),
    "capacity_2020-06-22.csv": (
        header("capacity", "activity_type") + "NX201,day_case,T & O,2020-06-22,10\n"
        "NX101,Diagnostics,gastroscopy (ogd),2020-06-22,4\n"
    ),
    "activity_2020-06-22.csv": (
        header("activity", "activity_type", "units") + "NX201,day_case,t&o ,2020-06-23,nhs,2\n"
        "NX201,Day case,T&O,2020-06-24,nhs,1\n"
        "NX201,day_case,T&O,2020-06-24,private,6\n"
        "NX101,diagnostics,Gastroscopy (OGD),2020-06-25,nhs,1\n"
        "NX101,diagnostics,GASTROSCOPY  (OGD),2020-06-26,nhs,2\n"
    ),
}
WEEK = date(2020, 6, 22)


@pytest.fixture(scope="module")
def labelled_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("labels")
    path = folder / "capacity.duckdb"
    assert ingest([untidy_returns.write(folder / "tiny")], path).ok
    report = ingest([untidy_returns.write(folder / "labelled", LABELLED)], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


def test_a_return_with_real_world_labels_loads_and_meets_its_unit_prices(
    labelled_db: Path,
) -> None:
    reader = db.Database(labelled_db)
    activity = reader.query(
        "SELECT site_code, activity_type, nhs_units, private_units, unit_price_gbp, "
        f"nhs_value_gbp FROM activity_weekly WHERE week_start = '{WEEK}' ORDER BY site_code"
    ).rows()
    # T&O: 2 + 1 NHS units at £500; gastroscopy: 1 + 2 at £300.
    assert activity == [
        ("NX101", "gastroscopy_ogd", 3, 0, 300.0, 900.0),
        ("NX201", "t_o", 3, 6, 500.0, 1500.0),
    ]
    use = reader.query(
        "SELECT site_code, activity_type, capacity_units, nhs_units, unit_price_gbp, "
        "unused_capacity_cost_gbp FROM capacity_use "
        f"WHERE week_start = '{WEEK}' ORDER BY site_code"
    ).rows()
    # The capacity named 'T & O' meets the activity written 'T&O': (10 - 3) x £500 unused;
    # 'gastroscopy (ogd)': (4 - 3) x £300.
    assert use == [
        ("NX101", "gastroscopy_ogd", 4, 3, 300.0, 300.0),
        ("NX201", "t_o", 10, 3, 500.0, 3500.0),
    ]


def test_labels_are_kept_and_two_labels_of_one_key_are_a_data_quality_note(
    labelled_db: Path,
) -> None:
    reader = db.Database(labelled_db)
    types = reader.query(
        "SELECT service_line, activity_type, activity_label, labels, label_count "
        "FROM activity_types WHERE activity_type IN ('t_o', 'gastroscopy_ogd') ORDER BY 1"
    ).rows()
    assert types == [
        (
            "day_case",
            "t_o",
            "T&O",  # the latest load (activity) wrote 'T&O' and 't&o': the first in order shows
            "'T & O', 'T&O', 't&o'",
            3,
        ),
        (
            "diagnostics",
            "gastroscopy_ogd",
            "GASTROSCOPY  (OGD)",
            "'GASTROSCOPY  (OGD)', 'Gastroscopy (OGD)', 'gastroscopy (ogd)'",
            3,
        ),
    ]
    notes = reader.query(
        "SELECT service_line, detail FROM data_quality "
        "WHERE check_name = 'activity_type_labels' ORDER BY service_line, detail"
    ).rows()
    assert notes == [
        ("day_case", "labels 'T & O', 'T&O', 't&o' are read as one activity type (t_o)"),
        (
            "diagnostics",
            "labels 'GASTROSCOPY  (OGD)', 'Gastroscopy (OGD)', 'gastroscopy (ogd)' are read as "
            "one activity type (gastroscopy_ogd)",
        ),
        ("diagnostics", "labels 'MRI', 'mri' are read as one activity type (mri)"),
    ]


def test_the_activity_type_table_shows_the_label_and_keeps_the_key(labelled_db: Path) -> None:
    from capwatch.analytics.filters import Filters
    from capwatch.analytics.utilisation import activity_types

    rows = activity_types(db.Database(labelled_db), Filters()).filter(
        pl.col("activity_type") == "t_o"
    )
    assert rows.select("activity_type", "activity_label", "nhs_units", "capacity_units").rows() == [
        ("t_o", "T&O", 3, 10)
    ]


def test_the_service_lines_page_shows_labels_as_written(
    labelled_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from capwatch import config

    monkeypatch.setenv(config.DB_ENV_VAR, str(labelled_db))
    at = AppTest.from_file(str(ENTRY_SCRIPT))
    at.run()
    at.switch_page(page_file("service_lines")).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = next(d.value for d in at.dataframe if "nhs_units_meeting_capacity" in d.value.columns)
    rows = shown.set_index(["service_line", "activity_type"])
    # the service line shows its one label (Day case), the activity type as written (T&O)
    assert rows.loc[("Day case", "T&O"), "nhs_units"] == 3  # the label, not the key t_o
    # capacity has gaps (types without capacity of their own) so it is shown as text, "–" in them
    assert rows.loc[("Day case", "T&O"), "capacity_units"] == "10"
    assert ("Day case", "t_o") not in rows.index
