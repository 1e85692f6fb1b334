"""Every file read lives here: find input files, then scan each into a lazy frame of text.

Columns come back under their contract names, all as strings (types are the normaliser's job),
with `_row`: the row number a person sees in the file or spreadsheet (header = row 1).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from capwatch.contract import InputTable, header_key, table_for_file
from pipelines.problems import FileRejected, Problem

SUFFIXES = (".csv", ".txt", ".xlsx", ".parquet")
TEMPLATES_DIR = "templates"  # data/templates holds example files; a folder scan skips it
ROW = "_row"
_SNIFF_BYTES = 1 << 16


@dataclass
class ScannedFile:
    """A file ready to normalise: its lazy frame, and notes made while reading it.

    `frame` has the wholly blank rows taken out; `with_blank_rows` still has them, for a
    consumer that can drop them more cheaply after aggregating (see `not_blank`).
    """

    path: Path
    table: InputTable
    frame: pl.LazyFrame
    notes: list[str] = field(default_factory=list)
    cleanup: list[Path] = field(default_factory=list)
    text_source: Path | None = None  # the UTF-8 text a CSV was read from (maybe transcoded)
    separator: str = ","
    with_blank_rows: pl.LazyFrame | None = None
    headers: list[str] = field(default_factory=list)  # the file's headers, in file order
    columns: dict[str, str] = field(default_factory=dict)  # header -> contract column name

    def close(self) -> None:
        for p in self.cleanup:
            p.unlink(missing_ok=True)


def discover(paths: list[Path]) -> tuple[list[tuple[Path, InputTable]], list[Problem]]:
    """Input files under `paths` (folders read recursively) with their table, in load order.

    Reference tables come before capacity and activity whatever order the files are given in.
    In a folder, hidden files, Excel lock files, files of other types and any `templates`
    folder are passed over; a file named on its own is always read (or rejected).
    """
    from capwatch.contract import LOAD_ORDER
    from pipelines.published.readers import order as published_order
    from pipelines.published.readers import recognise as recognise_published

    found: list[tuple[Path, InputTable]] = []
    problems: list[Problem] = []
    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), None, None, "no such file or folder"))
            continue
        files = (
            sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and TEMPLATES_DIR not in p.relative_to(path).parts[:-1]
            )
            if path.is_dir()
            else [path]
        )
        for f in files:
            if f.name.startswith((".", "~$")):
                continue
            published = recognise_published(f) if table_for_file(f.name) is None else None
            if published is not None:  # a published file (DM01, ODS): known by its content
                found.append((f, published))
                continue
            if path.is_dir() and f.suffix.lower() not in SUFFIXES:
                continue
            if f.suffix.lower() not in SUFFIXES:
                problems.append(
                    Problem(str(f), None, None, "not a CSV, Excel (.xlsx) or Parquet file")
                )
                continue
            table = table_for_file(f.name)
            if table is None:
                problems.append(
                    Problem(
                        str(f),
                        None,
                        None,
                        "the file name does not start with a table name (one of "
                        + ", ".join(LOAD_ORDER)
                        + ")",
                    )
                )
                continue
            found.append((f, table))
    order = LOAD_ORDER + published_order()
    found.sort(key=lambda ft: (order.index(ft[1].name), str(ft[0])))
    return found, problems


@dataclass(frozen=True)
class Fingerprint:
    """What one read of a file's bytes tells: its content hash and whether it is UTF-8."""

    sha256: str
    is_utf8: bool


