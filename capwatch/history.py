"""What happens to a load after it is stored: replaced by a later load, or retracted.

A later load replaces rows of earlier loads that have its keys (`schema.replace_key`: capacity
by site, line, type and week, activity by site, line and day, reference rows by their primary
key). The replaced rows move to `<table>_replaced`, so that retracting the later load puts
them back: an unload restores the figures as they were before that load. Every change is
recorded in `load_changes`, with the rows taken out and put in.

These functions run inside a transaction the caller (`capwatch.db.Writer`) opened on its
private copy of the database; nothing here opens DuckDB or imports it (see `Connection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from capwatch import catalogue, schema
from capwatch.errors import UnloadRefused


class _Result(Protocol):
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What is used of the writer's DuckDB connection."""

    def execute(self, query: str, parameters: object = ...) -> _Result: ...


q = schema.quote


@dataclass(frozen=True)
class Change:
    """One row of `load_changes`."""

    load_id: int
    action: str  # superseded, retracted or restored
    by_load_id: int | None
    rows_removed: int
    rows_added: int
    file_name: str = ""

    def describe(self) -> str:
        name = f" ({self.file_name})" if self.file_name else ""
        if self.action == "superseded":
            return (
                f"replaced {self.rows_removed:,} row(s) of load {self.load_id}{name} "
                f"with {self.rows_added:,}"
            )
        if self.action == "restored":
            return f"put back {self.rows_added:,} row(s) of load {self.load_id}{name}"
        return f"took out {self.rows_removed:,} row(s) of load {self.load_id}{name}"


def _match(left: str, right: str, key: tuple[str, ...]) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in key)


def _record(con: Connection, changes: list[Change], when: datetime, note: str | None) -> None:
    for c in changes:
        con.execute(
            "INSERT INTO load_changes SELECT coalesce(max(change_id), 0) + 1, ?, ?, ?, ?, ?, ?, ? "
            "FROM load_changes",
            [c.load_id, c.action, c.by_load_id, c.rows_removed, c.rows_added, when, note],
        )


def _file_names(con: Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = con.execute(
        "SELECT load_id, file_name FROM load_log WHERE list_contains(?, load_id)", [ids]
    ).fetchall()
    return dict(rows)


def supersede(
    con: Connection, table: str, incoming: str, load_id: int, when: datetime
) -> list[Change]:
    """Move the rows of `table` that share a replace key with the relation `incoming` (the new
    load's rows, not yet inserted) to the archive, and record who replaced whom."""
    key = schema.replace_key(table)
    cols = ", ".join(q(c) for c in schema.relation(table).column_names)
    archive = f"{table}_replaced"
    overlaps = f"EXISTS (SELECT 1 FROM {incoming} i WHERE {_match('t', 'i', key)})"
    con.execute(
        f"INSERT INTO {archive} ({cols}, replaced_by) "
        f"SELECT {cols}, ? FROM {table} t WHERE {overlaps}",
        [load_id],
    )
    removed = con.execute(
        f"SELECT load_id, count(*) FROM {archive} WHERE replaced_by = ? "
        "GROUP BY load_id ORDER BY load_id",
        [load_id],
    ).fetchall()
    if not removed:
        return []
    keys = ", ".join(q(k) for k in key)
    added = dict(
        con.execute(
            f"SELECT r.load_id, count(*) FROM {incoming} i JOIN "
            f"(SELECT DISTINCT {keys}, load_id FROM {archive} WHERE replaced_by = ?) r "
            f"ON {_match('r', 'i', key)} GROUP BY r.load_id",
            [load_id],
        ).fetchall()
    )
    con.execute(f"DELETE FROM {table} t WHERE {overlaps}")
    names = _file_names(con, [old for old, _ in removed])
    changes = [
        Change(old, "superseded", load_id, n, added.get(old, 0), names.get(old, ""))
        for old, n in removed
    ]
    _record(con, changes, when, None)
    return changes


def references() -> list[tuple[str, str, str, str]]:
    """(stored table, column, referenced stored table, what it names) for every reference the
    catalogue declares: rows that must point at something."""
    return [
        (t.stored, ref.column, catalogue.table(ref.table).stored, ref.what)
        for t in catalogue.TABLES
        for ref in t.references
    ]


def dangling(con: Connection) -> list[str]:
    """Rows that name a provider or site no stored row provides, described per table."""
    found: list[str] = []
    for table, column, target, what in references():
        n, loads = con.execute(
            f"SELECT count(*), list_sort(list(DISTINCT load_id)) FROM {table} t "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} r WHERE r.{column} = t.{column})"
        ).fetchall()[0]
        if n:
            ids = ", ".join(str(i) for i in loads)
            found.append(
                f"{n:,} {table} row(s) from load(s) {ids} would name a {what} no load provides"
            )
    return found


