"""A gallery version's source must exist when the version is created, and so must an Image Builder template's:
the strict default refuses a missing one (404 ResourceNotFound for Compute, 400 BadManagedImageSource /
BadSharedImageVersionSource for Image Builder; sources in tests/fixtures/refusals.json) and creates nothing;
`--set lenient_version_sources=true` accepts it. Real SDK clients against the session sandbox."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from .helpers import make_gallery, make_version, version_body
from .test_imagebuilder import template


def rid(c, tail: str) -> str:
    return f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/{tail}"


def put_version(c, body, name="2.0.0"):
    return c.compute.gallery_image_versions.begin_create_or_update(c.rg, "gal", "img", name, body).result()


def refused(call) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value


def with_source(source: dict) -> dict:
    body = version_body()
    body["properties"]["storageProfile"] = source
    return body


MISSING_SOURCES = {
    "managed-image": ("source", "id", "Microsoft.Compute/images/gone"),
    "vm": ("source", "virtualMachineId", "Microsoft.Compute/virtualMachines/gone"),
    "gallery-version": ("source", "id", "Microsoft.Compute/galleries/gal/images/img/versions/9.9.9"),
    "os-disk-snapshot": ("osDiskImage", "id", "Microsoft.Compute/snapshots/gone"),
}


@pytest.mark.parametrize("kind", sorted(MISSING_SOURCES))
def test_a_version_from_a_source_that_does_not_exist_is_refused_and_not_created(sb, clients, kind):
    make_gallery(clients)
    where, key, tail = MISSING_SOURCES[kind]
    ref = {key: rid(clients, tail)}
    storage = {"source": ref} if where == "source" else {where: {"source": ref}}
    err = refused(lambda: put_version(clients, with_source(storage)))
    assert (err.status_code, err.error.code) == (404, "ResourceNotFound")
    assert err.error.message == f"The Resource '{tail}' under resource group '{clients.rg}' was not found."
    versions = clients.compute.gallery_image_versions.list_by_gallery_image(clients.rg, "gal", "img")
    assert [v.name for v in versions] == []


def test_a_version_from_an_existing_image_or_version_is_created(sb, clients):
    make_gallery(clients)  # makes the managed image `base` the default body names
    first = make_version(clients, "1.0.0")
    assert first.provisioning_state == "Succeeded"
    second = put_version(clients, version_body(source=first.id))
    assert second.storage_profile.source.id.lower() == first.id.lower()


def test_a_version_keeps_working_after_its_source_is_deleted(sb, clients):
    """Only the create reads the source: Azure keeps the version (and lets it be updated) once it exists."""
    make_gallery(clients)
    make_version(clients, "1.0.0")
    clients.compute.images.begin_delete(clients.rg, "base").result()
    versions = clients.compute.gallery_image_versions
    updated = versions.begin_update(clients.rg, "gal", "img", "1.0.0", {"tags": {"k": "v"}}).result()
    assert updated.tags == {"k": "v"}


def test_the_lenient_switch_accepts_a_missing_source(sb, clients):
    make_gallery(clients)
    sb.configure(lenient_version_sources=True)
    made = put_version(clients, version_body(source=rid(clients, "Microsoft.Compute/images/gone")))
    assert made.provisioning_state == "Succeeded"


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ({"type": "ManagedImage", "imageId": "{images}/gone"}, "BadManagedImageSource"),
        ({"type": "SharedImageVersion", "imageVersionId": "{versions}/9.9.9"}, "BadSharedImageVersionSource"),
        (
            {"type": "SharedImageVersion", "imageVersionId": "{other}/versions/latest"},
            "BadSharedImageVersionSource",
        ),
    ],
    ids=["managed-image", "exact-version", "latest-of-a-missing-definition"],
)
def test_a_template_from_a_source_that_does_not_exist_is_refused(sb, clients, source, code):
    make_gallery(clients)
    body = template(clients)
    body["properties"]["source"] = {
        k: v.replace("{images}", rid(clients, "Microsoft.Compute/images"))
        .replace("{versions}", rid(clients, "Microsoft.Compute/galleries/gal/images/img/versions"))
        .replace("{other}", rid(clients, "Microsoft.Compute/galleries/gal/images/other"))
        for k, v in source.items()
    }
    templates = clients.aib.virtual_machine_image_templates
    err = refused(lambda: templates.begin_create_or_update(clients.rg, "tpl", body).result())
    assert (err.status_code, err.error.code, err.error.target) == (400, code, "properties.source")
    assert list(templates.list_by_resource_group(clients.rg)) == []


def test_a_template_from_the_latest_version_of_an_existing_definition_is_accepted(sb, clients):
    """`latest` is resolved when the build runs; at the PUT only its definition has to exist."""
    make_gallery(clients)
    body = template(clients)
    latest = rid(clients, "Microsoft.Compute/galleries/gal/images/img/versions/latest")
    body["properties"]["source"] = {"type": "SharedImageVersion", "imageVersionId": latest}
    templates = clients.aib.virtual_machine_image_templates
    assert (
        templates.begin_create_or_update(clients.rg, "tpl", body).result().provisioning_state == "Succeeded"
    )
