"""Azure region names: `"West Europe"`, `"westeurope"` and `"WestEurope"` are one region.

We normalise (lower-case, no spaces) instead of keeping a closed list, because Azure adds regions often and a
validator that rejects a real new region is worse than one that lets a typo through. A name that is not in
the known list but is one or two letters away from a known one is almost surely a typo, so that is rejected
with a suggestion.
"""

from __future__ import annotations

import difflib
import re

KNOWN_REGIONS = frozenset(
    [
        "eastus",
        "eastus2",
        "westus",
        "westus2",
        "westus3",
        "centralus",
        "northcentralus",
        "southcentralus",
        "westcentralus",
        "canadacentral",
        "canadaeast",
        "brazilsouth",
        "brazilsoutheast",
        "mexicocentral",
        "chilecentral",
        "northeurope",
        "westeurope",
        "uksouth",
        "ukwest",
        "francecentral",
        "francesouth",
        "germanywestcentral",
        "germanynorth",
        "norwayeast",
        "norwaywest",
        "switzerlandnorth",
        "switzerlandwest",
        "swedencentral",
        "swedensouth",
        "polandcentral",
        "italynorth",
        "spaincentral",
        "belgiumcentral",
        "austriaeast",
        "eastasia",
        "southeastasia",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "australiaeast",
        "australiasoutheast",
        "australiacentral",
        "australiacentral2",
        "centralindia",
        "southindia",
        "westindia",
        "jioindiawest",
        "jioindiacentral",
        "indonesiacentral",
        "malaysiawest",
        "newzealandnorth",
        "uaenorth",
        "uaecentral",
        "qatarcentral",
        "israelcentral",
        "southafricanorth",
        "southafricawest",
        "usgovvirginia",
        "usgovarizona",
        "usgovtexas",
        "chinanorth",
        "chinaeast",
        "chinanorth2",
        "chinaeast2",
        "chinanorth3",
        "chinaeast3",
    ]
)


def normalise_region(value: object) -> str:
    """`"West Europe"` → `"westeurope"`. Raises ValueError for anything that cannot be a region name."""
    if not isinstance(value, str):
        raise ValueError(f"expected a region name such as westeurope, got {value!r}")
    name = re.sub(r"\s+", "", value).lower()
    if not re.fullmatch(r"[a-z][a-z0-9]{2,39}", name):
        raise ValueError(f'{value!r} is not an Azure region name (e.g. westeurope or "West Europe")')
    if name not in KNOWN_REGIONS:
        close = difflib.get_close_matches(name, KNOWN_REGIONS, n=1, cutoff=0.85)
        if close:
            raise ValueError(f"unknown region {value!r}; did you mean {close[0]!r}?")
    return name
