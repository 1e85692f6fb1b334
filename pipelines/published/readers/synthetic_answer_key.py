"""The synthetic world's answer key (`answer_key.csv`, written by `capwatch generate`)."""

from __future__ import annotations

from pathlib import Path

from pipelines import answer_key
from pipelines.published.reader import Known, PublishedRead, PublishedReader

PROVIDERS = "providers.provider_code"


def read(path: Path, known: Known) -> PublishedRead:
    frame = answer_key.read_answer_key(path, known[PROVIDERS])
    return PublishedRead(frame, [f"the synthetic answer key for {frame.height:,} providers"])


READER = PublishedReader(
    name=answer_key.READER,
    table=answer_key.TABLE,
    layer="reference",
    description="the synthetic world's answer key (answer_key.csv)",
    recognise=answer_key.recognise,  # known by its name: written by `capwatch generate`
    read=read,
    reload="replace",
    order=40,
    known=(PROVIDERS,),  # a provider the database does not hold is a problem (load it first)
)
