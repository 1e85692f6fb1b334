"""The answer key: written by `generate`, loaded into `answer_key`, read only by the backtest."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from capwatch import db
from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import compute_flags
from capwatch.cli import app
from capwatch.load import ingest
from tests import hand_worked

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "provider_code,delivery_ability,price_ratio,referral_propensity,private_share,confounder,"
    "true_action,released,released_date,release_reason"
)


def test_generate_writes_the_key_and_ingest_loads_it_row_for_row(
    synthetic_inputs: Path, synthetic_db: Path
) -> None:
    path = synthetic_inputs / "answer_key.csv"
    assert path.read_text(encoding="utf-8").split("\n", 1)[0] == HEADER
    written = pl.read_csv(path, try_parse_dates=True).sort("provider_code")
    stored = (
        db.Database(synthetic_db)
        .query(f"SELECT {HEADER} FROM answer_key ORDER BY provider_code")
        .with_columns(pl.col("released_date").cast(pl.Date))
    )
    assert stored.rows() == written.rows()
    providers = pl.read_csv(synthetic_inputs / "providers.csv")["provider_code"].sort()
    assert stored["provider_code"].to_list() == providers.to_list()
    # released exactly for the contracts the contracts file removes, on the same day
    contracts = pl.read_csv(synthetic_inputs / "contracts.csv", try_parse_dates=True)
    removed = dict(
        contracts.filter(pl.col("removed_date").is_not_null())
        .select("provider_code", "removed_date")
        .iter_rows()
    )
    released = dict(
        stored.filter(pl.col("released")).select("provider_code", "released_date").iter_rows()
    )
    assert released == removed


def test_a_database_of_real_returns_has_no_rows_in_it(tmp_path: Path) -> None:
    path = hand_worked.build(tmp_path)
    assert db.Database(path).scalar("SELECT count(*) FROM answer_key") == 0


def _key(tmp_path: Path, *rows: str) -> Path:
    folder = tmp_path / "key"
    folder.mkdir(exist_ok=True)
    path = folder / "answer_key.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_bad_key_is_rejected_naming_row_and_column(tmp_path: Path) -> None:
    database = hand_worked.build(tmp_path)
    before = db.table_fingerprint(database)
    path = _key(
        tmp_path,
        "NA1,0.9,1.1,0.8,0.1,none,keep,false,,",
        "NB1,1.4,1.1,0.8,0.1,none,keep,false,,",  # ability above 1
        "NB2,0.5,1.1,0.8,0.1,bad_luck,release,true,,cost",  # confounder, no date
    )
    outcome = ingest([path], database).outcomes[0]
    assert outcome.status == "rejected"
    found = {(p.row, p.column) for p in outcome.problems}
    assert found == {(3, "delivery_ability"), (4, "confounder"), (4, "released_date")}
    assert db.table_fingerprint(database) == before


def test_a_key_loads_and_unloads_like_any_file(tmp_path: Path) -> None:
    database = hand_worked.build(tmp_path)
    path = _key(
        tmp_path,
        "NA1,0.9,1.1,0.8,0.1,none,keep,false,,",
        "NB2,0.2,1.1,0.8,0.1,none,release,true,2020-06-18,poor utilisation",
    )
    report = ingest([path], database)
    assert report.ok
    reader = db.Database(database)
    assert reader.query(
        "SELECT provider_code, released, CAST(released_date AS VARCHAR) FROM answer_key ORDER BY 1"
    ).rows() == [("NA1", False, None), ("NB2", True, "2020-06-18")]
    load_id = report.outcomes[0].load_id
    result = CliRunner().invoke(app, ["unload", str(load_id), "--db", str(database)])
    assert result.exit_code == 0, result.output
    assert db.Database(database).scalar("SELECT count(*) FROM answer_key") == 0


def test_the_flag_rules_never_name_the_answer_key() -> None:
    """Only the backtest may read it: no other module of the analytics layer names it."""
    analytics = ROOT / "capwatch" / "analytics"
    allowed = {analytics / "flags" / "backtest.py"}
    naming = [
        p.relative_to(ROOT)
        for p in sorted(analytics.rglob("*.py"))
        if p not in allowed and re.search(r"answer_key", p.read_text(encoding="utf-8"))
    ]
    assert naming == []
    for folder in ("pages", "capwatch/ui"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            assert "answer_key" not in p.read_text(encoding="utf-8"), p


def test_the_flags_are_the_same_without_the_answer_key(synthetic_db: Path, tmp_path: Path) -> None:
    """Run every rule with the key in place and with it emptied: the flags do not change."""
    with_key = compute_flags(db.Database(synthetic_db), Filters())
    assert with_key.height > 0
    copy = tmp_path / "no_key.duckdb"
    shutil.copyfile(synthetic_db, copy)
    con = duckdb.connect(str(copy))
    assert con.execute("SELECT count(*) FROM answer_key").fetchall()[0][0] > 0
    con.execute("DELETE FROM answer_key")
    con.close()
    without = compute_flags(db.Database(copy), Filters())
    # the same flags and figures (sums of floats may differ in the last bit between two runs)
    assert_frame_equal(without, with_key, check_exact=False, rel_tol=1e-12)


@pytest.mark.parametrize("column", ["delivery_ability", "referral_propensity", "private_share"])
def test_shares_in_the_generated_key_lie_between_0_and_1(
    synthetic_inputs: Path, column: str
) -> None:
    key = pl.read_csv(synthetic_inputs / "answer_key.csv")
    assert key[column].is_between(0, 1).all()
