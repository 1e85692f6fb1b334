"""`money_by_rule`: what the Flags page and `capwatch flags` say about money over many flags."""

from __future__ import annotations

import polars as pl

from capwatch.analytics.flags.money import money_by_rule


def test_money_is_summed_within_a_rule_and_never_across_rules() -> None:
    flags = pl.DataFrame(
        {
            "rule": ["low_utilisation", "low_utilisation", "spc", "funnel"],
            "rule_title": ["Low utilisation", "Low utilisation", "SPC", "Funnel"],
            "provider_code": ["AA1", "BB1", "AA1", "AA1"],
            "money_at_stake_gbp": [100.0, 50.0, 120.0, None],
        }
    )
    got = money_by_rule(flags)
    assert got.select("rule", "flags", "providers", "money_at_stake_gbp").rows() == [
        ("low_utilisation", 2, 2, 150.0),  # 100 + 50
        ("spc", 1, 1, 120.0),
        ("funnel", 1, 1, 0.0),  # a flag without money counts as none, not as unknown
    ]
    assert got.height == flags["rule"].n_unique()  # one row per rule: no grand total row


def test_no_flags_no_rows() -> None:
    empty = pl.DataFrame(
        schema={
            "rule": pl.String,
            "rule_title": pl.String,
            "provider_code": pl.String,
            "money_at_stake_gbp": pl.Float64,
        }
    )
    assert money_by_rule(empty).is_empty()
