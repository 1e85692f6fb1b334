"""The backtest on a constructed dataset whose answers are worked out by hand.

Seven complete weeks, Monday 1 June to Sunday 19 July 2020 (W1 … W7); day-case capacity 100 a
week at every site; unit price £1,000. Low utilisation with a 2-week window (threshold 15%).

- RR1 (London), contract C-RR1, £365,000 a month (£12,000 a day), removed Wednesday 15 July
  2020 for poor utilisation. NHS units 50, 50, then 5 a week from W3. With data up to W3 the
  worst 2-week window is W2–W3, 55 of 200 = 27.5%: no flag. With data up to W4 it is W3–W4,
  10 of 200 = 5%: the first flag, in the week of 22 June, data to Sunday 28 June, 17 days =
  2 whole weeks before the removal. Money at stake then: (200 − 10) × £1,000 = £190,000.
  Contract value paid after that week until the removal: W5 and W6, 7 days each, and 13–14
  July (the contract stops the day before removal): 16 days × £12,000 = £192,000. Weeks in
  which it fired before the removal (Sundays before 15 July): W4, W5, W6 = 3.
- MM1 (Midlands), C-MM1, removed Wednesday 24 June; NHS 50 a week throughout: never flagged,
  a miss.
- GG1 (North West), C-GG1 active; NHS 50 a week: never flagged.
- LL1 (South East), C-LL1 active; NHS 5 a week from W1: flagged with the first week's data
  (a one-week window, 5%): it looks like the removed ones.
- UU1 (East of England), C-UU1 status "removed" but no removal date: cannot be timed, left out.

So for low utilisation: 2 removed contracts, 1 hit, 1 miss, hit rate 50%, lead 2 weeks,
£190,000 at stake, £192,000 paid until removal; 2 active contracts, 1 flagged.

The answer key (as a synthetic world has one): RR1 and MM1 should be released, GG1 kept, LL1
had a demand shortfall (route work to it), UU1 kept. Against it, low utilisation scores 4
contracts (UU1 cannot be timed): 1 hit (RR1), 1 miss (MM1), 1 false alarm (LL1, a demand
shortfall).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import FlagRuleError, compute_flags
from capwatch.analytics.flags.backtest import ACTIVE, REMOVED, UNDATED, backtest
from capwatch.cli import app
from capwatch.db import Database
from capwatch.load import ingest
from capwatch.ui.scripts import ENTRY_SCRIPT, page_file
from tests.tables_support import header

W = [date(2020, 6, 1) + timedelta(weeks=i) for i in range(7)]
LOW = {"low_utilisation": {"window_weeks": 2}}
NHS = {
    "RR101": [50, 50, 5, 5, 5, 5, 5],
    "MM101": [50] * 7,
    "GG101": [50] * 7,
    "LL101": [5] * 7,
    "UU101": [50] * 7,
}


def _files() -> dict[str, str]:
    cap = ["site_code,service_line,week_start,capacity_units"]
    act = ["site_code,service_line,activity_date,funding,units"]
    for site, units in NHS.items():
        for week, n in zip(W, units, strict=True):
            cap.append(f"{site},day_case,{week},100")
            act.append(f"{site},day_case,{week},nhs,{n}")
    act.append("GG101,day_case,2020-07-19,private,1")  # activity runs to Sunday of W7
    return {
        "providers.csv": header("providers")
        + "RR1,Red Clinic,Red,London\nMM1,Mauve Care,Mauve,Midlands\n"
        "GG1,Green Health,Green,North West\nLL1,Lilac Day Care,Lilac,South East\n"
        "UU1,Umber Scans,Umber,East of England\n",
        "sites.csv": header("sites") + "RR101,RR1,Red One,London\nMM101,MM1,Mauve One,Midlands\n"
        "GG101,GG1,Green One,North West\nLL101,LL1,Lilac One,South East\n"
        "UU101,UU1,Umber One,East of England\n",
        "contracts.csv": "contract_id,provider_code,start_date,end_date,monthly_value_gbp,"
        "status,removed_date,removal_reason\n"
        "C-RR1,RR1,2020-06-01,2020-09-30,365000,removed,2020-07-15,poor utilisation\n"
        "C-MM1,MM1,2020-06-01,2020-09-30,36500,removed,24/06/2020,poor utilisation\n"
        "C-GG1,GG1,2020-06-01,2020-09-30,36500,active,,\n"
        "C-LL1,LL1,2020-06-01,2020-09-30,36500,active,,\n"
        "C-UU1,UU1,2020-06-01,2020-09-30,36500,removed,,\n",
        "unit_prices.csv": header("unit_prices", "activity_type") + "day_case,,1000\n",
        "capacity.csv": "\n".join(cap) + "\n",
        "activity_2020.csv": "\n".join(act) + "\n",
        "answer_key.csv": "provider_code,delivery_ability,price_ratio,referral_propensity,"
        "private_share,confounder,true_action,released,released_date,release_reason\n"
        "RR1,0.2,1.1,0.9,0.1,none,release,true,2020-07-15,poor utilisation\n"
        "MM1,0.5,1.1,0.9,0.1,none,release,true,2020-06-24,poor utilisation\n"
        "GG1,0.9,1.1,0.9,0.1,none,keep,false,,\n"
        "LL1,0.9,1.1,0.1,0.1,demand_shortfall,route,false,,\n"
        "UU1,0.9,1.1,0.9,0.1,none,keep,false,,\n",
    }


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("backtest")
    inputs = folder / "in"
    inputs.mkdir()
    for name, text in _files().items():
        (inputs / name).write_text(text, encoding="utf-8")
    path = folder / "capacity.duckdb"
    report = ingest([inputs], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


@pytest.fixture(scope="module")
def db(db_path: Path) -> Database:
    return Database(db_path)


def _row(frame: pl.DataFrame, **where: object) -> dict:
    got = frame.filter(*(pl.col(k) == v for k, v in where.items()))
    assert got.height == 1, got
    return got.row(0, named=True)


def test_a_removed_contract_called_two_weeks_ahead(db: Database) -> None:
    result = backtest(db, rules=["low_utilisation"], params=LOW)
    assert result.weeks == 7
    r = _row(result.detail, contract_id="C-RR1")
    assert (r["outcome"], r["removed_date"], r["removal_reason"]) == (
        REMOVED,
        date(2020, 7, 15),
        "poor utilisation",
    )
    assert r["fired"] is True
    assert (r["first_fired_week"], r["data_to"]) == (W[3], date(2020, 6, 28))
    assert (r["lead_days"], r["lead_weeks"], r["weeks_fired"], r["flags"]) == (17, 2, 3, 1)
    # unused 2 × 95 units × £1,000 = £190,000, capped at the contract's worth over the same
    # 2 weeks: 14 days × £365,000 × 12 / 365 = £168,000 (money at stake never exceeds it)
    assert r["money_at_stake_gbp"] == pytest.approx(168_000)
    assert r["contract_value_to_removal_gbp"] == pytest.approx(16 * 12_000)
    assert "RR1 (Red Clinic) used 5% of its contracted day-case capacity" in r["explanation"]


def test_the_replay_uses_only_the_data_up_to_each_week(db: Database) -> None:
    """What the replay saw in W3 and W4 is what the flags say with the period ending there."""
    up_to_w3 = compute_flags(db, Filters(week_to=W[2]), rules=["low_utilisation"], params=LOW)
    assert "RR1" not in set(up_to_w3["provider_code"])
    up_to_w4 = compute_flags(db, Filters(week_to=W[3]), rules=["low_utilisation"], params=LOW)
    flag = _row(up_to_w4, provider_code="RR1")
    assert flag["money_at_stake_gbp"] == pytest.approx(168_000)  # capped: see the test above
    # on all the data RR1's worst window is later (W6–W7), after the removal
    everything = compute_flags(db, Filters(), rules=["low_utilisation"], params=LOW)
    assert _row(everything, provider_code="RR1")["period_end"] == date(2020, 7, 19)


def test_misses_active_contracts_lookalikes_and_undated_removals(db: Database) -> None:
    result = backtest(db, rules=["low_utilisation"], params=LOW)
    miss = _row(result.detail, contract_id="C-MM1")
    assert (miss["outcome"], miss["fired"], miss["lead_weeks"]) == (REMOVED, False, None)
    assert miss["contract_value_to_removal_gbp"] is None
    assert _row(result.detail, contract_id="C-GG1")["fired"] is False
    lilac = _row(result.detail, contract_id="C-LL1")
    assert (lilac["outcome"], lilac["fired"], lilac["first_fired_week"]) == (ACTIVE, True, W[0])
    assert lilac["weeks_fired"] == 7 and lilac["lead_days"] is None
    assert _row(result.detail, contract_id="C-UU1")["outcome"] == UNDATED
    assert result.lookalikes["contract_id"].to_list() == ["C-LL1"]
    assert result.lookalikes.row(0, named=True)["rules"] == "Low utilisation"


def test_a_warm_up_starts_the_replay_later(db: Database) -> None:
    # from the week with 5 weeks of data (W5): RR1 first fires then, data to Sunday 5 July,
    # 10 days (1 whole week) before the removal; paid after W5: 7 + 2 days × £12,000
    result = backtest(db, rules=["low_utilisation"], params=LOW, warmup_weeks=5)
    assert result.weeks == 3  # W5, W6, W7
    r = _row(result.detail, contract_id="C-RR1")
    assert (r["first_fired_week"], r["lead_days"], r["lead_weeks"]) == (W[4], 10, 1)
    assert r["weeks_fired"] == 2
    assert r["contract_value_to_removal_gbp"] == pytest.approx(9 * 12_000)
    assert _row(result.detail, contract_id="C-LL1")["first_fired_week"] == W[4]
    with pytest.raises(FlagRuleError, match="warm-up"):
        backtest(db, warmup_weeks=0)


def test_summary_per_rule(db: Database) -> None:
    s = backtest(db, rules=["low_utilisation"], params=LOW).summary
    assert s["rule"].to_list() == ["low_utilisation", "any"]
    low = _row(s, rule="low_utilisation")
    assert (low["removed_contracts"], low["hits"], low["misses"]) == (2, 1, 1)
    assert low["hit_rate"] == pytest.approx(0.5)
    assert (low["median_lead_weeks"], low["longest_lead_weeks"]) == (2, 2)
    assert low["money_at_stake_gbp"] == pytest.approx(
        168_000
    )  # capped at 2 weeks of contract value
    assert low["contract_value_to_removal_gbp"] == pytest.approx(192_000)
    assert (low["active_contracts"], low["active_flagged"]) == (2, 1)  # C-UU1 in neither
    anyrule = _row(s, rule="any")
    assert (anyrule["hits"], anyrule["misses"], anyrule["active_flagged"]) == (1, 1, 1)


def test_every_rule_and_the_filters(db: Database) -> None:
    result = backtest(db)
    assert result.detail.height == 5 * 5  # contracts × rules
    assert set(result.summary["rule"]) == {
        "low_utilisation",
        "spc",
        "funnel",
        "value_for_money",
        "private_beside_unused",
        "any",
    }
    assert result.detail.select("contract_id", "rule").is_duplicated().sum() == 0
    london = backtest(db, Filters(regions=("London",)), rules=["low_utilisation"], params=LOW)
    assert london.detail["contract_id"].to_list() == ["C-RR1"]
    assert _row(london.summary, rule="low_utilisation")["hits"] == 1
    with pytest.raises(FlagRuleError, match="unknown rule"):
        backtest(db, rules=["nonsense"])


def test_cli_writes_every_row_and_prints_hit_rates(db_path: Path, tmp_path: Path) -> None:
    out, summary = tmp_path / "bt.csv", tmp_path / "summary.csv"
    result = CliRunner().invoke(
        app,
        [
            "backtest", "--out", str(out), "--summary", str(summary), "--db", str(db_path),
            "--rule", "low_utilisation", "--param", "low_utilisation.window_weeks=2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # opens right in Excel
    written = pl.read_csv(out, try_parse_dates=True)
    assert written.height == 5
    assert _row(written, contract_id="C-RR1")["lead_weeks"] == 2
    assert pl.read_csv(summary)["hits"].to_list() == [1, 1]
    assert "2 removed contracts, 2 active" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Low utilisation"))
    assert line.split()[2:7] == ["1", "1", "50%", "2", "wk"]
    bad = CliRunner().invoke(
        app, ["backtest", "--out", str(out), "--db", str(db_path), "--param", "spc.colour=1"]
    )
    assert bad.exit_code != 0


def test_flags_page_shows_the_backtest(db_path: Path, db: Database) -> None:
    from streamlit.testing.v1 import AppTest

    from capwatch import config

    expected = backtest(db)  # the page runs every rule with its defaults
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(db_path))
        at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60)
        at.run()
        at.switch_page(page_file("flags")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value == "Would the flags have called the removals?" for h in at.header)
    anyrule = _row(expected.summary, rule="any")
    sentence = next(m.value for m in at.markdown if m.value.startswith("Of **2** removed"))
    assert f"the rules flagged **{anyrule['hits']}** before removal" in sentence
    summary = next(d.value for d in at.dataframe if "hits" in d.value.columns)
    assert list(summary["hits"]) == expected.summary["hits"].to_list()
    assert list(summary["rule_title"])[-1] == "Any rule"
    labels = [b.proto.label for b in at.get("download_button")]
    assert f"Download CSV ({expected.detail.height} rows)" in labels


def test_each_rule_scored_against_the_answer_key(db: Database) -> None:
    s = _row(backtest(db, rules=["low_utilisation"], params=LOW).summary, rule="low_utilisation")
    assert (s["truth_contracts"], s["truth_hits"], s["truth_misses"]) == (4, 1, 1)
    assert s["false_alarms"] == 1
    assert s["false_alarm_confounders"] == "demand_shortfall 1"
    detail = backtest(db, rules=["low_utilisation"], params=LOW).detail
    assert _row(detail, contract_id="C-LL1")["true_action"] == "route"


def test_without_an_answer_key_the_truth_columns_are_empty(tmp_path: Path) -> None:
    from tests import hand_worked

    s = backtest(Database(hand_worked.build(tmp_path))).summary
    assert s["truth_contracts"].null_count() == s.height
    assert s["false_alarms"].null_count() == s.height


def test_rules_read_a_contract_only_within_its_dates(db: Database) -> None:
    """MM1 was removed on 24 Jun: contract_weekly stops on 23 Jun, so the rules read its
    weeks of 1, 8, 15 and 22 Jun and none after, although capacity was sent to 13 Jul."""
    from capwatch.analytics.filters import Filters
    from capwatch.analytics.flags.data import load

    weekly = load(db, Filters()).weekly
    weeks = sorted(set(weekly.filter(pl.col("provider_code") == "MM1")["week_start"]))
    assert weeks == W[:4]
    assert db.scalar("SELECT count(*) FROM capacity WHERE site_code = 'MM101'") == 7
    flags = compute_flags(db, Filters())
    ends = flags.filter(pl.col("provider_code") == "MM1")["period_end"].drop_nulls()
    assert all(end <= W[3] + timedelta(days=6) for end in ends)


def test_an_all_lines_flag_does_not_change_with_a_line_filter(tmp_path: Path) -> None:
    """Value for money is a flag on the whole contract: with a day-case filter it still reads
    both lines. One provider, contract £73,000 a month (£2,400 a day, £16,800 a week); a week
    of day case (10 NHS units at £100) and outpatients (20 NHS units at £50): NHS value £2,000,
    so £14,800 paid above it, whatever the line filter."""
    folder = tmp_path / "in"
    folder.mkdir()
    files = {
        "providers.csv": header("providers") + "VV1,Violet,Violet,London\n",
        "sites.csv": header("sites") + "VV101,VV1,Violet One,London\n",
        "contracts.csv": header("contracts") + "C-VV1,VV1,2020-06-01,2020-06-07,73000\n",
        "unit_prices.csv": header("unit_prices", "activity_type")
        + "day_case,,100\noutpatients,,50\n",
        "capacity.csv": header("capacity")
        + "VV101,day_case,2020-06-01,100\nVV101,outpatients,2020-06-01,100\n",
        "activity.csv": header("activity", "units")
        + "VV101,day_case,2020-06-01,nhs,10\nVV101,outpatients,2020-06-07,nhs,20\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = tmp_path / "vfm.duckdb"
    assert ingest([folder], path).ok
    db = Database(path)
    rule = ["value_for_money"]
    both = compute_flags(db, Filters(), rules=rule)
    day_case = compute_flags(db, Filters(service_lines=("day_case",)), rules=rule)
    assert both.height == day_case.height == 1
    for flags in (both, day_case):
        r = flags.row(0, named=True)
        assert r["contract_value_gbp"] == pytest.approx(16_800)
        assert r["nhs_units"] == 30
        assert r["money_at_stake_gbp"] == pytest.approx(14_800)
