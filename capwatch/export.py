"""Tables out, as CSV or Excel: whole views from the command line, frames from the dashboard.

CSV is UTF-8 with a byte-order mark, the mark Excel needs to read UTF-8 (without it Excel on
Windows reads the file in the local code page and `£` shows as `Â£`); dates are ISO and
numbers unformatted. Formula injection (OWASP): a CSV text cell that starts with =, +, -, @,
a tab or a carriage return would be run by a spreadsheet, so it is written with a leading
apostrophe, which Excel shows as text; numbers are never touched. Excel workbooks
(`capwatch.xlsx`) store such text as text instead, with a provenance sheet.
"""

from __future__ import annotations

import contextlib
import getpass
import io
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from capwatch import __version__, outputs, schema, xlsx
from capwatch import db as database
from capwatch.errors import CapwatchError

FORMULA_START = r"^[=+\-@\t\r]"
BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark
Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
BATCH_ROWS = 65_536


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix an apostrophe to text cells a spreadsheet would read as a formula."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then("'" + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """A frame as CSV bytes (byte-order mark, formula-safe text, unformatted numbers)."""
    return BOM + neutralise_formulas(frame).write_csv(date_format="%Y-%m-%d").encode("utf-8")


# -- provenance --------------------------------------------------------------------------


@dataclass(frozen=True)
class Loads:
    """Which loads the database holds: every stored row carries one of these load ids."""

    ids: tuple[int, ...]
    last_loaded: datetime | None

    def describe(self) -> str:
        """e.g. `load ids 1-12 (12 files; last loaded 2026-11-29 15:02 UTC)`."""
        if not self.ids:
            return "nothing loaded"
        runs: list[list[int]] = []
        for i in self.ids:
            if runs and i == runs[-1][-1] + 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        spans = ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
        word = "id" if len(self.ids) == 1 else "ids"
        files = f"{len(self.ids)} file{'' if len(self.ids) == 1 else 's'}"
        when = f"; last loaded {self.last_loaded:%Y-%m-%d %H:%M} UTC" if self.last_loaded else ""
        return f"load {word} {spans} ({files}{when})"


def loads(db: database.Database) -> Loads:
    """The load ids in the database, in order, and when the last one committed."""
    frame = db.query("SELECT load_id, loaded_at FROM load_log ORDER BY load_id")
    return Loads(
        ids=tuple(int(i) for i in frame["load_id"].to_list()),
        last_loaded=frame["loaded_at"].max() if frame.height else None,  # type: ignore[arg-type]
    )


SYNTHETIC_NOTE = (
    "SYNTHETIC: fictional providers and contracts made by `capwatch generate` / `demo`; "
    "not real NHS data"
)


def provenance(
    title: str,
    *,
    rows: int,
    filters: Sequence[tuple[str, str]] | None,
    data: Loads | None,
    extra: Sequence[tuple[str, str]] = (),
    made_for: str | None = None,
    made_at: datetime | None = None,
    synthetic: bool = False,
) -> xlsx.Provenance:
    """What a workbook holds and where it came from (the `About` sheet). `filters` are the
    lines that describe the filters behind it (`Filters.provenance()`), None for every row;
    `synthetic` says the data are the demo's fictional world (`SYNTHETIC_NOTE`)."""
    made = (made_at or datetime.now(UTC)).astimezone(UTC)
    return xlsx.Provenance(
        title=title,
        items=(
            ("What", title),
            *([("Synthetic data", SYNTHETIC_NOTE)] if synthetic else []),
            ("Rows", f"{rows:,}"),
            *(filters if filters is not None else [("Filters", "none: every row")]),
            *extra,
            ("Made", f"{made:%Y-%m-%d %H:%M:%S} UTC"),
            ("Made by", f"capwatch {__version__}" + (f" for {made_for}" if made_for else "")),
            *([("Data", data.describe())] if data is not None else []),
            (
                "Reading it",
                "Numbers are unrounded; money is in £; percentages are ratios shown as %; "
                "the column names are those of the data dictionary (`capwatch schema`).",
            ),
        ),
    )


# -- frames (pages, flags) ---------------------------------------------------------------


def write_frame_xlsx(frame: pl.DataFrame, out: Path, what: str, about: xlsx.Provenance) -> int:
    """Write a frame as a workbook (`capwatch.xlsx`); returns the rows written."""
    table = frame.to_arrow()
    return xlsx.write_workbook(
        out, what, table.schema, table.to_batches(BATCH_ROWS), about, rows=frame.height
    )


def xlsx_bytes(frame: pl.DataFrame, what: str, about: xlsx.Provenance) -> bytes:
    """A frame as workbook bytes for a download button."""
    with tempfile.TemporaryDirectory(prefix="capwatch-xlsx-") as folder:
        out = Path(folder) / "table.xlsx"
        write_frame_xlsx(frame, out, what, about)
        return out.read_bytes()


def write_frame(
    frame: pl.DataFrame, out: Path, fmt: Format, what: str, about: xlsx.Provenance
) -> int:
    """Write a frame to `out` as CSV or a workbook; returns the rows written."""
    if fmt == "xlsx":
        return write_frame_xlsx(frame, out, what, about)
    outputs.write_bytes(out, csv_bytes(frame))
    return frame.height


def template_csv_bytes(template_csv: str) -> bytes:
    """An input template's CSV text as a download (with the byte-order mark: the contracts
    example holds `£`)."""
    return BOM + template_csv.encode("utf-8")


