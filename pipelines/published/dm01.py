"""DM01, NHS England's "Monthly Diagnostics Web File – Provider", read as published.

One workbook per month (`.xls` as published, or `.xlsx`). The reader:
- recognises the workbook by its title block ("Title: Monthly Diagnostics"), never by its name;
- takes the period from the title block ("Period: June 2020") of each data sheet;
- finds the header row (the row naming the columns), so a title block of another length or a
  column in another place reads the same; a column missing from the header row rejects the file;
- reads one row per reporting organisation × test from the `Provider by Test` sheet;
- uses the file's own totals as checks, not data: each organisation's `Total` row (diagnostic
  ID 16), the England `Total` row, and the `Provider` sheet (one row per organisation) must all
  equal the sums of the test rows, measure by measure. A file that does not add up is rejected
  whole, saying where and by how much.

The result is one row per organisation × test (IDs 1–15) at the month's grain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from capwatch.contract import header_key
from pipelines.problems import FileRejected, Problem
from pipelines.published.regions import REGION_BY_CODE
from pipelines.published.workbook import Sheet, read_sheets, sheet_names

READER = "dm01_provider"
TABLE = "dm01_monthly"
TEST_SHEET = "Provider by Test"
PROVIDER_SHEET = "Provider"
TOTAL_ID = 16
_TITLE_ROWS = 40  # the header row is looked for in the first rows of a sheet

# The published headers, by the name capwatch gives each column.
_IDENTITY = {
    "region_code": "Regional Team Code",
    "region_name": "Regional Team Name",
    "org_code": "Provider Code",
    "org_name": "Provider Name",
}
_TEST = {"diagnostic_id": "Diagnostic ID", "test_name": "Diagnostic Test Name"}
MEASURES = {
    "waiting_list": "Total Waiting List",
    "waiting_6_plus": "Number waiting 6+ Weeks",
    "waiting_13_plus": "Number waiting 13+ Weeks",
    "planned_tests": "Planned tests / procedures",
    "unscheduled_tests": "Unscheduled tests / procedures",
    "waiting_list_tests": "Waiting list tests / procedures (excluding planned)",
}

# Diagnostic ID → (stable key, a word its published name must contain). The IDs are DM01's own.
TESTS: dict[int, tuple[str, str]] = {
    1: ("mri", "magnetic resonance"),
    2: ("ct", "computed tomography"),
    3: ("non_obstetric_ultrasound", "ultrasound"),
    4: ("barium_enema", "barium"),
    5: ("dexa", "dexa"),
    6: ("audiology", "audiology"),
    7: ("echocardiography", "echocardiography"),
    8: ("electrophysiology", "electrophysiology"),
    9: ("peripheral_neurophysiology", "neurophys"),
    10: ("sleep_studies", "sleep"),
    11: ("urodynamics", "urodynamics"),
    12: ("colonoscopy", "colonoscopy"),
    13: ("flexi_sigmoidoscopy", "sigmoidoscopy"),
    14: ("cystoscopy", "cystoscopy"),
    15: ("gastroscopy", "gastroscopy"),
}
# Short names some months publish instead (2017–18: `MRI`, `CT`); matched whole, never as a part.
_ABBREVIATIONS: dict[int, str] = {1: "mri", 2: "ct"}
_ORG_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
_REGION_CODE = re.compile(r"^[A-Z0-9]{3}$")
# From this month NHS England has the seven regions; before it, regions are kept as published.
SEVEN_REGIONS_FROM = date(2019, 4, 1)


@dataclass
class Dm01Month:
    """One published month, checked: its rows at the stored grain, and notes for the load log."""

    month: date
    frame: pl.DataFrame
    rows_read: int
    notes: list[str] = field(default_factory=list)


def recognise(path: Path) -> bool:
    """True if the workbook's title block says it is DM01 (`Title: Monthly Diagnostics`)."""
    try:
        names = sheet_names(path)
        sheets = read_sheets(path, names, n_rows=15)
    except FileRejected:
        return False
    return any(_title_value(s, "title") == "monthly diagnostics" for s in sheets.values())


def _title_value(sheet: Sheet, label: str) -> str | None:
    """The folded value beside `Label:` in the title block, if the block has that label."""
    found = _title_cell(sheet, label)
    if found is None:
        return None
    row, col = found
    value = sheet.cell(row, col + 1)
    return value.lower() if value else None