def retract(con: Connection, load_id: int, when: datetime, note: str | None) -> list[Change]:
    """Take a load's rows out and put back the rows it had replaced; refuse (UnloadRefused)
    when that would leave rows pointing at nothing. The caller rolls back on any error."""
    found = con.execute(
        "SELECT table_name, file_name FROM load_log WHERE load_id = ?", [load_id]
    ).fetchall()
    if not found:
        raise UnloadRefused(f"there is no load {load_id}; `capwatch loads` lists them")
    input_table, file_name = found[0]
    done = con.execute(
        "SELECT changed_at FROM load_changes WHERE load_id = ? AND action = 'retracted'",
        [load_id],
    ).fetchall()
    if done:
        raise UnloadRefused(
            f"load {load_id} ({file_name}) was already unloaded on {done[0][0]:%d %b %Y %H:%M} UTC"
        )
    table = schema.stored_table(input_table)
    removed = con.execute(f"SELECT count(*) FROM {table} WHERE load_id = ?", [load_id]).fetchall()
    con.execute(f"DELETE FROM {table} WHERE load_id = ?", [load_id])
    restored = _restore(con, table, load_id) if has_archive(table) else []
    problems = dangling(con)
    if problems:
        raise UnloadRefused(
            f"cannot unload load {load_id} ({file_name}): "
            + "; ".join(problems)
            + ". Unload those loads first, or load a corrected "
            f"{input_table} file with `capwatch ingest --replace`"
        )
    names = _file_names(con, [old for old, _ in restored])
    changes = [Change(load_id, "retracted", None, int(removed[0][0]), 0, file_name)]
    changes += [Change(old, "restored", load_id, 0, n, names.get(old, "")) for old, n in restored]
    _record(con, changes, when, note)
    return changes


def has_archive(table: str) -> bool:
    """Whether rows of `table` replaced by a later load are kept (`<table>_replaced`)."""
    return f"{table}_replaced" in {r.name for r in schema.REPLACED}


def _restore(con: Connection, table: str, load_id: int) -> list[tuple[int, int]]:
    """After `load_id`'s rows left `table`: drop its own archived rows, and put back the rows
    it had replaced. Returns (load whose rows came back, rows) pairs."""
    archive = f"{table}_replaced"
    key = schema.replace_key(table)
    cols = ", ".join(q(c) for c in schema.relation(table).column_names)
    # Its own rows that later loads replaced can never come back.
    con.execute(f"DELETE FROM {archive} WHERE load_id = ?", [load_id])
    # Rows it replaced come back where nothing has taken their place since; where a later load
    # has, they stay archived, now as replaced by that load.
    live = f"SELECT min(t.load_id) FROM {table} t WHERE {_match('t', 'r', key)}"
    con.execute(
        f"UPDATE {archive} r SET replaced_by = ({live}) "
        f"WHERE replaced_by = ? AND ({live}) IS NOT NULL",
        [load_id],
    )
    # Where nothing is live, several loads' rows at one key may wait on it (a load it replaced,
    # and the rows an earlier unload re-pointed to it): only the latest load's row comes back,
    # the older ones stay archived, now as replaced by that load. Decided first, then applied,
    # so that the update never reads its own changes.
    latest = (
        f"SELECT {', '.join(f'r.{q(k)}' for k in key)}, max(r.load_id) AS latest "
        f"FROM {archive} r WHERE r.replaced_by = ? GROUP BY ALL"
    )
    con.execute(
        f"UPDATE {archive} r SET replaced_by = l.latest FROM ({latest}) l "
        f"WHERE r.replaced_by = ? AND {_match('r', 'l', key)} AND r.load_id < l.latest",
        [load_id, load_id],
    )
    restored = con.execute(
        f"SELECT load_id, count(*) FROM {archive} WHERE replaced_by = ? "
        "GROUP BY load_id ORDER BY load_id",
        [load_id],
    ).fetchall()
    con.execute(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {archive} WHERE replaced_by = ?",
        [load_id],
    )
    con.execute(f"DELETE FROM {archive} WHERE replaced_by = ?", [load_id])
    return [(int(old), int(n)) for old, n in restored]


def current_loads_with_hash(con: Connection, file_hash: str) -> list[tuple[int, str]]:
    """Earlier loads of this content whose rows are all still in place (load_id, file_name):
    loading the file again would change nothing. A retracted or (partly) replaced load of the
    same content may be loaded again."""
    out: list[tuple[int, str]] = []
    candidates = con.execute(
        "SELECT load_id, table_name, file_name, rows_stored FROM load_log l WHERE file_hash = ? "
        "AND NOT EXISTS (SELECT 1 FROM load_changes c WHERE c.load_id = l.load_id "
        "AND c.action = 'retracted') ORDER BY load_id",
        [file_hash],
    ).fetchall()
    for load_id, input_table, file_name, rows_stored in candidates:
        table = schema.stored_table(input_table)
        if not has_archive(table):  # a table whose rows are never replaced: always in place
            out.append((load_id, file_name))
            continue
        (live,) = con.execute(
            f"SELECT count(*) FROM {table} WHERE load_id = ?", [load_id]
        ).fetchall()[0]
        if live == rows_stored:
            out.append((load_id, file_name))
    return out
