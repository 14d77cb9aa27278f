"""Core protocol: TLS, auth, api-version, identity, metadata, subscriptions, resource groups, paging, clock."""

from __future__ import annotations

import json

import pytest
import requests
from support.sandbox import access_token

from .helpers import make_gallery


def raw(sb, method, path, token="signed", **kw):
    token = access_token(sb) if token == "signed" else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, sb.endpoint + path, headers=headers, verify=sb.ca_bundle, timeout=10, **kw
    )


def test_missing_bearer_is_401_and_missing_api_version_is_400(sb):
    sub = sb.subscription_ids[0]
    r = raw(sb, "GET", f"/subscriptions/{sub}/resourcegroups?api-version=2024-11-01", token=None)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "AuthenticationFailed"
    r = raw(sb, "GET", f"/subscriptions/{sub}/resourcegroups")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "MissingApiVersionParameter"
    assert "Retry-After" not in r.headers


def test_any_api_version_is_accepted_and_recorded(sb):
    sub = sb.subscription_ids[0]
    for version in ("2019-03-01", "2026-03-03"):
        assert raw(
            sb, "GET", f"/subscriptions/{sub}/providers/Microsoft.Compute/galleries?api-version={version}"
        ).ok
    assert {"2019-03-01", "2026-03-03"} <= set(sb.stats()["api_versions"])


def test_double_slashes_collapse_and_headers_carry_sandbox_time(sb):
    sub = sb.subscription_ids[0]
    r = raw(sb, "GET", f"//subscriptions//{sub}?api-version=2022-12-01")
    assert r.status_code == 200 and r.json()["subscriptionId"] == sub
    assert r.headers["x-ms-sandbox-time"].endswith("Z") and "." in r.headers["x-ms-sandbox-time"]
    assert r.headers["Date"].endswith("GMT")


def test_metadata_endpoints_object_and_list_shapes(sb):
    one = raw(sb, "GET", "/metadata/endpoints?api-version=2022-09-01", token=None).json()
    assert one["resourceManager"] == sb.endpoint + "/"
    assert one["authentication"]["loginEndpoint"] == sb.endpoint + "/"
    many = raw(sb, "GET", "/metadata/endpoints?api-version=2019-05-01", token=None).json()
    assert isinstance(many, list) and many[0]["name"] == "Sandbox"


def test_client_secret_credential_signs_in_and_audit_names_the_client(sb, clients):
    clients.compute.galleries.begin_create_or_update(clients.rg, "g1", {"location": "westeurope"}).result()
    entry = [e for e in sb.audit()["entries"] if e["method"] == "PUT"][-1]
    assert entry["caller"] == sb.client_id
    assert entry["status"] == 201


def test_wrong_client_secret_is_refused(sb):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    cred = ClientSecretCredential(
        sb.tenant_id,
        sb.client_id,
        "wrong",
        authority=f"127.0.0.1:{sb.port}",
        disable_instance_discovery=True,
        connection_verify=sb.ca_bundle,
    )
    with pytest.raises(ClientAuthenticationError):
        cred.get_token("https://management.azure.com/.default")


def test_environment_and_default_credentials_work_from_env(sb, monkeypatch):
    from azure.identity import DefaultAzureCredential, EnvironmentCredential

    for key, value in sb.env.items():
        monkeypatch.setenv(key, value)
    # Instance discovery would ask login.microsoftonline.com about a non-Microsoft authority: turn it off.
    token = EnvironmentCredential(disable_instance_discovery=True).get_token(
        "https://management.azure.com/.default"
    )
    assert token.token.count(".") == 2
    dac = DefaultAzureCredential(disable_instance_discovery=True, exclude_managed_identity_credential=True)
    assert dac.get_token("https://management.azure.com/.default").token


def test_subscriptions_tenants_and_unknown_subscription(sb):
    subs = raw(sb, "GET", "/subscriptions?api-version=2022-12-01").json()["value"]
    assert [s["subscriptionId"] for s in subs] == sb.subscription_ids
    assert all(s["state"] == "Enabled" and s["tenantId"] == sb.tenant_id for s in subs)
    assert raw(sb, "GET", "/tenants?api-version=2022-12-01").json()["value"][0]["tenantId"] == sb.tenant_id
    r = raw(
        sb, "GET", "/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups?api-version=2024-11-01"
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "SubscriptionNotFound"


def test_resource_group_lifecycle_and_generic_resources_list(sb, clients):
    sub = sb.subscription_ids[0]
    base = f"/subscriptions/{sub}/resourcegroups/rg-two"
    assert raw(sb, "HEAD", base + "?api-version=2024-11-01").status_code == 404
    r = raw(sb, "PUT", base + "?api-version=2024-11-01", json={"location": "westeurope", "tags": {"a": "1"}})
    assert r.status_code == 201 and r.json()["properties"]["provisioningState"] == "Succeeded"
    assert raw(sb, "HEAD", base + "?api-version=2024-11-01").status_code == 204
    make_gallery(clients)
    listed = raw(
        sb, "GET", f"/subscriptions/{sub}/resourceGroups/{clients.rg}/resources?api-version=2022-09-01"
    )
    types = {r["type"] for r in listed.json()["value"]}
    assert {"Microsoft.Compute/galleries", "Microsoft.Compute/galleries/images"} <= types
    assert all("location" in r for r in listed.json()["value"])
    r = raw(sb, "DELETE", base + "?api-version=2024-11-01")
    assert r.status_code == 202 and "Location" in r.headers
    sb.advance(60)
    assert raw(sb, "GET", base + "?api-version=2024-11-01").json()["error"]["code"] == "ResourceGroupNotFound"


def test_missing_resource_group_is_404_resource_group_not_found(sb, clients):
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError) as err:
        clients.compute.galleries.begin_create_or_update("rg-nope", "g", {"location": "westeurope"})
    assert err.value.error.code == "ResourceGroupNotFound"


def test_paging_follows_next_link_with_api_version(sb, clients):
    make_gallery(clients)
    for i in range(12):
        clients.compute.galleries.begin_create_or_update(clients.rg, f"g{i:02d}", {"location": "westeurope"})
    pages = list(clients.compute.galleries.list_by_resource_group(clients.rg).by_page())
    assert len(pages) == 3  # 13 galleries, 5 per page
    assert sum(len(list(p)) for p in pages) == 13
    assert len(list(clients.compute.galleries.list())) == 13  # subscription-wide list
    r = raw(
        sb,
        "GET",
        f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/Microsoft.Compute/"
        "galleries?api-version=2026-03-03",
    )
    assert "api-version=2026-03-03" in r.json()["nextLink"] and r.json()["nextLink"].startswith(sb.endpoint)


def test_admin_clock_advance_and_stats_groups(sb, clients):
    before = sb.now()
    r = requests.post(sb.endpoint + "/_sandbox/clock", json={"advance": 3600}, verify=sb.ca_bundle, timeout=5)
    assert r.ok
    assert (sb.now() - before).total_seconds() >= 3600
    make_gallery(clients)
    list(clients.compute.gallery_images.list_by_gallery(clients.rg, "gal"))
    stats = requests.get(sb.endpoint + "/_sandbox/stats", verify=sb.ca_bundle, timeout=5).json()
    assert stats["requests"]["GET galleries/images list"] == 1
    assert stats["requests"]["PUT galleries"] == 1
    assert json.loads(json.dumps(stats))["total"] >= 3
