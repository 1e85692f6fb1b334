"""The shared filters every page and command applies, and the SQL they turn into.

Filters are plain, hashable values so that Streamlit can cache on them and a URL can carry
them. Region, group and provider filter the *site's* region and the provider's group and code;
an empty tuple means "all".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Filters:
    """Period (whole weeks, by their Monday, inclusive) and the subject of a view."""

    week_from: date | None = None
    week_to: date | None = None
    regions: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    service_lines: tuple[str, ...] = ()
    # Regions the user may see (None: all). Set from the signed-in user's access, never from
    # the URL; applied by `where()` to every query, whatever the other filters say.
    scope_regions: tuple[str, ...] | None = None

    def where(
        self,
        *,
        week: str = "week_start",
        region: str | None = "region",
        group: str | None = '"group"',
        provider: str | None = "provider_code",
        service_line: str | None = "service_line",
    ) -> tuple[str, list[Any]]:
        """A SQL condition and its parameters, over columns named as in `utilisation_weekly`.

        Pass a column as None where the relation has no such column; that filter is skipped
        (except the access scope: a scoped query without a region column is refused).
        """
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        if self.scope_regions is not None:
            if region is None:
                raise ValueError("a region-scoped query needs a region column to scope on")
            clauses.append(f"{region} IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(self.scope_regions))
        if self.week_from is not None:
            clauses.append(f"{week} >= ?")
            params.append(self.week_from)
        if self.week_to is not None:
            clauses.append(f"{week} <= ?")
            params.append(self.week_to)
        for column, values in (
            (region, self.regions),
            (group, self.groups),
            (provider, self.providers),
            (service_line, self.service_lines),
        ):
            if column is not None and values:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        return " AND ".join(clauses), params

    def previous_period(self) -> Filters | None:
        """The same number of weeks just before this period (None if the period is open)."""
        if self.week_from is None or self.week_to is None:
            return None
        weeks = (self.week_to - self.week_from).days // 7 + 1
        return replace(
            self,
            week_from=self.week_from - timedelta(weeks=weeks),
            week_to=self.week_from - timedelta(weeks=1),
        )

    def provenance(self) -> list[tuple[str, str]]:
        """The filters, one (label, value) line each, for a download's provenance sheet."""

        def listed(values: tuple[str, ...]) -> str:
            return ", ".join(values) if values else "all"

        period = (
            f"weeks starting {self.week_from or 'the first loaded week'} to "
            f"{self.week_to or 'the last loaded week'}"
            if self.week_from or self.week_to
            else "every loaded week"
        )
        scope = self.scope_regions
        return [
            ("Period", period),
            ("Regions", listed(self.regions)),
            ("Groups", listed(self.groups)),
            ("Providers", listed(self.providers)),
            ("Service lines", listed(self.service_lines)),
            ("Access scope", "every region" if scope is None else "regions " + listed(scope)),
        ]

    def describe(self) -> str:
        """A short slug for file names: what the filters select."""
        parts: list[str] = []
        if self.week_from or self.week_to:
            parts.append(f"{self.week_from or 'start'}_to_{self.week_to or 'end'}")
        for values in (self.regions, self.groups, self.providers, self.service_lines):
            if values:
                parts.append("+".join(v.replace(" ", "-") for v in values))
        return "_".join(parts) or "all"
