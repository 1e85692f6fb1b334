"""The published diagnostics analytics, page and provider-profile link, on the real DM01 fixture
months beside a tiny contract data set built on real ODS codes.

The contract figures here (capacity, activity, contract value) are constructed for this test
only and named as such ("Constructed test provider NT4"): they are not BMI's, and nothing of
them is shipped. Expected DM01 figures are summed straight from the workbooks' cells.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capwatch import config
from capwatch.analytics import diagnostics
from capwatch.analytics.filters import Filters
from capwatch.db import Database
from capwatch.load import ingest
from capwatch.ui.scripts import page_file
from tests.app_support import open_page
from tests.published_support import EPHP, JUN_2019, JUN_2020, col, read_grid
from tests.tables_support import header

JUNE_2019, JUNE_2020 = date(2019, 6, 1), date(2020, 6, 1)

CONTRACT_FILES = {  # constructed, test-only contract data on the real codes NT4 / NT422
    "providers.csv": header("providers")
    + "NT4,Constructed test provider NT4,Constructed test group,London\n",
    "sites.csv": header("sites") + "NT422,NT4,Constructed test site NT422,London\n",
    "contracts.csv": header("contracts") + "T-1,NT4,2020-06-01,2020-06-28,1000\n",
    "capacity.csv": header("capacity", "activity_type")
    + "".join(f"NT422,diagnostics,ct,2020-06-{d:02d},50\n" for d in (1, 8, 15, 22)),
    "activity_2020-06.csv": header("activity", "activity_type", "units")
    + "NT422,diagnostics,ct,2020-06-02,nhs,20\n",
}


def _grid_activity(path: Path, keep: Callable[[str], bool]) -> int:
    """Planned + unscheduled + waiting-list tests of the rows whose code `keep` accepts,
    summed from the workbook's cells (Total rows, ID 16, left out)."""
    rows = read_grid(path)["Provider by Test"]
    code, did = col(rows, "Provider Code"), col(rows, "Diagnostic ID")
    cols = [
        col(rows, h)
        for h in (
            "Planned tests / procedures",
            "Unscheduled tests / procedures",
            "Waiting list tests / procedures (excluding planned)",
        )
    ]
    return sum(
        int(float(r[c]))
        for r in rows
        if r[code] and r[did] not in (None, "16") and keep(r[code])
        for c in cols
    )


def _ods_codes() -> set[str]:
    return {r[0] for r in read_grid(EPHP)["ephp"] if r[0]}