def fingerprint(path: Path) -> Fingerprint:
    """SHA-256 of the file's bytes and whether they are valid UTF-8, in a single read."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            if is_utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                # ASCII needs no decoding (most returns are ASCII: 10x faster to check)
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    return Fingerprint(digest.hexdigest(), is_utf8)


# Leading bytes of formats a data manager may send under the wrong extension.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"PAR1", "a Parquet file"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
)
_EXPECTED = {
    ".csv": "a CSV text file",
    ".txt": "a CSV text file",
    ".xlsx": "an Excel workbook (.xlsx)",
    ".parquet": "a Parquet file",
}
_SAVE_AS = {
    ".csv": "save it as CSV (comma-separated text)",
    ".txt": "save it as CSV (comma-separated text)",
    ".xlsx": "save it from Excel as .xlsx (Excel Workbook)",
    ".parquet": "write it as Parquet",
}


def _sniff_kind(path: Path) -> str | None:
    """What the file's first bytes say it is, if they are a known binary format."""
    with path.open("rb") as fh:
        head = fh.read(8)
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def _check_kind(path: Path) -> None:
    """Reject a file whose content is not what its extension says, naming what it is."""
    suffix = path.suffix.lower()
    kind = _sniff_kind(path)
    if suffix == ".xlsx":
        ok = kind is not None and kind.startswith("an Excel workbook (.xlsx)")
    elif suffix == ".parquet":
        ok = kind == "a Parquet file"
    else:
        ok = kind is None
    if ok:
        return
    actual = kind or "text or an unknown format"
    raise FileRejected(
        [
            Problem(
                str(path),
                None,
                None,
                f"the file is named {suffix} but its content is {actual}, not "
                f"{_EXPECTED[suffix]}: {_SAVE_AS[suffix]}, or give it the extension "
                "that matches its content",
            )
        ]
    )


def scan(path: Path, table: InputTable, print_: Fingerprint | None = None) -> ScannedFile:
    """Scan one file into text columns named by the contract. Raises FileRejected.

    `print_` is the file's fingerprint if the caller has read it already (saves a read).
    """
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise FileRejected([Problem(str(path), None, None, "the file is empty")])
    _check_kind(path)
    if suffix in (".csv", ".txt"):
        return _scan_csv(path, table, (print_ or fingerprint(path)).is_utf8)
    if suffix == ".xlsx":
        return _scan_excel(path, table)
    return _scan_parquet(path, table)


def _rename(path: Path, table: InputTable, headers: list[str], header_row: int) -> dict[str, str]:
    """Map the file's headers to contract names, or reject the file with what to fix."""
    wanted = {header_key(c.name): c.name for c in table.columns}
    for c in table.columns:
        wanted.update({header_key(a): c.name for a in c.aliases})
    mapping: dict[str, str] = {}
    extra: list[str] = []
    problems: list[Problem] = []
    for h in headers:
        name = wanted.get(header_key(h))
        if name is None:
            extra.append(h)
        elif name in mapping.values():
            problems.append(
                Problem(str(path), header_row, h, f"a second column for {name}; keep one")
            )
        else:
            mapping[h] = name
    for missing in (c for c in table.required if c not in mapping.values()):
        guess = _close_header(missing, extra, cutoff=0.6)
        msg = f"required column {missing} is missing"
        if guess is not None:
            msg += f" (is {guess!r} meant to be {missing}?)"
        problems.append(Problem(str(path), header_row, missing, msg))
    # A misspelt optional column would otherwise be ignored and its default used silently
    # (a misspelt `units` would count every row as 1), so it is an error too.
    for optional in (c.name for c in table.columns if c.name not in mapping.values()):
        if optional in table.required:
            continue
        guess = _close_header(optional, extra)
        if guess is not None:
            problems.append(
                Problem(
                    str(path),
                    header_row,
                    guess,
                    f"column {guess!r} is not in the contract; is it meant to be {optional}? "
                    f"Rename it to {optional}, or remove it",
                )
            )
    if problems:
        raise FileRejected(problems)
    return mapping


def _close_header(name: str, candidates: list[str], cutoff: float = 0.75) -> str | None:
    """The candidate header closest to `name` (compared as header keys), if close enough.

    A missing required column is looked for more loosely (0.6) than a misspelt optional one.
    """
    hint = difflib.get_close_matches(
        header_key(name), [header_key(e) for e in candidates], n=1, cutoff=cutoff
    )
    return next((e for e in candidates if hint and header_key(e) == hint[0]), None)


def _text_frame(
    lf: pl.LazyFrame, path: Path, table: InputTable, headers: list[str], header_row: int
) -> ScannedFile:
    mapping = _rename(path, table, headers, header_row)
    extra = [h for h in headers if h not in mapping]
    lf = lf.select(
        pl.col(ROW),
        *(pl.col(src).cast(pl.String).alias(dst) for src, dst in mapping.items()),
    )
    notes = [f"ignored column(s) not in the contract: {', '.join(extra)}"] if extra else []
    return ScannedFile(
        path,
        table,
        lf.filter(not_blank(list(mapping.values()))),
        notes,
        with_blank_rows=lf,
        headers=list(headers),
        columns=mapping,
    )


