"""The review pack button of the provider profile and the Actions page.

"Make the review pack" prints the provider's pack (`capwatch.pack.make`) under the page's
filters, which carry the signed-in user's access scope, so a provider outside it is refused
exactly as an unknown one, whatever the URL says. Every pack made is audited (action `pack`);
a pack that cannot be audited is not handed over. Once made, a download button serves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import streamlit as st

from capwatch.analytics.filters import Filters
from capwatch.audit import AuditError
from capwatch.errors import CapwatchError
from capwatch.pack.make import MadePack, make_pack
from capwatch.ui import auth
from capwatch.ui.context import get_db

PDF_MIME = "application/pdf"


def pack_button(
    provider_code: str,
    filters: Filters,
    *,
    key: str,
    page: str,
    as_of: date | None = None,
    verdict_settings: Mapping[str, float] | None = None,
) -> None:
    """A button that makes the provider's review pack (PDF), then one that downloads it; the
    verdict as of `as_of` with `verdict_settings` (default: the last complete week, defaults)."""
    state = f"{key}_made"
    made = st.session_state.get(state)
    if isinstance(made, MadePack) and made.provider_code != provider_code:
        made = None  # another provider chosen since
    if st.button("Make the review pack (PDF)", key=key, icon=":material/picture_as_pdf:",
                 help="A printable A4 pack: the verdict, key figures, charts, flags, method and "
                 "where every figure came from."):  # fmt: skip
        access = auth.current_access()
        who = access.email if access is not None else "unknown"
        try:
            with st.spinner("Printing the review pack ..."):
                made = make_pack(get_db(), filters, provider_code, who=who, page=page,
                                 as_of=as_of, verdict_settings=verdict_settings)  # fmt: skip
        except AuditError:
            st.error("The pack could not be recorded in the audit log, so it was not made; "
                     "tell the maintainers.", icon=":material/error:")  # fmt: skip
            made = None
        except CapwatchError as exc:
            st.error(f"The review pack could not be made: {exc}.", icon=":material/error:")
            made = None
        st.session_state[state] = made
    if isinstance(made, MadePack):
        st.download_button(
            f"Download the review pack of {made.provider_code} (PDF)",
            data=made.content,
            file_name=made.file_name,
            mime=PDF_MIME,
            key=f"{key}_download",
            icon=":material/download:",
        )


def pack_chooser(
    names: Mapping[str, str],
    filters: Filters,
    *,
    key: str,
    page: str,
    as_of: date | None = None,
    verdict_settings: Mapping[str, float] | None = None,
) -> None:
    """Pick one of the providers listed (code → name), then `pack_button` for it."""
    if not names:
        return
    code = st.selectbox(
        "Review pack of", list(names), key=f"{key}_provider",
        format_func=lambda c: f"{c} · {names.get(c, '')}",
    )  # fmt: skip
    if code is not None:
        pack_button(code, filters, key=key, page=page, as_of=as_of,
                    verdict_settings=verdict_settings)  # fmt: skip
