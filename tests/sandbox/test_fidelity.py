"""Fidelity: the sandbox answers with the same JSON shape as the published Azure REST API examples.

Each test drives the sandbox with the REAL SDK clients over HTTPS (the raw response JSON is taken from the
SDK's own pipeline through its ``cls=`` hook, so nothing is re-serialized by us) and compares it with an
x-ms-example response body from tests/fixtures/rest-examples/ (sources and trimming in its README).

``shape_mismatches(actual, example)`` is the comparator: every key of the example must be present in the
sandbox's response with the same JSON type (object, array, string, number, boolean), recursively; array
elements are compared pairwise. Values are not compared (examples are illustrative: placeholder ids, odd
casing). Extra keys in the sandbox response are allowed; a ``null`` in the example means "nullable, may be
absent"; the keys of ``FREE_MAPS`` objects (tags, identities) are user data and not compared.

``EXCLUDED`` lists, with reasons, fields that only appear in scenarios a test does not create. ``KNOWN_GAPS``
lists differences the sandbox still has (tolerated, shown as warnings): anything else fails the test.
"""

from __future__ import annotations

import json
import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.desktopvirtualization.models import HostPool, SessionHostPatch
from support.sandbox import access_token, credential_for

from reconciler.sandbox.estate import generate

from .helpers import (
    dsc_extension,
    host_pool_body,
    landing_subnet,
    make_gallery,
    make_version,
    registration_patch,
    vm_body,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rest-examples"
RG = "rg-test"  # created for every test by the sb fixture (tests/conftest.py)
LOCATION = "westeurope"
RAW = {"cls": lambda pipeline_response, deserialized, headers: pipeline_response.http_response.json()}

# Paths (dotted, "[]" for array elements) left out of the comparison, with why.
EXCLUDED: dict[str, dict[str, str]] = {
    "*": {
        "systemData": "ARM metadata about who changed a resource; the reconciler never reads it",
    },
    "GalleryImageVersion": {
        "properties.safetyProfile.reportedForPolicyViolation": "only present once an image was reported",
    },
    "HostPool": {
        "properties.registrationInfo.token": "api >= 2023-09-05 hides the token on GET/PUT responses",
    },
    "VM": {
        # Hosts are built from a gallery version (imageReference.id); the example from a marketplace image.
        "properties.storageProfile.imageReference.publisher": "marketplace images only",
        "properties.storageProfile.imageReference.offer": "marketplace images only",
        "properties.storageProfile.imageReference.sku": "marketplace images only",
        "properties.storageProfile.imageReference.version": "marketplace images only",
    },
}


# ---------------------------------------------------------------- the comparator
# Objects whose keys are the caller's data (tag names, identity ids), not schema.
FREE_MAPS = {"tags", "artifactTags", "userAssignedIdentities"}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def shape_mismatches(
    actual: Any, example: Any, excluded: set[str] = frozenset(), path: str = ""
) -> list[str]:
    """Differences in shape, as "path: reason" strings; empty when the sandbox covers the example.

    A ``null`` in the example says "nullable": the key may be absent or hold any type (providers differ on
    emitting nulls, and the SDKs read absent and null alike)."""
    if path in excluded:
        return []
    where = path or "<root>"
    a_type, e_type = json_type(actual), json_type(example)
    if e_type == "null":
        return []
    if a_type != e_type:
        return [f"{where}: {a_type} where the example has {e_type}"]
    out: list[str] = []
    if e_type == "object" and path.rsplit(".", 1)[-1] in FREE_MAPS:
        return []  # user data keyed by the user's own names: only the type matters
    if e_type == "object":
        for key, value in example.items():
            child = f"{path}.{key}" if path else key
            if child in excluded:
                continue
            if key not in actual:
                if value is not None:
                    out.append(f"{child}: missing")
            else:
                out += shape_mismatches(actual[key], value, excluded, child)
    elif e_type == "array":
        if example and not actual:
            out.append(f"{where}: empty array where the example has {len(example)} element(s)")
        for a_item, e_item in zip(actual, example, strict=False):
            out += shape_mismatches(a_item, e_item, excluded, f"{path}[]")
    return out


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def response_body(name: str, status: str | None = None) -> dict[str, Any]:
    responses = example(name)["responses"]
    return responses[status or next(iter(responses))]["body"]


# Differences the sandbox still has, found by these tests and reported to its owner. They are tolerated (and
# listed as warnings in the pytest summary) so the suite stays green; any OTHER difference fails.
KNOWN_GAPS: dict[str, dict[str, str]] = {
    "GalleryImageVersion": {
        "properties.publishingProfile.storageAccountType": "the service fills in the default Standard_LRS",
        "properties.storageProfile.osDiskImage": "the service derives sizeInGB, hostCaching from the source",
    },
    "HostPool": {
        "properties.cloudPcResource": "the service always returns false for AVD pools",
    },
    "ImageTemplate": {
        "properties.customize[].runAsSystem": "the service fills PowerShell defaults runAsSystem/runElevated",
    },
    "SessionHost": {
        "properties.sessionHostHealthCheckResults": "a seeded host has none (a registered one reports them)",
    },
    "VM": {
        "properties.networkProfile.networkInterfaces": "Compute lists the NICs made from the configurations",
        "properties.osProfile.secrets": "the service returns [] when none were given",
        "properties.osProfile.windowsConfiguration": "the service fills Windows defaults (provisionVMAgent)",
        "properties.storageProfile.osDisk.osType": "the service takes osType from the image",
        "properties.storageProfile.dataDisks": "the service returns [] when none were given",
    },
}


def assert_same_shape(actual: dict, name: str, kind: str, status: str | None = None, excluded=()) -> None:
    excluded = set(EXCLUDED["*"]) | set(EXCLUDED.get(kind, {})) | set(excluded)
    problems = shape_mismatches(actual, response_body(name, status), excluded)
    gaps = KNOWN_GAPS.get(kind, {})
    known = [p for p in problems if p.split(":")[0].removesuffix("[]") in gaps]
    for problem in known:
        warnings.warn(f"sandbox fidelity gap ({name}): {problem}", stacklevel=2)
    unexpected = [p for p in problems if p not in known]
    assert not unexpected, f"{name}: sandbox response differs in shape:\n  " + "\n  ".join(unexpected)


def test_comparator_accepts_supersets_and_reports_missing_keys_and_type_changes():
    ex = {"id": "x", "properties": {"n": 1, "ok": True, "list": [{"a": "b"}], "opt": None}}
    good = {
        "id": "y",
        "extra": 1,
        "properties": {"n": 2.5, "ok": False, "list": [{"a": "c", "z": 1}], "opt": 3},
    }
    assert shape_mismatches(good, ex) == []
    bad = {"id": 5, "properties": {"ok": "yes", "list": [], "opt": None}}
    assert shape_mismatches(bad, ex) == [
        "id: number where the example has string",
        "properties.n: missing",
        "properties.ok: string where the example has boolean",
        "properties.list: empty array where the example has 1 element(s)",
    ]
    assert shape_mismatches(bad, ex, {"id", "properties.n", "properties.ok", "properties.list"}) == []
    assert shape_mismatches({"a": [{"b": 1}]}, {"a": [{"b": "s"}]}) == [
        "a[].b: number where the example has string"
    ]
    assert shape_mismatches({}, {"nullable": None}) == []
    assert shape_mismatches({"tags": {"mine": "1"}}, {"tags": {"theirs": "2"}}) == []
    assert shape_mismatches({"tags": []}, {"tags": {"theirs": "2"}}) == [
        "tags: array where the example has object"
    ]


# ---------------------------------------------------------------- the estate against the examples (offline)
@pytest.mark.parametrize(
    ("rtype", "name", "kind"),
    [
        ("Microsoft.Compute/galleries", "Gallery_Get", "Gallery"),
        ("Microsoft.Compute/galleries/images", "GalleryImage_Create", "GalleryImage"),
        ("Microsoft.DesktopVirtualization/hostPools", "HostPool_Create", "HostPool"),
        (
            "Microsoft.Compute/virtualMachines",
            "VirtualMachine_Create_WithNetworkInterfaceConfiguration",
            "VM",
        ),
        ("Microsoft.DesktopVirtualization/hostPools/sessionHosts", "SessionHost_Update", "SessionHost"),
        (
            "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions",
            "UserSession_Get",
            "UserSession",
        ),
    ],
)
def test_generated_estate_resources_have_the_published_shape(rtype, name, kind):
    resource = next(
        r for r in generate("small", None, datetime(2026, 11, 29, tzinfo=UTC)) if r["type"] == rtype
    )
    extra = {
        # The estate's pools are pooled and unassigned; a personal pool's assignedUser would be a string.
        "SessionHost": {"properties.assignedUser", "properties.friendlyName"},
        # No registration token was requested yet (expirationTime null); agentUpdate type Default has no
        # maintenance windows; personalDesktopAssignmentType is null on a Pooled pool.
        "HostPool": {
            "properties.registrationInfo.expirationTime",
            "properties.agentUpdate.maintenanceWindowTimeZone",
            "properties.agentUpdate.maintenanceWindows",
            "properties.personalDesktopAssignmentType",
        },
    }.get(kind, set())
    excluded = set(EXCLUDED["*"]) | set(EXCLUDED.get(kind, {})) | extra
    assert shape_mismatches(resource, response_body(name), excluded) == []


def test_generated_image_version_has_the_published_shape():
    version = next(
        r
        for r in generate("small", None, datetime(2026, 11, 29, tzinfo=UTC))
        if r["type"] == "Microsoft.Compute/galleries/images/versions"
    )
    body = response_body("GalleryImageVersion_Get_WithReplicationStatus")
    # replicationStatus is computed by the sandbox on $expand, not stored.
    assert shape_mismatches(version, body, {"properties.replicationStatus"}) == []


# ------------------------------------------------------------- the sandbox against the examples (over HTTPS)
# `sb` and `clients` come from tests/conftest.py: one session sandbox, reset before each test, and the real
# compute / imagebuilder / desktopvirtualization clients signed in with ClientSecretCredential.


def request_body(name: str, key: str) -> dict[str, Any]:
    return example(name)["parameters"][key]


def rewrite_ids(body: Any, sub: str) -> Any:
    """Point the example's placeholder ids at this sandbox's subscription and resource group."""
    text = json.dumps(body)
    for placeholder in ("{subscription-id}", "{subscriptionId}", "00000000-0000-0000-0000-000000000000"):
        text = text.replace(placeholder, sub)
    return json.loads(
        text.replace("{resourceGroup}", RG).replace("myResourceGroup", RG).replace("/rg1/", f"/{RG}/")
    )


def create_gallery_and_definition(compute) -> None:
    compute.galleries.begin_create_or_update(RG, "galfidelity", {"location": LOCATION}).result()
    image = request_body("GalleryImage_Create", "galleryImage") | {"location": LOCATION}
    compute.gallery_images.begin_create_or_update(RG, "galfidelity", "imgfidelity", image).result()


def create_managed_image(compute, sub: str) -> str:
    """A managed image (Microsoft.Compute/images) to be a version's or a template's source."""
    image_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/images/img-source"
    os_disk = {
        "osType": "Windows",
        "osState": "Generalized",
        "storageAccountType": "Standard_LRS",
        "blobUri": "https://example.blob.core.windows.net/vhds/base.vhd",
    }
    body = {
        "location": LOCATION,
        "properties": {"hyperVGeneration": "V1", "storageProfile": {"osDisk": os_disk}},
    }
    compute.send_request(
        HttpRequest("PUT", f"{image_id}?api-version=2024-03-01", json=body)
    ).raise_for_status()
    return image_id


def test_gallery_create_and_get(clients):
    compute = clients.compute
    body = request_body("Gallery_Create", "gallery") | {"location": LOCATION}
    created = compute.galleries.begin_create_or_update(RG, "galfidelity", body, polling=False, **RAW).result()
    assert_same_shape(created, "Gallery_Create", "Gallery")
    assert created["properties"]["provisioningState"] == "Creating"
    compute.galleries.begin_create_or_update(RG, "galfidelity", body).result()
    got = compute.galleries.get(RG, "galfidelity", **RAW)
    assert_same_shape(got, "Gallery_Get", "Gallery")
    assert got["properties"]["provisioningState"] == "Succeeded"


def test_gallery_image_create(clients):
    compute = clients.compute
    compute.galleries.begin_create_or_update(RG, "galfidelity", {"location": LOCATION}).result()
    body = request_body("GalleryImage_Create", "galleryImage") | {"location": LOCATION}
    result = compute.gallery_images.begin_create_or_update(
        RG, "galfidelity", "imgfidelity", body, **RAW
    ).result()
    assert_same_shape(result, "GalleryImage_Create", "GalleryImage")
    assert result["properties"]["provisioningState"] == "Succeeded"


def test_gallery_image_version_create_and_get_with_replication_status(clients):
    compute = clients.compute
    create_gallery_and_definition(compute)
    body = rewrite_ids(request_body("GalleryImageVersion_Create", "galleryImageVersion"), clients.sub)
    body["location"] = LOCATION
    body["properties"]["storageProfile"]["source"]["id"] = create_managed_image(compute, clients.sub)
    regions = body["properties"]["publishingProfile"]["targetRegions"]
    for region, name in zip(regions, ("West Europe", "North Europe"), strict=True):
        region["name"] = name
    versions = compute.gallery_image_versions
    initial = versions.begin_create_or_update(
        RG, "galfidelity", "imgfidelity", "1.0.0", body, polling=False, **RAW
    ).result()
    assert_same_shape(initial, "GalleryImageVersion_Create", "GalleryImageVersion")
    assert initial["properties"]["provisioningState"] == "Creating"
    # A second PUT while the create runs is refused (409), as in Azure: wait for the create instead.
    for _ in range(1000):
        got = versions.get(RG, "galfidelity", "imgfidelity", "1.0.0", expand="ReplicationStatus", **RAW)
        if got["properties"]["provisioningState"] != "Creating":
            break
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert_same_shape(got, "GalleryImageVersion_Get_WithReplicationStatus", "GalleryImageVersion")
    assert got["properties"]["replicationStatus"]["aggregatedState"] == "Completed"
    assert {s["state"] for s in got["properties"]["replicationStatus"]["summary"]} == {"Completed"}
    plain = versions.get(RG, "galfidelity", "imgfidelity", "1.0.0", **RAW)
    assert "replicationStatus" not in plain["properties"]  # only with $expand


def test_virtual_machine_create_from_a_gallery_version(clients):
    make_gallery(clients)
    version = make_version(clients)
    body = rewrite_ids(
        request_body("VirtualMachine_Create_WithNetworkInterfaceConfiguration", "parameters"), clients.sub
    )
    body["location"] = LOCATION
    body["properties"]["storageProfile"]["imageReference"] = {"id": version.id}
    # The example's IP configuration names no subnet; Azure (and the sandbox) need an existing one.
    nic = body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]
    nic["properties"]["ipConfigurations"][0]["properties"]["subnet"] = {"id": landing_subnet(clients.sub)}
    initial = clients.compute.virtual_machines.begin_create_or_update(
        RG, "myVM", body, polling=False, **RAW
    ).result()
    assert_same_shape(initial, "VirtualMachine_Create_WithNetworkInterfaceConfiguration", "VM")
    assert initial["properties"]["provisioningState"] == "Creating"
    assert "adminPassword" not in initial["properties"]["osProfile"]  # write-only


