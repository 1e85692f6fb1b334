"""The review pack as one self-contained HTML page laid out for A4 portrait.

Running header and footer come from CSS page margin boxes (provider, period, date made, the kind
of data, "Page n of N"), so the HTML prints the same from any Chromium. plotly.js is inlined
(never fetched); the charts are drawn as SVG when the page loads, static (no hover or toolbar).
Every value is escaped; money in tables is exact (£1,234,567), in sentences compact (£1.2m).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from html import escape
from typing import Any

import plotly.io

from capwatch.analytics.flags.explain import gbp, gbp_exact, pct
from capwatch.analytics.pack import ReviewPack, made_stamp
from capwatch.pack.charts import HEIGHT_PX, WIDTH_PX, figures, plotly_js
from capwatch.ui import colours
from capwatch.ui.format import line_label

SYNTHETIC_LABEL = "Synthetic data (fictional providers)"
REAL_LABEL = "Real published data"
DrawSvg = Callable[[Mapping[str, Any], int, int], str]


def data_label(synthetic: bool) -> str:
    return SYNTHETIC_LABEL if synthetic else REAL_LABEL


def uk_date(d: date | None) -> str:
    """1 Jun 2020 ('–' when missing)."""
    return "–" if d is None else f"{d.day} {d:%b %Y}"


def _when(value: datetime | None) -> str:
    return "–" if value is None else f"{value.day} {value:%b %Y %H:%M}"


def _cell(value: Any) -> str:
    return escape("–" if value is None or value == "" else str(value))


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Sequence[int] = ()
) -> str:
    head = "".join(
        f'<th class="{"num" if i in numeric else ""}">{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i in numeric else ""}">{_cell(v)}</td>' for i, v in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 9.5pt/1.35 Arial, Helvetica, sans-serif; color: #212B32; margin: 0; }
h1 { color: BLUE_DARK; font-size: 18pt; margin: 0 0 2mm; }
h2 { color: BLUE_DARK; font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1.5pt solid BLUE;
     padding-bottom: 1mm; break-after: avoid; }
h3 { font-size: 10pt; margin: 3mm 0 1mm; break-after: avoid; }
.meta { color: #425563; margin: 0 0 3mm; }
.badge { display: inline-block; padding: 0.5mm 2mm; border-radius: 2mm; color: white;
         background: BLUE; font-weight: bold; font-size: 8.5pt; }
.badge.synthetic { background: #768692; }
.verdict { border: 1.5pt solid BLUE; border-left-width: 5pt; padding: 2.5mm 4mm; margin: 3mm 0;
           break-inside: avoid; }
.verdict .label { font-size: 14pt; font-weight: bold; color: BLUE_DARK; }
.verdict .sentence { font-size: 10.5pt; margin: 1.5mm 0; }
.money { display: flex; gap: 8mm; margin: 1.5mm 0; }
.money div { font-size: 8.5pt; color: #425563; }
.money b { display: block; font-size: 13pt; color: #212B32; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm; font-size: 8.5pt; }
th { text-align: left; background: #E8EDEE; border-bottom: 1pt solid #AEB7BD; padding: 1mm 1.5mm; }
td { border-bottom: 0.5pt solid #D8DDE0; padding: 0.8mm 1.5mm; vertical-align: top; }
tr { break-inside: avoid; }
.num { text-align: right; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 1pt solid #AEB7BD; }
.chart { break-inside: avoid; margin: 2mm 0 3mm; }
.chart .caption { font-size: 8pt; color: #425563; }
pre { font: 7.5pt/1.3 "DejaVu Sans Mono", monospace; background: #F0F4F5; padding: 2mm;
      white-space: pre-wrap; word-break: break-all; break-inside: avoid; margin: 1mm 0 2mm; }
.hash { font: 7pt "DejaVu Sans Mono", monospace; word-break: break-all; }
.small { font-size: 8pt; color: #425563; }
.page-break { break-before: page; }
""".replace("BLUE_DARK", colours.NHS_DARK_BLUE).replace("BLUE", colours.NHS_BLUE)


def _css_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a quoted CSS string


def _page_css(pack: ReviewPack, made: datetime) -> str:
    """A4 portrait with the running header and footer in the page margin boxes."""
    left = f"{pack.provider_code} {pack.provider_name} · contract review pack"
    right = (
        f"Weeks {uk_date(pack.period_from)} – {uk_date(pack.period_to)} · made {made_stamp(made)}"
    )
    box = "font: 8pt Arial, sans-serif; color: #425563;"
    return (
        "@page { size: A4 portrait; margin: 20mm 14mm 16mm 14mm; "
        f"@top-left {{ content: {_css_string(left)}; {box} }} "
        f"@top-right {{ content: {_css_string(right)}; {box} }} "
        f"@bottom-left {{ content: {_css_string(data_label(pack.synthetic))}; {box} }} "
        f'@bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} }} }}'
    )


