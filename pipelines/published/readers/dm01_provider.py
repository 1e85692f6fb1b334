"""DM01 Monthly Diagnostics Web File – Provider: one published month per workbook."""

from __future__ import annotations

from pathlib import Path

from pipelines.published import dm01
from pipelines.published.reader import Known, PublishedRead, PublishedReader, is_workbook


def read(path: Path, known: Known) -> PublishedRead:
    month = dm01.read_dm01(path)
    return PublishedRead(month.frame, month.notes)


READER = PublishedReader(
    name=dm01.READER,
    table=dm01.TABLE,
    layer="fact",
    description="DM01 Monthly Diagnostics Web File – Provider",
    recognise=lambda path: is_workbook(path) and dm01.recognise(path),
    read=read,
    reload="month",
    order=20,
)