def not_blank(columns: list[str]) -> pl.Expr:
    """True for a row with a value in any column. Wholly blank rows (an empty line, a row of
    separators) are not data; the row numbers of the rows kept still count them, so messages
    match what the user sees in the file."""
    return pl.any_horizontal(pl.col(c).str.strip_chars().str.len_chars() > 0 for c in columns)


def _transcode(path: Path, encoding: str) -> Path:
    """Copy a non-UTF-8 text file to a temporary UTF-8 file, streaming."""
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed by ScannedFile
        "w", encoding="utf-8", suffix=".csv", delete=False, newline=""
    )
    with tmp, path.open(encoding=encoding, errors="strict", newline="") as src:
        for chunk in iter(lambda: src.read(1 << 20), ""):
            tmp.write(chunk)
    return Path(tmp.name)


def _sniff_separator(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _scan_csv(path: Path, table: InputTable, is_utf8: bool) -> ScannedFile:
    """A CSV as text columns; text that is not UTF-8 is read as Windows-1252 (Excel's CSV)."""
    source = path
    cleanup: list[Path] = []
    encoding = "utf8" if is_utf8 else "cp1252"
    if encoding != "utf8":
        try:
            source = _transcode(path, encoding)
        except UnicodeDecodeError as exc:
            raise FileRejected(
                [Problem(str(path), None, None, "the file is not text (UTF-8 or Windows-1252)")]
            ) from exc
        cleanup.append(source)
    with source.open(encoding="utf-8-sig", newline="") as fh:
        head = fh.read(_SNIFF_BYTES)
    if "\x00" in head:
        raise FileRejected([Problem(str(path), None, None, "the file is not a text CSV file")])
    lines = head.splitlines()
    if not lines or not lines[0].strip():
        raise FileRejected([Problem(str(path), 1, None, "the first line has no column headers")])
    sep = _sniff_separator(lines[0])
    lf = pl.scan_csv(
        source,
        separator=sep,
        infer_schema=False,
        has_header=True,
        row_index_name=ROW,
        row_index_offset=2,
        truncate_ragged_lines=False,
    )
    try:
        headers = [h for h in lf.collect_schema().names() if h != ROW]
    except pl.exceptions.PolarsError as exc:
        raise FileRejected([Problem(str(path), None, None, f"cannot read as CSV: {exc}")]) from exc
    scanned = _text_frame(lf, path, table, headers, 1)
    scanned.cleanup = cleanup
    scanned.text_source = source
    scanned.separator = sep
    cut = _cut_off_last_row(path, source, sep, len(headers))
    if cut is not None:
        scanned.close()
        raise FileRejected([cut])
    if encoding != "utf8":
        scanned.notes.append("read as Windows-1252 text")
    if sep != ",":
        scanned.notes.append(f"columns separated by {sep!r}")
    return scanned


def _cut_off_last_row(path: Path, source: Path, sep: str, columns: int) -> Problem | None:
    """A file cut off mid-row: no final line break, and the last row is short of values.

    Only the file's tail is read unless it looks cut off; then the file is read again (with
    Python's csv reader) to number the row. A last row that is complete but lacks a final
    line break is normal (many tools write files that way) and is accepted.
    """
    with source.open("rb") as fh:
        fh.seek(max(0, source.stat().st_size - _SNIFF_BYTES))
        tail = fh.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    last_line = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    if last_line.count(sep) >= columns - 1 and last_line.count('"') % 2 == 0:
        return None
    row, values = 0, columns
    with source.open(encoding="utf-8-sig", newline="") as fh:
        try:
            for record in csv.reader(fh, delimiter=sep, strict=True):
                row, values = row + 1, len(record)
        except csv.Error:
            return Problem(
                str(path),
                row + 1,
                None,
                "the file ends inside a quoted value: it looks cut off; send the complete file",
            )
    if values >= columns:
        return None
    return Problem(
        str(path),
        row,
        None,
        f"the last row has {values} of {columns} values and no line break after it: the file "
        "looks cut off; send the complete file",
    )


def locate_csv_problem(scanned: ScannedFile) -> Problem | None:
    """Find the row a CSV parser stumbled on: too many values, or a quote never closed.

    Used only after the fast reader has failed, so the slow row-by-row pass is rare.
    """
    if scanned.text_source is None:
        return None
    path = str(scanned.path)
    sep = scanned.separator
    row = 1
    with scanned.text_source.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, strict=True)
        try:
            columns = len(next(reader))
            for row, record in enumerate(reader, start=2):
                if len(record) > columns:
                    return Problem(
                        path,
                        row,
                        None,
                        f"the row has {len(record)} values but the header has {columns}: "
                        f"remove the extra values, or put text that contains {sep!r} in "
                        'double quotes ("...")',
                    )
        except StopIteration:
            return None
        except csv.Error as exc:
            return Problem(
                path,
                row + 1,
                None,
                f"the row cannot be read as CSV ({exc}): check its double quotes; a quote "
                'inside a quoted value is written twice ("")',
            )
    return None