def _verdict(pack: ReviewPack) -> str:
    v = pack.verdict
    if v is None:
        return (
            '<div class="verdict"><div class="label">No verdict</div>'
            f'<div class="sentence">{escape(pack.verdict_note or "")}</div></div>'
        )
    reasons = v.get("reasons") or []
    items = "".join(
        f"<li><b>{escape(str(r.get('rule', '')).replace('_', ' '))}</b>: "
        f"{escape(str(r.get('sentence', '')))}</li>"
        for r in reasons
    )
    first = v.get("first_signal_week")
    as_of = v.get("as_of_week")
    as_of_text = f" · as of the week of {uk_date(as_of)}" if isinstance(as_of, date) else ""
    return (
        '<div class="verdict">'
        f'<div class="label">{escape(str(v.get("verdict_label") or v.get("verdict")))}</div>'
        f'<div class="small">Contract {_cell(v.get("contract_id"))} · strength: '
        f"{_cell(v.get('strength'))} · first signal in the week of "
        f"{uk_date(first) if isinstance(first, date) else '–'}{as_of_text}</div>"
        f'<div class="sentence">{escape(str(v.get("sentence") or ""))}</div>'
        '<div class="money">'
        f"<div>Saved per month if released<b>{gbp(v.get('saving_per_month_gbp'))}</b></div>"
        f"<div>At stake over the period<b>{gbp(v.get('at_stake_gbp'))}</b></div>"
        "</div>" + (f"<h3>Reasons</h3><ul>{items}</ul>" if items else "") + "</div>"
    )


def _key_figures(pack: ReviewPack) -> str:
    rows = [
        (
            line_label(r["service_line"]),
            f"{r['capacity_units']:,}",
            f"{r['nhs_units']:,}",
            pct(r["utilisation"], 1),
            f"{r['private_units']:,}",
            gbp_exact(r["unused_capacity_cost_gbp"]),
        )
        for r in pack.by_line.iter_rows(named=True)
    ]
    h = pack.headline
    total = (
        "All service lines",
        f"{h.capacity_units:,}",
        f"{h.nhs_units:,}",
        pct(h.utilisation, 1),
        f"{h.private_units:,}",
        gbp_exact(h.unused_capacity_cost_gbp),
    )
    table = _table(
        ["Service line", "Capacity units", "NHS units", "Utilisation", "Private units",
         "Unused capacity cost"],
        rows,
        numeric=(1, 2, 3, 4, 5),
    )  # fmt: skip
    total_row = "<tr class=total>" + "".join(
        f'<td class="{"num" if i else ""}">{escape(v)}</td>' for i, v in enumerate(total)
    )
    table = table.replace("</tbody>", total_row + "</tr></tbody>")
    rank = (
        f"Ranked <b>{pack.rank}</b> of {pack.peers} providers by utilisation (1 = lowest)"
        if pack.rank
        else "Not ranked (no capacity)"
    )
    return (
        table
        + f"<p>Contract value in these weeks: <b>{gbp_exact(h.contract_value_gbp)}</b> (whole "
        "contracts apportioned to the weeks; not split by service line). "
        f"{rank}; national rate <b>{pct(pack.national_rate, 1)}</b> over the same weeks and "
        "service lines.</p>"
    )


def _charts(pack: ReviewPack, draw: DrawSvg | None) -> tuple[str, str]:
    """The chart blocks, and the script that draws them (none when drawn here as SVG)."""
    divs, scripts = [], []
    for i, (caption, fig) in enumerate(figures(pack), start=1):
        spec = json.loads(plotly.io.to_json(fig, validate=False, pretty=False))
        if draw is not None:
            svg = draw(spec, WIDTH_PX, HEIGHT_PX)
            svg = svg[svg.index("<svg") :] if "<svg" in svg else svg
            inner = svg
        else:
            inner = ""
            scripts.append(f"draw('chart-{i}', {json.dumps(spec)});")
        divs.append(
            f'<div class="chart"><div id="chart-{i}">{inner}</div>'
            f'<div class="caption">{escape(caption)}</div></div>'
        )
    body = "".join(divs) or "<p>No weekly figures to chart.</p>"
    if draw is not None:
        return body, ""
    script = (
        f"<script>{plotly_js()}</script><script>"
        "function draw(id, spec) { Plotly.newPlot(id, spec.data, spec.layout, "
        "{staticPlot: true, displayModeBar: false}); }" + "".join(scripts) + "</script>"
    )
    return body, script


def _flags(pack: ReviewPack) -> str:
    if pack.flags.is_empty():
        return "<p>No rule fired on this provider in these weeks (rules at the settings below).</p>"
    rows = [
        (
            r["rule_title"],
            str(r["severity"]).capitalize(),
            line_label(r["service_line"]) if r["service_line"] else "All lines",
            f"{uk_date(r['period_start'])} – {uk_date(r['period_end'])}",
            r["explanation"],
            gbp_exact(r["money_at_stake_gbp"]),
        )
        for r in pack.flags.iter_rows(named=True)
    ]
    return _table(
        ["Rule", "Severity", "Service line", "Weeks", "What fired, with its numbers", "At stake"],
        rows,
        numeric=(5,),
    )