def test_host_pool_create(sb, clients):
    body = request_body("HostPool_Create", "hostPool")
    # Sandbox time, not wall time: the session sandbox runs 100,000 times faster than the wall clock, so ask for
    # close to Azure's 30-day maximum; 25 days leave about 20 s of real time before the expiry is in the past.
    body["properties"]["registrationInfo"]["expirationTime"] = (sb.now() + timedelta(days=25)).isoformat()
    # Through the SDK's model, so the request is what the SDK sends; the raw response comes back.
    result = clients.avd.host_pools.create_or_update(RG, "hpfidelity", HostPool.deserialize(body), **RAW)
    assert_same_shape(result, "HostPool_Create", "HostPool")
    assert not result["properties"]["registrationInfo"].get("token")


# A pooled host has no assigned user; friendlyName is only there once someone sets it.
POOLED_HOST = {"properties.assignedUser", "properties.friendlyName"}


@pytest.fixture
def seeded_host(sb, clients):
    """A session host with user sessions, seeded in the shape the estate generator produces."""
    sb.configure(session_mean_seconds=0)  # keep the seeded users signed in (time runs 100,000x here)
    resources = [
        r for r in generate("small", [clients.sub], sb.now()) if r["id"].split("/")[2] == clients.sub
    ]
    sb.seed(resources)
    host = next(
        r for r in resources if r["type"].endswith("/sessionHosts") and r["properties"]["sessions"] > 0
    )
    parts = host["id"].split("/")
    return {"rg": parts[4], "pool": parts[8], "host": parts[10]}


