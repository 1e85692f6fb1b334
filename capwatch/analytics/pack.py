"""The contract review pack's content: one provider's verdict, figures, flags, method and lineage.

`review_pack(db, filters, provider_code)` gathers everything the printed pack shows, so the
renderer (`capwatch.pack`) only lays it out. Every key figure comes with the SQL over the
documented views that reproduces it (`KeyFigureSql`), written with its values inline so the
other side can paste it into `capwatch sql` or the DuckDB shell. The lineage lists, for every
table the figures read, the loads behind them, from the load log and `load_history`.

The access scope of `filters` applies throughout: a provider the scope may not see is refused
exactly as an unknown one (`PackError`). Nothing here imports Streamlit.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from capwatch import __version__
from capwatch.analytics import dashboard, reference
from capwatch.analytics import utilisation as u
from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.base import weekly_against_threshold
from capwatch.analytics.flags.evidence import flag_run_for, funnel_data, spc_chart_data
from capwatch.analytics.flags.rules import RULES, resolve_params
from capwatch.db import Database
from capwatch.errors import CapwatchError

# The tables the pack's figures read (input tables as the load log names them).
TABLES_USED: tuple[str, ...] = (
    "providers",
    "sites",
    "contracts",
    "unit_prices",
    "capacity",
    "activity",
)
LINE_COLUMNS: tuple[str, ...] = (
    "service_line",
    "capacity_units",
    "nhs_units",
    "utilisation",
    "private_units",
    "unused_capacity_cost_gbp",
)
_VERDICTS_MODULE = "capwatch.analytics.verdicts"


class PackError(CapwatchError):
    """The pack cannot be made (unknown provider, out of scope, no data): the reason says why."""


@dataclass(frozen=True)
class KeyFigureSql:
    """A key figure and the plain SQL over the documented views that reproduces it."""

    figure: str
    sql: str


@dataclass(frozen=True)
class RuleNote:
    """One rule's definition and its parameters as this pack used them."""

    name: str
    title: str
    description: str
    severity: str
    money: str
    params: tuple[tuple[str, str, str], ...]  # (label, value used, help)


@dataclass(frozen=True)
class ReviewPack:
    """Everything one provider's review pack shows."""

    provider_code: str
    provider_name: str
    group: str | None
    region: str | None
    period_from: date
    period_to: date  # Monday of the last week
    synthetic: bool
    version: str
    verdict: Mapping[str, Any] | None  # a row of `verdicts()`, None when it has none
    verdict_note: str | None  # why there is no verdict
    headline: u.Headline
    by_line: pl.DataFrame  # LINE_COLUMNS, one row per service line
    contracts: pl.DataFrame
    rank: int | None
    peers: int
    national_rate: float | None
    weekly: pl.DataFrame  # week_start, capacity_units, nhs_units, private_units, utilisation
    threshold: float
    chart_line: str | None  # the service line of the SPC chart and the funnel
    spc: pl.DataFrame
    funnel_points: pl.DataFrame
    funnel_curve: pl.DataFrame
    flags: pl.DataFrame
    rules: tuple[RuleNote, ...]
    verdict_params: tuple[tuple[str, str], ...]
    loads: pl.DataFrame  # the lineage: loads behind the tables used
    sql: tuple[KeyFigureSql, ...]
    scope_regions: tuple[str, ...] | None


def _literal(value: object) -> str:
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")"


def _period(db: Database, own: Filters, code: str) -> tuple[date, date]:
    where, params = own.where()
    row = db.query(
        "SELECT min(week_start) AS first, max(week_start) AS last FROM utilisation_weekly "
        f"WHERE {where}",
        params,
    ).row(0)
    if row[0] is None:
        raise PackError(f"provider {code} has no capacity or activity in these weeks")
    return row[0], row[1]


def _conditions(filters: Filters, first: date, last: date, code: str | None) -> str:
    """The WHERE clause of the printed SQL: the period, lines, scope (and the provider)."""
    parts = [f"week_start BETWEEN {_literal(first)} AND {_literal(last)}"]
    if code is not None:
        parts.insert(0, f"provider_code = {_literal(code)}")
    if filters.service_lines:
        parts.append(f"service_line IN {_in(filters.service_lines)}")
    if filters.scope_regions is not None:
        parts.append(f"region IN {_in(filters.scope_regions)}")
    return " AND ".join(parts)


