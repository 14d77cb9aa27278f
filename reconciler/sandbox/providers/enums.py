"""Azure answers enum properties in their canonical casing whatever casing the request used (a PUT with
`osType: windows` reads back `Windows`; `hyperVGeneration: v2` reads back `V2`). The spellings are the REST specs'
enum values (specification/compute/.../GalleryRP, ComputeRP virtualMachine.json, desktopvirtualization.json)."""

from __future__ import annotations

from typing import Any

CANONICAL: dict[str, tuple[str, ...]] = {
    "osType": ("Windows", "Linux"),
    "osState": ("Generalized", "Specialized"),
    "hyperVGeneration": ("V1", "V2"),
    "architecture": ("x64", "Arm64"),
    "storageAccountType": (
        "Standard_LRS",
        "Standard_ZRS",
        "Premium_LRS",
        "PremiumV2_LRS",
        "StandardSSD_LRS",
        "StandardSSD_ZRS",
        "Premium_ZRS",
        "UltraSSD_LRS",
    ),
    "hostCaching": ("None", "ReadOnly", "ReadWrite"),
    "caching": ("None", "ReadOnly", "ReadWrite"),
    "createOption": ("FromImage", "Empty", "Attach", "Copy", "Restore"),
    "deleteOption": ("Delete", "Detach"),
    "securityType": ("TrustedLaunch", "ConfidentialVM", "Standard"),
    "replicationMode": ("Full", "Shallow"),
    "hostPoolType": ("Personal", "Pooled", "BYODesktop"),
    "loadBalancerType": ("BreadthFirst", "DepthFirst", "Persistent", "MultiplePersistent"),
    "preferredAppGroupType": ("None", "Desktop", "RailApplications"),
    "personalDesktopAssignmentType": ("Automatic", "Direct"),
}
_LOOKUP = {key: {v.lower(): v for v in values} for key, values in CANONICAL.items()}


def canonical_enums(value: Any) -> None:
    """Spell every known enum property in `value` (in place, recursively) as Azure spells it; unknown values are
    left as they are (Azure refuses those itself, or stores them)."""
    if isinstance(value, dict):
        for key, item in value.items():
            choices = _LOOKUP.get(key)
            if choices is not None and isinstance(item, str):
                value[key] = choices.get(item.lower(), item)
            else:
                canonical_enums(item)
    elif isinstance(value, list):
        for item in value:
            canonical_enums(item)
