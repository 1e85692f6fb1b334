"""The registry of the dashboard's pages: one entry per page, in navigation order.

Each page declares its file (`pages/<name>.py`, also its URL path), title, icon, who may see
it and the analytics call it renders. The entry script builds the navigation from it; the page
tests, the browser tests, the Excel download tests, the benchmark and the README's page table
iterate it. Adding a page is one entry here, its file and its tests (docs/development.md).
Nothing here imports Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from capwatch.access import Access
from capwatch.analytics import dashboard, diagnostics, verdicts
from capwatch.analytics.flags.evidence import flag_run_for


@dataclass(frozen=True)
class Audience:
    """Who may open a page: a plain description (for the README) and the check itself."""

    description: str
    admits: Callable[[Access | None], bool]


EVERYONE = Audience("everyone signed in (figures scoped to their regions)", lambda _: True)
SQL_USERS = Audience(
    "national analysts: SQL reads the whole database file",
    lambda a: a is not None and a.may_use_sql,
)
NATIONAL = Audience(
    "national users: the audit trail is national", lambda a: a is not None and a.may_view_audit
)


@dataclass(frozen=True)
class PageSpec:
    name: str
    """The file `pages/<name>.py` and the URL path `/<name>`."""
    title: str
    icon: str
    audience: Audience
    analytics: Callable[..., object] | None
    """The analytics call whose result the page renders (None: it renders no metric)."""
    summary: str
    """What the page answers (the README's page table)."""
    downloads: bool = False
    """Its tables come with CSV and Excel buttons (tests/test_excel_downloads.py checks)."""

    @property
    def url_path(self) -> str:
        return self.name

    def visible_to(self, access: Access | None) -> bool:
        """Whether the navigation lists the page (each restricted page also refuses itself)."""
        return self.audience.admits(access)


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        name="actions",
        title="Actions",
        icon=":material/checklist:",
        audience=EVERYONE,
        analytics=verdicts.verdicts,
        summary=(
            "One decision per active contract as of a week: release, challenge, route work to it"
            " or keep (or not enough data), with the money a month, its strength, the reasons "
            "and the week its signal first held; a plain headline sentence; each row opens the "
            "provider's profile at its verdict; verdict settings adjustable; the verdict backtest."
        ),
        downloads=True,
    ),
    PageSpec(
        name="overview",
        title="Overview",
        icon=":material/dashboard:",
        audience=EVERYONE,
        analytics=dashboard.overview,
        summary=(
            "Contracted capacity, NHS units used, utilisation, contract value, unused capacity cost"
            " and private units for the period, each against the previous period of the same "
            "length; the weekly trend; the providers with the most unused capacity cost; and one "
            'plain sentence ("Of £X of capacity contracted, £Y went unused").'
        ),
        downloads=True,
    ),
    PageSpec(
        name="providers",
        title="Providers",
        icon=":material/local_hospital:",
        audience=EVERYONE,
        analytics=dashboard.providers,
        summary=(
            "Every provider ranked by utilisation or by unused cost, with group and region; open a "
            "profile from the table or the chart."
        ),
        downloads=True,
    ),
    PageSpec(
        name="provider_profile",
        title="Provider profile",
        icon=":material/badge:",
        audience=EVERYONE,
        analytics=dashboard.provider_profile,
        summary=(
            "One provider (`/provider_profile?p=NX1`): contracts, sites, utilisation by service "
            "line and activity type, weekly trend, NHS against private work, its rank among peers, "
            "and its flags; and, where the provider's or a site's code is a DM01 reporting "
            "organisation, its published DM01 tests by month."
        ),
    ),
    PageSpec(
        name="service_lines",
        title="Service lines",
        icon=":material/stacked_bar_chart:",
        audience=EVERYONE,
        analytics=dashboard.service_lines,
        summary=(
            "Diagnostics, day case, chemotherapy and outpatients side by side, activity types "
            "within each (MRI against CT), week by week."
        ),
        downloads=True,
    ),
    PageSpec(
        name="regions",
        title="Regions",
        icon=":material/map:",
        audience=EVERYONE,
        analytics=dashboard.regions,
        summary=(
            "The seven regions compared; a region → group → provider treemap sized by unused "
            "cost (or capacity value) and coloured by utilisation; drill into a region's "
            "providers. No map tiles: it works offline."
        ),
        downloads=True,
    ),
    PageSpec(
        name="flags",
        title="Flags",
        icon=":material/flag:",
        audience=EVERYONE,
        analytics=flag_run_for,
        summary=(
            "Every flag under the filters, with its sentence, its numbers, the money at stake and "
            "its evidence chart (SPC, funnel, weekly utilisation against the threshold); rule "
            "parameters adjustable on the page; notes on what a rule could not assess; and the "
            "backtest: would the flags have called the contracts actually removed, how many weeks "
            "ahead, and which active contracts look like them."
        ),
    ),
    PageSpec(
        name="diagnostics",
        title="Diagnostics (published)",
        icon=":material/public:",
        audience=EVERYONE,
        analytics=diagnostics.diagnostics,
        summary=(
            "Real NHS England DM01 data, labelled as such with its licence: independent-sector and "
            "NHS tests done as a share of the same month a year earlier, nationally, by region and "
            "by test; the waiting lists (total and 6+ weeks) by region and test beside the "
            "independent sector's tests in that region; every IS organisation against its baseline,"
            " linked to its provider profile where capwatch holds contract data under the same ODS "
            "code. Region (and the user's access scope) applies; the weekly period does not (DM01 "
            "is monthly)."
        ),
    ),
    PageSpec(
        name="sql",
        title="Ask the data (SQL)",
        icon=":material/database_search:",
        audience=SQL_USERS,
        analytics=None,
        summary=(
            "Read-only, sandboxed SQL over the same database, with example questions, the data "
            "dictionary, and the whole result as CSV."
        ),
    ),
    PageSpec(
        name="data",
        title="Data",
        icon=":material/folder_open:",
        audience=EVERYONE,
        analytics=dashboard.data,
        summary=(
            "What is loaded (the load log: file, rows, hash, when, and its history: status, rows "
            "still in place, the loads it replaced or was replaced by, retractions; national users "
            "only, as file names can name any provider), the period covered, data-quality findings "
            "(scoped to the user's regions) and the input templates."
        ),
        downloads=True,
    ),
    PageSpec(
        name="audit",
        title="Audit trail",
        icon=":material/policy:",
        audience=NATIONAL,
        analytics=None,
        summary=(
            "Every sign-in, view, download and SQL query, hash-chained so an edit or a deleted line"
            " shows; filter by who and what, download the trail (national users only)."
        ),
    ),
)

DEFAULT = next(p for p in PAGES if p.name == "overview")
"""The page served at `/` (Actions is first in the navigation, the Overview opens the app)."""
"""Served at the app's root `/` (and at `/overview`, the path the README gives)."""


def page_table_markdown() -> str:
    """The README's page table."""
    lines = ["| page | path | who may see it | what it answers |", "|---|---|---|---|"]
    lines += [
        f"| **{p.title}** | `/{p.url_path}` | {p.audience.description} | {p.summary} |"
        for p in PAGES
    ]
    return "\n".join(lines) + "\n"
