"""capwatch's extract of published DM01 months (one Parquet file, months at DM01's grain)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import cast

from pipelines.published import dm01, extract
from pipelines.published.reader import Known, PublishedRead, PublishedReader


def read(path: Path, known: Known) -> PublishedRead:
    frame = extract.read_extract(path)
    first = cast(date, frame["month"].min())
    last = cast(date, frame["month"].max())
    months = frame["month"].n_unique()
    return PublishedRead(frame, [f"{months} months of published DM01 ({first:%b %Y}–{last:%b %Y})"])


READER = PublishedReader(
    name=extract.READER,
    table=dm01.TABLE,
    layer="fact",
    description="capwatch's extract of published DM01 months",
    recognise=extract.recognise,
    read=read,
    reload="month",
    order=30,
)
