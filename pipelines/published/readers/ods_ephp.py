"""ODS independent-sector organisations (the `ephp` list), republished whole."""

from __future__ import annotations

from pathlib import Path

from pipelines.published import ods
from pipelines.published.reader import Known, PublishedRead, PublishedReader, is_workbook


def read(path: Path, known: Known) -> PublishedRead:
    frame = ods.read_ephp(path)
    return PublishedRead(frame, [f"{frame.height:,} independent-sector organisations"])


READER = PublishedReader(
    name=ods.READER,
    table=ods.TABLE,
    layer="reference",
    description="ODS independent-sector organisations (ephp)",
    recognise=lambda path: is_workbook(path) and ods.recognise(path),
    read=read,
    reload="replace",
    order=10,
)
