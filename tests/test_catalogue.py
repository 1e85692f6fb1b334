"""The catalogue of input tables (`capwatch.catalogue`) is the one place a table is declared.

The main test declares a throwaway table in a fresh interpreter, before anything else is
imported, and shows that the input contract, the template, the data dictionary, the docs, the
loader (references and overlap checks) and the load history (its live rows; unload refused
while rows point at the sites) all pick it up with no other edit. The only other step a real
table needs is its migration, appended here at test time with DDL written from the dictionary.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from capwatch import catalogue, contract, history, schema

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = r"""
import json, sys
from pathlib import Path

from capwatch import catalogue
from capwatch.catalogue import InputColumn, Reference, Table

catalogue.TABLES = (
    *catalogue.TABLES,
    Table(
        "referrals",
        "fact",
        "one row per week × site × service line",
        "NHS referrals a site received.",
        "Referrals per site, service line and week.",
        (
            InputColumn("site_code", "site_code", True, "Site.", "NX101"),
            InputColumn("service_line", "service_line", True, "Service line.", "diagnostics"),
            InputColumn("week_start", "monday", True, "Monday of the week.", "2020-06-01"),
            InputColumn("referrals", "units", True, "Referrals received (whole, ≥ 0).", "12"),
        ),
        key=("site_code", "service_line", "week_start"),
        references=(Reference("site_code", "sites", "site"),),
        checks=("overlap",),
    ),
)

# The migration a real table would have, written out as literals: here from the dictionary.
from capwatch import migrations, schema


def ddl(name):
    rel = schema.relation(name)
    cols = ", ".join(
        f"{schema.quote(c.name)} {c.type}{' NOT NULL' if c.not_null else ''}" for c in rel.columns
    )
    key = f", PRIMARY KEY ({', '.join(rel.primary_key)})" if rel.primary_key else ""
    return f"CREATE TABLE {name} ({cols}{key})"


migrations.MIGRATIONS = (
    *migrations.MIGRATIONS,
    migrations.Migration(
        migrations.MIGRATIONS[-1].version + 1,
        "referrals",
        (ddl("referrals"), ddl("referrals_replaced")),
    ),
)

from capwatch import contract, db, docs, history
from capwatch.errors import UnloadRefused
from capwatch.load import ingest

work = Path(sys.argv[1])
path = work / "capacity.duckdb"
db.migrate(path)

files = {
    "providers.csv": "provider_code,provider_name,group,region\nNX1,Example Health,Ex,London\n",
    "sites.csv": "site_code,provider_code,site_name,region\nNX101,NX1,Example One,London\n",
    "referrals_june.csv": "site_code,service_line,week_start,referrals\n"
    "nx101,Day case,01/06/2020,7\nNX101,diagnostics,2020-06-08,5\n",
    "referrals_unknown.csv": "Site Code,service_line,week_start,referrals\n"
    "NX101,diagnostics,2020-06-15,1\nNZ999,diagnostics,2020-06-15,2\n",
}
folder = work / "in"
folder.mkdir()
for name, text in files.items():
    (folder / name).write_text(text, encoding="utf-8")
report = ingest([folder], path)
again = work / "again"
again.mkdir()
(again / "referrals_again.csv").write_text(
    "site_code,service_line,week_start,referrals\nNX101,diagnostics,2020-06-08,6\n", "utf-8"
)
overlap = ingest([again], path)
replaced = ingest([again], path, replace=True)
with db.write_session(path) as writer:
    stored = writer.query(
        "SELECT site_code, service_line, week_start::VARCHAR AS week, referrals, load_id "
        "FROM referrals ORDER BY ALL"
    ).rows()
    sites_load = int(writer.query("SELECT load_id FROM sites")["load_id"][0])
    history_rows = writer.query(
        "SELECT load_id, rows_live, status FROM load_history "
        "WHERE table_name = 'referrals' ORDER BY load_id"
    ).rows()
try:
    with db.write_session(path) as writer:
        writer.unload(sites_load)
    refused = ""
except UnloadRefused as exc:
    refused = str(exc)

