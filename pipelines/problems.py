"""Problems found in input files, each naming the file, row and column, and what to fix.

A check finds the first `MAX_PROBLEMS_SHOWN` problems (what the console and the load history
show), `total`, how many there are in all, and, where there are more than it shows, `every`:
the whole list as a lazy frame in `PROBLEM_SCHEMA`, built with Polars expressions so that a
million duplicate keys cost a column operation, not a million Python objects. `every` is only
collected when somebody asks for the whole list (`capwatch ingest --problems FILE`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

MAX_PROBLEMS_SHOWN = 50

PROBLEM_SCHEMA = pl.Schema({"row_number": pl.Int64, "column_name": pl.String, "problem": pl.String})
"""One file's problems as a frame: the row as a person counts it (header = 1), the column,
what is wrong. The order of a file's list is `PROBLEM_ORDER`."""

PROBLEM_ORDER = ("row_number", "column_name")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file. `row` is as a person counts it (header = row 1)."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


def problem_frame(problems: Iterable[Problem]) -> pl.DataFrame:
    """Problems as a frame in `PROBLEM_SCHEMA` (the file is said once, beside the frame)."""
    rows = [(p.row, p.column, p.message) for p in problems]
    return pl.DataFrame(rows, schema=PROBLEM_SCHEMA, orient="row")


def in_order(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A file's problems by row, then column (nothing named first), ties as found."""
    return frame.sort(PROBLEM_ORDER, nulls_last=False, maintain_order=True)


def from_frame(frame: pl.LazyFrame, file: str, total: int) -> Found:
    """A check's problems from the lazy frame of all of them (`PROBLEM_SCHEMA`, in order):
    the first few collected, the rest left lazy."""
    frame = frame.select(pl.col(name).cast(kind) for name, kind in PROBLEM_SCHEMA.items())
    shown = [
        Problem(file, row, column, message)
        for row, column, message in frame.head(MAX_PROBLEMS_SHOWN).collect().iter_rows()
    ]
    return Found(shown, total, every=frame if total > len(shown) else None)


class Found(list[Problem]):
    """The first `MAX_PROBLEMS_SHOWN` problems a check found, `total`: how many in all, and
    `every`: all of them when there are more than are shown (None: the list is complete)."""

    def __init__(
        self,
        problems: Iterable[Problem] = (),
        total: int | None = None,
        every: pl.LazyFrame | None = None,
    ) -> None:
        super().__init__(problems)
        whole = list(self)
        del self[MAX_PROBLEMS_SHOWN:]
        self.total = max(total or 0, len(self))
        if every is None and len(whole) > len(self):
            every = problem_frame(whole).lazy()
        self.every = every

    def everything(self) -> pl.LazyFrame:
        """Every problem, in `PROBLEM_SCHEMA`."""
        return self.every if self.every is not None else problem_frame(self).lazy()

    @classmethod
    def combined(cls, parts: Iterable[list[Problem]]) -> Found:
        """Several checks' problems in row order, with their totals summed."""
        found = [part if isinstance(part, Found) else Found(part, len(part)) for part in parts]
        every = [p for part in found for p in part]
        total = sum(part.total for part in found)
        shown = sorted(every, key=lambda p: (p.row or 0, p.column or ""))
        if all(part.every is None for part in found):
            return cls(shown, total)
        whole = in_order(pl.concat([part.everything() for part in found], how="vertical"))
        return cls(shown, total, every=whole)


class FileRejected(Exception):
    """A file is rejected whole. `total` counts every problem, `problems` holds the first few
    and `every` all of them when there are more (see `Found`)."""

    def __init__(
        self,
        problems: list[Problem],
        total: int | None = None,
        every: pl.LazyFrame | None = None,
    ) -> None:
        if every is None and isinstance(problems, Found):
            every = problems.every
        if every is None and len(problems) > MAX_PROBLEMS_SHOWN:
            every = problem_frame(problems).lazy()
        self.problems = problems[:MAX_PROBLEMS_SHOWN]
        self.total = max(total or 0, len(problems))
        self.every = every
        super().__init__("\n".join(str(p) for p in self.problems))

    def everything(self) -> pl.DataFrame:
        """Every problem of the file (`PROBLEM_SCHEMA`), collected."""
        if self.every is None:
            return problem_frame(self.problems)
        return self.every.collect()


REJECTED_PROBLEM_COLUMNS = (
    "rejection_id",
    "file_name",
    "problem_no",
    "row_number",
    "column_name",
    "problem",
)
"""The columns of a list of rejected files' problems, in order: the Data page's download of
the recorded ones and `capwatch ingest --problems FILE` of all of them."""


def rejected_problem_list(
    rejection_id: int | None, file_name: str, problems: pl.DataFrame
) -> pl.DataFrame:
    """One rejected file's problems (`PROBLEM_SCHEMA`, in order) numbered from 1, in
    `REJECTED_PROBLEM_COLUMNS`."""
    return problems.select(
        rejection_id=pl.lit(rejection_id, pl.Int64),
        file_name=pl.lit(file_name, pl.String),
        problem_no=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        row_number=pl.col("row_number").cast(pl.Int64),
        column_name=pl.col("column_name").cast(pl.String),
        problem=pl.col("problem").cast(pl.String),
    )