def _build(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in CONTRACT_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    for f in (JUN_2019, JUN_2020, EPHP):
        shutil.copy(f, folder / f.name)
    path = folder.parent / "db.duckdb"
    report = ingest([folder], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


@pytest.fixture(scope="module")
def real_coded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("real_coded") / "returns")


@pytest.fixture(scope="module")
def synthetic_named(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same files in a `synthetic…` folder: capwatch treats the contract data as synthetic."""
    return _build(tmp_path_factory.mktemp("synth") / "synthetic_2020")


@pytest.fixture
def reader(real_coded: Path) -> Iterator[Database]:
    db = Database(real_coded)
    yield db
    db.close()


def test_is_activity_against_a_year_earlier_is_the_ratio_of_sums(reader: Database) -> None:
    ods = _ods_codes()

    def independent(code: str) -> bool:
        return code.startswith("N") or code[:3] in ods

    now, before = _grid_activity(JUN_2020, independent), _grid_activity(JUN_2019, independent)
    view = diagnostics.diagnostics(reader, Filters(), None, JUNE_2020)
    row = view.recovery.filter(
        (view.recovery["month"] == JUNE_2020) & (view.recovery["sector"] == "independent")
    ).row(0, named=True)
    assert (row["activity"], row["baseline_activity"]) == (now, before)
    assert row["activity_ratio"] == pytest.approx(now / before)
    england = view.recovery.filter(view.recovery["month"] == JUNE_2020)["activity"].sum()
    assert england == 1_224_873
    june_2019 = view.recovery.filter(view.recovery["month"] == JUNE_2019)
    assert june_2019["activity_ratio"].null_count() == june_2019.height  # no June 2018 loaded


def test_is_organisations_link_to_the_contract_provider_by_code(reader: Database) -> None:
    view = diagnostics.diagnostics(reader, Filters(regions=("London",)), None, JUNE_2020)
    assert view.links_to_profiles
    assert set(view.is_orgs["region"]) == {"London"}
    nt422 = view.is_orgs.filter(view.is_orgs["org_code"] == "NT422").row(0, named=True)
    assert nt422["provider_code"] == "NT4"  # a site of the contracted provider NT4
    assert (nt422["ods_org_code"], nt422["ods_org_name"]) == ("NT4", "BMI HEALTHCARE")
    assert nt422["activity"] == _grid_activity(JUN_2020, lambda c: c == "NT422")
    assert nt422["baseline_activity"] == _grid_activity(JUN_2019, lambda c: c == "NT422")
    others = view.is_orgs.filter(view.is_orgs["org_code"] != "NT422")
    assert others["provider_code"].null_count() == others.height


def test_access_scope_limits_the_published_figures_too(reader: Database) -> None:
    view = diagnostics.diagnostics(reader, Filters(scope_regions=("North West",)), None, JUNE_2020)
    assert set(view.queue["region"]) == {"North West"}
    assert "NT422" not in view.is_orgs["org_code"].to_list()


def test_queue_sums_waiting_lists_of_every_provider_beside_is_tests(reader: Database) -> None:
    view = diagnostics.diagnostics(reader, Filters(), "mri", JUNE_2020)
    rows = read_grid(JUN_2020)["Provider by Test"]
    code, did, region = (
        col(rows, h) for h in ("Provider Code", "Diagnostic ID", "Regional Team Code")
    )
    wl = col(rows, "Total Waiting List")
    london_mri = sum(
        int(float(r[wl])) for r in rows if r[code] and r[did] == "1" and r[region] == "Y56"
    )
    london = view.queue_by_region.filter(view.queue_by_region["region"] == "London").row(
        0, named=True
    )
    assert london["waiting_list"] == london_mri


def test_provider_profile_data_shows_dm01_for_matching_codes(reader: Database) -> None:
    found = diagnostics.provider_diagnostics(reader, "NT4")
    assert found.shown
    assert found.monthly["org_code"].unique().to_list() == ["NT422"]
    by_month = dict(found.monthly.select("month", "activity").iter_rows())
    assert by_month == {
        JUNE_2019: _grid_activity(JUN_2019, lambda c: c == "NT422"),
        JUNE_2020: _grid_activity(JUN_2020, lambda c: c == "NT422"),
    }


def test_synthetic_contract_data_never_sits_beside_real_figures(synthetic_named: Path) -> None:
    db = Database(synthetic_named)
    try:
        assert not diagnostics.provider_diagnostics(db, "NT4").shown
        view = diagnostics.diagnostics(db, Filters(), None, JUNE_2020)
        assert not view.links_to_profiles
        assert view.is_orgs["provider_code"].null_count() == view.is_orgs.height
    finally:
        db.close()


# --- the pages, through Streamlit's test harness ---------------------------------------------


def _app(mp: pytest.MonkeyPatch, db_path: Path, page: str, **params: str) -> AppTest:
    mp.setenv(config.DB_ENV_VAR, str(db_path))
    return open_page(page, **params)


def test_diagnostics_page_labels_the_data_and_links_profiles(
    real_coded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, real_coded, page_file("diagnostics"))
    assert any("Diagnostics: published NHS data" in t.value for t in at.title)
    captions = " ".join(c.value for c in at.caption)
    assert "Open Government Licence v3.0" in captions and "NHS England" in captions
    orgs = next(df.value for df in at.dataframe if "org_code" in df.value.columns)
    link = orgs.loc[orgs["org_code"] == "NT422", "profile"].item()
    assert link.startswith("provider_profile?") and "p=NT4" in link
    downloads = list(at.get("download_button"))
    assert len(downloads) >= 6  # every chart and table has its CSV
    # choosing a test narrows every figure to it
    at.selectbox(key="diag_test").set_value("ct").run()
    assert not at.exception and not at.error
    assert any("Showing Computed Tomography, England" in c.value for c in at.caption)
    orgs = next(df.value for df in at.dataframe if "org_code" in df.value.columns)
    ct = orgs.loc[orgs["org_code"] == "NT422", "activity"].item()
    assert ct == 205  # ../shared/real/README.md: NT422, CT, June 2020: 0 + 0 + 205


def test_provider_profile_shows_published_dm01_beside_the_contract(
    real_coded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, real_coded, page_file("provider_profile"), p="NT4")
    assert any("Published NHS diagnostics (DM01)" in s.value for s in at.subheader)
    table = next(df.value for df in at.dataframe if "org_code" in df.value.columns)
    assert table["org_code"].tolist() == ["NT422", "NT422"]
    assert table["activity"].tolist() == [
        _grid_activity(JUN_2019, lambda c: c == "NT422"),
        _grid_activity(JUN_2020, lambda c: c == "NT422"),
    ]


def test_diagnostics_page_without_published_data_says_how_to_load_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    for name, text in CONTRACT_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = tmp_path / "contract_only.duckdb"
    assert ingest([folder], path).ok
    at = _app(monkeypatch, path, page_file("diagnostics"))
    assert any("No published DM01 data is loaded" in i.value for i in at.info)


def test_data_page_says_published_data_is_loaded_and_where(
    real_coded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, real_coded, page_file("data"))
    assert any("Published NHS England DM01 diagnostics (real data" in i.value for i in at.info)
    log = next(df.value for df in at.dataframe if "reader" in df.value.columns)
    assert set(log["reader"]) == {"contract", "dm01_provider", "ods_ephp"}


def test_diagnostics_page_draws_the_making_data_count_chart(
    real_coded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, real_coded, page_file("diagnostics"))
    assert any("Making Data Count" in s.value for s in at.subheader)
    captions = " ".join(c.value for c in at.caption)
    assert "Baseline: Mar 2018 – Feb 2020" in captions and "from Mar 2020 on" in captions
    for level, key in (("region", "London"), ("organisation", "NT4")):
        at.selectbox(key="diag_spc_level").set_value(level).run()
        assert not at.exception and not at.error
        at.selectbox(key=f"diag_spc_{level}").set_value(key).run()
        assert not at.exception and not at.error


def test_provider_profile_draws_its_making_data_count_chart(
    real_coded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, real_coded, page_file("provider_profile"), p="NT4")
    ids = " ".join(d.proto.id for d in at.get("download_button"))
    assert "dl_profile_dm01_spc" in ids
