"""The audit trail on screen: actions as words and each record's `what` as a line of text
(the log's JSON stays in the log and in `capwatch audit`)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

ACTION_LABELS = {
    "sign_in": "Sign-in",
    "download": "Download",
    "sql": "SQL query",
    "pack": "Review pack",
}


def _words(key: str, value: Any) -> str:
    if isinstance(value, dict):
        shown = [_words(k, v) for k, v in value.items() if v not in (None, [], {}, "")]
        return f"{key.replace('_', ' ')}: " + ", ".join(shown) if shown else ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"{key.replace('_', ' ')} {value}"


def describe_what(action: str, what: str | None) -> str:
    """One record's `what` (JSON text) as a line: the file downloaded, the query run (and
    why it failed), else its fields as "name value" pairs."""
    fields: dict[str, Any] = json.loads(what or "{}")
    if action == "download" and "file" in fields:
        return str(fields["file"])
    if action == "sql" and "query" in fields:
        query = " ".join(str(fields["query"]).split())
        return query + (f" (failed: {fields['error']})" if fields.get("error") else "")
    return "; ".join(text for k, v in fields.items() if (text := _words(k, v)))


def readable(records: pl.DataFrame) -> pl.DataFrame:
    """`audit.read_records` with actions as labels, `what` as text and `at` as a UK time
    ("2 Dec 2026, 21:13:22", UTC)."""
    return records.with_columns(
        at=pl.Series([f"{t.day} {t:%b %Y, %H:%M:%S}" for t in records["at"]], dtype=pl.String),
        what=pl.Series(
            [describe_what(a, w) for a, w in zip(records["action"], records["what"], strict=True)],
            dtype=pl.String,
        ),
        action=pl.col("action").replace_strict(ACTION_LABELS, default=pl.col("action")),
    )