print(json.dumps({
    "table_for_file": contract.table_for_file("referrals_2020-06.csv").name,
    "template": contract.template_csv(contract.input_table("referrals")),
    "stored_columns": schema.relation("referrals").column_names,
    "replaced_in_dictionary": "referrals_replaced" in schema.dictionary_markdown(),
    "contract_doc": [
        line for line in docs.input_contract_markdown().splitlines() if "referrals" in line
    ],
    "templates": [p.name for p in docs.templates()],
    "references": [r for r in history.references() if r[0] == "referrals"],
    "outcomes": [
        (o.path.name, o.status, o.rows_stored, [(p.row, p.column, p.message) for p in o.problems])
        for o in report.outcomes
    ],
    "overlap": [(o.status, [p.message for p in o.problems]) for o in overlap.outcomes],
    "replaced": [(o.status, o.notes) for o in replaced.outcomes],
    "stored": stored,
    "history": history_rows,
    "refused": refused,
}, default=str))
"""


def test_a_table_declared_in_the_catalogue_reaches_every_part_with_no_other_edit(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["table_for_file"] == "referrals"
    assert (
        got["template"]
        == "site_code,service_line,week_start,referrals\nNX101,diagnostics,2020-06-01,12\n"
    )
    assert got["stored_columns"] == [
        "site_code", "service_line", "week_start", "referrals", "load_id"
    ]  # fmt: skip
    assert got["replaced_in_dictionary"]
    assert any(line.startswith("#### `referrals` (fact)") for line in got["contract_doc"])
    assert "referrals.csv" in got["templates"]
    assert got["references"] == [["referrals", "site_code", "sites", "site"]]
    outcomes = {name: rest for name, *rest in got["outcomes"]}
    # Reference tables load first; the good file is normalised (code upper-cased, line
    # lower-cased with the space read as an underscore, UK date) and stored whole.
    assert outcomes["referrals_june.csv"][:2] == ["loaded", 2]
    # The reference the declaration names is checked: the unknown site is row 3 of the file.
    status, stored, problems = outcomes["referrals_unknown.csv"]
    assert (status, stored) == ("rejected", 0)
    assert problems == [[3, "site_code", "unknown site 'NZ999'; load it in sites first"]]
    # Its `overlap` check refuses a week already loaded, unless --replace.
    (status, messages), = got["overlap"]  # fmt: skip
    assert status == "rejected" and "already loaded from referrals_june.csv" in messages[0]
    (status, notes), = got["replaced"]  # fmt: skip
    assert status == "loaded" and notes == [
        "replaced 1 row(s) of load 3 (referrals_june.csv) with 1"
    ]
    assert got["stored"] == [
        ["NX101", "day_case", "2020-06-01", 7, 3],
        ["NX101", "diagnostics", "2020-06-08", 6, 4],
    ]
    # The load history counts the new table's live rows: one of load 3's two was replaced.
    assert got["history"] == [[3, 1, "partly superseded"], [4, 1, "current"]]
    # The load history follows the declared reference: the sites cannot be unloaded.
    assert "referrals row(s)" in got["refused"] and "name a site no load provides" in got["refused"]


def test_the_catalogue_is_what_the_contract_and_dictionary_are_built_from() -> None:
    assert [t.name for t in contract.INPUT_TABLES] == [t.name for t in catalogue.TABLES]
    for table in catalogue.TABLES:
        stored = schema.relation(table.stored)
        assert stored.primary_key == table.key
        assert schema.replace_key(table.stored) == table.replaced_by
        assert [c.name for c in table.columns] == [
            c.name for c in contract.input_table(table.name).columns
        ]
        assert set(stored.column_names) >= {c.name for c in table.columns} | {"load_id"}
    # The references the history checks are exactly the ones the declarations name.
    declared = {(t.stored, r.column) for t in catalogue.TABLES for r in t.references}
    assert {(t, c) for t, c, _, _ in history.references()} == declared
    assert ("activity_daily", "site_code") in declared and ("sites", "provider_code") in declared


def test_every_view_has_its_sql_file_with_its_grain() -> None:
    files = {p.stem for p in (ROOT / "capwatch" / "views").glob("*.sql")}
    views = {v.name for v in schema.VIEWS}
    assert files == views
    for view in schema.VIEWS:
        text = (ROOT / "capwatch" / "views" / f"{view.name}.sql").read_text(encoding="utf-8")
        assert text.startswith(f"-- grain: {view.grain}\n")
        grain, sql = schema.view_source(view.name)
        assert grain == view.grain and "-- grain" not in view.sql
        if view.name == "load_history":  # its live rows come from the catalogue
            assert "{live_rows}" in sql and "{" not in view.sql
            for table in schema.LOADED_TABLES:
                assert f" FROM {table} GROUP BY load_id" in view.sql
        else:
            assert text.endswith(view.sql) and sql == view.sql
