"""The shared sidebar filters, kept in the URL so a view can be shared as a link.

API for pages (keep it stable):
- `current_filters() -> Filters`: the filters in force on this run. `app.py` renders the
  sidebar once per run before the page; a page only calls this.
- `filter_options() -> FilterOptions`: every value the filters may take for this user (cached).
- `query_string(filters, **extra) -> str`: a URL query that reproduces `filters` (for links);
  `link_params(filters, **extra)`: the same as a dict for `st.page_link(query_params=...)`.
- `render_sidebar() -> Filters`: for `app.py` only.

URL keys: `from`, `to` (the Monday of the first and last week, ISO dates), `region`, `group`,
`provider` (provider codes), `line` (service lines). Several values may be repeated
(`region=London&region=North+West`) or comma-separated (`region=London,North West`).
A key left out means "all". The Provider profile page adds `p` (one provider code), which is
separate from the `provider` filter so that opening a profile does not narrow other pages.

The URL is read when a session starts and whenever it carries filter values other than the
ones this module last wrote (a shared link, a link from another page). Otherwise the sidebar
widgets hold the filters, and every run writes them back to the URL (Streamlit clears query
parameters when the page changes). Values that are invalid or no longer loaded are dropped
with a visible warning naming them; they never raise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

import streamlit as st

from capwatch.analytics import reference
from capwatch.analytics.filters import Filters
from capwatch.analytics.reference import FilterOptions
from capwatch.ui.auth import scope
from capwatch.ui.context import cached
from capwatch.ui.format import line_label, uk_date

FILTER_KEYS: tuple[str, ...] = ("from", "to", "region", "group", "provider", "line")
PROFILE_KEY = "p"

_STATE = "_capwatch_filters"
_WRITTEN = "_capwatch_filters_written"
_PERIOD_DEFAULT = "_capwatch_period_default"
_PERIOD_GENERATION = "_capwatch_period_generation"
_WEEKS, _REGIONS, _GROUPS, _PROVIDERS, _LINES = (
    "cw_weeks",
    "cw_regions",
    "cw_groups",
    "cw_providers",
    "cw_lines",
)
_MULTI: tuple[tuple[str, str, str], ...] = (
    ("region", _REGIONS, "regions"),
    ("group", _GROUPS, "groups"),
    ("provider", _PROVIDERS, "providers"),
    ("line", _LINES, "service_lines"),
)


@dataclass(frozen=True)
class Parsed:
    """Filters read from a URL, and a note for each value that was ignored."""

    filters: Filters
    ignored: tuple[str, ...]


def _values(raw: Sequence[str], allowed: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split repeated/comma-separated values; keep known ones (in option order), list the rest."""
    wanted: list[str] = []
    for value in raw:
        value = value.strip()
        if not value:
            continue
        parts = [value] if value in allowed else [p.strip() for p in value.split(",")]
        wanted += [p for p in parts if p and p not in wanted]
    known = [v for v in allowed if v in wanted]
    return known, [v for v in wanted if v not in allowed]


def _week(raw: Sequence[str], weeks: Sequence[date], key: str) -> tuple[date | None, str | None]:
    text = (raw[-1] if raw else "").strip()
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, f"`{key}={text}` is not a date (use YYYY-MM-DD)"
    monday = day - timedelta(days=day.weekday())
    if weeks and not weeks[0] <= monday <= weeks[-1]:
        return None, f"`{key}={text}` is outside the loaded weeks ({weeks[0]} to {weeks[-1]})"
    return monday, None


def parse_query(params: Mapping[str, Sequence[str]], options: FilterOptions) -> Parsed:
    """Filters from URL query values (each key → its list of values), validated against what
    is loaded. Never raises: anything unusable is dropped and named in `ignored`."""
    ignored: list[str] = []
    weeks = options.weeks
    week_from, note_from = _week(params.get("from", ()), weeks, "from")
    week_to, note_to = _week(params.get("to", ()), weeks, "to")
    ignored += [n for n in (note_from, note_to) if n]
    if week_from and week_to and week_from > week_to:
        ignored.append(f"`from={week_from}` is after `to={week_to}`")
        week_from = week_to = None
    chosen: dict[str, tuple[str, ...]] = {}
    for key, _, field in _MULTI:
        known, unknown = _values(params.get(key, ()), getattr(options, field))
        chosen[field] = tuple(known)
        if unknown:
            ignored.append(f"unknown {key} " + ", ".join(f"`{v}`" for v in unknown))
    return Parsed(
        Filters(
            week_from=week_from or (weeks[0] if weeks else None),
            week_to=week_to or (weeks[-1] if weeks else None),
            **chosen,
        ),
        tuple(ignored),
    )


def to_query(filters: Filters, options: FilterOptions) -> dict[str, list[str]]:
    """The URL query for `filters`: a key only where it narrows the view."""
    out: dict[str, list[str]] = {}
    weeks = options.weeks
    if filters.week_from and (not weeks or filters.week_from != weeks[0]):
        out["from"] = [filters.week_from.isoformat()]
    if filters.week_to and (not weeks or filters.week_to != weeks[-1]):
        out["to"] = [filters.week_to.isoformat()]
    for key, _, field in _MULTI:
        values = getattr(filters, field)
        if values:
            out[key] = list(values)
    return out


