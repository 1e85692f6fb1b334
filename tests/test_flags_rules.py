"""Every flag rule on a small constructed dataset, against figures worked out by hand and
plain SQL over the documented views.

Eight complete weeks, Monday 1 June to Sunday 26 July 2020 (W1 … W8), then a partial ninth
week: activity stops on Wednesday 29 July, so W9 (27 July) is not complete and is ignored.
Unit prices: day case £1,000, diagnostics £100. Contract values are chosen so a day is a round
sum: £3,650,000 a month = £120,000 a day.

- AA1 (London, one site AA101): day case 100 a week, NHS 10 a week except 0 in W2; private 5 a
  week. Contract £3,650,000 a month.
- BB1 (North West, sites BB101 and BB102): day case 100 a week each, NHS 50 a week each; W9 has
  capacity but only 2 NHS units by the Wednesday. Contract £365,000 a month.
- CC1 (Midlands, CC101): diagnostics with zero capacity every week, NHS 5 a week. No contract.
- DD1 (South East, DD101): day case 1 unit a week, no NHS, 1 private a week. No contract.
- EE1 (North West, EE101): diagnostics 100 a week; NHS 50, 55, 50, 55, 50, 55, 50, then 5 in W8.
  Contract £36,500 a month.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import FlagRuleError, compute_flags, parse_params, run_flags
from capwatch.analytics.flags.data import complete_weeks
from capwatch.analytics.flags.engine import FLAG_COLUMNS
from capwatch.db import Database
from capwatch.load import ingest
from tests.tables_support import header

W1 = date(2020, 6, 1)
WEEKS = [W1 + timedelta(weeks=i) for i in range(9)]  # W9 is partial
LAST_DAY = date(2020, 7, 29)


def _files() -> dict[str, str]:
    cap = ["site_code,service_line,week_start,capacity_units"]
    act = ["site_code,service_line,activity_date,funding,units"]
    for i, week in enumerate(WEEKS):
        wk = week.isoformat()
        cap += [f"AA101,day_case,{wk},100", f"BB101,day_case,{wk},100", f"BB102,day_case,{wk},100"]
        if i < 8:
            cap += [
                f"CC101,diagnostics,{wk},0",
                f"DD101,day_case,{wk},1",
                f"EE101,diagnostics,{wk},100",
            ]
            if i != 1:
                act.append(f"AA101,day_case,{wk},nhs,10")
            act += [
                f"AA101,day_case,{wk},private,5",
                f"BB101,day_case,{wk},nhs,50",
                f"BB102,day_case,{wk},nhs,50",
                f"CC101,diagnostics,{wk},nhs,5",
                f"DD101,day_case,{wk},private,1",
                f"EE101,diagnostics,{wk},nhs,{[50, 55, 50, 55, 50, 55, 50, 5][i]}",
            ]
    act += [
        "BB101,day_case,2020-07-26,private,1",  # Sunday of W8
        "BB101,day_case,2020-07-27,nhs,2",  # W9, partial
        f"BB102,day_case,{LAST_DAY.isoformat()},private,1",
    ]
    return {
        "providers.csv": header("providers")
        + "AA1,Alpha Clinic,Alpha,London\nBB1,Beta Health,Beta,North West\n"
        "CC1,Gamma Scans,Gamma,Midlands\nDD1,Delta Day Care,Delta,South East\n"
        "EE1,Epsilon Imaging,Beta,North West\n",
        "sites.csv": header("sites") + "AA101,AA1,Alpha One,London\nBB101,BB1,Beta One,North West\n"
        "BB102,BB1,Beta Two,North West\nCC101,CC1,Gamma One,Midlands\n"
        "DD101,DD1,Delta One,South East\nEE101,EE1,Epsilon One,North West\n",
        "contracts.csv": header("contracts")
        + "C-AA1,AA1,2020-06-01,2020-09-30,3650000\nC-BB1,BB1,2020-06-01,2020-09-30,365000\n"
        "C-EE1,EE1,2020-06-01,2020-09-30,36500\n",
        "unit_prices.csv": header("unit_prices", "activity_type")
        + "day_case,,1000\ndiagnostics,,100\n",
        "capacity.csv": "\n".join(cap) + "\n",
        "activity_2020.csv": "\n".join(act) + "\n",
    }


def build(folder: Path) -> Path:
    """Write the constructed inputs and load them; returns the database path."""
    inputs = folder / "in"
    inputs.mkdir(parents=True)
    for name, text in _files().items():
        (inputs / name).write_text(text, encoding="utf-8")
    path = folder / "capacity.duckdb"
    report = ingest([inputs], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return Database(build(tmp_path_factory.mktemp("flags")))


def _one(flags: pl.DataFrame, **where: str) -> dict:
    got = flags.filter(*(pl.col(k) == v for k, v in where.items()))
    assert got.height == 1, got
    return got.row(0, named=True)


def _sql_sums(db: Database, where: str, params: list) -> dict:
    return db.query(
        "SELECT CAST(sum(capacity_units) AS BIGINT) AS cap, CAST(sum(nhs_units) AS BIGINT) AS nhs, "
        "CAST(sum(private_units) AS BIGINT) AS priv, sum(unused_capacity_cost_gbp) AS unused, "
        "sum(nhs_value_gbp) AS nhs_value "
        f"FROM utilisation_weekly WHERE {where}",
        params,
    ).row(0, named=True)


# --------------------------------------------------------------------------------------------
# complete weeks
# --------------------------------------------------------------------------------------------


def test_complete_weeks_drop_partial_first_and_last_weeks() -> None:
    assert complete_weeks(W1, LAST_DAY, Filters()) == tuple(WEEKS[:8])
    # starting on a Tuesday loses the first week; ending on a Sunday keeps the last
    assert complete_weeks(date(2020, 6, 2), date(2020, 6, 21), Filters()) == (
        date(2020, 6, 8),
        date(2020, 6, 15),
    )
    assert complete_weeks(W1, LAST_DAY, Filters(week_from=WEEKS[3], week_to=WEEKS[4])) == (
        WEEKS[3],
        WEEKS[4],
    )
    assert complete_weeks(None, None, Filters()) == ()


# --------------------------------------------------------------------------------------------
# 1. low utilisation
# --------------------------------------------------------------------------------------------


def test_low_utilisation_reports_the_worst_window_latest_on_a_tie(db: Database) -> None:
    flags = compute_flags(db, Filters(), rules=["low_utilisation"])
    f = _one(flags, provider_code="AA1")
    # 6-week windows; W1–W6 and W2–W7 both hold W2 (0 NHS): 50 of 600. The later one wins.
    assert (f["period_start"], f["period_end"]) == (WEEKS[1], date(2020, 7, 19))
    sums = _sql_sums(db, "site_code = 'AA101' AND week_start BETWEEN ? AND ?", [WEEKS[1], WEEKS[6]])
    assert (f["capacity_units"], f["nhs_units"]) == (sums["cap"], sums["nhs"]) == (600, 50)
    assert f["utilisation"] == pytest.approx(50 / 600)
    assert f["unused_capacity_cost_gbp"] == pytest.approx(sums["unused"]) == 550 * 1000
    assert f["money_at_stake_gbp"] == pytest.approx(550_000)
    assert f["contract_value_gbp"] == pytest.approx(42 * 120_000)  # 6 weeks, one line, one site
    assert f["severity"] == "medium"  # 8.3% is below 0.75 × 15% but not below half of it
    assert f["explanation"] == (
        "AA1 (Alpha Clinic) used 8% of its contracted day-case capacity over the 6 weeks to "
        "19 Jul 2020 (50 of 600 units), below the 15% threshold; £550.0k of capacity went unused."
    )
    assert json.loads(f["figures"])["nhs_units"] == 50
    assert json.loads(f["parameters"]) == {
        "threshold": 0.15,
        "window_weeks": 6,
        "min_capacity_share": 0.001,
    }


def test_low_utilisation_must_not_fire_on_good_zero_capacity_or_partial_weeks(
    db: Database,
) -> None:
    # window of one week: BB1's partial W9 (2 of 200) would fire if it counted
    flags = compute_flags(
        db, Filters(), rules=["low_utilisation"], params={"low_utilisation": {"window_weeks": 1}}
    )
    assert "BB1" not in set(flags["provider_code"])  # 50% every complete week
    assert "CC1" not in set(flags["provider_code"])  # zero capacity: no utilisation at all
    assert _one(flags, provider_code="AA1")["period_start"] == WEEKS[1]  # W2: 0 of 100


def test_low_utilisation_minimum_capacity_leaves_out_tiny_contracts(db: Database) -> None:
    # DD1: 1 unit a week of 301 national day-case units = 0.33% share
    flags = compute_flags(db, Filters(), rules=["low_utilisation"])
    assert _one(flags, provider_code="DD1")["utilisation"] == 0.0
    bigger = compute_flags(
        db,
        Filters(),
        rules=["low_utilisation"],
        params={"low_utilisation": {"min_capacity_share": 0.005}},
    )
    assert "DD1" not in set(bigger["provider_code"])
    assert "AA1" in set(bigger["provider_code"])


def test_low_utilisation_single_week_period_uses_a_one_week_window(db: Database) -> None:
    flags = compute_flags(
        db, Filters(week_from=WEEKS[2], week_to=WEEKS[2]), rules=["low_utilisation"]
    )
    f = _one(flags, provider_code="AA1")
    assert (f["weeks"], f["capacity_units"], f["nhs_units"]) == (1, 100, 10)
    assert "over the 1 week to 21 Jun 2020" in f["explanation"]


def test_threshold_equal_to_utilisation_does_not_fire(db: Database) -> None:
    # AA1 in W3 alone is exactly 10%: "below 10%" is false
    flags = compute_flags(
        db,
        Filters(week_from=WEEKS[2], week_to=WEEKS[2]),
        rules=["low_utilisation"],
        params={"low_utilisation": {"threshold": 0.10}},
    )
    assert "AA1" not in set(flags["provider_code"])


# --------------------------------------------------------------------------------------------
# 2. SPC
# --------------------------------------------------------------------------------------------


def test_spc_flags_the_latest_week_below_the_lower_limit(db: Database) -> None:
    flags = compute_flags(db, Filters(), rules=["spc"], params={"spc": {"min_weeks": 6}})
    f = _one(flags, provider_code="EE1")
    # Hand-worked: x = .50 .55 .50 .55 .50 .55 .50 .05; mean 3.7/8 = .4625; mRs .05 ×6 and .45;
    # mean mR .75/7 = .1071, .45 ≥ 3.267 × .1071 = .35 is screened out → mean mR .05;
    # lower limit .4625 − 2.66 × .05 = .3295.
    figures = json.loads(f["figures"])
    assert figures["mean"] == pytest.approx(0.4625)
    assert figures["lower_limit"] == pytest.approx(0.3295)
    assert f["threshold"] == pytest.approx(0.3295)
    assert f["value"] == pytest.approx(0.05)
    assert (f["period_start"], f["period_end"]) == (WEEKS[7], date(2020, 7, 26))
    assert f["severity"] == "high"
    assert f["variation_icon"] == "special_cause_concern_low"
    assert f["unused_capacity_cost_gbp"] == pytest.approx(95 * 100)
    assert "1 week below the lower process limit" in f["explanation"]
    # Stable series (AA1 except W2, BB1 flat at 50%) do not fire in the latest weeks.
    assert set(flags["provider_code"]) == {"EE1"}


def test_spc_needs_enough_weeks(db: Database) -> None:
    assert compute_flags(db, Filters(), rules=["spc"]).is_empty()  # default 12 weeks, have 8


def test_spc_says_which_series_were_too_short_to_assess(db: Database) -> None:
    run = run_flags(db, Filters(), rules=["spc"])
    assert run.flags.is_empty()
    # AA1, BB1, DD1 day case and EE1 diagnostics have 8 weeks with capacity; CC1 has none
    assert run.notes == (
        "SPC: 4 provider service lines had fewer than 12 complete weeks with capacity and "
        "were not assessed (process limits need 12 points): AA1 day-case (8 weeks), BB1 "
        "day-case (8 weeks), DD1 day-case (8 weeks), EE1 diagnostics (8 weeks).",
    )
    assert run_flags(db, Filters(), rules=["spc"], params={"spc": {"min_weeks": 8}}).notes == ()
    assert run_flags(db, Filters(), rules=["low_utilisation"]).notes == ()


def test_spc_a_one_week_baseline_is_said_to_give_no_limits(db: Database) -> None:
    run = run_flags(
        db, Filters(), rules=["spc"], params={"spc": {"min_weeks": 6, "baseline_weeks": 1}}
    )
    assert run.notes == (
        "SPC: a baseline of 1 week has no moving range, so 4 series got no process limits and "
        "were judged on shifts and trends only; use a baseline of 12 weeks or more (0 uses "
        "every week).",
    )


def test_spc_limits_from_fewer_than_12_weeks_are_called_trial_limits(db: Database) -> None:
    f = _one(
        compute_flags(db, Filters(), rules=["spc"], params={"spc": {"min_weeks": 6}}),
        provider_code="EE1",
    )
    figures = json.loads(f["figures"])
    assert (figures["baseline_points"], figures["trial_limits"]) == (8, True)
    assert f["explanation"].endswith(
        "These are trial limits from 8 weeks (fewer than 12), so they will move as weeks are added."
    )


# --------------------------------------------------------------------------------------------
# 3. funnel
# --------------------------------------------------------------------------------------------


def test_funnel_plain_limits_on_both_scales_against_hand_formula(db: Database) -> None:
    national = _sql_sums(db, "service_line = 'day_case' AND week_start <= ?", [WEEKS[7]])
    p = national["nhs"] / national["cap"]  # (70 + 800 + 0) / (800 + 1600 + 8)
    assert p == pytest.approx(870 / 2408)
    # proportion scale, no over-dispersion: PHEindicatormethods' p ± z √(p(1−p)/n)
    flags = compute_flags(
        db,
        Filters(),
        rules=["funnel"],
        params={"funnel": {"overdispersion": "none", "scale": "proportion"}},
    )
    f = _one(flags, provider_code="AA1")
    assert f["threshold"] == pytest.approx(p - 3.090232 * (p * (1 - p) / 800) ** 0.5, rel=1e-6)
    assert f["utilisation"] == pytest.approx(70 / 800)
    assert json.loads(f["figures"])["national_rate"] == pytest.approx(p)
    assert "BB1" not in set(flags["provider_code"])  # above the rate
    # DD1 (0 of 8) is below the rate but its funnel is wide: p − 3.09 √(p(1−p)/8) < 0
    assert "DD1" not in set(flags["provider_code"])
    # arcsine scale (FunnelPlotR): sin(asin(√p) − z / (2√n))²
    flags = compute_flags(
        db, Filters(), rules=["funnel"], params={"funnel": {"overdispersion": "none"}}
    )
    f = _one(flags, provider_code="AA1")
    centre = math.asin(math.sqrt(p))
    assert f["threshold"] == pytest.approx(
        math.sin(centre - 3.090232 / (2 * math.sqrt(800))) ** 2, rel=1e-6
    )
    # at n = 8 the arcsine lower limit is sin(0.6447 − 0.5463)² ≈ 0.0097, above DD1's 0
    d = _one(flags, provider_code="DD1")
    assert d["threshold"] == pytest.approx(
        math.sin(centre - 3.090232 / (2 * math.sqrt(8))) ** 2, abs=1e-7
    )  # z to 6 decimals as FunnelPlotR writes it; capwatch uses the exact quantile
    assert 0.009 < d["threshold"] < 0.011
    assert "BB1" not in set(flags["provider_code"])


# --------------------------------------------------------------------------------------------
# 4. value for money
# --------------------------------------------------------------------------------------------


def test_value_for_money_against_contract_weekly(db: Database) -> None:
    flags = compute_flags(db, Filters(), rules=["value_for_money"])
    f = _one(flags, provider_code="AA1")
    contract = db.scalar(
        "SELECT sum(contract_value_gbp) FROM contract_weekly "
        "WHERE provider_code = 'AA1' AND week_start <= ?",
        [WEEKS[7]],
    )
    assert contract == pytest.approx(56 * 120_000)
    assert f["contract_value_gbp"] == pytest.approx(contract)
    assert f["nhs_units"] == 70
    assert f["value"] == pytest.approx(contract / 70)  # £96,000 per NHS unit
    assert f["threshold"] == pytest.approx(5 * 1000)
    assert f["money_at_stake_gbp"] == pytest.approx(contract - 70 * 1000)
    assert f["subject_type"] == "contract" and f["subject_code"] == "C-AA1"
    assert f["severity"] == "high"
    # BB1: £12,000 a day against 100 NHS day cases a week at £1,000 — 0.84×, no flag.
    # EE1: £1,200 a day against NHS diagnostics worth 370 × £100 — 1.8×, no flag.
    assert set(flags["provider_code"]) == {"AA1"}


# --------------------------------------------------------------------------------------------
# 5. private beside unused
# --------------------------------------------------------------------------------------------


def test_private_beside_unused_counts_the_weeks(db: Database) -> None:
    flags = compute_flags(db, Filters(), rules=["private_beside_unused"])
    f = _one(flags, site_code="AA101")
    assert (f["weeks"], f["private_units"], f["nhs_units"], f["capacity_units"]) == (8, 40, 70, 800)
    assert f["period_start"] == W1 and f["period_end"] == date(2020, 7, 26)
    assert f["severity"] == "medium"  # 40 private ≥ half of 70 NHS
    d = _one(flags, site_code="DD101")
    assert (d["weeks"], d["private_units"], d["severity"]) == (8, 8, "high")
    # BB101 had private work but at 50% NHS utilisation
    assert set(flags["site_code"]) == {"AA101", "DD101"}
    fewer = compute_flags(
        db,
        Filters(week_from=WEEKS[0], week_to=WEEKS[2]),
        rules=["private_beside_unused"],
    )
    assert fewer.is_empty()  # 3 weeks < 4


# --------------------------------------------------------------------------------------------
# all rules together, filters, parameters
# --------------------------------------------------------------------------------------------


def test_every_flag_has_every_field_and_is_sorted_by_money(db: Database) -> None:
    flags = compute_flags(db, Filters(), params={"spc": {"min_weeks": 6}})
    assert tuple(flags.columns) == FLAG_COLUMNS
    assert set(flags["rule"]) == {
        "low_utilisation",
        "spc",
        "funnel",
        "value_for_money",
        "private_beside_unused",
    } - {"funnel"}  # default over-dispersion: 3 providers cannot flag one another
    money = flags["money_at_stake_gbp"].to_list()
    assert money == sorted(money, reverse=True)
    for column in ("rule", "severity", "subject_code", "provider_code", "explanation"):
        assert flags[column].null_count() == 0, column
    assert set(flags["severity"]) <= {"high", "medium", "low"}


def test_filters_restrict_subjects(db: Database) -> None:
    london = compute_flags(db, Filters(regions=("London",)))
    assert set(london["provider_code"]) == {"AA1"}
    lines = compute_flags(db, Filters(service_lines=("diagnostics",)))
    assert set(lines["service_line"].drop_nulls()) <= {"diagnostics"}
    assert "AA1" not in set(lines["provider_code"])


def test_unknown_rule_or_parameter_or_out_of_bounds_value_is_refused(db: Database) -> None:
    with pytest.raises(FlagRuleError, match="unknown rule"):
        compute_flags(db, Filters(), rules=["nonsense"])
    with pytest.raises(FlagRuleError, match="no parameter"):
        compute_flags(db, Filters(), params={"spc": {"colour": 1}})
    with pytest.raises(FlagRuleError, match="between"):
        compute_flags(db, Filters(), params={"low_utilisation": {"threshold": 2}})
    with pytest.raises(FlagRuleError, match="whole number"):
        parse_params(["spc.run_length=7.5"])
    assert parse_params(["low_utilisation.threshold=0.25", "spc.run_length=8"]) == {
        "low_utilisation": {"threshold": 0.25},
        "spc": {"run_length": 8},
    }