def test_session_host_update(clients, seeded_host):
    h = seeded_host
    patch = SessionHostPatch(allow_new_session=False)
    result = clients.avd.session_hosts.update(h["rg"], h["pool"], h["host"], session_host=patch, **RAW)
    assert_same_shape(result, "SessionHost_Update", "SessionHost", excluded=POOLED_HOST)
    assert result["properties"]["allowNewSession"] is False


def test_registered_session_host_get(sb, clients):
    """A session host the sandbox made itself: a VM, the AVD DSC extension with a token, registration."""
    make_gallery(clients)
    version = make_version(clients)
    avd, compute = clients.avd, clients.compute
    avd.host_pools.create_or_update(RG, "hp1", host_pool_body())
    avd.host_pools.update(RG, "hp1", registration_patch(sb))
    token = avd.host_pools.retrieve_registration_token(RG, "hp1").token
    compute.virtual_machines.begin_create_or_update(RG, "vm1", vm_body(version.id)).result()
    compute.virtual_machine_extensions.begin_create_or_update(
        RG, "vm1", "avd", dsc_extension("hp1", token)
    ).result()
    sb.advance(3600)
    host = next(iter(avd.session_hosts.list(RG, "hp1")))
    result = avd.session_hosts.get(RG, "hp1", host.name.split("/")[-1], **RAW)
    assert_same_shape(result, "SessionHost_Update", "SessionHost", excluded=POOLED_HOST)
    assert result["properties"]["status"] == "Available"
    checks = result["properties"]["sessionHostHealthCheckResults"]  # reported 180 s after registering
    assert {c["healthCheckResult"] for c in checks} == {"HealthCheckSucceeded"} and len(checks) == 11


