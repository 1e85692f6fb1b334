"""What every flag rule is made of, and the helpers rules share to build their rows.

A rule (see `capwatch.analytics.flags.rules`) is one `Rule`: its name and words, its
parameters, how it computes its flags from the weekly figures, how severe each flag is and the
sentence it reads, and the evidence behind a flag (`Evidence`: frames plus the kind of chart
that draws them; the dashboard keeps one drawing function per chart kind).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TypedDict, get_args, get_type_hints

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.data import FlagData, load
from capwatch.analytics.flags.params import FlagRuleError, Param, Value
from capwatch.analytics.utilisation import utilisation
from capwatch.db import Database

RuleParams = Mapping[str, Value]
Flag = Mapping[str, Any]


class FlagRow(TypedDict, total=False):
    """One flag as a rule builds it: the export's columns, in their order, typed (mypy sees a
    misspelt key or a wrong type). A key left out is null in the frame."""

    rule: str | None
    rule_title: str | None
    severity: str | None
    subject_type: str | None
    subject_code: str | None
    provider_code: str | None
    provider_name: str | None
    region: str | None
    site_code: str | None
    site_name: str | None
    service_line: str | None
    contract_id: str | None
    period_start: date | None
    period_end: date | None
    weeks: int | None
    measure: str | None
    value: float | None
    threshold: float | None
    capacity_units: int | None
    nhs_units: int | None
    private_units: int | None
    utilisation: float | None
    unused_capacity_cost_gbp: float | None
    contract_value_gbp: float | None
    money_at_stake_gbp: float | None
    variation_icon: str | None
    explanation: str | None
    figures: str | None
    parameters: str | None
    evidence_from: date | None
    evidence_to: date | None


_DTYPES: dict[type, type[pl.DataType]] = {
    str: pl.String,
    date: pl.Date,
    int: pl.Int64,
    float: pl.Float64,
}
FLAG_SCHEMA: dict[str, Any] = {
    name: _DTYPES[next(t for t in get_args(hint) if t is not type(None))]
    for name, hint in get_type_hints(FlagRow).items()
}
FLAG_COLUMNS: tuple[str, ...] = tuple(FLAG_SCHEMA)
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}

# Kinds of evidence chart the dashboard can draw (capwatch.ui.flag_charts.CHARTS).
CHART_KINDS: tuple[str, ...] = ("spc", "funnel", "threshold", "value")


@dataclass(frozen=True)
class Evidence:
    """What a flag's chart shows: frames, which chart draws them, a title and a note."""

    chart: str
    title: str
    frames: dict[str, pl.DataFrame]
    options: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    def __post_init__(self) -> None:
        if self.chart not in CHART_KINDS:
            raise ValueError(f"unknown chart kind {self.chart!r}")

    @property
    def is_empty(self) -> bool:
        return all(f.is_empty() for f in self.frames.values())


@dataclass(frozen=True)
class RuleRun:
    """A rule's flags, and notes on what it could not assess (shown beside the flags)."""

    flags: pl.DataFrame
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One flag rule, whole: words, parameters, computation, severity, evidence.

    `compute(data, params)` returns a `RuleRun` (or a frame of flags) in `FLAG_SCHEMA`;
    `evidence(db, filters, flag, params)` returns the `Evidence` of one of its flags under the
    filters it was computed with. `severity` and `money` say in words how the rule grades a
    flag and what money it puts at stake (they go into the README). `order` places the rule
    on the page and in the README.
    """

    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    severity: str
    money: str
    chart: str
    compute: Callable[[FlagData, RuleParams], RuleRun | pl.DataFrame]
    evidence: Callable[[Database, Filters, Flag, RuleParams], Evidence]
    order: int = 100

    def __post_init__(self) -> None:
        if self.chart not in CHART_KINDS:
            raise ValueError(f"rule {self.name}: unknown chart kind {self.chart!r}")

    def param(self, key: str) -> Param:
        for p in self.params:
            if p.key == key:
                return p
        known = ", ".join(p.key for p in self.params)
        raise FlagRuleError(f"rule {self.name} has no parameter {key!r}; it has: {known}")

    @property
    def defaults(self) -> dict[str, Value]:
        return {p.key: p.default for p in self.params}

    def resolve(self, overrides: Mapping[str, object] | None = None) -> dict[str, Value]:
        """Defaults, replaced by checked overrides."""
        values = dict(self.defaults)
        for key, value in (overrides or {}).items():
            values[key] = self.check(key, value)
        return values

    def check(self, key: str, value: object) -> Value:
        """One parameter's value, checked; errors name the rule (`funnel.scale must be ...`)."""
        param = self.param(key)
        try:
            return param.check(value)
        except FlagRuleError as exc:
            raise FlagRuleError(f"{self.name}.{exc}") from None

    def run(self, data: FlagData, params: RuleParams) -> RuleRun:
        out = self.compute(data, params)
        return out if isinstance(out, RuleRun) else RuleRun(out)


