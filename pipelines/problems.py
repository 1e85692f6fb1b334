"""Problems found in input files, each naming the file, row and column, and what to fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_PROBLEMS_SHOWN = 50


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


class Found(list[Problem]):
    """The first `MAX_PROBLEMS_SHOWN` problems a check found, and `total`: how many in all."""

    def __init__(self, problems: Iterable[Problem] = (), total: int | None = None) -> None:
        super().__init__(problems)
        del self[MAX_PROBLEMS_SHOWN:]
        self.total = max(total or 0, len(self))

    @classmethod
    def combined(cls, parts: Iterable[list[Problem]]) -> Found:
        """Several checks' problems in row order, with their totals summed."""
        found = list(parts)
        every = [p for part in found for p in part]
        total = sum(part.total if isinstance(part, Found) else len(part) for part in found)
        return cls(sorted(every, key=lambda p: (p.row or 0, p.column or "")), total)


class FileRejected(Exception):
    """A file is rejected whole. `total` counts every problem, `problems` holds the first few."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems[:MAX_PROBLEMS_SHOWN]
        self.total = max(total or 0, len(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
