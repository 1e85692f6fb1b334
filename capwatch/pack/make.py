"""Make review packs: one provider's, or every provider's with given verdicts, audited.

Every pack made is written to the audit log (action `pack`: who, which provider, the format,
the file's SHA-256) before its bytes are handed back: a pack that cannot be audited is not
made. The access scope is the caller's `Filters.scope_regions`, applied by the analytics.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import polars as pl

from capwatch import audit
from capwatch.analytics.filters import Filters
from capwatch.analytics.pack import PackError, ReviewPack, review_pack
from capwatch.db import Database
from capwatch.pack.html import render_html
from capwatch.pack.render import Printer, printer

PackFormat = Literal["pdf", "html"]
FORMATS: tuple[str, ...] = ("pdf", "html")


@dataclass(frozen=True)
class MadePack:
    """One pack's bytes and what the audit log says of it."""

    provider_code: str
    provider_name: str
    fmt: PackFormat
    content: bytes
    sha256: str

    @property
    def file_name(self) -> str:
        return f"review_pack_{self.provider_code}.{self.fmt}"


def _title(pack: ReviewPack) -> str:
    return f"Contract review pack: {pack.provider_code} {pack.provider_name}"


def render(
    pack: ReviewPack, fmt: PackFormat, made: datetime, with_printer: Printer | None = None
) -> bytes:
    """The pack as PDF (charts as inline SVG; needs a `Printer`, opened here if not given) or
    HTML bytes."""
    if fmt == "html":  # plotly.js inline: opens offline in any browser, no Chromium needed
        return render_html(pack, made).encode("utf-8")
    if with_printer is not None:
        return with_printer.pdf(render_html(pack, made, with_printer.svg), made, _title(pack))
    with printer() as fresh:
        return fresh.pdf(render_html(pack, made, fresh.svg), made, _title(pack))


def make_pack(
    db: Database,
    filters: Filters,
    provider_code: str,
    *,
    fmt: PackFormat = "pdf",
    who: str,
    page: str,
    made: datetime | None = None,
    with_printer: Printer | None = None,
    audit_path: Path | None = None,
    as_of: date | None = None,
    verdict_settings: Mapping[str, float] | None = None,
) -> MadePack:
    """One provider's pack under the filters (and their access scope), its verdict as of
    `as_of` with `verdict_settings`, recorded in the audit log. `PackError` when the provider
    is unknown or outside the scope."""
    pack = review_pack(db, filters, provider_code, as_of=as_of, verdict_settings=verdict_settings)
    return made_from(pack, fmt=fmt, who=who, page=page, made=made, with_printer=with_printer,
                     audit_path=audit_path)  # fmt: skip


def made_from(
    pack: ReviewPack,
    *,
    fmt: PackFormat,
    who: str,
    page: str,
    made: datetime | None = None,
    with_printer: Printer | None = None,
    audit_path: Path | None = None,
) -> MadePack:
    """A gathered pack rendered and recorded in the audit log."""
    at = made or datetime.now(UTC).replace(microsecond=0)
    content = render(pack, fmt, at, with_printer)
    digest = hashlib.sha256(content).hexdigest()
    audit.record(
        "pack",
        who,
        page=page,
        what={"provider": pack.provider_code, "format": fmt, "sha256": digest,
              "bytes": len(content)},
        path=audit_path,
    )  # fmt: skip
    return MadePack(pack.provider_code, pack.provider_name, fmt, content, digest)


def make_packs(
    db: Database,
    filters: Filters,
    codes: Sequence[str],
    *,
    fmt: PackFormat,
    who: str,
    page: str,
    with_printer: Printer | None,
    audit_path: Path | None = None,
) -> Iterator[MadePack]:
    """Several providers' packs, in order. The next pack's figures are gathered in a worker
    thread while Chromium draws and prints the current one (DuckDB and Polars release the
    GIL), so the two cores work at once."""
    if not codes:
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(review_pack, db, filters, codes[0])
        for i in range(len(codes)):
            pack = upcoming.result()
            if i + 1 < len(codes):
                upcoming = pool.submit(review_pack, db, filters, codes[i + 1])
            yield made_from(pack, fmt=fmt, who=who, page=page, with_printer=with_printer,
                            audit_path=audit_path)  # fmt: skip


def providers_with_verdicts(db: Database, filters: Filters, wanted: Iterable[str]) -> list[str]:
    """Provider codes (sorted) whose contract has one of the verdicts, inside the scope."""
    from capwatch.analytics.pack import verdict_frame
    from capwatch.analytics.utilisation import provider_attributes

    chosen = {w.strip().lower() for w in wanted if w.strip()}
    frame = verdict_frame(db, filters)
    visible = provider_attributes(db, filters)["provider_code"]
    hits = frame.filter(pl.col("verdict").is_in(sorted(chosen)) & pl.col("provider_code").is_in(
        visible.to_list()))  # fmt: skip
    return sorted(set(hits["provider_code"].to_list()))


@contextmanager
def batch(fmt: PackFormat) -> Iterator[Printer | None]:
    """One Chromium for a run of PDF packs (none for HTML)."""
    with printer() if fmt == "pdf" else nullcontext() as p:
        yield p


__all__ = [
    "FORMATS",
    "MadePack",
    "PackError",
    "PackFormat",
    "batch",
    "make_pack",
    "make_packs",
    "providers_with_verdicts",
    "render",
]