def _title_cell(sheet: Sheet, label: str) -> tuple[int, int] | None:
    head = sheet.frame.head(_TITLE_ROWS)
    for i, values in enumerate(head.iter_rows()):
        for j, v in enumerate(values):
            if v is not None and header_key(str(v)).rstrip(":") == label:
                return i + 1, j
    return None


class _Problems:
    """Collects problems for one file; each names the sheet, row and column."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[Problem] = []

    def add(self, sheet: Sheet | str, row: int | None, column: str | None, message: str) -> None:
        name = sheet.name if isinstance(sheet, Sheet) else sheet
        self.items.append(Problem(f"{self.path}, sheet {name!r}", row, column, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise FileRejected(self.items, total=len(self.items))


def read_dm01(path: Path) -> Dm01Month:
    """Read and check one DM01 provider workbook. Raises FileRejected with every problem."""
    problems = _Problems(path)
    names = sheet_names(path)
    for wanted in (TEST_SHEET, PROVIDER_SHEET):
        if wanted not in names:
            problems.add(
                wanted,
                None,
                None,
                f"the sheet {wanted!r} is missing (the workbook has "
                + ", ".join(repr(n) for n in names)
                + "); a DM01 provider file has 'Provider' and 'Provider by Test'",
            )
    problems.raise_if_any()
    sheets = read_sheets(path, [TEST_SHEET, PROVIDER_SHEET])
    by_test, provider = sheets[TEST_SHEET], sheets[PROVIDER_SHEET]
    basis = _title_value(by_test, "basis")
    if basis is not None and basis != "provider":
        found = _title_cell(by_test, "basis")
        assert found is not None
        problems.add(
            by_test,
            found[0],
            by_test.letters[found[1] + 1] if found[1] + 1 < len(by_test.letters) else None,
            f"this is DM01 on the {basis!r} basis; capwatch reads the 'Provider' basis "
            "(Monthly Diagnostics Web File – Provider)",
        )
        problems.raise_if_any()
    month = _period(by_test, problems)
    provider_month = _period(provider, problems)
    if month and provider_month and month != provider_month:
        problems.add(
            provider,
            None,
            None,
            f"its period ({provider_month:%B %Y}) is not that of {TEST_SHEET!r} ({month:%B %Y})",
        )
    tests = _table(by_test, {**_IDENTITY, **_TEST, **MEASURES}, problems)
    orgs = _table(provider, {**_IDENTITY, **MEASURES}, problems)
    problems.raise_if_any()
    assert month is not None and tests is not None and orgs is not None
    rows, org_totals, england, footnotes = _split_test_rows(by_test, tests, problems, month)
    provider_rows, provider_england, provider_notes = _split_provider_rows(provider, orgs, problems)
    problems.raise_if_any()
    has_org_totals = _check_sums(
        by_test, rows, org_totals, england, provider, provider_rows, provider_england, problems
    )
    problems.raise_if_any()
    frame = rows.select(
        pl.lit(month).alias("month"),
        "org_code",
        "org_name",
        "region_code",
        "region_name",
        (
            pl.col("region_code").replace_strict(REGION_BY_CODE, return_dtype=pl.String)
            if month >= SEVEN_REGIONS_FROM
            else pl.lit(None, dtype=pl.String)
        ).alias("region"),
        "diagnostic_id",
        pl.col("diagnostic_id")
        .replace_strict({k: v[0] for k, v in TESTS.items()}, return_dtype=pl.String)
        .alias("test"),
        "test_name",
        *MEASURES,
        pl.col("_row").alias("source_row"),
    ).sort("org_code", "diagnostic_id")
    notes = [
        f"DM01 {month:%B %Y}: {frame['org_code'].n_unique()} organisations, "
        f"{frame.height} organisation × test rows; organisation Total rows, the England Total "
        f"and the {PROVIDER_SHEET!r} sheet all agree"
    ]
    if not has_org_totals:
        notes[0] = notes[0].replace("organisation Total rows, the", "the")
        notes.append(
            "this month publishes no organisation Total rows (diagnostic ID 16); the test rows "
            f"were checked against the England Total and the {PROVIDER_SHEET!r} sheet"
        )
    if month < SEVEN_REGIONS_FROM:
        notes.append(
            f"{month:%B %Y} is before the seven regions of April 2019: the region is kept as "
            "published and each organisation is placed on the 2019 map by its own later returns"
        )
    if footnotes or provider_notes:
        notes.append(
            f"{footnotes + provider_notes} footnote rows below the data (text only, no provider "
            "code and no figures) skipped"
        )
    return Dm01Month(month, frame, frame.height, notes)


def _period(sheet: Sheet, problems: _Problems) -> date | None:
    found = _title_cell(sheet, "period")
    if found is None:
        problems.add(
            sheet, None, None, "the title block has no 'Period:' (e.g. 'Period: June 2020')"
        )
        return None
    row, col = found
    text = sheet.cell(row, col + 1) or ""
    for fmt in ("%B %Y", "%b %Y", "%B-%Y", "%b-%Y"):
        try:
            return datetime.strptime(re.sub(r"\s+", " ", text), fmt).date()
        except ValueError:
            continue
    problems.add(
        sheet,
        row,
        sheet.letters[col + 1] if col + 1 < len(sheet.letters) else None,
        f"the period {text!r} is not a month and year such as 'June 2020'",
    )
    return None


def _table(sheet: Sheet, wanted: dict[str, str], problems: _Problems) -> pl.DataFrame | None:
    """The rows below the header row, with the wanted columns named and `_row` added."""
    keys = {header_key(h): name for name, h in wanted.items()}
    head = sheet.frame.head(_TITLE_ROWS)
    best, best_row = -1, -1
    for i, values in enumerate(head.iter_rows()):
        score = sum(v is not None and header_key(str(v)) in keys for v in values)
        if score > best:
            best, best_row = score, i
    if best < 3:
        problems.add(
            sheet,
            None,
            None,
            "no header row naming the DM01 columns (e.g. 'Provider Code') was found",
        )
        return None
    header_row = best_row + 1
    positions: dict[str, int] = {}
    for j, v in enumerate(sheet.frame.row(best_row)):
        name = keys.get(header_key(str(v))) if v is not None else None
        if name is None:
            continue
        if name in positions:
            problems.add(sheet, header_row, sheet.letters[j], f"a second {wanted[name]!r} column")
        positions[name] = j
    for name, published in wanted.items():
        if name in positions:
            continue
        elsewhere = _find_text(head, published, skip_row=best_row)
        msg = f"the column {published!r} is missing from the header row {header_row}"
        if elsewhere is not None:
            where = f"row {elsewhere[0] + 1}, column {sheet.letters[elsewhere[1]]}"
            msg += f" (it is on {where}: was it moved?)"
        problems.add(sheet, header_row, published, msg)
    if len(positions) < len(wanted):
        return None
    body = sheet.frame.slice(best_row + 1)
    return body.select(
        pl.int_range(header_row + 1, header_row + 1 + body.height, dtype=pl.Int64).alias("_row"),
        *(pl.col(f"c{j}").str.strip_chars().alias(name) for name, j in positions.items()),
    ).with_columns(
        *(pl.lit(sheet.letters[j]).alias(f"_col_{name}") for name, j in positions.items())
    )


def _find_text(head: pl.DataFrame, text: str, skip_row: int) -> tuple[int, int] | None:
    key = header_key(text)
    for i, values in enumerate(head.iter_rows()):
        if i == skip_row:
            continue
        for j, v in enumerate(values):
            if v is not None and header_key(str(v)) == key:
                return i, j
    return None


def _column(frame: pl.DataFrame, name: str) -> str:
    """A column as a person finds it: its letter and its published header."""
    published = {**_IDENTITY, **_TEST, **MEASURES}[name]
    return f"{frame[f'_col_{name}'][0]} ({published})" if frame.height else published


def _numbers(sheet: Sheet, frame: pl.DataFrame, problems: _Problems) -> pl.DataFrame:
    """Measures as whole numbers ≥ 0; a cell that is not one is a problem at its place."""
    out = frame.with_columns(
        pl.col(m).cast(pl.Float64, strict=False).alias(f"_num_{m}") for m in MEASURES
    )
    for m, published in MEASURES.items():
        num = pl.col(f"_num_{m}")
        bad = out.filter(num.is_null() | (num < 0) | (num != num.round(0)))
        letter = frame[f"_col_{m}"][0] if frame.height else None
        for row, value in bad.select("_row", m).head(20).iter_rows():
            problems.add(
                sheet,
                row,
                f"{letter} ({published})",
                f"{value!r} is not a whole number of 0 or more" if value else "the cell is empty",
            )
    return out.with_columns(
        pl.col(f"_num_{m}").cast(pl.Int64, strict=False).alias(m) for m in MEASURES
    ).drop([f"_num_{m}" for m in MEASURES])


def _england_row(sheet: Sheet, frame: pl.DataFrame, problems: _Problems) -> pl.DataFrame:
    england = frame.filter(
        pl.col("org_code").is_null() & (pl.col("org_name").str.to_lowercase() == "total")
    )
    if england.height != 1:
        problems.add(
            sheet,
            None,
            None,
            f"expected one England 'Total' row below the header, found {england.height}",
        )
    return england


def _drop_footnotes(frame: pl.DataFrame, columns: tuple[str, ...]) -> tuple[pl.DataFrame, int]:
    """Blank rows out, and footnote rows: below the last row with a provider code, with no
    provider code and no figures (text in the first columns only). A row without a provider code
    that has figures, or sits among the data, stays and is a problem."""
    frame = frame.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in columns))
    coded = frame.filter(pl.col("org_code").is_not_null())
    if coded.is_empty():
        return frame, 0
    last = coded["_row"].max()
    footnote = (
        (pl.col("_row") > last)
        & pl.col("org_code").is_null()
        & pl.all_horizontal(pl.col(m).is_null() for m in MEASURES)
    )
    return frame.filter(~footnote), frame.filter(footnote).height


def _split_test_rows(
    sheet: Sheet, frame: pl.DataFrame, problems: _Problems, month: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, int]:
    """Test rows (IDs 1–15), organisation Total rows (ID 16), the England Total row, and how
    many footnote rows were skipped."""
    frame, footnotes = _drop_footnotes(frame, (*_IDENTITY, *_TEST, *MEASURES))
    england = _england_row(sheet, frame, problems)
    data = frame.filter(pl.col("org_code").is_not_null())
    stray = frame.filter(
        pl.col("org_code").is_null()
        & (pl.col("org_name").str.to_lowercase() != "total").fill_null(True)
    )
    for row in stray["_row"].head(20):
        problems.add(sheet, row, _column(frame, "org_code"), "a data row without a provider code")
    data = _identity_checks(sheet, data, problems, month)
    data = data.with_columns(
        pl.col("diagnostic_id")
        .cast(pl.Float64, strict=False)
        .cast(pl.Int64, strict=False)
        .alias("_id")
    )
    bad_id = data.filter(pl.col("_id").is_null() | ~pl.col("_id").is_between(1, TOTAL_ID))
    for row, value in bad_id.select("_row", "diagnostic_id").head(20).iter_rows():
        problems.add(
            sheet,
            row,
            _column(frame, "diagnostic_id"),
            f"diagnostic ID {value!r} is not one of 1–16",
        )
    data = (
        data.with_columns(pl.col("_id").alias("diagnostic_id"))
        .drop("_id")
        .filter(pl.col("diagnostic_id").is_between(1, TOTAL_ID))
    )
    for did, (_, word) in TESTS.items():
        wrong = data.filter(
            (pl.col("diagnostic_id") == did)
            & ~(
                pl.col("test_name")
                .str.to_lowercase()
                .str.replace_all("_", " ", literal=True)
                .str.contains(word, literal=True)
                | (pl.col("test_name").str.to_lowercase() == _ABBREVIATIONS.get(did, "\x00"))
            ).fill_null(False)
        )
        for row, name in wrong.select("_row", "test_name").head(5).iter_rows():
            problems.add(
                sheet,
                row,
                _column(frame, "test_name"),
                f"test {name!r} does not match diagnostic ID {did} ({word})",
            )
    dup = data.filter(pl.struct("org_code", "diagnostic_id").is_duplicated())
    for row, code, did in dup.select("_row", "org_code", "diagnostic_id").head(20).iter_rows():
        problems.add(
            sheet, row, _column(frame, "org_code"), f"a second row for {code}, diagnostic ID {did}"
        )
    data = _numbers(sheet, data, problems)
    england = _numbers(sheet, england, problems)
    totals = data.filter(pl.col("diagnostic_id") == TOTAL_ID)
    rows = data.filter(pl.col("diagnostic_id") != TOTAL_ID)
    return rows, totals, england, footnotes


def _split_provider_rows(
    sheet: Sheet, frame: pl.DataFrame, problems: _Problems
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    frame, footnotes = _drop_footnotes(frame, (*_IDENTITY, *MEASURES))
    england = _numbers(sheet, _england_row(sheet, frame, problems), problems)
    data = frame.filter(pl.col("org_code").is_not_null())
    dup = data.filter(pl.col("org_code").is_duplicated())
    for row, code in dup.select("_row", "org_code").head(20).iter_rows():
        problems.add(sheet, row, _column(frame, "org_code"), f"a second row for {code}")
    return _numbers(sheet, data, problems), england, footnotes


def _identity_checks(
    sheet: Sheet, data: pl.DataFrame, problems: _Problems, month: date
) -> pl.DataFrame:
    data = data.with_columns(
        pl.col("org_code").str.to_uppercase(), pl.col("region_code").str.to_uppercase()
    )
    if month >= SEVEN_REGIONS_FROM:
        unknown = data.filter(~pl.col("region_code").is_in(list(REGION_BY_CODE)).fill_null(False))
        known = ", ".join(f"{c} {n}" for c, n in REGION_BY_CODE.items())
        why = f"is not one of the seven NHS England regions of April 2019 on ({known})"
    else:
        unknown = data.filter(
            ~pl.col("region_code").str.contains(_REGION_CODE.pattern).fill_null(False)
            | pl.col("region_name").is_null()
        )
        why = "is not a region code as NHS England publishes them (3 letters and digits, named)"
    for row, code in unknown.select("_row", "region_code").head(20).iter_rows():
        problems.add(sheet, row, _column(data, "region_code"), f"region code {code!r} {why}")
    bad_code = data.filter(~pl.col("org_code").str.contains(_ORG_CODE.pattern))
    for row, code in bad_code.select("_row", "org_code").head(20).iter_rows():
        problems.add(
            sheet,
            row,
            _column(data, "org_code"),
            f"provider code {code!r} is not an ODS code (3–6 letters and digits)",
        )
    no_name = data.filter(pl.col("org_name").is_null())
    for row in no_name["_row"].head(20):
        problems.add(sheet, row, _column(data, "org_name"), "the provider name is empty")
    return data


def _compare(
    problems: _Problems,
    sheet: Sheet,
    expected: pl.DataFrame,
    stated: pl.DataFrame,
    what: str,
    on: list[str],
) -> None:
    """Each measure of `stated` (a total row) must equal `expected` (the sum of test rows)."""
    joined = stated.join(expected, on=on, how="left", suffix="_sum")
    for m, published in MEASURES.items():
        letter = stated[f"_col_{m}"][0] if stated.height else None
        off = joined.filter(pl.col(m) != pl.col(f"{m}_sum").fill_null(0))
        for rec in off.head(20).iter_rows(named=True):
            total = rec[f"{m}_sum"] or 0
            label = what.format(**rec)
            problems.add(
                sheet,
                rec["_row"],
                f"{letter} ({published})",
                f"{label} says {rec[m]:,} but the test rows add up to {total:,} "
                f"(off by {rec[m] - total:+,})",
            )


def _check_sums(
    by_test: Sheet,
    rows: pl.DataFrame,
    org_totals: pl.DataFrame,
    england: pl.DataFrame,
    provider: Sheet,
    provider_rows: pl.DataFrame,
    provider_england: pl.DataFrame,
    problems: _Problems,
) -> bool:
    """Check every total the file gives; False if it gives no organisation Total rows at all
    (2017 – Feb 2018), which leaves the England Total and the Provider sheet as checks."""
    sums = rows.group_by("org_code").agg(pl.col(m).sum() for m in MEASURES)
    has_org_totals = not org_totals.is_empty()
    missing = (
        rows.select("org_code", "_row")
        .group_by("org_code")
        .agg(pl.col("_row").min())
        .join(org_totals, on="org_code", how="anti")
        .filter(pl.lit(has_org_totals))
    )
    for code, row in missing.sort("_row").head(20).iter_rows():
        problems.add(by_test, row, None, f"{code} has no Total row (diagnostic ID {TOTAL_ID})")
    _compare(problems, by_test, sums, org_totals, "the Total row of {org_code}", ["org_code"])
    national = rows.select(pl.lit(1).alias("_k"), *(pl.col(m).sum() for m in MEASURES))
    _compare(
        problems,
        by_test,
        national,
        england.with_columns(pl.lit(1).alias("_k")),
        "the England Total",
        ["_k"],
    )
    _compare(
        problems,
        provider,
        sums,
        provider_rows,
        f"the {PROVIDER_SHEET!r} row of {{org_code}}",
        ["org_code"],
    )
    _compare(
        problems,
        provider,
        national,
        provider_england.with_columns(pl.lit(1).alias("_k")),
        "the England Total",
        ["_k"],
    )
    only_tests = sums.join(provider_rows, on="org_code", how="anti")["org_code"].sort()
    for code in only_tests.head(20):
        problems.add(
            provider, None, None, f"{code} has test rows in {TEST_SHEET!r} but no row here"
        )
    return has_org_totals
