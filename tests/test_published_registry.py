"""The published readers' registry: one module per reader, found on its own, and discovery
and the loader follow it (a reader registered at test time is recognised and loaded)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from capwatch.db import Database
from capwatch.load import ingest
from pipelines.published import ods, readers
from pipelines.published.reader import Known, PublishedRead, PublishedReader
from tests.published_support import EPHP

READERS_DIR = Path(readers.__file__).parent
MARK = "# capwatch test organisations"


def test_every_module_in_the_readers_package_is_one_reader_named_like_its_file() -> None:
    modules = sorted(p.stem for p in READERS_DIR.glob("*.py") if p.stem != "__init__")
    assert sorted(readers.order()) == modules
    assert len({r.order for r in readers.readers()}) == len(modules)  # no tie left to the name
    for r in readers.readers():
        assert r.description and r.table and r.reload in ("replace", "month")
        assert readers.reader(r.name) is r


def _orgs(path: Path, known: Known) -> PublishedRead:
    """The throwaway format: a marker line, then `code,name` lines."""
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    codes, names = zip(*(line.split(",") for line in lines), strict=True)
    schema = ods.read_ephp(EPHP).schema
    frame = pl.DataFrame({c: [None] * len(codes) for c in schema}, schema=schema).with_columns(
        org_code=pl.Series(codes),
        org_name=pl.Series(names),
        open_date=date(2020, 1, 1),
        source_row=pl.Series(range(2, len(codes) + 2), dtype=pl.Int64),
    )
    return PublishedRead(frame, [f"{frame.height} test organisations"])


TEST_READER = PublishedReader(
    name="test_orgs",
    table=ods.TABLE,
    layer="reference",
    description="a reader added at test time",
    recognise=lambda p: p.suffix == ".txt" and p.read_text(encoding="utf-8").startswith(MARK),
    read=_orgs,
    reload="replace",
    order=5,
)


def test_a_reader_registered_at_test_time_is_recognised_and_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    orgs = folder / "my_orgs.txt"
    orgs.write_text(f"{MARK}\nZZ1,Test Clinic One\nZZ2,Test Clinic Two\n", encoding="utf-8")
    assert readers.recognise(orgs) is None  # not registered yet: nobody takes the file
    monkeypatch.setattr(readers, "REGISTRY", [*readers.REGISTRY, TEST_READER])
    found = readers.recognise(orgs)
    assert found is not None and found.name == "test_orgs"
    assert readers.order()[0] == "test_orgs"
    assert readers.recognise(EPHP).name == ods.READER  # the others still take their files
    path = tmp_path / "t.duckdb"
    report = ingest([folder], path)
    assert report.ok, report.summary()
    reader = Database(path)
    try:
        stored = reader.query(f"SELECT org_code, org_name FROM {ods.TABLE} ORDER BY 1").rows()
        log = reader.query("SELECT table_name, reader, warnings FROM load_log").rows()
    finally:
        reader.close()
    assert stored == [("ZZ1", "Test Clinic One"), ("ZZ2", "Test Clinic Two")]
    assert log == [(ods.TABLE, "test_orgs", "2 test organisations")]


def test_a_module_without_a_reader_or_misnamed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    for package, module, text, message in (
        ("extra_readers_empty", "helper", "X = 1\n", "defines no READER"),
        (
            "extra_readers_misnamed",
            "other",
            "from tests.test_published_registry import TEST_READER as READER\n",
            "name it as its file",
        ),
    ):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
        (tmp_path / package / f"{module}.py").write_text(text, encoding="utf-8")
        with pytest.raises(TypeError, match=message):
            readers.discover(package)
