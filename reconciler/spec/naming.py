"""Azure naming rules, one `NameRule` per resource type, and resource-id shapes.

Each rule gives a message a person can act on (not a raw regex) and a JSON Schema fragment so editors flag
the same mistakes. Sources: Azure naming-rules documentation and the REST specs (see
/work/shared/reference/azure-surface.md §3–§7, §11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

GUID_PATTERN = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class NameRule:
    """`echo=False` for names next to secrets (a Key Vault secret name, a vault name): a person who pastes
    the password itself there must not see it printed back, in a terminal or a CI log."""

    what: str
    pattern: str
    explain: str
    echo: bool = True

    def check(self, value: str) -> str:
        if not re.fullmatch(self.pattern, value):
            if not self.echo:
                raise ValueError(
                    f"invalid {self.what} (value not shown: it may be a secret; put the secret itself in Key "
                    f"Vault and name it here): {self.explain}"
                )
            raise ValueError(f"invalid {self.what} {value!r}: {self.explain}")
        return value

    def type(self):
        return Annotated[
            str,
            AfterValidator(self.check),
            WithJsonSchema({"type": "string", "pattern": self.pattern, "description": self.explain}),
        ]


GALLERY = NameRule(
    "gallery name",
    r"^[A-Za-z0-9]([A-Za-z0-9_.]{0,78}[A-Za-z0-9])?$",
    "1-80 letters, digits, underscores and periods, starting and ending with a letter or digit (no hyphens)",
)
IMAGE_DEFINITION = NameRule(
    "image definition name",
    r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$",
    "1-80 letters, digits, underscores, hyphens and periods, starting and ending with a letter or digit",
)
IMAGE_VERSION = NameRule(
    "image version", r"^[0-9]{1,10}\.[0-9]{1,10}\.[0-9]{1,10}$", "Major.Minor.Patch, each a 32-bit integer"
)
HOST_POOL = NameRule(
    "host pool name", r"^[A-Za-z0-9_.-]{3,64}$", "3-64 letters, digits, hyphens, underscores, periods"
)
IMAGE_TEMPLATE = NameRule(
    "image build name",
    r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$",
    "1-64 letters, digits, hyphens, underscores and periods, starting with a letter or digit and not ending "
    "in a hyphen or period (it becomes the Image Builder template name)",
)
RESOURCE_GROUP = NameRule(
    "resource group name",
    r"^[-\w.()]{0,89}[-\w()]$",
    "1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period",
)
VM_NAME_PREFIX = NameRule(
    "VM name prefix",
    r"^[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$|^[A-Za-z]$",
    "letters, digits and hyphens, starting with a letter and not ending in a hyphen",
)
SUBSCRIPTION_ALIAS = NameRule(
    "subscription alias", r"^[A-Za-z][A-Za-z0-9_-]{0,62}$", "1-63 letters, digits, hyphens, underscores"
)
KEY_VAULT = NameRule(
    "Key Vault name",
    r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$",
    "3-24 letters, digits and hyphens, starting with a letter, no consecutive hyphens",
    echo=False,
)
SECRET = NameRule(
    "Key Vault secret name", r"^[A-Za-z0-9-]{1,127}$", "1-127 letters, digits and hyphens", echo=False
)
SHA256 = NameRule("sha256Checksum", r"^[0-9a-fA-F]{64}$", "64 hexadecimal characters (a SHA-256 digest)")
HTTPS_URI = NameRule("URI", r"^https://[^\s/?#]+[^\s]*$", "an https:// URL")
GUID = NameRule("subscription id", GUID_PATTERN, "a GUID like 11111111-1111-4111-8111-111111111111")


def _as_three_parts(text: str) -> str | None:
    """`1.5` → `1.5.0`, `2` → `2.0.0`; None when `text` is not one or two dot-separated integers."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return None
    parts = text.split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def version_number_hint(written: str) -> str:
    fixed = _as_three_parts(written)
    return f", write it as {fixed}" if fixed else ' as text, e.g. "1.0.0"'


