"""Key Vault secret reads (`azure/key_vault.py`, what acceptance tests' secret parameters and runAs passwords
use) against the sandbox's Key Vault data plane, through azure-core over HTTPS: the value comes back, a pinned
version must exist, and every refusal (absent, disabled, no access, wrong audience, no token, unknown
api-version) is a `SecretUnavailable` that names the URI and never carries a value. A vault made through ARM
grants only what its body says, so the fixture gives the reconciler's identity (its object id, not its app id)
the secrets get permission, as a platform team would."""

from __future__ import annotations

import pytest
import requests
from azure.mgmt.keyvault import KeyVaultManagementClient
from support.sandbox import access_token, connect, credential_for

from reconciler.azure.key_vault import API_VERSION, KeyVaultSecrets, SecretUnavailable

VAULT_RG = "rg-kv"
VAULT = "kv-accept"
VALUE = "Pa55-w0rd-for-the-print-test"


@pytest.fixture
def vault(sb, credential):
    kv = KeyVaultManagementClient(
        credential, sb.subscription_ids[0], base_url=sb.endpoint, connection_verify=sb.ca_bundle
    )
    sb.seed(
        [
            {
                "id": f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/{VAULT_RG}",
                "location": "westeurope",
            }
        ]
    )
    kv.vaults.begin_create_or_update(
        VAULT_RG,
        VAULT,
        {
            "location": "westeurope",
            "properties": {
                "tenantId": sb.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "accessPolicies": [
                    {"tenantId": sb.tenant_id, "objectId": sb.object_id, "permissions": {"secrets": ["get"]}}
                ],
            },
        },
    ).result()
    return kv


def put_secret(kv, name, value=VALUE, enabled=True):
    body = {"properties": {"value": value, "attributes": {"enabled": enabled}}}
    return kv.secrets.create_or_update(VAULT_RG, VAULT, name, body)


def test_a_secret_is_read_by_its_uri_and_by_its_pinned_version(sb, vault):
    secret = put_secret(vault, "printer-admin")
    read = KeyVaultSecrets(connect(sb))
    assert read(secret.properties.secret_uri) == VALUE
    assert read(secret.properties.secret_uri_with_version) == VALUE
    # A new value is a new version: the unpinned URI follows it, the old pin keeps naming the old version.
    newer = put_secret(vault, "printer-admin", value="rotated-value")
    assert read(secret.properties.secret_uri) == "rotated-value"
    assert newer.properties.secret_uri_with_version != secret.properties.secret_uri_with_version


@pytest.mark.parametrize(
    "uri, status",
    [
        (f"https://{VAULT}.vault.azure.net/secrets/absent", 404),
        ("https://kv-nowhere.vault.azure.net/secrets/printer-admin", 404),
        (f"https://{VAULT}.vault.azure.net/secrets/printer-admin/{'0' * 32}", 404),
        (f"https://{VAULT}.vault.azure.net/secrets/disabled", 403),
    ],
    ids=["absent-secret", "absent-vault", "absent-version", "disabled"],
)
def test_what_cannot_be_read_is_refused_naming_the_uri_never_the_value(sb, vault, uri, status):
    put_secret(vault, "printer-admin")
    put_secret(vault, "disabled", enabled=False)
    with pytest.raises(SecretUnavailable) as caught:
        KeyVaultSecrets(connect(sb))(uri)
    why = " SecretDisabled: the secret is disabled" if uri.endswith("/disabled") else ""
    assert str(caught.value) == f"cannot read Key Vault secret {uri} (HTTP {status}{why})"
    assert VALUE not in repr(caught.value.__context__) + repr(caught.value.__cause__)


def test_a_uri_that_is_not_a_key_vault_secret_is_refused_before_any_request(sb):
    with pytest.raises(SecretUnavailable, match="not a Key Vault secret URI"):
        KeyVaultSecrets(connect(sb))(f"{sb.endpoint}/secrets/x")


def _get(sb, path, token=None, api_version=API_VERSION):
    headers = {"Host": f"{VAULT}.vault.azure.net"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(
        f"{sb.endpoint}{path}",
        params={"api-version": api_version},
        headers=headers,
        verify=sb.ca_bundle,
        timeout=30,
    )


def test_the_data_plane_refuses_as_key_vault_does(sb, vault):
    put_secret(vault, "printer-admin")
    vault_token = credential_for(sb).get_token("https://vault.azure.net/.default").token

    missing = _get(sb, "/secrets/printer-admin")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "Unauthorized"
    assert 'resource="https://vault.azure.net"' in missing.headers["WWW-Authenticate"]

    arm_token = _get(sb, "/secrets/printer-admin", token=access_token(sb))  # ARM's audience, not the vault's
    assert arm_token.status_code == 401
    assert arm_token.json()["error"]["message"].startswith("AKV10022")

    old = _get(sb, "/secrets/printer-admin", token=vault_token, api_version="2099-01-01")
    assert old.status_code == 400 and old.json()["error"]["code"] == "BadParameter"

    good = _get(sb, "/secrets/printer-admin", token=vault_token)
    assert good.status_code == 200
    body = good.json()
    assert body["value"] == VALUE
    assert body["id"].startswith(f"https://{VAULT}.vault.azure.net/secrets/printer-admin/")
    assert body["attributes"]["enabled"] is True


def test_secret_reads_are_not_audited_as_writes(sb, vault):
    put_secret(vault, "printer-admin")
    before = len(sb.audit()["entries"])
    KeyVaultSecrets(connect(sb))(f"https://{VAULT}.vault.azure.net/secrets/printer-admin")
    assert len(sb.audit()["entries"]) == before


@pytest.mark.parametrize(
    "props, why",
    [
        (
            {"accessPolicies": []},
            "AccessDenied: the reconciler has no secrets 'get' permission in vault kv-locked's access policies",
        ),
        (
            {"enableRbacAuthorization": True},
            "ForbiddenByRbac: the reconciler has no role with secrets/getSecret on vault kv-locked, e.g. Key "
            "Vault Secrets User",
        ),
    ],
    ids=["access-policies", "rbac"],
)
def test_a_vault_that_does_not_grant_get_is_refused_naming_vault_secret_and_permission(sb, props, why):
    vault = f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/{VAULT_RG}/providers/Microsoft.KeyVault/vaults"
    sb.seed(
        [
            {
                "id": f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/{VAULT_RG}",
                "location": "westeurope",
            },
            {"id": f"{vault}/kv-locked", "location": "westeurope", "properties": props},
            {"id": f"{vault}/kv-locked/secrets/printer-admin", "properties": {"value": VALUE}},
        ]
    )
    uri = "https://kv-locked.vault.azure.net/secrets/printer-admin"
    with pytest.raises(SecretUnavailable) as caught:
        KeyVaultSecrets(connect(sb))(uri)
    assert str(caught.value) == f"cannot read Key Vault secret {uri} (HTTP 403 {why})"
    assert sb.object_id not in str(caught.value)  # Key Vault's text names the caller's ids: not repeated
