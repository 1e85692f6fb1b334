"""Settings, declared once: name, default and help. The CLI and the README read this table."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = Path("data") / "capacity.duckdb"
DB_ENV_VAR = "CAPWATCH_DB"


@dataclass(frozen=True)
class Setting:
    """One configurable setting."""

    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db",
        DB_ENV_VAR,
        str(DEFAULT_DB),
        "DuckDB database file read by the dashboard and every command.",
    ),
    Setting(
        "sql_timeout_s",
        "CAPWATCH_SQL_TIMEOUT",
        "5",
        "Wall-clock limit in seconds for ad hoc SQL in the app.",
    ),
    Setting(
        "access_file",
        "CAPWATCH_ACCESS",
        ".streamlit/access.toml",
        "Access file (TOML) mapping e-mails and identity-provider groups to roles; used when "
        "sign-in is configured.",
    ),
    Setting(
        "audit_log",
        "CAPWATCH_AUDIT_LOG",
        "data/audit.jsonl",
        "Append-only, hash-chained log of sign-ins, downloads, SQL queries and review packs.",
    ),
    Setting(
        "sql_max_rows_shown",
        "CAPWATCH_SQL_MAX_ROWS",
        "1000",
        "Rows of an ad hoc SQL result shown on screen (the CSV has every row).",
    ),
    Setting(
        "address",
        "CAPWATCH_ADDRESS",
        "127.0.0.1",
        "Address `capwatch demo` listens on (loopback: this machine only). A wider one needs "
        "sign-in configured, or `--allow-anyone`.",
    ),
)


def _declared(name: str) -> Setting:
    for s in SETTINGS:
        if s.name == name:
            return s
    raise KeyError(name)


def setting(name: str) -> str:
    """The value of a setting: its environment variable if set, else its default."""
    s = _declared(name)
    return os.environ.get(s.env) or s.default


def setting_default(name: str) -> str:
    """A setting's default value."""
    return _declared(name).default


def env_var(name: str) -> str:
    """The environment variable that sets a setting."""
    return _declared(name).env


def resolve_db_path(db: Path | str | None = None) -> Path:
    """`--db` if given, else `$CAPWATCH_DB`, else `data/capacity.duckdb` under the cwd."""
    if db:
        return Path(db)
    return Path(setting("db"))
