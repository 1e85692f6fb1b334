"""Which SQL the sandbox accepts: exactly one read-only statement, judged by DuckDB's parser.

This is one layer of several (see `capwatch.sandbox`): the worker also opens the database
read-only with external access off and its settings locked, so a statement that slips past
this check still cannot write, read files or change settings.
"""

from __future__ import annotations

import contextlib
import re

import duckdb

from capwatch.errors import QueryRefused

MAX_SQL_CHARS = 100_000

# DESCRIBE, SHOW, SUMMARIZE, VALUES, FROM-first and WITH ... SELECT all parse as SELECT.
_READ_TYPES = frozenset({duckdb.StatementType.SELECT})
_EXPLAIN_PREFIX = re.compile(r"^\s*explain\s+(?:analy[sz]e\s+)?", re.IGNORECASE)

_WHY: dict[str, str] = {
    "INSERT": "changes data",
    "UPDATE": "changes data",
    "DELETE": "changes data",
    "MERGE_INTO": "changes data",
    "CREATE": "changes the database's structure",
    "CREATE_FUNC": "changes the database's structure",
    "DROP": "changes the database's structure",
    "ALTER": "changes the database's structure",
    "VACUUM": "changes the database's storage",
    "ANALYZE": "changes the database's statistics",
    "COPY": "reads or writes files",
    "COPY_DATABASE": "reads or writes files",
    "EXPORT": "writes files",
    "ATTACH": "opens another database",
    "DETACH": "closes a database",
    "LOAD": "installs or loads extensions",
    "EXTENSION": "installs or loads extensions",
    "SET": "changes settings",
    "VARIABLE_SET": "changes settings",
    "PRAGMA": "runs a pragma (use SELECT * FROM pragma_…() to read one)",
    "CALL": "runs a procedure (use SELECT * FROM function(…) to read a table function)",
    "TRANSACTION": "controls transactions",
    "PREPARE": "prepares statements",
    "EXECUTE": "runs prepared statements",
    # A PIVOT without an IN list first creates a type for its columns.
    "MULTI": "runs several statements (for PIVOT, list the columns: ON col IN ('a', 'b'))",
}

# The statement's own first word names it ("PRAGMA memory_limit=..." is a SET); these are
# for statements that start with WITH or a comment.
_VERB: dict[str, str] = {
    "MERGE_INTO": "MERGE",
    "CREATE_FUNC": "CREATE MACRO",
    "COPY_DATABASE": "COPY FROM DATABASE",
    "VARIABLE_SET": "SET VARIABLE",
    "EXTENSION": "INSTALL",
    "TRANSACTION": "BEGIN / COMMIT",
    "MULTI": "this statement",
}


def _statements(sql: str) -> list[duckdb.Statement]:
    con = duckdb.connect(":memory:")  # a private parser: the default connection is shared
    try:
        return list(con.extract_statements(sql))
    finally:
        with contextlib.suppress(duckdb.Error):
            con.close()


def _refusal(kind: str, query: str) -> QueryRefused:
    words = query.split(maxsplit=1)
    first = words[0].upper() if words and words[0].isalpha() else ""
    verb = first if first and first != "WITH" else _VERB.get(kind, kind.replace("_", " "))
    why = _WHY.get(kind, "is not a read-only query")
    return QueryRefused(f"Only read-only queries (SELECT) can run here; {verb} {why}.")


def screen_sql(sql: str) -> str:
    """The one read-only statement in `sql`, ready to run; raises `QueryRefused` otherwise.

    A syntax error is raised as DuckDB's own `duckdb.ParserException` so its message (with
    the line and position) reaches the user unchanged.
    """
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(
            f"The query is too long ({len(sql):,} characters; at most {MAX_SQL_CHARS:,})."
        )
    statements = _statements(sql)
    if not statements:
        raise QueryRefused("There is no query to run.")
    if len(statements) > 1:
        raise QueryRefused(
            f"Run one statement at a time: this text holds {len(statements)} "
            "(statements are separated by semicolons)."
        )
    statement = statements[0]
    kind = statement.type
    if kind == duckdb.StatementType.EXPLAIN:
        inner_sql, n = _EXPLAIN_PREFIX.subn("", statement.query, count=1)
        inner = _statements(inner_sql) if n else []
        if len(inner) != 1 or inner[0].type not in _READ_TYPES:
            raise QueryRefused(
                "Only read-only queries (SELECT) can run here; EXPLAIN is "
                "accepted only in front of a SELECT."
            )
        return statement.query
    if kind not in _READ_TYPES:
        raise _refusal(kind.name, statement.query)
    return statement.query
