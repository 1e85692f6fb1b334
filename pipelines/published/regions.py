"""NHS England's region codes as DM01 publishes them, read into capwatch's seven regions."""

from __future__ import annotations

from capwatch.contract import REGIONS

# The seven regions since April 2019 (Y57, the old South, was split into Y58 and Y59).
REGION_BY_CODE: dict[str, str] = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}
assert sorted(REGION_BY_CODE.values()) == sorted(REGIONS)
