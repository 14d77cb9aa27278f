"""Microsoft.ManagedIdentity userAssignedIdentities and Microsoft.KeyVault vaults + secrets (management plane).

- Identities (api-version 2024-11-30, azure-mgmt-msi 7.1): PUT creates (synchronous, 201/200); principalId,
  clientId and tenantId are generated once and read-only. `identity_problem` is Azure's refusal of a resource
  that names a user-assigned identity that does not exist (400 FailedIdentityOperation).
- Vaults (api-version 2026-05-15, azure-mgmt-keyvault 14.1): `properties.tenantId` and `properties.sku` are
  required; vault names are global, so a second vault with the same name anywhere is 409 VaultAlreadyExists.
  `vaultUri` is https://{name}.vault.azure.net/. A vault created through ARM has the access policies its body
  gives (none by default: Azure adds no one); a *seeded* vault without `properties.accessPolicies` is a
  landing zone's, so it gets the reconciler's read grant (secrets get/list), as a platform team would give
  it. Seed `accessPolicies: []` (or `enableRbacAuthorization: true` without a role assignment) for a vault
  the reconciler may not read (vault_access.py).
- Secrets through ARM (`vaults/{v}/secrets/{s}`): PUT with `properties.value` creates or updates; GET and list
  return metadata only (secretUri, secretUriWithVersion, attributes), never the value — ARM does not either.
  The value is kept private to the sandbox and never leaves it.
"""

from __future__ import annotations

import re
import secrets as pysecrets
import uuid
from typing import Any

from ..errors import ArmError, bad_request, conflict
from ..store import private, public
from ..vault_access import reader_policy
from .base import ResourceType

MSI_API = "2024-11-30"
KEYVAULT_API = "2026-05-15"
VAULT_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
SECRET_NAME_RE = re.compile(r"^[a-zA-Z0-9-]{1,127}$")


def identity_problem(app: Any, body: dict[str, Any], by_id: str) -> ArmError | None:
    """Azure's refusal of `body.identity.userAssignedIdentities` naming an identity that does not exist."""
    uais = ((body.get("identity") or {}).get("userAssignedIdentities")) or {}
    return missing_identity(app, list(uais), by_id)


def missing_identity(app: Any, identity_ids: list[str], by_id: str) -> ArmError | None:
    for uai in identity_ids:
        if app.store.get(uai) is None:
            return bad_request(
                f"Identity operation for resource '{by_id}' failed with error 'Failed to perform resource "
                f"identity operation. Status: 'NotFound'. Response: 'Resource '{uai}' does not exist or one of "
                "its queried reference-property objects are not present.''.",
                "FailedIdentityOperation",
            )
    return None


class UserAssignedIdentities(ResourceType):
    type_name = "Microsoft.ManagedIdentity/userAssignedIdentities"
    sync = True
    name_re = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")

    def build(self, req, rid, body, existing):
        res = super().build(req, rid, body, existing)
        old = (existing or {}).get("properties") or {}
        res["properties"] = {
            "tenantId": old.get("tenantId") or self.app.config.tenant_id,
            "principalId": old.get("principalId") or str(uuid.uuid4()),
            "clientId": old.get("clientId") or str(uuid.uuid4()),
            "isolationScope": (body.get("properties") or {}).get(
                "isolationScope", old.get("isolationScope", "None")
            ),
        }
        return res

    def seed(self, res: dict[str, Any], now: float) -> None:
        props = res.setdefault("properties", {})
        props.setdefault("tenantId", self.app.config.tenant_id)
        props.setdefault("principalId", str(uuid.uuid4()))
        props.setdefault("clientId", str(uuid.uuid4()))


class Vaults(ResourceType):
    type_name = "Microsoft.KeyVault/vaults"
    sync = True
    name_re = VAULT_NAME_RE

    def build(self, req, rid, body, existing):
        name = rid.rsplit("/", 1)[-1]
        other = self.same_name(name, rid)
        if other is not None:
            raise conflict(
                "VaultAlreadyExists",
                f"The vault name '{name}' is already in use. Vault names are "
                "globally unique so it is possible that the name is already taken.",
            )
        props = body.get("properties") or {}
        if existing is None:
            if not props.get("tenantId"):
                raise bad_request("The parameter tenantId is required.", "BadRequest", "properties.tenantId")
            if not (props.get("sku") or {}).get("name"):
                raise bad_request("The parameter sku is required.", "BadRequest", "properties.sku")
        res = super().build(req, rid, body, existing)
        res["properties"].pop("provisioningState", None)
        res["properties"].setdefault("vaultUri", f"https://{name}.vault.azure.net/")
        res["properties"].setdefault("accessPolicies", [])
        res["properties"]["provisioningState"] = "Succeeded"
        return res

    def same_name(self, name: str, rid: str) -> dict[str, Any] | None:
        for sub in self.app.config.subscription_ids:
            for vault in self.app.store.list_type(sub, self.type_name):
                if vault["name"].lower() == name.lower() and vault["id"].lower() != rid.lower():
                    return vault
        return None

    def seed(self, res: dict[str, Any], now: float) -> None:
        props = res.setdefault("properties", {})
        props.setdefault("tenantId", self.app.config.tenant_id)
        props.setdefault("sku", {"family": "A", "name": "standard"})
        props.setdefault("vaultUri", f"https://{res['name']}.vault.azure.net/")
        config = self.app.config
        props.setdefault("accessPolicies", [reader_policy(config.tenant_id, config.object_id)])


class Secrets(ResourceType):
    type_name = "Microsoft.KeyVault/vaults/secrets"
    sync = True
    tracked = False
    name_re = SECRET_NAME_RE

    def build(self, req, rid, body, existing):
        props = dict(body.get("properties") or {})
        value = props.pop("value", None)
        if existing is None and value is None:
            raise bad_request("The parameter value is required.", "BadRequest", "properties.value")
        res = super().build(req, rid, {k: v for k, v in body.items() if k != "properties"}, existing)
        self.stamp(res, props, value, self.app.clock.now_ts())
        return res

    def stamp(self, res: dict[str, Any], props: dict[str, Any], value: Any, now: float) -> None:
        vault = res["id"].split("/")[-3]
        sb = private(res)
        if value is not None:
            sb["value"] = str(value)
            sb["version"] = uuid.uuid4().hex
        sb.setdefault("version", uuid.uuid4().hex)
        uri = f"https://{vault}.vault.azure.net/secrets/{res['name']}"
        attributes = dict(props.get("attributes") or {})
        attributes.setdefault("enabled", True)
        attributes.setdefault("created", int(now))
        attributes["updated"] = int(now)
        res["properties"] = {
            "contentType": props.get("contentType"),
            "attributes": attributes,
            "secretUri": uri,
            "secretUriWithVersion": f"{uri}/{sb['version']}",
        }
        if res["properties"]["contentType"] is None:
            del res["properties"]["contentType"]

    def seed(self, res: dict[str, Any], now: float) -> None:
        props = dict(res.get("properties") or {})
        value = props.pop("value", None)
        self.stamp(res, props, value if value is not None else pysecrets.token_urlsafe(18), now)

    def render(self, req, res):
        return public(res)  # metadata only: the value never leaves the sandbox


def install(app: Any) -> None:
    for cls in (UserAssignedIdentities, Vaults, Secrets):
        app.register(cls(app))
