"""The contract review pack: rendered to PDF by Chromium and read back with pypdf.

The figures printed are checked against plain SQL over the documented views of the tiny
hand-worked dataset (tests/hand_worked.py), the lineage against the load log, and the bytes
against a second render. PDF determinism is by fixed metadata: the creation and modification
dates are the time the pack says it was made, so two renders with the same `made` are the same
bytes, and two with different `made` differ only where the date made is printed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from capwatch.analytics.filters import Filters
from capwatch.analytics.pack import PackError, review_pack
from capwatch.db import Database
from capwatch.load import ingest
from capwatch.pack.make import batch, make_pack
from tests import hand_worked
from tests.tables_support import header

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
MADE = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-worked data, plus a resubmission that replaces one capacity row (same value)."""
    folder = tmp_path_factory.mktemp("pack")
    db_path = hand_worked.build(folder)
    fix = folder / "fix" / "capacity_fix.csv"
    fix.parent.mkdir()
    fix.write_text(
        header("capacity", "activity_type") + "NA101,diagnostics,mri,2020-06-01,10\n",
        encoding="utf-8",
    )
    assert ingest([fix], db_path, replace=True).ok
    return db_path


@pytest.fixture(scope="module")
def rendered(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """NA1's pack three times (twice made at MADE, once at LATER) in one Chromium."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    log = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    db = Database(tiny)
    out = {}
    with batch("pdf") as printer:
        for name, made in (("first", MADE), ("again", MADE), ("later", LATER)):
            pack = make_pack(db, Filters(), "NA1", who="tester", page="test", made=made,
                             with_printer=printer, audit_path=log)  # fmt: skip
            out[name] = pack.content
    out["audit"] = log.read_bytes()
    return out


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


@needs_chromium
def test_figures_in_the_pdf_equal_plain_sql(tiny: Path, rendered: dict[str, bytes]) -> None:
    text = _text(rendered["first"])
    db = Database(tiny)
    lines = db.query(
        "SELECT service_line, sum(capacity_units) AS cap, sum(nhs_units) AS nhs, "
        "sum(private_units) AS priv, sum(unused_capacity_cost_gbp) AS unused "
        "FROM utilisation_weekly WHERE provider_code = 'NA1' GROUP BY 1 ORDER BY 1"
    )
    labels = {"day_case": "Day case", "diagnostics": "Diagnostics", "outpatients": "Outpatients"}
    assert lines.height == 3
    for r in lines.iter_rows(named=True):
        row = (
            f"{labels[r['service_line']]} {r['cap']:,} {r['nhs']:,} {_pct(r['nhs'] / r['cap'])} "
            f"{r['priv']:,} £{r['unused']:,.0f}"
        )
        assert row in text, row
    # by hand as well (hand_worked.py): NA1 day case 5 a week × 4 = 20, NHS 5 + 2 = 7
    assert "Day case 20 7 35.0% 4 £13,000" in text
    total = lines.select("cap", "nhs", "priv", "unused").sum().row(0)
    assert f"All service lines {total[0]:,} {total[1]:,} {_pct(total[1] / total[0])}" in text
    value = db.scalar(
        "SELECT sum(contract_value_gbp) FROM contract_weekly WHERE provider_code = 'NA1' "
        "AND week_start BETWEEN DATE '2020-06-01' AND DATE '2020-06-22'"
    )
    assert value == 3360  # C1: 28 days × £120
    assert "Contract value in these weeks: £3,360" in text
    national = db.scalar("SELECT sum(nhs_units) / sum(capacity_units) FROM utilisation_weekly")
    assert f"national rate {_pct(national)}" in text
    # NA1 32.1%, NB1 87.5% (28 of 32), NB2 18.8% (3 of 16): NA1 is the second lowest of three
    assert "Ranked 2 of 3 providers" in text.replace("\n", " ")


def test_printed_sql_reproduces_the_figures(tiny: Path) -> None:
    db = Database(tiny)
    pack = review_pack(db, Filters(), "NA1")
    by_line = db.query(pack.sql[0].sql)
    assert by_line["capacity_units"].to_list() == pack.by_line["capacity_units"].to_list()
    assert by_line["nhs_units"].to_list() == [7, 20, 18]
    assert db.scalar(pack.sql[1].sql) == pytest.approx(pack.headline.contract_value_gbp)
    assert db.scalar(pack.sql[2].sql) == pytest.approx(pack.national_rate)
    ranks = db.query(pack.sql[3].sql)
    assert ranks.filter(ranks["provider_code"] == "NA1")["rank"][0] == pack.rank == 2


@needs_chromium
def test_every_load_in_the_lineage_exists(tiny: Path, rendered: dict[str, bytes]) -> None:
    text = _text(rendered["first"])
    log = Database(tiny).query("SELECT load_id, file_name, file_hash FROM load_log")
    known = {r["file_hash"]: r for r in log.iter_rows(named=True)}
    printed = re.findall(r"\b[0-9a-f]{64}\b", text)
    assert printed, "no SHA-256 in the lineage"
    for digest in printed:
        assert digest in known, digest
        assert known[digest]["file_name"] in text
    # every input file of the tiny data is behind NA1's figures, the resubmission too
    assert set(printed) == set(known)
    assert "partly superseded; replaced by 7" in text
    assert "current; replaces 5" in text
    assert "capwatch 0.1.0" in text


@needs_chromium
def test_page_count_header_and_data_label(rendered: dict[str, bytes]) -> None:
    reader = PdfReader(io.BytesIO(rendered["first"]))
    assert 3 <= len(reader.pages) <= 12
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    assert round(width / 72 * 25.4) == 210 and round(height / 72 * 25.4) == 297  # A4 portrait
    text = _text(rendered["first"])
    pages = len(reader.pages)
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    assert text.count("made 2 Dec 2026, 13:00 UTC") >= pages
    assert "Real published data" in text  # the tiny data is not from a synthetic folder
    for heading in ("Verdict", "Key figures", "Charts", "Flags", "Method", "Lineage"):
        assert heading in text
    assert "Week starting" in text and "1 Jun 2020" in text  # chart axes in UK dates


@needs_chromium
def test_same_bytes_for_the_same_data_version_and_date(rendered: dict[str, bytes]) -> None:
    assert rendered["first"] == rendered["again"]
    assert rendered["first"] != rendered["later"]
    first = _text(rendered["first"]).replace("2 Dec 2026, 13:00", "<made>")
    later = _text(rendered["later"]).replace("3 Dec 2026, 09:30", "<made>")
    assert first == later


@needs_chromium
def test_every_pack_is_audited_with_its_hash(rendered: dict[str, bytes]) -> None:
    records = [json.loads(line) for line in rendered["audit"].splitlines()]
    assert [r["action"] for r in records] == ["pack"] * 3
    assert {r["who"] for r in records} == {"tester"}
    assert records[0]["what"]["provider"] == "NA1"
    assert records[0]["what"]["sha256"] == hashlib.sha256(rendered["first"]).hexdigest()
    assert records[2]["what"]["sha256"] == hashlib.sha256(rendered["later"]).hexdigest()


def test_scope_refuses_another_regions_provider(tiny: Path, tmp_path: Path) -> None:
    db = Database(tiny)
    north_west = Filters(scope_regions=("North West",))
    log = tmp_path / "audit.jsonl"
    with pytest.raises(PackError, match="NA1 not found or not in your area"):
        make_pack(db, north_west, "NA1", fmt="html", who="nw", page="t", audit_path=log)
    with pytest.raises(PackError, match="NZ9 not found or not in your area"):
        review_pack(db, Filters(), "NZ9")
    assert not log.exists()  # nothing made, nothing audited
    made = make_pack(db, north_west, "NB1", fmt="html", who="nw", page="t", audit_path=log)
    assert b"NB1" in made.content and b"Alpha Health" not in made.content


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capwatch", "pack", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip


def test_cli_without_chromium_says_how_to_install_it(tiny: Path, tmp_path: Path) -> None:
    env = {"CAPWATCH_CHROMIUM": str(tmp_path / "none"),
           "CAPWATCH_AUDIT_LOG": str(tmp_path / "audit.jsonl")}  # fmt: skip
    run = _cli("NA1", "--out", str(tmp_path / "p.pdf"), "--db", str(tiny), env=env)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and "apt-get install chromium" in run.stderr
    assert not (tmp_path / "p.pdf").exists()
    # HTML needs no Chromium: plotly.js inline, drawn offline when opened
    html = tmp_path / "p.html"
    run = _cli("NA1", "--out", str(html), "--db", str(tiny), env=env)
    assert run.returncode == 0, run.stderr
    page = html.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page and "cdn.plot.ly" not in page.split("</style>")[0]
    assert "<script src=" not in page
    bad = _cli("NZ9", "--out", str(tmp_path / "x.html"), "--db", str(tiny), env=env)
    assert bad.returncode == 1 and "NZ9 not found" in bad.stderr


def _fake_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for issue 26's verdicts module with its published API: one row per active
    contract (C1 of NA1 and C2 of NB1 in the tiny data), so the pack's verdict section and the
    --verdict selection can be checked whatever that module decides."""
    import types
    from datetime import date

    import polars as pl

    module = types.ModuleType("capwatch.analytics.verdicts")
    module.VERDICTS = ("release", "challenge", "route", "keep", "not_enough_data")  # type: ignore[attr-defined]

    def verdicts(db, filters, as_of=None, params=None):
        assert filters.scope_regions is None  # made nationally, whoever looks
        return pl.DataFrame(
            {
                "contract_id": ["C1", "C2"],
                "provider_code": ["NA1", "NB1"],
                "verdict": ["release", "keep"],
                "verdict_label": ["Release", "Keep"],
                "strength": ["strong", "moderate"],
                "sentence": ["Release C1: 32% used, £1,234,567 a month to save.", "Keep C2."],
                "saving_per_month_gbp": [1_234_567.0, 0.0],
                "at_stake_gbp": [2_500_000.0, 0.0],
                "first_signal_week": [date(2020, 6, 8), None],
                "reasons": [[{"rule": "low_utilisation", "sentence": "Below 35% for 4 weeks."}],
                            []],
            }
        )  # fmt: skip

    module.verdicts = verdicts  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "capwatch.analytics.verdicts", module)