def template_xlsx_bytes(table: str, template_csv: str) -> bytes:
    """An input template as a workbook: the header and the example row, every cell text (the
    examples show forms a return may use, such as `£9,500,000` or `30/09/2020`)."""
    frame = pl.read_csv(io.StringIO(template_csv), infer_schema=False)
    about = provenance(
        f"Input template for {table}",
        rows=frame.height,
        filters=None,
        data=None,
        extra=(
            (
                "Use",
                f"One row per {table} record under the header; the example row shows forms "
                "that are accepted. Load the file with `capwatch ingest` (as CSV or as this "
                "workbook: the first sheet is read).",
            ),
        ),
    )
    return xlsx_bytes(frame, table, about)


# -- Arrow result files (ad hoc SQL) -----------------------------------------------------


@contextlib.contextmanager
def _arrow_stream(path: Path) -> Iterator[pa.RecordBatchStreamReader]:
    with pa.OSFile(str(path), "rb") as source:
        yield ipc.open_stream(source)


def arrow_csv_bytes(path: Path) -> bytes:
    """An Arrow IPC stream file (a sandbox result) as CSV bytes, like `csv_bytes`."""
    with _arrow_stream(path) as reader:
        frame = pl.from_arrow(reader.read_all())
    assert isinstance(frame, pl.DataFrame)
    return csv_bytes(frame)


def arrow_to_xlsx(path: Path, out: Path, what: str, about: xlsx.Provenance, rows: int) -> int:
    """An Arrow IPC stream file as a workbook, batch by batch; returns the rows written."""
    with _arrow_stream(path) as reader:
        return xlsx.write_workbook(out, what, reader.schema, reader, about, rows=rows)


def arrow_xlsx_bytes(path: Path, what: str, about: xlsx.Provenance, rows: int) -> bytes:
    """An Arrow IPC stream file as workbook bytes for a download button."""
    with tempfile.TemporaryDirectory(prefix="capwatch-xlsx-") as folder:
        out = Path(folder) / "table.xlsx"
        arrow_to_xlsx(path, out, what, about, rows)
        return out.read_bytes()


# -- documented views and tables (`capwatch export`) -------------------------------------


def _safe_select(columns: list[tuple[str, str]]) -> str:
    exprs = []
    for name, type_ in columns:
        q = schema.quote(name)
        if type_.upper().startswith("VARCHAR"):
            exprs.append(
                f"CASE WHEN regexp_matches({q}, '{FORMULA_START}') THEN '''' || {q} ELSE {q} END"
                f" AS {q}"
            )
        else:
            exprs.append(q)
    return ", ".join(exprs)


def _order_by(rel: schema.Relation) -> str:
    """A stable order: the primary key, else every column (names from the dictionary)."""
    keys = rel.primary_key or tuple(rel.column_names)
    return ", ".join(schema.quote(k) for k in keys)


def export_relation(db_path: Path, name: str, out: Path, fmt: Format = "csv") -> int:
    """Stream every row of a documented table or view to CSV or Excel; returns the row count.

    Rows come in a stable order (the relation's key). A view with more rows than an Excel
    sheet holds is refused for `xlsx` before anything is written.
    """
    try:
        rel = schema.relation(name)
    except KeyError as exc:
        raise CapwatchError(str(exc.args[0])) from exc
    # names come from the dictionary; belt and braces
    if not re.fullmatch(r"[a-z][a-z0-9_]*", rel.name):
        raise CapwatchError(f"cannot export {name!r}")
    reader = database.Database(db_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt == "xlsx":
            return _relation_xlsx(reader, rel, out, db_path)
        return _relation_csv(reader, rel, out)
    finally:
        reader.close()


def _relation_csv(reader: database.Database, rel: schema.Relation, out: Path) -> int:
    with outputs.temp_beside(out) as tmp:
        body = tmp.with_name(tmp.name + ".body")  # DuckDB's CSV, before the byte-order mark
        try:
            with contextlib.closing(reader.cursor()) as cur:
                cols = [(r[0], r[1]) for r in cur.execute(f"DESCRIBE {rel.name}").fetchall()]
                cur.execute(
                    f"COPY (SELECT {_safe_select(cols)} FROM {rel.name} "
                    f"ORDER BY {_order_by(rel)}) TO ? (HEADER, DELIMITER ',', "
                    "DATEFORMAT '%Y-%m-%d')",
                    [str(body)],
                )
                rows = int(cur.fetchall()[0][0])
            with tmp.open("wb") as fh, body.open("rb") as src:
                fh.write(BOM)
                shutil.copyfileobj(src, fh, 1 << 20)
        finally:
            body.unlink(missing_ok=True)
    return rows


def _relation_xlsx(
    reader: database.Database, rel: schema.Relation, out: Path, db_path: Path
) -> int:
    rows = int(reader.scalar(f"SELECT count(*) FROM {rel.name}"))
    xlsx.check_rows(rows)
    about = provenance(
        f"{rel.name}: {rel.description}",
        rows=rows,
        filters=None,
        data=loads(reader),
        extra=(("Source", f"{rel.kind} `{rel.name}` in {db_path.name}"), ("Grain", rel.grain)),
        made_for=_user(),
    )
    with contextlib.closing(reader.cursor()) as cur:
        rows_in_order = cur.sql(f"SELECT * FROM {rel.name} ORDER BY {_order_by(rel)}")
        batches = rows_in_order.to_arrow_reader(BATCH_ROWS)
        return xlsx.write_workbook(out, rel.name, batches.schema, batches, about, rows=rows)


def _user() -> str | None:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return None
