"""`capwatch pack`: the contract review pack of one provider, or of every provider with the
given verdicts, as PDF (printed by Chromium) or self-contained HTML.

Registered on the main CLI by `capwatch.cli`; the heavy imports wait until the command runs.
The command line is local and sees every region (as the app does without sign-in); each pack
is written to the audit log as made by `cli:<user>`.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from capwatch import config
from capwatch.errors import CapwatchError


class PackUsageError(CapwatchError):
    """The options do not name one pack or one set of packs."""


def pack(
    provider: Annotated[
        str | None,
        typer.Argument(
            help="Provider code (e.g. NX1); omit it with --verdict.", show_default=False
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="The file to write (one provider), or the folder (with --verdict: one file "
            "per provider, review_pack_<CODE>.pdf).",
        ),
    ] = Path("review_pack.pdf"),
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="pdf (A4, printed by Chromium) or html (one self-contained file). Default: "
            "from --out's extension, else pdf.",
            show_default=False,
        ),
    ] = None,
    verdict: Annotated[
        str | None,
        typer.Option(
            "--verdict",
            help="Comma-separated verdicts (e.g. release,challenge): a pack for every provider "
            "whose active contract has one of them.",
            show_default=False,
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help=f"DuckDB file. Default: ${config.DB_ENV_VAR}, else {config.DEFAULT_DB}.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the contract review pack: the verdict, the key figures by service line and
    against peers, the charts, every flag, the method and the lineage of every figure."""
    from capwatch import outputs
    from capwatch.analytics.filters import Filters
    from capwatch.analytics.pack import verdict_names
    from capwatch.db import Database
    from capwatch.pack.make import PackFormat, batch, make_packs, providers_with_verdicts

    chosen = fmt or ("html" if out.suffix.lower() in (".html", ".htm") else "pdf")
    if chosen not in ("pdf", "html"):
        raise PackUsageError("--format must be pdf or html")
    file_format: PackFormat = "html" if chosen == "html" else "pdf"
    if (provider is None) == (verdict is None):
        raise PackUsageError("name one PROVIDER, or give --verdict (e.g. release,challenge)")
    db_path = config.resolve_db_path(db)
    if not db_path.exists():
        raise PackUsageError(f"no database at {db_path} (run `capwatch demo --build-only`)")
    if provider is not None:  # never over the database, its log or a device; by rename
        outputs.check_output(out, db_path)
    elif out.exists() and not out.is_dir():
        raise PackUsageError(f"--out {out} is a file: with --verdict, name a folder")
    who = f"cli:{getpass.getuser()}"
    reader = Database(db_path)
    try:
        filters = Filters()
        if provider is not None:
            codes = [provider]
        else:
            wanted = [v.strip().lower() for v in (verdict or "").split(",") if v.strip()]
            known = verdict_names()
            unknown = [v for v in wanted if known and v not in known]
            if not wanted or unknown:
                raise PackUsageError(
                    f"--verdict takes {', '.join(known) or 'verdict names'}; got {verdict!r}"
                )
            codes = providers_with_verdicts(reader, filters, wanted)
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise outputs.OutputFailed(f"cannot make {out}: {exc.strerror or exc}") from None
        with batch(file_format) as printer:
            for made in make_packs(reader, filters, codes, fmt=file_format, who=who, page="cli",
                                   with_printer=printer):  # fmt: skip
                target = out if provider is not None else out / made.file_name
                if provider is None:
                    outputs.check_output(target, db_path)
                outputs.write_bytes(target, made.content)
                typer.echo(f"wrote {target} ({len(made.content):,} bytes, sha256 {made.sha256})")
    finally:
        reader.close()
    if provider is None:
        typer.echo(f"{len(codes)} packs ({verdict}) in {out}")
