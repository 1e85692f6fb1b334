"""The house style on screen (`capwatch.ui.format`, `capwatch.ui.tables`, chart axes) and the
load history's record of rejected files (migration 6).

Expected strings are written out by hand, never produced by the code under test.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from capwatch import db
from capwatch.load import ingest
from capwatch.ui import charts, format, tables
from tests import untidy_returns
from tests.tables_support import header


@pytest.mark.parametrize(
    ("value", "compact", "exact"),
    [
        (1_535_700_462, "£1.54bn", "£1,535,700,462"),
        (932_400_000, "£932m", "£932,400,000"),
        (726_000, "£726k", "£726,000"),
        (725_960, "£726k", "£725,960"),
        (233_400_000, "£233m", "£233,400,000"),
        (27_988_998, "£28m", "£27,988,998"),
        (999_950, "£1m", "£999,950"),  # not "£1000k"
        (10_000, "£10k", "£10,000"),
        (940, "£940", "£940"),
        (0, "£0", "£0"),
        (-34_300, "-£34.3k", "-£34,300"),
        (None, "–", "–"),
        (float("nan"), "–", "–"),
    ],
)
def test_money_is_compact_in_tiles_and_exact_in_tables(
    value: float | None, compact: str, exact: str
) -> None:
    assert format.gbp_compact(value) == compact
    assert format.gbp(value, short=True) == compact  # the old spelling means the same
    assert format.gbp(value) == exact


def test_percentages_have_one_decimal_place() -> None:
    assert format.pct(0.2269) == "22.7%"
    assert format.pct(0.2778) == "27.8%"
    assert format.pct(1) == "100.0%"
    assert format.pct(None) == "–"
    assert format.signed_pct_points(0.025) == "+2.5 pp"


def test_dates_are_uk_style_without_leading_zeros() -> None:
    assert format.uk_date(date(2020, 6, 1)) == "1 Jun 2020"
    assert format.uk_date(datetime(2020, 8, 17, 0, 0)) == "17 Aug 2020"
    assert format.uk_month(date(2020, 4, 1)) == "Apr 2020"
    assert format.uk_datetime(datetime(2020, 6, 1, 14, 5)) == "1 Jun 2020 14:05"
    assert format.uk_date(None) == "–"


def test_one_label_per_service_line_and_activity_type() -> None:
    for spelling in ("day_case", "Day case", "day-case", " DAY_CASE "):
        assert format.line_label(spelling) == "Day case"
    assert format.activity_label("trauma_orthopaedics") == "Trauma and orthopaedics"
    assert format.activity_label("chemotherapy_delivery") == "Chemotherapy delivery"
    assert format.activity_label("mri") == "MRI"
    assert format.activity_label("") == "(whole line)"
    # labels as providers wrote them are kept
    assert format.activity_label("T&O") == "T&O"
    assert format.activity_label("Gastroscopy (OGD)") == "Gastroscopy (OGD)"


def test_plurals() -> None:
    assert format.plural(1, "flag") == "1 flag"
    assert format.plural(1, "provider") == "1 provider"
    assert format.plural(3, "provider") == "3 providers"
    assert format.plural(1_200, "row") == "1,200 rows"


def test_money_axis_ticks_are_compact() -> None:
    axis = charts.money_axis([0, 610_000_000, 790_000_000])
    assert axis["ticktext"] == ["£0", "£200m", "£400m", "£600m", "£800m"]
    assert axis["tickvals"] == [0, 200e6, 400e6, 600e6, 800e6]


def test_week_ticks_fall_on_mondays() -> None:
    axis = charts.week_axis([date(2020, 6, 1), date(2020, 9, 21)])
    assert date.fromisoformat(axis["tick0"]).weekday() == 0  # a Monday
    assert axis["dtick"] % (7 * 24 * 3600 * 1000) == 0  # whole weeks from it
    assert axis["tickformat"].startswith("%-d %b")


def test_a_table_shows_labels_dashes_and_dates_not_internals() -> None:
    frame = pl.DataFrame(
        {
            "service_line": ["day_case", "diagnostics"],
            "activity_type": ["trauma_orthopaedics", None],
            "removal_reason": [None, "poor utilisation"],
            "first_week": [datetime(2020, 8, 17), datetime(2020, 8, 24)],
            "removed_date": [None, date(2020, 9, 7)],
            "utilisation": [0.2269, None],
            "private_share": [0.1, 0.25],
        }
    )
    config = tables.column_config(frame, None)
    shown = tables.shown(frame, config)
    assert shown["service_line"].to_list() == ["Day case", "Diagnostics"]
    assert shown["activity_type"].to_list() == ["Trauma and orthopaedics", "(whole line)"]
    assert shown["removal_reason"].to_list() == ["–", "poor utilisation"]
    assert shown["first_week"].to_list() == [date(2020, 8, 17), date(2020, 8, 24)]
    assert shown["removed_date"].to_list() == ["–", "7 Sep 2020"]
    assert shown["utilisation"].to_list() == ["22.7%", "–"]  # a gap: text, never None
    assert shown["private_share"].to_list() == pytest.approx([10.0, 25.0])  # shown as 10.0%
    labels = {name: c["label"] for name, c in config.items() if isinstance(c, dict)}
    assert labels["first_week"] == "First week"
    assert labels["removal_reason"] == "Removal reason"
    assert frame["utilisation"][0] == 0.2269  # the frame (and so the download) is unchanged


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_rejected_file_is_recorded_with_its_problems_by_row_and_column(
    tmp_path: Path,
) -> None:
    database = tmp_path / "capacity.duckdb"
    assert ingest([untidy_returns.write(tmp_path / "in")], database).ok
    before = db.table_fingerprint(database)
    bad = tmp_path / "bad" / "capacity.csv"
    bad.parent.mkdir()
    bad.write_text(
        header("capacity", "activity_type") + "NX101,diagnostics,,2020-07-06,-5\n"
        "NX101,diagnostics,,2020-07-13,12\n"
        "NX101,diagnostics,,2020-07-20,-1\n"
    )
    report = ingest([bad], database)
    assert not report.ok
    assert db.table_fingerprint(database) == before  # no data changed
    reader = db.Database(database)
    files = reader.query("SELECT * FROM rejected_files").rows(named=True)
    assert len(files) == 1
    (row,) = files
    assert row["file_name"] == "capacity.csv"
    assert row["table_name"] == "capacity"
    assert row["file_hash"] == _sha256(bad)
    assert row["file_bytes"] == bad.stat().st_size
    assert row["problem_count"] == 2
    problems = reader.query(
        "SELECT problem_no, row_number, column_name FROM rejected_file_problems ORDER BY problem_no"
    ).rows()
    assert problems == [(1, 2, "capacity_units"), (2, 4, "capacity_units")]  # header = row 1
    reader.close()
    # the fingerprint with the history counts it; the data fingerprint leaves it out
    with_history = db.table_fingerprint(database, rejections=True)
    assert with_history["rejected_files"].startswith("1:")
    assert with_history["rejected_file_problems"].startswith("2:")
    assert "rejected_files" not in before


def test_a_clean_load_records_no_rejection(tmp_path: Path) -> None:
    database = tmp_path / "capacity.duckdb"
    assert ingest([untidy_returns.write(tmp_path / "in")], database).ok
    assert db.Database(database).scalar("SELECT count(*) FROM rejected_files") == 0


def test_the_data_page_lists_a_rejected_file_and_its_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from capwatch import config
    from capwatch.ui.scripts import ENTRY_SCRIPT, page_file

    database = tmp_path / "capacity.duckdb"
    assert ingest([untidy_returns.write(tmp_path / "in")], database).ok
    bad = tmp_path / "bad" / "capacity.csv"
    bad.parent.mkdir()
    bad.write_text(header("capacity", "activity_type") + "NX101,diagnostics,,2020-07-06,-5\n")
    assert not ingest([bad], database).ok
    monkeypatch.setenv(config.DB_ENV_VAR, str(database))
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60)
    at.run()
    at.switch_page(page_file("data")).run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [f.value for f in at.dataframe]
    files = next(f for f in frames if "problem_count" in f.columns)
    assert files["file_name"].tolist() == ["capacity.csv"]
    assert files["problem_count"].tolist() == [1]
    problems = next(f for f in frames if "column_name" in f.columns)
    assert problems[["row_number", "column_name"]].values.tolist() == [[2, "capacity_units"]]
    assert any("1 file rejected" in c.value for c in at.caption)
    assert any(
        "summed to one row per site" in c.value for c in at.caption
    )  # rows read / stored explained
