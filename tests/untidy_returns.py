"""A tiny, awkward, hand-checkable dataset in the input contract.

Two providers in one group, three sites, one contract per provider. Headers and values are
deliberately untidy (mixed case, spaces, UK dates, a £ sign, thousands separators) to show the
normalisation works. The expected figures in the tests are worked out by hand from these rows.
"""

from __future__ import annotations

from pathlib import Path

from tests.tables_support import header

FILES: dict[str, str] = {
    "providers.csv": (
        "Provider Code,provider_name,Group,region\n"
        "nx1,Alpha Health,Alpha Group,london\n"
        " NX2 ,Beta Care,Alpha Group,North East & Yorkshire\n"
    ),
    "sites.csv": (
        header("sites", "latitude", "longitude") + "NX101,NX1,Alpha One,London,51.5,-0.1\n"
        "nx102,NX1,Alpha Two,London,,\n"
        "NX201,NX2,Beta One,North East and Yorkshire,53.8,-1.5\n"
    ),
    "contracts.csv": (
        "contract_id,provider_code,start_date,end_date,monthly_value_gbp,status,"
        "removed_date,removal_reason\n"
        'C1,NX1,2020-06-01,30/06/2020,"£3,650,000",active,,\n'
        "C2,NX2,01/06/2020,2020-06-30,730000,removed,2020-06-15,poor utilisation\n"
    ),
    "unit_prices.csv": (
        header("unit_prices", "activity_type") + "diagnostics,,100\n"
        "diagnostics,MRI,200\n"
        "Day case,,1000\n"
    ),
    "capacity.csv": (
        header("capacity", "activity_type") + "NX101,diagnostics,mri,2020-06-01,10\n"
        "NX101,diagnostics,,2020-06-01,5\n"
        "NX102,diagnostics,,2020-06-01,20\n"
        "NX201,day_case,,08/06/2020,4\n"
        'NX201,day_case,,2020-06-15,"1,000"\n'
    ),
    "activity_2020-06.csv": (
        header("activity", "activity_type", "units") + "NX101,diagnostics,MRI,2020-06-02,NHS,3\n"
        "NX101,diagnostics,ct,2020-06-03,nhs,7\n"
        "NX101,diagnostics,mri,2020-06-03,private,2\n"
        "NX102,diagnostics,ct,2020-06-04,nhs,\n"
        "NX102,diagnostics,ct,2020-06-04,nhs,\n"
        "NX201,Day-case,,09/06/2020,nhs,1\n"
        "NX201,day_case,,2020-06-16,private,5\n"
    ),
}


def write(folder: Path, files: dict[str, str] | None = None) -> Path:
    """Write the tiny dataset (or `files`) into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files or FILES).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