def reject_number(value: object) -> object:
    """YAML reads `version: 1.5` as a float and `2` as an int: say what to write, not "not a string".

    The error has its own type, `version_number`, with the number in `ctx`: a float has lost how it was
    written (`1.10` is 1.1), so the validator that knows the file rebuilds the hint from the source text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        written = repr(value) if isinstance(value, float) else str(value)
        raise PydanticCustomError(
            "version_number",
            "expected Major.Minor.Patch{hint} (YAML read {written} as a number)",
            {"hint": version_number_hint(written), "written": written},
        )
    return value


def check_version_parts(value: str) -> str:
    if not re.fullmatch(IMAGE_VERSION.pattern, value):
        fixed = _as_three_parts(value)
        hint = f", write it as {fixed}" if fixed else ", each part a 32-bit integer"
        raise ValueError(f"invalid image version {value!r}: expected Major.Minor.Patch{hint}")
    if any(int(part) > INT32_MAX for part in value.split(".")):
        raise ValueError(f"invalid image version {value!r}: each part must be at most {INT32_MAX}")
    return value


def check_version_pin(value: str) -> str:
    return value if value == "latest" else check_version_parts(value)


VersionName = Annotated[
    str,
    BeforeValidator(reject_number),
    AfterValidator(check_version_parts),
    WithJsonSchema(
        {"type": "string", "pattern": IMAGE_VERSION.pattern, "description": IMAGE_VERSION.explain}
    ),
]

# A version a pool or a build names: `Major.Minor.Patch`, or `latest`.
VersionPin = Annotated[
    str,
    BeforeValidator(reject_number),
    AfterValidator(check_version_pin),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(latest|[0-9]+\.[0-9]+\.[0-9]+)$",
            "description": "Major.Minor.Patch, or latest",
        }
    ),
]


def version_key(version: str) -> tuple[int, int, int]:
    """Semantic ordering of `Major.Minor.Patch` (so 1.10.0 sorts after 1.9.0)."""
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch


# --- resource ids ---------------------------------------------------------------------------------------
_RG_ID = r"/subscriptions/[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}/resourceGroups/[-\w.()]{1,90}"


@dataclass(frozen=True)
class IdShape:
    what: str
    suffix: str
    example: str

    def check(self, value: str) -> str:
        if not re.fullmatch(_RG_ID + self.suffix, value, flags=re.IGNORECASE):
            raise ValueError(f"not a {self.what} resource id; expected {self.example}")
        return value

    def type(self):
        return Annotated[
            str,
            AfterValidator(self.check),
            WithJsonSchema(
                {
                    "type": "string",
                    "pattern": "^/subscriptions/",
                    "description": f"{self.what}: {self.example}",
                }
            ),
        ]


_EX = "/subscriptions/<guid>/resourceGroups/<rg>/providers/"
RESOURCE_GROUP_ID = IdShape("resource group", "", "/subscriptions/<guid>/resourceGroups/<rg>")
SUBNET_ID = IdShape(
    "subnet",
    r"/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+",
    _EX + "Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
)
IDENTITY_ID = IdShape(
    "user-assigned identity",
    r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+",
    _EX + "Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
)
MANAGED_IMAGE_ID = IdShape(
    "managed image", r"/providers/Microsoft\.Compute/images/[^/]+", _EX + "Microsoft.Compute/images/<name>"
)
VM_ID = IdShape(
    "virtual machine",
    r"/providers/Microsoft\.Compute/virtualMachines/[^/]+",
    _EX + "Microsoft.Compute/virtualMachines/<name>",
)
SNAPSHOT_ID = IdShape(
    "snapshot", r"/providers/Microsoft\.Compute/snapshots/[^/]+", _EX + "Microsoft.Compute/snapshots/<name>"
)
GALLERY_VERSION_ID = IdShape(
    "gallery image version",
    r"/providers/Microsoft\.Compute/galleries/[^/]+/images/[^/]+/versions/([0-9]+\.[0-9]+\.[0-9]+|latest)",
    _EX + "Microsoft.Compute/galleries/<g>/images/<def>/versions/<x.y.z|latest>",
)
KEY_VAULT_ID = IdShape(
    "Key Vault", r"/providers/Microsoft\.KeyVault/vaults/[^/]+", _EX + "Microsoft.KeyVault/vaults/<name>"
)
