"""Sign-in, who may see what, and the audit records the app writes.

API (keep it stable):
- `gate() -> Access`: call first in `app.py`. Without an `[auth]` section in the secrets it is
  local mode (a national analyst, with a sidebar notice). With one, a signed-out visitor sees
  only the sign-in screen, a signed-in stranger a "no access" page; both stop the run. A user
  with access sees who they are and a sign-out button; their sign-in is audited once (one
  record per sign-in at the identity provider, however many pages, tabs or reloads follow).
- `current_access() -> Access | None`: the user's access on this run, worked out again if
  `gate()` has not run (a page run on its own); None means "may see nothing".
- `scope(filters) -> Filters`: the filters limited to the current user's regions (None: nothing).
- `record_download(what, file_name, rows, filters)`: record a download, CSV or Excel;
  `who()` and `record_download_by(who, ...)` do it for a file made after the page ran (the
  `capwatch.ui.download` buttons).
- `record_sql(query, rows, error=None)`: record an ad hoc query.
- `refuse_unless(allowed, what)`: a plain refusal and stop, for pages some users may not open.

Fails closed: unreadable sign-in settings or access file stop the app with a plain message.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NoReturn

import streamlit as st

from capwatch import audit
from capwatch.access import Access, AccessFileError, load_access, local_access
from capwatch.analytics.filters import Filters

log = logging.getLogger("capwatch.ui.auth")

_ACCESS = "_capwatch_access"
_SIGNED_IN = "_capwatch_signed_in_recorded"
NO_SCOPE: tuple[str, ...] = ()  # scope of a user who may see nothing

State = Literal["local", "signed_out", "no_access", "allowed", "broken"]


@dataclass(frozen=True)
class Resolution:
    """Where the visitor stands on this run."""

    state: State
    access: Access | None = None
    email: str | None = None
    message: str | None = None  # for "broken": what is wrong, fit to show
    contact: str | None = None  # for "no_access": who to ask
    sign_in_id: str | None = None  # one sign-in at the identity provider (see `sign_in_id`)


def _secrets_files_present() -> bool:
    files = st.get_option("secrets.files") or []
    return any(Path(f).exists() for f in files)


def _auth_section() -> Mapping[str, Any] | None:
    """The `[auth]` secrets section, None when sign-in is not configured.

    Raises `RuntimeError` when a secrets file exists but cannot be read: an unreadable
    configuration must not silently open the app in local mode.
    """
    try:
        return st.secrets.get("auth")
    except Exception as exc:  # Streamlit raises its own error types for a missing/bad file
        if _secrets_files_present():
            raise RuntimeError(
                "The sign-in settings (.streamlit/secrets.toml) cannot be read; fix the file."
            ) from exc
        return None


def _provider(auth: Mapping[str, Any]) -> str | None:
    """None for a single `[auth]` provider, else the name of the first `[auth.<name>]`."""
    if "client_id" in auth or "server_metadata_url" in auth:
        return None
    return next((k for k, v in auth.items() if isinstance(v, Mapping)), None)


def _claims() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # no session context (bare script): nobody is signed in
        return {}


def _groups(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("groups") or []
    if isinstance(raw, str):
        return [raw]
    return [str(g) for g in raw] if isinstance(raw, list | tuple) else []


def sign_in_id(claims: Mapping[str, Any]) -> str:
    """A short id for one sign-in: the ID token's issuer, subject, e-mail, issue time and
    nonce, hashed. Every page load of that signed-in browser carries the same claims (they
    live in Streamlit's auth cookie); signing in again gives a new issue time and nonce."""
    parts = [str(claims.get(k) or "") for k in ("iss", "sub", "email", "iat", "nonce")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


class _SignIns:
    """Sign-ins already recorded by this server process (bounded, thread-safe)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: dict[str, None] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def first_time(self, key: str) -> bool:
        """True the first time `key` is offered (and remember it)."""
        with self._lock:
            if key in self._seen:
                return False
            if len(self._seen) >= self._limit:
                self._seen.pop(next(iter(self._seen)))
            self._seen[key] = None
            return True

    def forget(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)


@st.cache_resource(show_spinner=False)
def _sign_ins() -> _SignIns:
    return _SignIns()


def resolve() -> Resolution:
    """Work out where the visitor stands, without drawing anything."""
    try:
        auth = _auth_section()
    except RuntimeError as exc:
        return Resolution("broken", message=str(exc))
    if auth is None:
        return Resolution("local", access=local_access())
    claims = _claims()
    if not claims.get("is_logged_in"):
        return Resolution("signed_out")
    email = str(claims.get("email") or "").strip() or None
    signed = sign_in_id(claims)
    try:
        policy = load_access()
    except AccessFileError as exc:
        log.error("%s", exc)
        return Resolution("broken", email=email, message=str(exc))
    access = policy.resolve(email, _groups(claims))
    if access is None:
        return Resolution("no_access", email=email, contact=policy.contact, sign_in_id=signed)
    return Resolution("allowed", access=access, email=email, sign_in_id=signed)


def current_access() -> Access | None:
    """The current user's access (None: may see nothing)."""
    access = st.session_state.get(_ACCESS)
    if isinstance(access, Access):
        return access
    return resolve().access


def scope(filters: Filters) -> Filters:
    """`filters` limited to what the current user may see, whatever the URL asked for."""
    access = current_access()
    return replace(filters, scope_regions=NO_SCOPE if access is None else access.filters_scope())


def _who(access: Access | None) -> str:
    return access.email if access is not None else "unknown"


def _record(action: str, **fields: Any) -> bool:
    """Append to the audit log; on failure say so (the action is not silently unrecorded)."""
    try:
        audit.record(action, _who(current_access()), **fields)
    except (audit.AuditError, OSError) as exc:
        log.error("audit record failed: %s", exc)
        st.toast("This action could not be recorded in the audit log; tell the maintainers.",
                 icon=":material/error:")  # fmt: skip
        return False
    return True


def _filters_record(filters: Filters) -> dict[str, Any]:
    return {
        "from": str(filters.week_from) if filters.week_from else None,
        "to": str(filters.week_to) if filters.week_to else None,
        "regions": list(filters.regions),
        "groups": list(filters.groups),
        "providers": list(filters.providers),
        "service_lines": list(filters.service_lines),
        "scope_regions": None if filters.scope_regions is None else list(filters.scope_regions),
    }


def record_download(
    what: str, file_name: str, rows: int, filters: Filters | Mapping[str, Any] | None = None
) -> bool:
    """Record a download (CSV or Excel): what it was, its file name, rows, and the filters."""
    return record_download_by(_who(current_access()), what, file_name, rows, filters)


def who() -> str:
    """The current user as the audit log names them (captured while the page runs, for a
    download made after it)."""
    return _who(current_access())


def record_download_by(
    who: str,
    what: str,
    file_name: str,
    rows: int,
    filters: Filters | Mapping[str, Any] | None = None,
) -> bool:
    """`record_download` for `who`, callable outside a script run: a deferred download's
    file is made on another thread with no session, so nothing can be shown; a failure is
    logged (the file is still made: the log says it went unrecorded)."""
    detail = _filters_record(filters) if isinstance(filters, Filters) else dict(filters or {})
    try:
        audit.record(
            "download", who, page=what, what={"file": file_name, "filters": detail}, rows=rows
        )
    except (audit.AuditError, OSError) as exc:
        log.error("audit record failed for a download (%s, %s): %s", file_name, who, exc)
        return False
    return True


def record_sql(query: str, rows: int | None, error: str | None = None) -> bool:
    """Record an ad hoc SQL query (its text, rows returned, or why it failed)."""
    what: dict[str, Any] = {"query": query}
    if error:
        what["error"] = error
    return _record("sql", page="sql", what=what, rows=rows)


def refuse_unless(allowed: bool, what: str) -> None:
    """Stop the page with a plain message unless `allowed`."""
    if not allowed:
        st.error(f"{what} is not available to you.", icon=":material/lock:")
        st.stop()


# -- what the visitor sees ------------------------------------------------------------------


def _sign_in_screen(provider: str | None) -> None:
    st.title("capwatch")
    st.markdown(
        "Independent-sector capacity for NHS commissioners. Contract values and provider "
        "performance are commercially sensitive: sign in with your organisation account."
    )
    st.button(
        "Sign in",
        type="primary",
        icon=":material/login:",
        on_click=st.login,
        args=(provider,) if provider else (),
        key="capwatch_sign_in",
    )


def _no_access_screen(email: str | None, contact: str | None) -> None:
    st.title("No access")
    who = f"**{email}**" if email else "this account (no e-mail address was given)"
    ask = f"Ask {contact}" if contact else "Ask your capwatch administrator"
    st.error(
        f"You are signed in as {who}, which has no access to capwatch. {ask} to add you to "
        "the access file, naming the regions you need.",
        icon=":material/block:",
    )
    st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="capwatch_sign_out")


def _sidebar_identity(access: Access) -> None:
    side = st.sidebar
    side.caption(f"Signed in as **{access.email}** · {access.describe()}")
    side.button("Sign out", on_click=st.logout, icon=":material/logout:", key="capwatch_sign_out")


def _record_sign_in_once(here: Resolution, who: str, what: dict[str, Any]) -> None:
    """Record this sign-in unless this session or another one on this server already has.

    A sign-in is one visit to the identity provider (`sign_in_id`), not a page load: every
    page opened, tab or reload starts a new Streamlit session with the same sign-in.
    """
    key = here.sign_in_id or f"{who}:{here.state}"
    if st.session_state.get(_SIGNED_IN) == key:
        return
    st.session_state[_SIGNED_IN] = key
    if not _sign_ins().first_time(key):
        return
    try:
        audit.record("sign_in", who, what={**what, "sign_in_id": key})
    except (audit.AuditError, OSError) as exc:
        log.error("audit record failed: %s", exc)
        _sign_ins().forget(key)  # try again on the next page load
        st.session_state.pop(_SIGNED_IN, None)
        st.toast("This sign-in could not be recorded in the audit log; tell the maintainers.",
                 icon=":material/error:")  # fmt: skip


def _show_only(screen: Callable[[], None]) -> NoReturn:
    """Run `screen` as the app's only page, with no navigation drawn, and stop: whatever page
    the address names, a visitor who may not come in sees this screen and not even the names
    of the pages."""
    st.navigation([st.Page(screen, title="capwatch")], position="hidden").run()
    st.stop()


def gate() -> Access:
    """Let in only those who belong (see the module docstring); stops the run otherwise."""
    here = resolve()
    st.session_state[_ACCESS] = here.access
    if here.state == "local":
        st.sidebar.info(
            "Local mode — no sign-in. Anyone who can open this address sees everything.",
            icon=":material/lock_open:",
        )
        return local_access()
    if here.state == "broken":

        def misconfigured() -> None:
            st.error(here.message or "Sign-in is misconfigured.", icon=":material/error:")

        _show_only(misconfigured)
    if here.state == "signed_out":

        def sign_in() -> None:
            _sign_in_screen(_provider(_auth_section() or {}))

        _show_only(sign_in)
    if here.state == "no_access" or here.access is None:
        _record_sign_in_once(
            here, here.email or "unknown", {"refused": True, "reason": "no access"}
        )

        def no_access() -> None:
            _no_access_screen(here.email, here.contact)

        _show_only(no_access)
    access = here.access
    roles = {"national": access.is_national, "regions": access.regions,
             "analyst": access.is_analyst}  # fmt: skip
    _record_sign_in_once(here, access.email, roles)
    _sidebar_identity(access)
    return access