def _contracts(pack: ReviewPack) -> str:
    if pack.contracts.is_empty():
        return "<p>This provider holds no contract.</p>"
    rows = [
        (
            r["contract_id"],
            uk_date(r["start_date"]),
            uk_date(r["end_date"]),
            gbp_exact(r["monthly_value_gbp"]),
            r["status"],
            uk_date(r["removed_date"]),
            r["removal_reason"],
            gbp_exact(r["contract_value_in_period_gbp"]),
        )
        for r in pack.contracts.iter_rows(named=True)
    ]
    return _table(
        ["Contract", "Start", "End", "Monthly value", "Status", "Removed", "Reason",
         "Value in these weeks"],
        rows,
        numeric=(3, 7),
    )  # fmt: skip


def _method(pack: ReviewPack) -> str:
    parts = []
    for note in pack.rules:
        params = _table(["Parameter", "Value used", "Meaning"], note.params, numeric=(1,))
        parts.append(
            f"<h3>{escape(note.title)}</h3><p>{escape(note.description)}</p>"
            f"<p class=small><b>Severity:</b> {escape(note.severity)} <b>Money at stake:</b> "
            f"{escape(note.money)}</p>{params}"
        )
    if pack.verdict_params:
        parts.append(
            "<h3>Verdict settings</h3>"
            + _table(["Parameter", "Value used"], pack.verdict_params, numeric=(1,))
        )
    return "".join(parts)


def _lineage(pack: ReviewPack) -> str:
    rows = [
        (
            r["load_id"],
            r["table_name"],
            r["file_name"],
            f"{r['rows_stored']:,}",
            _when(r["loaded_at"]),
            r["status"]
            + (f"; replaces {r['replaces']}" if r["replaces"] else "")
            + (f"; replaced by {r['superseded_by']}" if r["superseded_by"] else "")
            + (f"; retracted {_when(r['retracted_at'])}" if r["retracted_at"] else ""),
        )
        for r in pack.loads.iter_rows(named=True)
    ]
    hashes = "".join(
        f"<tr><td>{_cell(r['load_id'])}</td><td class=hash>{_cell(r['file_hash'])}</td></tr>"
        for r in pack.loads.iter_rows(named=True)
    )
    sql = "".join(f"<h3>{escape(s.figure)}</h3><pre>{escape(s.sql)}</pre>" for s in pack.sql)
    scope = (
        "every region"
        if pack.scope_regions is None
        else "the sites in " + ", ".join(pack.scope_regions)
    )
    return (
        f"<p>Made by capwatch {escape(pack.version)} from the loads below (the load log and "
        "the <code>load_history</code> view; times UTC). Figures cover "
        f"{escape(scope)}.</p>"
        + _table(["Load", "Table", "File", "Rows", "Loaded (UTC)", "Status"], rows, numeric=(0, 3))
        + "<h3>SHA-256 of each file</h3><table><thead><tr><th>Load</th><th>SHA-256</th></tr>"
        f"</thead><tbody>{hashes}</tbody></table>"
        "<h3>Reproduce the key figures</h3><p class=small>Each query runs as printed in "
        "<code>capwatch sql</code> or the DuckDB shell on the same database.</p>" + sql
    )


def render_html(pack: ReviewPack, made: datetime, draw: DrawSvg | None = None) -> str:
    """The whole pack as one HTML document (deterministic for the same pack and `made`).

    With `draw` (a figure's JSON, width, height → SVG markup) the charts are inline SVG; without
    it the page carries plotly.js and draws them when opened (offline either way).
    """
    chart_divs, chart_script = _charts(pack, draw)
    kind = "synthetic" if pack.synthetic else "real"
    title = f"Contract review pack: {pack.provider_code} {pack.provider_name}"
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_page_css(pack, made)}{_CSS}</style></head>
<body>
<h1>{escape(pack.provider_code)} · {escape(pack.provider_name)}</h1>
<p class="meta">Group: {_cell(pack.group)} · Region: {_cell(pack.region)} ·
Weeks {uk_date(pack.period_from)} – {uk_date(pack.period_to)} · made {made_stamp(made)}
<span class="badge {kind}">{escape(data_label(pack.synthetic))}</span></p>
<h2>Verdict</h2>{_verdict(pack)}
<h2>Key figures</h2>{_key_figures(pack)}
<h2>Contracts</h2>{_contracts(pack)}
<h2 class="page-break">Charts</h2>{chart_divs}
<h2 class="page-break">Flags</h2>{_flags(pack)}
<h2>Method</h2>{_method(pack)}
<h2 class="page-break">Lineage: where every figure came from</h2>{_lineage(pack)}
{chart_script}
</body></html>
"""
