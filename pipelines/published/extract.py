"""capwatch's own compact extract of published DM01 months, shipped for the demo.

Made by capwatch's DM01 reader
(`python -m pipelines.published.extract DIR OUT.parquet`): every checked
`Provider by Test` row of every workbook under DIR, in the stored grain, as one Parquet file
whose metadata names it (`capwatch: dm01_extract`) and carries the attribution. It is
recognised by that metadata, never by its name, and checked again when loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from pipelines.problems import FileRejected, Problem
from pipelines.published import dm01
from pipelines.published.regions import REGION_BY_CODE
from pipelines.published.workbook import SUFFIXES, looks_like_workbook

READER = "dm01_extract"
KIND_KEY = "capwatch"
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Source: NHS England, Monthly Diagnostic Waiting Times and Activity (DM01), Monthly "
    "Diagnostics Web File – Provider."
)
COLUMNS: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "org_code": pl.String(),
    "org_name": pl.String(),
    "region_code": pl.String(),
    "region_name": pl.String(),
    "region": pl.String(),
    "diagnostic_id": pl.Int64(),
    "test": pl.String(),
    "test_name": pl.String(),
    **{m: pl.Int64() for m in dm01.MEASURES},
    "source_row": pl.Int64(),
}


def recognise(path: Path) -> bool:
    """True for a Parquet file whose metadata says it is a capwatch DM01 extract."""
    if path.suffix.lower() != ".parquet":
        return False
    try:
        meta = pl.read_parquet_metadata(path)
    except Exception:  # not Parquet, or unreadable: not ours
        return False
    return meta.get(KIND_KEY) == READER


def write_extract(folder: Path, out: Path) -> pl.DataFrame:
    """Read every DM01 workbook under `folder` and write the extract. Returns its rows."""
    months: list[dm01.Dm01Month] = []
    sources: list[str] = []
    for f in sorted(folder.rglob("*")):
        if f.suffix.lower() in SUFFIXES and looks_like_workbook(f) and dm01.recognise(f):
            months.append(dm01.read_dm01(f))
            sources.append(f"{months[-1].month:%Y-%m}: {f.name}")
    frame = pl.concat([m.frame for m in months]).sort("month", "org_code", "diagnostic_id")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(
        out,
        compression="zstd",
        compression_level=19,
        metadata={
            KIND_KEY: READER,
            "attribution": ATTRIBUTION,
            "sources": json.dumps(sources),
        },
    )
    return frame


def read_extract(path: Path) -> pl.DataFrame:
    """The extract's rows, checked against the stored grain. Raises FileRejected."""
    frame = pl.read_parquet(path)
    where = str(path)
    problems: list[Problem] = []
    for name, dtype in COLUMNS.items():
        if name not in frame.columns:
            problems.append(Problem(where, None, name, "the column is missing"))
        elif frame.schema[name] != dtype:
            problems.append(Problem(where, None, name, f"is {frame.schema[name]}, not {dtype}"))
    if problems:
        raise FileRejected(problems)
    frame = frame.select(list(COLUMNS)).with_row_index("_row", offset=1)
    nulls = [c for c in COLUMNS if frame[c].null_count()]
    problems += [Problem(where, None, c, "has empty values") for c in nulls]
    for row, code in (
        frame.filter(~pl.col("region_code").is_in(list(REGION_BY_CODE)))
        .select("_row", "region_code")
        .head(20)
        .iter_rows()
    ):
        problems.append(Problem(where, row, "region_code", f"unknown region code {code!r}"))
    dup = frame.filter(pl.struct("month", "org_code", "test").is_duplicated())
    for row, code in dup.select("_row", "org_code").head(20).iter_rows():
        problems.append(Problem(where, row, "org_code", f"a second row for {code}"))
    if problems:
        raise FileRejected(problems)
    return frame.drop("_row")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m pipelines.published.extract DM01_FOLDER OUT.parquet")
        return 2
    frame = write_extract(Path(argv[0]), Path(argv[1]))
    print(
        f"wrote {frame.height:,} rows, {frame['month'].n_unique()} months, to {argv[1]} "
        f"({Path(argv[1]).stat().st_size / 1e6:.2f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