def test_the_verdict_section_and_selection(tiny: Path, tmp_path: Path, monkeypatch) -> None:
    from capwatch.pack.make import providers_with_verdicts

    _fake_verdicts(monkeypatch)
    db = Database(tiny)
    made = make_pack(db, Filters(), "NA1", fmt="html", who="t", page="t",
                     audit_path=tmp_path / "a.jsonl")  # fmt: skip
    html = made.content.decode("utf-8")
    assert "Release C1: 32% used, £1,234,567 a month to save." in html
    assert "Saved per month if released<b>£1.2m</b>" in html
    assert "At stake over the period<b>£2.5m</b>" in html
    assert "first signal in the week of 8 Jun 2020" in html
    assert "<b>low utilisation</b>: Below 35% for 4 weeks." in html
    assert providers_with_verdicts(db, Filters(), ["release", "keep"]) == ["NA1", "NB1"]
    assert providers_with_verdicts(db, Filters(), ["keep"]) == ["NB1"]
    north_west = Filters(scope_regions=("North West",))
    assert providers_with_verdicts(db, north_west, ["release", "keep"]) == ["NB1"]
    # NB2's contract was removed: no active contract, so no verdict, said in words
    none = make_pack(db, Filters(), "NB2", fmt="html", who="t", page="t",
                     audit_path=tmp_path / "a.jsonl")  # fmt: skip
    assert "No active contract at the as-of week, so no verdict." in none.content.decode()


@needs_chromium
def test_the_pdf_shows_the_providers_verdict(tiny: Path, rendered: dict[str, bytes]) -> None:
    from capwatch.analytics import verdicts

    row = verdicts.verdicts(Database(tiny), Filters()).row(
        by_predicate=verdicts.pl.col("provider_code") == "NA1", named=True
    )
    text = " ".join(_text(rendered["first"]).split())
    assert row["verdict_label"] in text
    assert " ".join(row["sentence"].split()) in text
    assert f"as of the week of {row['as_of_week'].day} {row['as_of_week']:%b %Y}" in text
    for reason in row["reasons"]:
        assert " ".join(reason["sentence"].split()) in text
