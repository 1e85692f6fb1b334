"""Money at stake across many flags: by rule, never added up across rules.

The rules overlap (low utilisation, SPC and the funnel can fire on the same contract and
weeks), so a total over every flag counts the same pounds several times. The Flags page and
`capwatch flags` both report the sum within each rule, largest first, and no grand total.
"""

from __future__ import annotations

import polars as pl


def money_by_rule(flags: pl.DataFrame) -> pl.DataFrame:
    """One row per rule that fired: `rule`, `rule_title`, `flags`, `providers` and
    `money_at_stake_gbp` (the sum over that rule's flags), most money first, then by rule."""
    if flags.is_empty():
        return pl.DataFrame(
            schema={
                "rule": pl.String,
                "rule_title": pl.String,
                "flags": pl.UInt32,
                "providers": pl.UInt32,
                "money_at_stake_gbp": pl.Float64,
            }
        )
    return (
        flags.group_by("rule", "rule_title")
        .agg(
            flags=pl.len(),
            providers=pl.col("provider_code").n_unique(),
            money_at_stake_gbp=pl.col("money_at_stake_gbp").fill_null(0.0).sum(),
        )
        .sort(["money_at_stake_gbp", "rule"], descending=[True, False])
    )
