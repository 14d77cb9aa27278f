"""Who may read a secret through the sandbox's Key Vault data plane (vault_access.py), over HTTPS with tokens
from the real azure-identity credential: access policies by the token's object id, Azure RBAC by seeded role
assignments at the vault or a parent scope, and Key Vault's 403 bodies (inner AccessDenied / ForbiddenByRbac)
for everyone else, given before the secret is even looked up."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests
from azure.identity import ClientSecretCredential
from support.sandbox import credential_for

VALUE = "n0t-for-the-unauthorised"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_READER = "21090545-7ca7-4776-b22c-e363652d74d2"  # metadata only: no getSecret


def rg_id(sb) -> str:
    return f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/rg-access"


def vault_id(sb, name: str) -> str:
    return f"{rg_id(sb)}/providers/Microsoft.KeyVault/vaults/{name}"


def seed_vault(sb, name: str, **props) -> str:
    vid = vault_id(sb, name)
    vault = {"id": vid, "location": "westeurope", "properties": props}
    sb.seed([{"id": rg_id(sb), "location": "westeurope"}, vault])
    sb.seed([{"id": f"{vid}/secrets/admin", "properties": {"value": VALUE}}])
    return vid


def grant(sb, scope: str, role: str, principal: str) -> None:
    rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    definition = (
        f"/subscriptions/{sb.subscription_ids[0]}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    )
    sb.seed(
        [
            {
                "id": rid,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": {"roleDefinitionId": definition, "principalId": principal, "scope": scope},
            }
        ]
    )


def token(sb, credential=None) -> str:
    return (credential or credential_for(sb)).get_token("https://vault.azure.net/.default").token


def claims_of(access: str) -> dict:
    payload = access.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def read(sb, vault: str, secret: str = "admin", access: str | None = None) -> requests.Response:
    return requests.get(
        f"{sb.endpoint}/secrets/{secret}",
        params={"api-version": "7.5"},
        headers={"Host": f"{vault}.vault.azure.net", "Authorization": f"Bearer {access or token(sb)}"},
        verify=sb.ca_bundle,
        timeout=30,
    )


def policy(sb, object_id: str, *secrets: str, **extra) -> dict:
    return {
        "tenantId": sb.tenant_id,
        "objectId": object_id,
        "permissions": {"secrets": list(secrets)},
        **extra,
    }


def test_the_token_names_the_service_principal_object_id_apart_from_its_app_id(sb):
    claims = claims_of(token(sb))
    assert claims["oid"] == sb.object_id and claims["appid"] == sb.client_id
    assert sb.object_id != sb.client_id


def test_a_landing_zone_vault_is_readable_by_the_reconciler_and_no_one_else(sb):
    seed_vault(sb, "kv-acc-landing")  # seeded without accessPolicies: the landing zone's grant
    assert read(sb, "kv-acc-landing").json()["value"] == VALUE
    other = ClientSecretCredential(
        sb.tenant_id,
        "dddddddd-dddd-4ddd-8ddd-dddddddddddd",
        "any",
        authority=f"127.0.0.1:{sb.port}",
        disable_instance_discovery=True,
        connection_verify=sb.ca_bundle,
    )
    stranger = token(sb, other)
    refused = read(sb, "kv-acc-landing", access=stranger)
    assert refused.status_code == 403
    assert claims_of(stranger)["oid"] in refused.json()["error"]["message"]
    assert VALUE not in refused.text


def test_without_a_get_policy_key_vault_answers_access_denied_before_looking_for_the_secret(sb):
    seed_vault(sb, "kv-acc-list", accessPolicies=[policy(sb, sb.object_id, "list", "set")])
    for secret in ("admin", "no-such-secret"):  # a caller without access learns nothing about what exists
        refused = read(sb, "kv-acc-list", secret)
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "Forbidden" and error["innererror"] == {"code": "AccessDenied"}
        assert error["message"].startswith(
            f"The user, group or application 'appid={sb.client_id};oid={sb.object_id};iss="
        )
        assert (
            "does not have secrets get permission on key vault 'kv-acc-list;location=westeurope'"
            in (error["message"])
        )
        assert VALUE not in refused.text


@pytest.mark.parametrize(
    "entry, status",
    [
        ("all", 200),
        ("GET", 200),
        ("app-id-as-object-id", 403),  # a grant to the app id names no principal Azure knows
        ("other-tenant", 403),
        ("compound-other-app", 403),  # applicationId set: only that application acting for the object
    ],
)
def test_an_access_policy_grants_its_tenant_and_object_id_with_get_or_all(sb, entry, status):
    entries = {
        "all": policy(sb, sb.object_id, "all"),
        "GET": policy(sb, sb.object_id, "GET"),
        "app-id-as-object-id": policy(sb, sb.client_id, "get"),
        "other-tenant": dict(policy(sb, sb.object_id, "get"), tenantId=str(uuid.uuid4())),
        "compound-other-app": policy(sb, sb.object_id, "get", applicationId=str(uuid.uuid4())),
    }
    seed_vault(sb, "kv-acc-policy", accessPolicies=[entries[entry]])
    assert read(sb, "kv-acc-policy").status_code == status


def test_an_rbac_vault_ignores_access_policies_and_wants_a_secrets_role_at_or_above_it(sb):
    vid = seed_vault(
        sb, "kv-acc-rbac", enableRbacAuthorization=True, accessPolicies=[policy(sb, sb.object_id, "all")]
    )
    refused = read(sb, "kv-acc-rbac")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "Forbidden" and error["innererror"] == {"code": "ForbiddenByRbac"}
    assert error["message"].startswith("Caller is not authorized to perform action on resource.\r\n")
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'" in error["message"]
    assert f"Resource: '{vid.lower()}/secrets/admin'" in error["message"]
    assert "Vault: kv-acc-rbac;location=westeurope" in error["message"]

    grant(sb, rg_id(sb), KEY_VAULT_READER, sb.object_id)  # reads metadata, never values
    grant(sb, vid, SECRETS_USER, sb.client_id)  # the app id is not the principal
    assert read(sb, "kv-acc-rbac").status_code == 403
    grant(sb, rg_id(sb), SECRETS_USER, sb.object_id)  # inherited from the resource group
    assert read(sb, "kv-acc-rbac").json()["value"] == VALUE


def test_a_subscription_wide_role_reaches_every_rbac_vault_in_it(sb):
    seed_vault(sb, "kv-acc-sub", enableRbacAuthorization=True)
    grant(
        sb, f"/subscriptions/{sb.subscription_ids[0]}", "00482a5a-887f-4fb3-b363-3b7fe8e74483", sb.object_id
    )
    assert read(sb, "kv-acc-sub").json()["value"] == VALUE