def key_figure_sql(
    filters: Filters, code: str, first: date, last: date
) -> tuple[KeyFigureSql, ...]:
    """The SQL, over the documented views, of each key figure the pack prints."""
    mine = _conditions(filters, first, last, code)
    everyone = _conditions(filters, first, last, None)
    return (
        KeyFigureSql(
            "Capacity, NHS units, utilisation, private units and unused capacity cost by "
            "service line (the total row: the same without GROUP BY)",
            "SELECT service_line, sum(capacity_units) AS capacity_units, "
            "sum(nhs_units) AS nhs_units, sum(nhs_units) / sum(capacity_units) AS utilisation, "
            "sum(private_units) AS private_units, "
            "sum(unused_capacity_cost_gbp) AS unused_capacity_cost_gbp\n"
            f"FROM utilisation_weekly\nWHERE {mine}\nGROUP BY service_line ORDER BY service_line",
        ),
        KeyFigureSql(
            "Contract value in the period (whole contracts apportioned to the weeks; not split "
            "by service line)",
            "SELECT sum(contract_value_gbp) AS contract_value_gbp\nFROM contract_weekly\n"
            f"WHERE provider_code = {_literal(code)} AND week_start BETWEEN {_literal(first)} "
            f"AND {_literal(last)}",
        ),
        KeyFigureSql(
            "National rate (utilisation of every provider in the same weeks and lines)",
            "SELECT sum(nhs_units) / sum(capacity_units) AS national_rate\n"
            f"FROM utilisation_weekly\nWHERE {everyone}",
        ),
        KeyFigureSql(
            "Rank by utilisation among providers with capacity (1 = lowest; ties: more "
            "capacity first, then code)",
            "SELECT provider_code, utilisation, row_number() OVER (ORDER BY utilisation, "
            "capacity_units DESC, provider_code) AS rank\nFROM (SELECT provider_code, "
            "sum(nhs_units) / sum(capacity_units) AS utilisation, "
            "sum(capacity_units) AS capacity_units\n"
            f"      FROM utilisation_weekly WHERE {everyone}\n"
            "      GROUP BY provider_code HAVING sum(capacity_units) > 0)\nORDER BY rank",
        ),
    )


def _loads(db: Database, code: str, first: date, last: date) -> pl.DataFrame:
    """Loads whose live rows the provider's figures read, the loads they replaced, and every
    retracted load of the same tables, with their history (oldest first)."""
    end = last + timedelta(days=6)
    return db.query(
        "WITH behind AS ("
        "  SELECT load_id FROM providers WHERE provider_code = ?"
        "  UNION SELECT load_id FROM sites WHERE provider_code = ?"
        "  UNION SELECT load_id FROM contracts WHERE provider_code = ?"
        "  UNION SELECT load_id FROM unit_prices"
        "  UNION SELECT c.load_id FROM capacity c JOIN sites s USING (site_code)"
        "        WHERE s.provider_code = ? AND c.week_start BETWEEN ? AND ?"
        "  UNION SELECT a.load_id FROM activity_daily a JOIN sites s USING (site_code)"
        "        WHERE s.provider_code = ? AND a.activity_date BETWEEN ? AND ?"
        "), earlier AS ("
        "  SELECT load_id FROM load_changes WHERE action = 'superseded'"
        "  AND by_load_id IN (SELECT load_id FROM behind)"
        "), chosen AS ("
        "  SELECT load_id FROM behind UNION SELECT load_id FROM earlier"
        "  UNION SELECT h.load_id FROM load_history h WHERE h.status = 'retracted'"
        "  AND h.table_name IN (SELECT unnest(?::VARCHAR[]))"
        ") "
        "SELECT h.load_id, h.table_name, h.file_name, l.file_hash, h.rows_stored, h.rows_live, "
        "h.loaded_at, h.status, h.replaces, h.superseded_by, h.retracted_at "
        "FROM load_history h JOIN load_log l USING (load_id) "
        "WHERE h.load_id IN (SELECT load_id FROM chosen) ORDER BY h.load_id",
        [code, code, code, code, first, last, code, first, end, list(TABLES_USED)],
    )


def _rule_notes(used: Mapping[str, Mapping[str, object]]) -> tuple[RuleNote, ...]:
    notes = []
    for r in RULES:
        values = used.get(r.name, {})
        params = tuple(
            (
                p.label,
                str(values.get(p.key, p.default))
                if p.choices
                else f"{float(str(values.get(p.key, p.default))):g}",
                p.help,
            )
            for p in r.params
        )
        notes.append(RuleNote(r.name, r.title, r.description, r.severity, r.money, params))
    return tuple(notes)


def _verdicts_module() -> Any | None:
    """The verdicts module (issue 26) when this version has it."""
    try:
        return importlib.import_module(_VERDICTS_MODULE)
    except ModuleNotFoundError:
        return None


def verdict_names() -> tuple[str, ...]:
    """The verdicts a pack run may select on (empty when verdicts are not available)."""
    module = _verdicts_module()
    return tuple(getattr(module, "VERDICTS", ())) if module is not None else ()


