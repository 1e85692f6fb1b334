"""Who may see what: the access file, and a signed-in user resolved to an `Access`.

The access file (TOML, path from the `access_file` setting) maps e-mail addresses and
identity-provider groups (the ID token's `groups` claim) to roles:

    contact = "capwatch-admins@example.nhs.uk"   # who to ask for access (shown to the refused)

    [users]
    "jane.doe@example.nhs.uk" = ["national", "analyst"]
    "sam.lee@example.nhs.uk" = ["region:London", "region:South East"]

    [groups]
    "capwatch-north-west" = ["region:North West"]

Roles: `national` (every region), `region:<name>` (one of the seven NHS England regions;
several allowed), `analyst` (may use SQL, together with `national`). A user's roles are the
union of their own and their groups'. E-mails and group names match case-insensitively. A user
with no `national` or `region:` role has no access at all. Nothing here imports Streamlit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from capwatch import config
from capwatch.analytics.filters import Filters
from capwatch.contract import REGIONS
from capwatch.errors import CapwatchError

ACCESS_SETTING = "access_file"

NATIONAL = "national"
ANALYST = "analyst"
REGION_PREFIX = "region:"
_TOP_LEVEL = frozenset({"contact", "users", "groups"})


class AccessFileError(CapwatchError):
    """The access file is missing or malformed (the message names the file and the fault)."""


def access_file_path() -> Path:
    """The access file: the `access_file` setting (`$CAPWATCH_ACCESS`), else its default."""
    return Path(config.setting(ACCESS_SETTING))


@dataclass(frozen=True)
class Access:
    """What one signed-in user may see and do."""

    email: str
    is_national: bool
    regions: tuple[str, ...] | None  # None: every region
    is_analyst: bool

    def filters_scope(self) -> tuple[str, ...] | None:
        """The value for `Filters.scope_regions`: None for national users, else their regions."""
        return None if self.is_national else self.regions

    @property
    def may_use_sql(self) -> bool:
        """SQL reads the whole database file, so only national analysts may run it."""
        return self.is_analyst and self.is_national

    @property
    def may_view_audit(self) -> bool:
        return self.is_national

    def describe(self) -> str:
        """e.g. 'national · analyst' or 'London, South East'."""
        parts = [NATIONAL] if self.is_national else list(self.regions or ())
        return " · ".join([", ".join(parts)] + ([ANALYST] if self.is_analyst else []))


def local_access() -> Access:
    """Local mode (no sign-in configured): everything, as for a national analyst."""
    return Access(email="local", is_national=True, regions=None, is_analyst=True)


def scoped(filters: Filters, access: Access) -> Filters:
    """`filters` limited to what `access` may see (replacing any scope already set)."""
    return replace(filters, scope_regions=access.filters_scope())


@dataclass(frozen=True)
class AccessPolicy:
    """The parsed access file: role sets by e-mail and by group (keys case-folded)."""

    users: Mapping[str, frozenset[str]]
    groups: Mapping[str, frozenset[str]]
    contact: str | None = None
    source: str = "<memory>"

    def resolve(self, email: str | None, groups: Iterable[str] = ()) -> Access | None:
        """The user's access, or None when they may see nothing (unknown, or no region)."""
        if not email or not email.strip():
            return None
        roles: set[str] = set(self.users.get(email.strip().casefold(), frozenset()))
        for group in groups:
            roles |= self.groups.get(str(group).strip().casefold(), frozenset())
        national = NATIONAL in roles
        regions = tuple(r for r in REGIONS if f"{REGION_PREFIX}{r}" in roles)
        if not national and not regions:
            return None
        return Access(
            email=email.strip(),
            is_national=national,
            regions=None if national else regions,
            is_analyst=ANALYST in roles,
        )


def _role(raw: object, where: str) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{where}: a role must be text, not {raw!r}")
    role = raw.strip()
    if role.casefold() in (NATIONAL, ANALYST):
        return role.casefold()
    if role.casefold().startswith(REGION_PREFIX):
        name = role[len(REGION_PREFIX) :].strip()
        for region in REGIONS:
            if region.casefold() == name.casefold():
                return f"{REGION_PREFIX}{region}"
        raise ValueError(f"{where}: unknown region {name!r} (regions: {', '.join(REGIONS)})")
    raise ValueError(f"{where}: unknown role {role!r} (roles: national, analyst, region:<name>)")


def _role_table(doc: Mapping[str, Any], table: str) -> dict[str, frozenset[str]]:
    raw = doc.get(table, {})
    if not isinstance(raw, dict):
        raise ValueError(f"[{table}] must be a table of name = [roles]")
    out: dict[str, frozenset[str]] = {}
    for name, roles in raw.items():
        where = f"[{table}] {name!r}"
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list):
            raise ValueError(f'{where}: roles must be a list of text, e.g. ["national"]')
        key = name.strip().casefold()
        if not key:
            raise ValueError(f"[{table}]: an empty name")
        if key in out:
            raise ValueError(f"{where}: listed twice (names are not case-sensitive)")
        if table == "users" and "@" not in key:
            raise ValueError(f"{where}: not an e-mail address")
        out[key] = frozenset(_role(r, where) for r in roles)
    return out


def parse_access(text: str, source: str = "<memory>") -> AccessPolicy:
    """An `AccessPolicy` from access-file text; `AccessFileError` saying where and what's wrong."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        raise AccessFileError(f"access file {source} is not valid TOML: {exc}") from exc
    try:
        unknown = sorted(set(doc) - _TOP_LEVEL)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(unknown)} (allowed: contact, [users], [groups])"
            )
        contact = doc.get("contact")
        if contact is not None and not isinstance(contact, str):
            raise ValueError("contact must be text (an e-mail address or a team name)")
        return AccessPolicy(
            users=_role_table(doc, "users"),
            groups=_role_table(doc, "groups"),
            contact=contact,
            source=source,
        )
    except ValueError as exc:
        raise AccessFileError(f"access file {source}: {exc}") from exc


def load_access(path: Path | str | None = None) -> AccessPolicy:
    """Read and check the access file (default: `access_file_path()`)."""
    file = Path(path) if path is not None else access_file_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise AccessFileError(
            f"access file {file} not found: sign-in is configured, so nobody can be let in "
            f"until it exists (set {config.env_var(ACCESS_SETTING)} to its path)"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AccessFileError(f"access file {file} cannot be read: {exc}") from exc
    return parse_access(text, str(file))
