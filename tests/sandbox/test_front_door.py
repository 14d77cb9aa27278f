"""The front door refuses what ARM refuses: api-versions a resource type does not publish, and bearer tokens
that are unsigned, signed by someone else, for another audience or expired (reconciler/sandbox/api_versions.py,
reconciler/sandbox/tokens.py). Everything is driven through the real SDK clients and azure-identity."""

from __future__ import annotations

import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.core.rest import HttpRequest
from support.sandbox import access_token, bearer, credential_for, make_clients, time_scale

from reconciler.azure import paging
from reconciler.sandbox import api_versions

from .helpers import make_gallery

ARM_SCOPE = "https://management.azure.com/.default"


def get(sb, path: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else bearer(sb)
    return requests.get(sb.endpoint + path, headers=headers, verify=sb.ca_bundle, timeout=10)


def gallery_path(c) -> str:
    return f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/galleries/gal"


# ---- api-versions


def test_an_unknown_api_version_for_a_gallery_is_refused_listing_the_published_ones(sb, clients):
    make_gallery(clients)
    r = get(sb, gallery_path(clients) + "?api-version=2099-01-01")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "NoRegisteredProviderFound"
    assert error["message"].startswith(
        "No registered resource provider found for location 'westeurope' and API version '2099-01-01' "
        "for type 'galleries'. The supported api-versions are '2018-06-01, 2019-03-01, "
    )
    assert "2026-03-03'. The supported locations are '" in error["message"]
    assert "Retry-After" not in r.headers  # a refusal, not a throttle: azure-core must not retry it


def test_a_list_names_location_star_and_nested_types_their_path(sb, clients):
    r = get(
        sb, f"/subscriptions/{clients.sub}/providers/Microsoft.Compute/virtualMachines?api-version=2026-03-03"
    )
    assert r.status_code == 400
    assert (
        "location '*' and API version '2026-03-03' for type 'virtualMachines'" in r.json()["error"]["message"]
    )
    make_gallery(clients)
    r = get(sb, gallery_path(clients) + "/images/img/versions?api-version=2024-04-03")
    assert "for type 'galleries/images/versions'" in r.json()["error"]["message"]


def test_an_unknown_api_version_for_resource_groups_is_invalid_api_version_parameter(sb):
    sub = sb.subscription_ids[0]
    r = get(sb, f"/subscriptions/{sub}/resourcegroups?api-version=2023-02-01")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "InvalidApiVersionParameter"
    assert error["message"].startswith(
        "The api-version '2023-02-01' is invalid. The supported versions are '2025-04-01,2025-03-01,"
    )
    assert get(sb, f"/subscriptions/{sub}/resourcegroups?api-version=2025-04-01").status_code == 200


def test_a_preview_api_version_is_accepted(sb, clients):
    pools = f"/subscriptions/{clients.sub}/providers/Microsoft.DesktopVirtualization/hostPools"
    assert get(sb, pools + "?api-version=2025-04-01-preview").status_code == 200
    assert (
        get(
            sb,
            f"/subscriptions/{clients.sub}/providers/Microsoft.VirtualMachineImages/imageTemplates"
            "?api-version=2019-05-01-preview",
        ).status_code
        == 200
    )
    assert get(sb, pools + "?api-version=2025-04-02-preview").status_code == 400


def test_lenient_api_versions_setting_accepts_any_version(sb, clients):
    make_gallery(clients)
    sb.configure(lenient_api_versions=True)
    assert get(sb, gallery_path(clients) + "?api-version=2099-01-01").status_code == 200


def test_every_api_version_the_installed_sdk_clients_send_is_accepted(sb, clients, credential):
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    kw = dict(base_url=sb.endpoint, connection_verify=sb.ca_bundle, retry_backoff_factor=0)
    make_gallery(clients)
    c = clients.compute
    list(c.galleries.list())
    list(c.gallery_images.list_by_gallery(clients.rg, "gal"))
    list(c.gallery_image_versions.list_by_gallery_image(clients.rg, "gal", "img"))
    list(c.virtual_machines.list_all())
    list(c.disks.list())
    list(clients.aib.virtual_machine_image_templates.list())
    list(clients.avd.host_pools.list())
    list(NetworkManagementClient(credential, clients.sub, **kw).virtual_networks.list_all())
    list(
        ManagedServiceIdentityClient(
            credential, clients.sub, **kw
        ).user_assigned_identities.list_by_subscription()
    )
    list(KeyVaultManagementClient(credential, clients.sub, **kw).vaults.list_by_subscription())
    list(ResourceManagementClient(credential, clients.sub, **kw).resource_groups.list())
    seen = sb.stats()["api_versions"]
    assert {"2026-03-03", "2026-04-01", "2026-03-02", "2025-10-01", "2024-04-03", "2026-03-01"} <= set(seen)


@pytest.mark.parametrize("type_prefix", sorted(paging.API_BY_TYPE))
def test_the_reconcilers_api_versions_are_published_for_their_types(type_prefix):
    assert paging.API_BY_TYPE[type_prefix] in api_versions.supported(type_prefix)


def test_reads_by_id_use_the_version_of_the_type_they_read():
    vm = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm1"
    assert (
        paging.api_version_for(vm) == paging.VM_API
    )  # was the gallery's for every non-template, non-pool id
    assert paging.api_version_for(vm + "/instanceView") == paging.VM_API
    version = (
        "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"
    )
    assert paging.api_version_for(version) == paging.GALLERY_API
    with pytest.raises(ValueError):
        paging.api_version_for("/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/app")


# ---- bearer tokens


def assert_invalid_token(r: requests.Response, code: str) -> None:
    assert r.status_code == 401
    assert r.json()["error"]["code"] == code
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer authorization_uri="https://127.0.0.1:')
    assert 'error="invalid_token", error_description="' in challenge


def test_a_token_with_a_bad_signature_is_refused(sb):
    header, payload, signature = access_token(sb).split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    path = f"/subscriptions/{sb.subscription_ids[0]}/resourcegroups?api-version=2025-04-01"
    assert_invalid_token(get(sb, path, forged), "InvalidAuthenticationToken")
    unsigned = f"{header}.{payload}."
    assert_invalid_token(get(sb, path, unsigned), "InvalidAuthenticationToken")
    assert_invalid_token(get(sb, path, "not-a-jwt"), "InvalidAuthenticationToken")


def test_a_token_for_another_audience_is_refused(sb):
    token = credential_for(sb).get_token("https://vault.azure.net/.default").token
    r = get(sb, f"/subscriptions/{sb.subscription_ids[0]}/resourcegroups?api-version=2025-04-01", token)
    assert_invalid_token(r, "InvalidAuthenticationTokenAudience")
    assert "wrong audience or resource 'https://vault.azure.net/'" in r.json()["error"]["message"]
    classic = credential_for(sb).get_token("https://management.core.windows.net//.default").token
    assert (
        get(
            sb, f"/subscriptions/{sb.subscription_ids[0]}/resourcegroups?api-version=2025-04-01", classic
        ).status_code
        == 200
    )


def test_an_expired_token_is_refused_with_expired_authentication_token(sb):
    claims = {"aud": "https://management.azure.com/", "appid": sb.client_id}
    # an hour past its end on both clocks (the sandbox's and the real one it was promised)
    token, _ = sb.app.tokens.issue(claims, -3600, 1.0, sb.clock.now_ts())
    r = get(sb, f"/subscriptions/{sb.subscription_ids[0]}/resourcegroups?api-version=2025-04-01", token)
    assert_invalid_token(r, "ExpiredAuthenticationToken")
    assert r.json()["error"]["message"].startswith("The access token expiry UTC time '")
    assert "is earlier than current UTC time" in r.json()["error"]["message"]


def test_the_sdk_surfaces_a_refused_token_as_an_authentication_error(sb, clients):
    from azure.core.credentials import AccessToken

    class Forged:
        def get_token(self, *scopes, **kwargs):
            return AccessToken("x.y.z", int(time.time()) + 3600)

    c = make_clients(sb, Forged())
    with pytest.raises(ClientAuthenticationError) as info:
        list(c.compute.galleries.list())
    assert info.value.status_code == 401


def test_the_caller_is_read_from_the_validated_token(sb, clients):
    make_gallery(clients)
    callers = {e["caller"] for e in sb.audit()["entries"]}
    assert callers == {sb.client_id}


def test_a_long_run_past_several_token_lifetimes_keeps_working_through_the_real_credential(sb):
    """Without the real-time floor, at 1000x a 3600 s token lasts 3.6 real seconds: azure-core must renew it (it does so 5 minutes before
    the real expires_in) and never send one the sandbox has seen expire."""
    lifetime = 3600.0
    sb.configure(token_lifetime_seconds=lifetime, token_min_real_seconds=0)
    c = make_clients(sb, credential_for(sb))
    path = f"/subscriptions/{c.sub}/resourcegroups?api-version=2025-04-01"
    with time_scale(sb, 1000):
        first = access_token(sb)
        issued0, start = sb.app.tokens.issued, sb.clock.now_ts()
        calls = 0
        while sb.clock.now_ts() - start < 3 * lifetime:
            response = c.compute.send_request(HttpRequest("GET", path))
            assert response.status_code == 200, response.text()
            calls += 1
            time.sleep(0.2)
        assert_invalid_token(get(sb, path, first), "ExpiredAuthenticationToken")
    assert calls >= 3
    assert sb.app.tokens.issued - issued0 >= 3  # renewed at least once per lifetime passed