def _scan_excel(path: Path, table: InputTable) -> ScannedFile:
    """Read the first sheet whose header row (within the first 20 rows) names the columns."""
    try:
        # Empty rows are kept so that row numbers match the spreadsheet's; blank rows are
        # dropped later, after numbering.
        sheets = pl.read_excel(
            path, sheet_id=0, has_header=False, infer_schema_length=0, drop_empty_rows=False
        )
    except Exception as exc:  # fastexcel raises its own types for a corrupt workbook
        raise FileRejected(
            [Problem(str(path), None, None, f"cannot read as an Excel workbook: {exc}")]
        ) from exc
    wanted = {header_key(name) for name in table.required}
    best: tuple[int, str, int] | None = None
    for sheet_name, raw in sheets.items():
        for i, row in enumerate(raw.head(20).iter_rows()):
            found = {header_key(str(v)) for v in row if v is not None}
            score = len(wanted & found)
            if best is None or score > best[0]:
                best = (score, sheet_name, i)
    if best is None or best[0] == 0:
        raise FileRejected(
            [Problem(str(path), None, None, "no sheet has a header row with the expected columns")]
        )
    full = [name for name, raw in sheets.items() if _has_full_header(raw, wanted)]
    if len(full) > 1:
        raise FileRejected(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"{len(full)} sheets ({', '.join(repr(n) for n in full)}) each hold a "
                    f"{table.name} table; put each in a file of its own, or combine them in "
                    "one sheet",
                )
            ]
        )
    _, sheet_name, header_index = best
    raw = sheets[sheet_name]
    header_values = [str(v).strip() if v is not None else "" for v in raw.row(header_index)]
    body = raw.slice(header_index + 1)
    keep = [i for i, h in enumerate(header_values) if h]
    headers = [header_values[i] for i in keep]
    frame = body.select(
        [pl.col(body.columns[i]).alias(header_values[i]) for i in keep]
    ).with_row_index(ROW, offset=header_index + 2)
    frame = frame.with_columns(pl.col(ROW).cast(pl.Int64))
    # Excel leaves blank rows after the data; they are not data.
    frame = frame.filter(pl.any_horizontal(pl.col(h).is_not_null() for h in headers))
    scanned = _text_frame(frame.lazy(), path, table, headers, header_index + 1)
    note = f"read sheet {sheet_name!r}"
    if header_index:
        note += f", header on row {header_index + 1}"
    scanned.notes.append(note)
    return scanned


def _has_full_header(raw: pl.DataFrame, wanted: set[str]) -> bool:
    return any(
        wanted <= {header_key(str(v)) for v in row if v is not None}
        for row in raw.head(20).iter_rows()
    )


def _scan_parquet(path: Path, table: InputTable) -> ScannedFile:
    try:
        lf = pl.scan_parquet(path)
        headers = lf.collect_schema().names()
    except pl.exceptions.PolarsError as exc:
        raise FileRejected(
            [Problem(str(path), None, None, f"cannot read as Parquet: {exc}")]
        ) from exc
    lf = lf.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    return _text_frame(lf, path, table, headers, 1)
