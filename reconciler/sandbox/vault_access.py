"""Who may read a vault's secrets through the data plane: Key Vault's two permission models.

- Access policies (`properties.enableRbacAuthorization` false or absent): the caller needs an entry of
  `properties.accessPolicies` whose tenantId and objectId are the token's `tid` and `oid` (and, when the entry
  names an applicationId, whose appid is the token's: a compound identity) with "get" or "all" in
  `permissions.secrets`. Refusal: 403 `Forbidden`, inner `AccessDenied`, "The user, group or application
  'appid=…;oid=…;iss=…' does not have secrets get permission on key vault '{vault};location={region}'. …"
  (bodies quoted in MicrosoftDocs/azure-docs#57072 and turbot/steampipe-plugin-azure#127).
- Azure RBAC (`enableRbacAuthorization: true`): access policies are ignored; the caller needs a role
  assignment for its `oid` at the vault, its resource group or its subscription with a built-in role that
  carries `Microsoft.KeyVault/vaults/secrets/getSecret/action`. Refusal: 403 `Forbidden`, inner
  `ForbiddenByRbac`, "Caller is not authorized to perform action on resource.\\r\\n… Action:
  'Microsoft.KeyVault/vaults/secrets/getSecret/action' … DecisionReason: 'DeniedWithNoValidRBAC' …"
  (piyushsachdeva/Terraform_AKS#2, hashicorp/terraform-provider-azurerm#27817).

The sandbox has no Microsoft.Authorization provider, so role assignments are REST-shaped resources *seeded*
at `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}` (properties.principalId and
properties.roleDefinitionId, as ARM returns them); an RBAC vault without one refuses every reader, as Azure
does. Management groups, custom roles, deny assignments and propagation delay are not modelled.
"""

from __future__ import annotations

from typing import Any

GET_SECRET_ACTION = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
# Built-in roles whose dataActions include getSecret (azure-docs key-vault/general/rbac-guide.md).
SECRET_READER_ROLES = {
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
}
ROLE_ASSIGNMENTS = "providers/microsoft.authorization/roleassignments"


def reader_policy(tenant_id: str, object_id: str) -> dict[str, Any]:
    """The access policy a platform team gives the reconciler: read secrets, nothing else."""
    return {"tenantId": tenant_id, "objectId": object_id, "permissions": {"secrets": ["get", "list"]}}


def denial(store: Any, vault: dict[str, Any], claims: dict[str, Any], secret: str) -> tuple[str, str] | None:
    """(inner code, message) when the token's principal may not read `secret` of `vault`, else None."""
    props = vault.get("properties") or {}
    caller = f"appid={claims.get('appid', '')};oid={claims.get('oid', '')};iss={claims.get('iss', '')}"
    where = f"{vault['name']};location={vault.get('location', '')}"
    if props.get("enableRbacAuthorization") is True:
        if _role_grants(store, vault["id"], str(claims.get("oid", ""))):
            return None
        return "ForbiddenByRbac", (
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments "
            "or role definitions were changed recently, please observe propagation time.\r\n"
            f"Caller: {caller}\r\nAction: '{GET_SECRET_ACTION}'\r\n"
            f"Resource: '{vault['id'].lower()}/secrets/{secret.lower()}'\r\nAssignment: (not found)\r\n"
            f"DenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {where}\r\n"
        )
    if any(_policy_grants(p, claims) for p in props.get("accessPolicies") or ()):
        return None
    return "AccessDenied", (
        f"The user, group or application '{caller}' does not have secrets get permission on key vault "
        f"'{where}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287"
    )


def _same(a: Any, b: Any) -> bool:
    return str(a or "").lower() == str(b or "").lower() and bool(a)


def _policy_grants(policy: dict[str, Any], claims: dict[str, Any]) -> bool:
    if not (
        _same(policy.get("tenantId"), claims.get("tid")) and _same(policy.get("objectId"), claims.get("oid"))
    ):
        return False
    if policy.get("applicationId") and not _same(policy.get("applicationId"), claims.get("appid")):
        return False
    granted = {str(p).lower() for p in (policy.get("permissions") or {}).get("secrets") or ()}
    return bool(granted & {"get", "all"})


def _scopes(vault_id: str) -> list[str]:
    """The vault, its resource group and its subscription (lower-cased ids)."""
    parts = vault_id.lower().split("/")
    return ["/".join(parts), "/".join(parts[:5]), "/".join(parts[:3])]


def _role_grants(store: Any, vault_id: str, oid: str) -> bool:
    for scope in _scopes(vault_id):
        for assignment in store.list_children(f"{scope}/{ROLE_ASSIGNMENTS}"):
            props = assignment.get("properties") or {}
            role = str(props.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower()
            if role in SECRET_READER_ROLES and _same(props.get("principalId"), oid):
                return True
    return False