def filter_options() -> FilterOptions:
    """Every value the shared filters may take for the signed-in user (only their regions and
    the providers there); cached per database file and access scope."""
    return cached(reference.filter_options, scope(Filters()))


def query_string(filters: Filters, **extra: str) -> str:
    """`region=London&p=NX1`-style query reproducing `filters` plus `extra` keys."""
    pairs = [(k, v) for k, vs in to_query(filters, filter_options()).items() for v in vs]
    pairs += list(extra.items())
    return urlencode(pairs)


def link_params(filters: Filters, **extra: str) -> dict[str, str | list[str]]:
    """Query parameters for `st.page_link` / `st.switch_page` reproducing `filters` + `extra`."""
    params: dict[str, str | list[str]] = dict(to_query(filters, filter_options()))
    params.update(extra)
    return params


def _url_filters() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in FILTER_KEYS if k in st.query_params}


def _load_into_widgets(filters: Filters, options: FilterOptions) -> None:
    weeks = options.weeks
    if weeks:
        _reset_period(filters.week_from or weeks[0], filters.week_to or weeks[-1])
    for _, state_key, field in _MULTI:
        st.session_state[state_key] = list(getattr(filters, field))


def _drop_stale_widget_values(options: FilterOptions) -> list[str]:
    """After a new load, drop widget values that no longer exist (and say so)."""
    notes: list[str] = []
    for key, state_key, field in _MULTI:
        current = st.session_state.get(state_key, [])
        allowed = getattr(options, field)
        stale = [v for v in current if v not in allowed]
        if stale:
            st.session_state[state_key] = [v for v in current if v in allowed]
            notes.append(f"{key} " + ", ".join(f"`{v}`" for v in stale) + " is no longer loaded")
    span = st.session_state.get(_period_key())
    if options.weeks and span and any(w not in options.weeks for w in span):
        _reset_period(options.weeks[0], options.weeks[-1])
        notes.append("the period is no longer loaded; showing every week")
    return notes


def _period_key() -> str:
    return f"{_WEEKS}_{st.session_state.get(_PERIOD_GENERATION, 0)}"


def _reset_period(week_from: date, week_to: date) -> None:
    """Give the range slider a new default. A select_slider is a range only when its `value`
    is a pair, so it is set through `value` and a fresh key rather than through Session State."""
    st.session_state[_PERIOD_DEFAULT] = (week_from, week_to)
    st.session_state[_PERIOD_GENERATION] = st.session_state.get(_PERIOD_GENERATION, 0) + 1


def _week_label(day: date) -> str:
    return uk_date(day)


def _render_widgets(options: FilterOptions) -> Filters:
    side = st.sidebar
    side.header("Filters")
    week_from = week_to = None
    if len(options.weeks) > 1:
        default = st.session_state.get(_PERIOD_DEFAULT) or (options.weeks[0], options.weeks[-1])
        week_from, week_to = side.select_slider(
            "Weeks (by Monday)",
            options=list(options.weeks),
            value=default,
            key=_period_key(),
            format_func=_week_label,
        )
    elif options.weeks:
        week_from = week_to = options.weeks[0]
    names = options.provider_names
    regions = side.multiselect("Region", options.regions, key=_REGIONS, placeholder="All regions")
    groups = side.multiselect("Group", options.groups, key=_GROUPS, placeholder="All groups")
    providers = side.multiselect(
        "Provider",
        options.providers,
        key=_PROVIDERS,
        placeholder="All providers",
        format_func=lambda code: f"{code} · {names.get(code, '')}",
    )
    lines = side.multiselect(
        "Service line",
        options.service_lines,
        key=_LINES,
        placeholder="All service lines",
        format_func=line_label,
    )
    side.caption("The filters are kept in the page address: copy it to share this view.")
    return Filters(
        week_from=week_from,
        week_to=week_to,
        regions=tuple(regions),
        groups=tuple(groups),
        providers=tuple(providers),
        service_lines=tuple(lines),
    )


def _write_url(filters: Filters, options: FilterOptions) -> None:
    wanted = to_query(filters, options)
    for key in FILTER_KEYS:
        if key in wanted:
            if st.query_params.get_all(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
    st.session_state[_WRITTEN] = wanted


def render_sidebar() -> Filters:
    """Render the shared filters (app.py, once per run), sync them with the URL, show notes."""
    options = filter_options()
    url = _url_filters()
    notes: list[str] = []
    if _STATE not in st.session_state or (url and url != st.session_state.get(_WRITTEN)):
        parsed = parse_query(url, options)
        _load_into_widgets(parsed.filters, options)
        notes += parsed.ignored
    else:
        notes += _drop_stale_widget_values(options)
    filters = _render_widgets(options)
    st.session_state[_STATE] = filters
    _write_url(filters, options)
    if notes:
        st.warning("Ignored in the address: " + "; ".join(notes) + ".", icon=":material/info:")
    return filters


def current_filters() -> Filters:
    """The filters in force on this run (as set by the sidebar; from the URL if none yet)."""
    filters = st.session_state.get(_STATE)
    if not isinstance(filters, Filters):
        filters = parse_query(_url_filters(), filter_options()).filters
    return scope(filters)  # the signed-in user's regions, whatever the URL or widgets say