def test_user_session_get(clients, seeded_host):
    h = seeded_host
    avd = clients.avd
    first = next(iter(avd.user_sessions.list(h["rg"], h["pool"], h["host"])))
    result = avd.user_sessions.get(h["rg"], h["pool"], h["host"], first.name.split("/")[-1], **RAW)
    assert_same_shape(result, "UserSession_Get", "UserSession")


def image_template_body(clients) -> dict[str, Any]:
    body = rewrite_ids(request_body("CreateImageTemplateWindows", "parameters"), clients.sub)
    body["location"] = LOCATION
    body["properties"]["source"]["imageId"] = create_managed_image(clients.compute, clients.sub)
    body["properties"]["distribute"][0]["location"] = LOCATION
    return body


def test_image_template_create(clients):
    templates = clients.aib.virtual_machine_image_templates
    body = image_template_body(clients)
    initial = templates.begin_create_or_update(RG, "itfidelity", body, polling=False, **RAW).result()
    assert_same_shape(initial, "CreateImageTemplateWindows", "ImageTemplate")
    assert initial["properties"]["provisioningState"] == "Creating"


def test_image_template_run_output(clients):
    """The reconciler's case: distribute to a gallery version (SharedImage), run, read the run output."""
    create_gallery_and_definition(clients.compute)
    templates = clients.aib.virtual_machine_image_templates
    body = image_template_body(clients)
    definition = clients.compute.gallery_images.get(RG, "galfidelity", "imgfidelity")
    body["properties"]["distribute"] = [
        {
            "type": "SharedImage",
            "galleryImageId": f"{definition.id}/versions/1.0.0",
            "runOutputName": "image_it_pir_1",
            "targetRegions": [{"name": LOCATION, "replicaCount": 1}],
        }
    ]
    templates.begin_create_or_update(RG, "itfidelity", body).result()
    templates.begin_run(RG, "itfidelity").result()
    output = templates.get_run_output(RG, "itfidelity", "image_it_pir_1", **RAW)
    assert_same_shape(output, "GetRunOutput", "RunOutput")
    assert output["properties"]["provisioningState"] == "Succeeded"
    assert output["properties"]["artifactId"].lower() == f"{definition.id}/versions/1.0.0".lower()