def verdict_frame(
    db: Database,
    filters: Filters,
    as_of: date | None = None,
    settings: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Every active contract's verdict at `as_of` (default: the last complete week), made
    nationally: a verdict does not depend on who looks (callers keep to the rows their scope
    may see)."""
    module = _verdicts_module()
    if module is None:
        raise PackError("verdicts are not available in this version of capwatch")
    national = replace(filters, scope_regions=None, providers=(), regions=(), groups=())
    frame: pl.DataFrame = module.verdicts(db, national, as_of, settings)
    return frame


def _verdict(
    db: Database,
    filters: Filters,
    code: str,
    as_of: date | None,
    settings: Mapping[str, float] | None,
) -> tuple[Mapping[str, Any] | None, str | None, tuple[tuple[str, str], ...]]:
    """The provider's verdict row, why there is none, and the verdict settings used."""
    module = _verdicts_module()
    if module is None:
        return None, "Verdicts are not available in this version of capwatch.", ()
    mine = verdict_frame(db, filters, as_of, settings).filter(pl.col("provider_code") == code)
    params = _verdict_params(module, settings or {})
    if mine.is_empty():
        return None, "No active contract at the as-of week, so no verdict.", params
    return mine.row(0, named=True), None, params


def _verdict_params(module: Any, settings: Mapping[str, float]) -> tuple[tuple[str, str], ...]:
    """The verdict parameters (label and value used) when the module publishes them."""
    found = getattr(module, "PARAMS", None) or getattr(module, "VERDICT_PARAMS", None)
    if not found:
        return ()
    out: list[tuple[str, str]] = []
    for p in found:
        label = getattr(p, "label", None) or getattr(p, "key", None) or getattr(p, "name", "")
        default = settings.get(str(getattr(p, "key", "")), getattr(p, "default", ""))
        out.append((str(label), f"{default:g}" if isinstance(default, float) else str(default)))
    return tuple(out)


def _chart_line(by_line: pl.DataFrame) -> str | None:
    """The service line with the most capacity (the SPC chart and funnel draw it)."""
    lines = by_line.filter(pl.col("capacity_units") > 0).sort(
        ["capacity_units", "service_line"], descending=[True, False]
    )
    return str(lines["service_line"][0]) if lines.height else None


def review_pack(
    db: Database,
    filters: Filters,
    provider_code: str,
    params: Mapping[str, Mapping[str, object]] | None = None,
    *,
    as_of: date | None = None,
    verdict_settings: Mapping[str, float] | None = None,
) -> ReviewPack:
    """Everything one provider's review pack shows, under the filters' period, service lines
    and access scope (the region, group and provider filters are ignored, as on the profile);
    the verdict as of `as_of` (default: the last complete week) with `verdict_settings`.
    """
    code = provider_code.strip().upper()
    known = u.provider_attributes(db, filters).filter(pl.col("provider_code") == code)
    if known.is_empty():  # unknown, or outside the scope: the same answer
        raise PackError(f"provider {code} not found or not in your area")
    own = dashboard.profile_filters(filters, code)
    first, last = _period(db, own, code)
    period = replace(own, week_from=first, week_to=last)
    # the profile over exactly the weeks the provider has figures in: its rank, lines, contracts
    profile = dashboard.provider_profile(db, period, code)
    used = resolve_params(params)
    run = flag_run_for(
        db, period, tuple((r, k, v) for r, kv in sorted(used.items()) for k, v in kv.items())
    )
    by_line = profile.service_lines.select(LINE_COLUMNS)
    line = _chart_line(by_line)
    peers = replace(period, providers=())
    spc = (
        spc_chart_data(db, period, code, line, first, last) if line is not None else pl.DataFrame()
    )
    points, curve = funnel_data(db, peers, line, first, last) if line else (pl.DataFrame(),) * 2
    verdict, note, verdict_params = _verdict(db, filters, code, as_of, verdict_settings)
    return ReviewPack(
        provider_code=code,
        provider_name=profile.provider_name or code,
        group=profile.group,
        region=profile.region,
        period_from=first,
        period_to=last,
        synthetic=reference.is_synthetic(db),
        version=__version__,
        verdict=verdict,
        verdict_note=note,
        headline=profile.headline,
        by_line=by_line,
        contracts=profile.contracts,
        rank=profile.rank,
        peers=profile.peers,
        national_rate=u.headline(db, peers).utilisation,
        weekly=weekly_against_threshold(db, period, code, None, None, first, last),
        threshold=float(used["low_utilisation"]["threshold"]),
        chart_line=line,
        spc=spc,
        funnel_points=points,
        funnel_curve=curve,
        flags=run.flags.sort(["period_start", "rule", "service_line"], nulls_last=True),
        rules=_rule_notes(used),
        verdict_params=verdict_params,
        loads=_loads(db, code, first, last),
        sql=key_figure_sql(filters, code, first, last),
        scope_regions=filters.scope_regions,
    )


def made_stamp(at: datetime) -> str:
    """When a pack was made, as printed: '2 Dec 2026, 13:50 UTC'."""
    return f"{at.day} {at:%b %Y, %H:%M} UTC"
