"""The demand input table: read, validated, replaced and unloaded like every other input table.

Constructed files, figures by hand: London diagnostics, week of 1 Jun 2020, 5,400 waiting and
310 referrals offered; MRI within it 1,200 and 90; Midlands day case 2,000 and 40.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch import db
from capwatch.cli import app
from capwatch.load import ingest
from tests.tables_support import header

HEADER = header("demand", "activity_type")
GOOD = (
    HEADER + "London,diagnostics,,2020-06-01,5400,310\n"
    'london,Diagnostics,MRI,01/06/2020,"1,200",90\n'
    "Midlands,Day case,,2020-06-01,2000,40\n"
)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[tuple[object, ...]]:
    return (
        db.Database(path)
        .query(
            "SELECT region, service_line, activity_type, activity_label, week_start, "
            "patients_waiting, referrals_offered FROM demand "
            "ORDER BY region, service_line, activity_type"
        )
        .rows()
    )


def test_a_demand_file_loads_with_regions_lines_and_labels_normalised(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    report = ingest([_write(tmp_path / "in", "demand_2020.csv", GOOD)], path)
    assert report.ok, [p.message for o in report.outcomes for p in o.problems]
    assert report.outcomes[0].table == "demand"
    jun1 = date(2020, 6, 1)
    assert _rows(path) == [
        ("London", "diagnostics", "", "", jun1, 5400, 310),
        ("London", "diagnostics", "mri", "MRI", jun1, 1200, 90),
        ("Midlands", "day_case", "", "", jun1, 2000, 40),
    ]


@pytest.mark.parametrize(
    ("line", "column", "says"),
    [
        ("Atlantis,diagnostics,,2020-06-01,10,1", "region", "NHS England regions"),
        ("London,dentistry,,2020-06-01,10,1", "service_line", "use one of diagnostics"),
        ("London,diagnostics,,2020-06-02,10,1", "week_start", "Monday"),
        ("London,diagnostics,,2020-06-08,-3,1", "patients_waiting", "whole number"),
        ("London,diagnostics,,2020-06-08,10,2.5", "referrals_offered", "whole number"),
        ("London,diagnostics,,2020-06-08,,1", "patients_waiting", "empty but required"),
    ],
)  # weeks with a readable key are not in GOOD: an overlap would be a second, independent problem
def test_a_bad_value_is_named_by_file_row_and_column_and_nothing_loads(
    tmp_path: Path, line: str, column: str, says: str
) -> None:
    path = tmp_path / "c.duckdb"
    ingest([_write(tmp_path / "ok", "demand_a.csv", GOOD)], path)
    before = db.table_fingerprint(path)
    text = HEADER + "London,outpatients,,2020-06-01,1,1\n" + line + "\n"
    bad = _write(tmp_path / "bad", "demand_b.csv", text)
    report = ingest([bad], path)
    outcome = report.outcomes[0]
    assert outcome.status == "rejected"
    (problem,) = outcome.problems
    assert (problem.file, problem.row, problem.column) == (str(bad), 3, column)
    assert says in problem.message
    assert db.table_fingerprint(path) == before


def test_a_repeated_key_in_one_file_is_refused(tmp_path: Path) -> None:
    text = HEADER + "London,diagnostics,,2020-06-01,10,1\nLONDON,diagnostics,,01/06/2020,11,1\n"
    report = ingest([_write(tmp_path, "demand.csv", text)], tmp_path / "c.duckdb")
    (problem,) = report.outcomes[0].problems
    assert problem.row == 3
    assert "duplicate key" in problem.message and "already on row 2" in problem.message


def test_an_overlap_is_refused_unless_replaced_and_unload_puts_the_old_rows_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.duckdb"
    first = ingest([_write(tmp_path / "a", "demand.csv", GOOD)], path)
    original = _rows(path)
    text = HEADER + "London,diagnostics,,2020-06-01,5500,320\n"
    fix = _write(tmp_path / "b", "demand_fix.csv", text)

    refused = ingest([fix], path)
    assert refused.outcomes[0].status == "rejected"
    assert "already loaded from demand.csv" in refused.outcomes[0].problems[0].message
    assert _rows(path) == original

    replaced = ingest([fix], path, replace=True)
    assert replaced.ok
    rows = _rows(path)
    assert rows[0][5:] == (5500, 320)
    assert rows[1:] == original[1:]  # only the overlapping key was replaced

    result = CliRunner().invoke(
        app, ["unload", str(replaced.outcomes[0].load_id), "--db", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert _rows(path) == original
    assert first.outcomes[0].load_id is not None
    history = (
        db.Database(path)
        .query("SELECT load_id, status, rows_live FROM load_history ORDER BY load_id")
        .rows()
    )
    assert history == [(1, "current", 3), (2, "retracted", 0)]


def test_the_template_loads_as_it_is(tmp_path: Path) -> None:
    template = Path(__file__).resolve().parent.parent / "data" / "templates" / "demand.csv"
    report = ingest([template], tmp_path / "c.duckdb")
    assert report.ok


def test_a_region_may_have_over_a_million_people_waiting_but_not_a_hundred_million(
    tmp_path: Path,
) -> None:
    # A region's waiting list runs to millions (England's is several), unlike a site's units.
    path = tmp_path / "c.duckdb"
    big = HEADER + "London,diagnostics,,2020-06-01,1212615,310\n"
    assert ingest([_write(tmp_path / "a", "demand.csv", big)], path).outcomes[0].status == "loaded"
    huge = HEADER + "London,diagnostics,,2020-06-08,200000000,310\n"
    (problem,) = ingest([_write(tmp_path / "b", "demand.csv", huge)], path).outcomes[0].problems
    assert problem.column == "patients_waiting" and "100,000,000" in problem.message
