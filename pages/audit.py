"""Audit trail: who signed in, downloaded or queried what, newest first (national users only)."""

from __future__ import annotations

import streamlit as st

from capwatch import audit
from capwatch.ui import format
from capwatch.ui.audit_view import readable
from capwatch.ui.auth import current_access, refuse_unless
from capwatch.ui.tables import show_table

access = current_access()
refuse_unless(access is not None and access.may_view_audit, "The audit trail")

st.title("Audit trail")
st.caption(
    "Every sign-in, download (CSV or Excel) and SQL query, with who, when (UTC), what and how "
    "many rows. "
    "The log is append-only; each record carries the hash of the one before it."
)

check = audit.verify()
if check.ok:
    st.success(check.describe().replace(" 1 records", " 1 record"), icon=":material/verified:")
else:
    st.error(
        f"{check.describe()}. The log has been altered outside capwatch: keep a copy and "
        "tell the information governance lead.",
        icon=":material/gpp_bad:",
    )

who_col, action_col, limit_col = st.columns([3, 3, 1])
who = who_col.text_input("Who (part of the e-mail)", key="audit_who")
actions = action_col.multiselect(
    "What", list(audit.ACTIONS), key="audit_actions", placeholder="Everything"
)
limit = limit_col.number_input("Rows", 10, 100_000, 1000, step=100, key="audit_limit")

records = audit.read_records(who=who.strip() or None, actions=tuple(actions), limit=int(limit))
show_table(
    readable(records),
    key="audit_records",
    width="stretch",
    overrides={
        "seq": st.column_config.NumberColumn("#", format="%d"),
        "at": st.column_config.TextColumn("When (UTC)"),
        "who": "Who",
        "action": "Action",
        "what": st.column_config.TextColumn("What", width="large"),
    },
)
st.caption(f"{format.plural(records.height, 'record')} shown · log file `{audit.audit_log_path()}`")
