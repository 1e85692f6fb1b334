"""A tiny hand-made dataset for the dashboard tests, with its figures worked out by hand.

Three providers in two groups, four sites (one outside its provider's region), four weeks of
June 2020, capacity given per activity type for MRI and per line elsewhere, one week above
capacity (its unused part floors at 0), one contract removed mid-week, a comma in a name.

Hand-worked figures (every week 2020-06-01 … 2020-06-22, no other filter):
capacity 188 units; NHS 72; private 14; capacity value £51,200; NHS value £17,300;
unused capacity cost £34,300; contract value £11,100 (C1 £3,360, C2 £6,720, C3 £1,020).
See `EXPECTED` for the rest; each figure's working is in the comment beside it.
"""

from __future__ import annotations

from pathlib import Path

from capwatch.load import ingest
from tests.tables_support import header

FILES: dict[str, str] = {
    "providers.csv": (
        header("providers") + "NA1,Alpha Health,Alpha Group,London\n"
        "NB1,Beta Care,Beta Group,North West\n"
        'NB2,"Beta Care, Leeds",Beta Group,North East and Yorkshire\n'
    ),
    "sites.csv": (
        header("sites") + "NA101,NA1,Alpha One,London\n"
        "NA102,NA1,Alpha Two,South East\n"
        "NB101,NB1,Beta North West,North West\n"
        "NB201,NB2,Beta Leeds,North East and Yorkshire\n"
    ),
    # £3,650 a month = £120 a day; £7,300 = £240 a day; £1,825 = £60 a day.
    "contracts.csv": (
        "contract_id,provider_code,start_date,end_date,monthly_value_gbp,status,removed_date,"
        "removal_reason\n"
        "C1,NA1,2020-06-01,2020-06-28,3650,active,,\n"
        'C2,NB1,01/06/2020,28/06/2020,"£7,300",active,,\n'
        "C3,NB2,2020-06-01,2020-06-28,1825,removed,2020-06-18,poor utilisation\n"
    ),
    "unit_prices.csv": (
        header("unit_prices", "activity_type") + "diagnostics,,100\n"
        "diagnostics,mri,200\n"
        "day_case,,1000\n"
        "outpatients,,50\n"
    ),
}

_WEEKS = ("2020-06-01", "2020-06-08", "2020-06-15", "2020-06-22")
_CAPACITY = (  # site, line, type, units per week
    ("NA101", "diagnostics", "mri", 10),
    ("NA101", "day_case", "", 5),
    ("NA102", "outpatients", "", 20),
    ("NB101", "diagnostics", "", 8),
    ("NB201", "day_case", "", 4),
)
FILES["capacity.csv"] = header("capacity", "activity_type") + "".join(
    f"{site},{line},{kind},{week},{units}\n"
    for week in _WEEKS
    for site, line, kind, units in _CAPACITY
)
FILES["activity_2020-06.csv"] = (
    header("activity", "activity_type", "units") +
    # week 1
    "NA101,diagnostics,mri,2020-06-02,nhs,6\n"
    "NA101,diagnostics,mri,2020-06-02,private,3\n"
    "NA101,Day case,general_surgery,03/06/2020,nhs,5\n"
    "NA102,outpatients,outpatient_first,2020-06-04,nhs,8\n"
    "NA102,outpatients,outpatient_first,2020-06-04,private,2\n"
    "NB101,diagnostics,ct,2020-06-02,nhs,12\n"
    "NB201,day_case,urology,2020-06-05,nhs,1\n"
    # week 2
    "NA101,diagnostics,mri,2020-06-09,nhs,4\n"
    "NA102,outpatients,outpatient_follow_up,2020-06-10,nhs,10\n"
    "NB101,diagnostics,ct,2020-06-11,nhs,4\n"
    "NB101,diagnostics,ct,2020-06-11,private,5\n"
    # week 3
    "NA101,day_case,ophthalmology,2020-06-16,nhs,2\n"
    "NA101,day_case,ophthalmology,2020-06-16,private,4\n"
    "NB201,day_case,urology,2020-06-16,nhs,2\n"
    # week 4
    "NA101,diagnostics,mri,2020-06-23,nhs,10\n"
    "NB101,diagnostics,ct,2020-06-24,nhs,8\n"
)

EXPECTED: dict[str, float] = {
    "capacity_units": 188,  # (10 + 5 + 20 + 8 + 4) × 4 weeks
    "nhs_units": 72,  # weeks: 32 + 18 + 4 + 18
    "private_units": 14,  # 3 + 2 + 5 + 4
    "capacity_value_gbp": 51_200,  # 40×200 + 20×1000 + 80×50 + 32×100 + 16×1000
    "nhs_value_gbp": 17_300,  # mri 20×200 + day case 10×1000 + outp 18×50 + ct 24×100
    # unused units floored per capacity row: mri 4+6+10+0, NA101 day case 0+5+3+5,
    # outpatients 12+10+20+20, NB101 diagnostics 0+4+8+0, NB201 day case 3+4+2+4
    "unused_capacity_cost_gbp": 20 * 200 + 13 * 1000 + 62 * 50 + 12 * 100 + 13 * 1000,
    "contract_value_gbp": 28 * 120 + 28 * 240 + 17 * 60,  # C3 ends the day before removal
}


def build(folder: Path) -> Path:
    """Write the CSVs into `folder`/tiny and load them; returns the database path."""
    inputs = folder / "tiny"
    inputs.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (inputs / name).write_text(text, encoding="utf-8")
    db_path = folder / "tiny.duckdb"
    report = ingest([inputs], db_path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return db_path
