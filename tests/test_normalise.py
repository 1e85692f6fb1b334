"""Normalising each column's distinct values once gives what normalising every row gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from capwatch.contract import input_table
from pipelines.normalise import normalise, normalise_distinct

ACTIVITY = input_table("activity")

# Realistic messy values per column, good and bad, including empty cells.
VALUES = {
    "site_code": [" nx101", "NX101", "NX1O1 ", "bad!", "", None],
    "service_line": ["Day case", "day-case", "diagnostics", "radiology", " ", None],
    "activity_type": ["MRI", "mri", "non obstetric ultrasound", "?", "", None],
    "activity_date": ["01/06/2020", "2020-06-01", "1/6/2020", "2020-13-01", "31/02/2020", None],
    "funding": ["NHS", " private", "insurer", "", None],
    "units": ["1", "1,000", "2.0", "-1", "1.5", "1e3", "", None],
}


@st.composite
def activity_frames(draw: st.DrawFn) -> pl.DataFrame:
    columns = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, unique=True).map(sorted))
    rows = draw(st.integers(min_value=1, max_value=30))
    return pl.DataFrame(
        {
            c: draw(st.lists(st.sampled_from(VALUES[c]), min_size=rows, max_size=rows))
            for c in columns
        },
        schema=dict.fromkeys(columns, pl.String),
    )


@settings(max_examples=150, deadline=None)
@given(activity_frames())
def test_normalise_distinct_equals_normalise(frame: pl.DataFrame) -> None:
    by_row = normalise(frame.lazy(), ACTIVITY).collect().with_row_index("_i")
    by_value = normalise_distinct(frame.with_row_index("_i"), ACTIVITY)
    assert_frame_equal(by_value.select(by_row.columns), by_row, check_row_order=False)