# ---- Refusals: status, code, headers and body shape of what ARM refuses at its front door, against the
# shapes recorded with their public sources in tests/fixtures/api_versions.json.

FRONT_DOOR = json.loads((EXAMPLES.parent / "api_versions.json").read_text())


def assert_refusal(status: int, headers, body: dict, code: str) -> None:
    refusal = FRONT_DOOR["refusals"][code]
    assert status == refusal["status"]
    assert not shape_mismatches(body, refusal["body"]), body
    assert body["error"]["code"] == code
    assert re.match(refusal["message_pattern"], body["error"]["message"]), body["error"]["message"]
    assert "Retry-After" not in headers  # azure-core would retry a refusal carrying it
    if "www_authenticate_pattern" in refusal:
        assert re.match(refusal["www_authenticate_pattern"], headers["WWW-Authenticate"]), headers


def test_sandbox_and_fixture_list_the_same_api_versions():
    from reconciler.sandbox.api_versions import FAMILIES

    assert {name: list(v) for name, v in FAMILIES.items()} == {
        name: family["versions"] for name, family in FRONT_DOOR["families"].items()
    }


def test_refusal_of_an_unpublished_api_version_through_the_sdk(clients):
    create_gallery_and_definition(clients.compute)
    with pytest.raises(HttpResponseError) as info:
        clients.compute.galleries.get(RG, "galfidelity", api_version="2099-01-01")
    response = info.value.response
    assert info.value.error.code == "NoRegisteredProviderFound"
    assert_refusal(response.status_code, response.headers, response.json(), "NoRegisteredProviderFound")


