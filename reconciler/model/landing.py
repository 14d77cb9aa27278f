"""What the landing zone holds, as far as a plan needs it: resource groups (listed) and referenced resources
(read one by one). Plain frozen data, built by `reconciler.azure.references`.

- `ObservedResourceGroup`: one listed resource group (`/subscriptions/<s>/resourcegroups/<rg>`, lower-cased key).
- `ReferenceRead`: the answer to one GET of a resource desired state points at (a subnet, a user-assigned
  identity, a staging resource group, a Key Vault secret's metadata): its HTTP status and ARM error code.
  Only `status == 200` counts as present; 404 is missing, anything else (403, 5xx after retries) unreadable.
  Never a secret value: the Key Vault secret read is the management-plane GET, which returns metadata only.
  A VM (the source of a captured image version) is read with its instance view, whose status codes say
  whether it is deallocated and generalized.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.model.observed_resources import norm_id


@dataclass(frozen=True)
class ObservedResourceGroup:
    id: str
    location: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    provisioning_state: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> str:
        return norm_id(self.id)

    @property
    def name(self) -> str:
        return self.id.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ReferenceRead:
    resource_id: str
    status: int
    code: str = ""
    message: str = ""
    # A VM's instance-view status codes (`PowerState/deallocated`, `OSState/generalized`).
    statuses: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return norm_id(self.resource_id)

    @property
    def found(self) -> bool:
        return self.status == 200

    @property
    def missing(self) -> bool:
        return self.status == 404