# --------------------------------------------------------------------------------------------
# building flag rows
# --------------------------------------------------------------------------------------------


def empty_flags() -> pl.DataFrame:
    return pl.DataFrame(schema=FLAG_SCHEMA)


def frame(rows: list[FlagRow]) -> pl.DataFrame:
    """Flag rows (missing fields null) as a frame in `FLAG_SCHEMA`."""
    if not rows:
        return empty_flags()
    return pl.DataFrame(
        [{c: r.get(c) for c in FLAG_COLUMNS} for r in rows], schema=FLAG_SCHEMA, orient="row"
    )


def to_json(values: Mapping[str, Any]) -> str:
    def clean(v: Any) -> Any:
        if isinstance(v, float):
            return None if math.isnan(v) or math.isinf(v) else round(v, 6)
        if isinstance(v, date):
            return v.isoformat()
        return v

    return json.dumps({k: clean(v) for k, v in values.items()}, ensure_ascii=False)


def sunday(week_start: date) -> date:
    return week_start + timedelta(days=6)


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def base(data: FlagData, name: str, title: str, params: RuleParams, provider_code: str) -> FlagRow:
    """Fields every flag of a provider shares."""
    row = data.provider_details.get(provider_code, {})
    return {
        "rule": name,
        "rule_title": title,
        "provider_code": provider_code,
        "provider_name": row.get("provider_name"),
        "region": row.get("region"),
        "contract_id": row.get("contract_id"),
        "parameters": to_json(params),
        "evidence_from": data.weeks[0],
        "evidence_to": data.weeks[-1],
    }


def who(r: Mapping[str, Any]) -> str:
    name = r.get("provider_name")
    return f"{r['provider_code']} ({name})" if name else str(r["provider_code"])


def money(r: Mapping[str, Any]) -> FlagRow:
    """The units, utilisation and money fields of a flag, from a row of summed measures."""
    return {
        "capacity_units": round(r["capacity_units"]),
        "nhs_units": round(r["nhs_units"]),
        "private_units": round(r["private_units"]),
        "utilisation": utilisation(r["nhs_units"], r["capacity_units"]),
        "unused_capacity_cost_gbp": r["unused_capacity_cost_gbp"],
        "contract_value_gbp": r["contract_value_gbp"],
    }


# --------------------------------------------------------------------------------------------
# evidence shared by several rules
# --------------------------------------------------------------------------------------------


def narrow(
    filters: Filters, week_from: date | None, week_to: date | None, **narrowed: tuple[str, ...]
) -> Filters:
    """The caller's filters (access scope included) over the evidence weeks, narrowed to a
    subject. Always `dataclasses.replace`, never rebuilt, so the scope carries through."""
    return replace(filters, week_from=week_from, week_to=week_to, **narrowed)


def weekly_against_threshold(
    db: Database,
    filters: Filters,
    provider_code: str,
    service_line: str | None,
    site_code: str | None = None,
    week_from: date | None = None,
    week_to: date | None = None,
) -> pl.DataFrame:
    """Weekly capacity, NHS and private units and utilisation of a provider's line (or one
    site's; all the filters' lines when `service_line` is None), complete weeks only, weeks
    with no rows shown as zero capacity."""
    lines = (service_line,) if service_line else filters.service_lines
    data = load(
        db, narrow(filters, week_from, week_to, providers=(provider_code,), service_lines=lines)
    )
    rows = data.scoped
    if site_code:
        rows = rows.filter(pl.col("site_code") == site_code)
    weeks = pl.DataFrame({"week_start": list(data.weeks)}, schema={"week_start": pl.Date})
    sums = rows.group_by("week_start").agg(
        pl.col(c).sum()
        for c in ("capacity_units", "nhs_units", "private_units", "unused_capacity_cost_gbp")
    )
    return (
        weeks.join(sums, on="week_start", how="left")
        .fill_null(0.0)
        .with_columns(utilisation=utilisation(pl.col("nhs_units"), pl.col("capacity_units")))
        .sort("week_start")
    )


def threshold_evidence(db: Database, filters: Filters, flag: Flag) -> Evidence:
    """Weekly utilisation of the flag's provider line (or site) against its threshold."""
    code, line, site = flag["provider_code"], flag["service_line"], flag.get("site_code")
    weekly = weekly_against_threshold(
        db, filters, code, line, site, flag["evidence_from"], flag["evidence_to"]
    )
    subject = f"{site} · {line_label(line)}" if site else f"{code} · {line_label(line)}"
    return Evidence(
        "threshold",
        f"{subject}: weekly NHS utilisation against the threshold",
        {"weekly": weekly},
        {
            "threshold": flag["threshold"],
            "period_start": flag["period_start"],
            "period_end": flag["period_end"],
        },
    )


def line_label(service_line: str | None) -> str:
    """`day_case` → `Day case` (a heading), `all service lines` when None."""
    if not service_line:
        return "all service lines"
    return service_line.replace("_", " ").capitalize()