def test_refusal_of_an_unpublished_resource_groups_api_version(clients):
    path = f"/subscriptions/{clients.sub}/resourcegroups"
    response = clients.compute.send_request(HttpRequest("GET", path, params={"api-version": "2023-02-01"}))
    assert_refusal(response.status_code, response.headers, response.json(), "InvalidApiVersionParameter")


@pytest.mark.parametrize(
    "case", ["InvalidAuthenticationToken", "InvalidAuthenticationTokenAudience", "ExpiredAuthenticationToken"]
)
def test_refusal_of_a_bad_bearer_token(sb, case):
    if case == "InvalidAuthenticationToken":
        header, payload, _ = access_token(sb).split(".")
        token = f"{header}.{payload}.forged"
    elif case == "InvalidAuthenticationTokenAudience":
        token = credential_for(sb).get_token("https://graph.microsoft.com/.default").token
    else:
        claims = {"aud": "https://management.azure.com/", "appid": sb.client_id}
        token, _ = sb.app.tokens.issue(claims, -3600, 1.0, sb.clock.now_ts())
    r = requests.get(
        f"{sb.endpoint}/subscriptions/{sb.subscription_ids[0]}/resourcegroups?api-version=2025-04-01",
        headers={"Authorization": f"Bearer {token}"},
        verify=sb.ca_bundle,
        timeout=10,
    )
    assert_refusal(r.status_code, r.headers, r.json(), case)
