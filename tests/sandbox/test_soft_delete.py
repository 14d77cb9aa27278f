"""Soft delete of gallery image versions: on only when the gallery says so; a deleted version is not listed,
GET answers 404, its name is refused until it is purged or its retention ends, and its definition cannot be
deleted meanwhile. Real SDK clients; sources in tests/fixtures/soft_delete.md."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .helpers import gallery_body, make_gallery, make_version, version_body

DAY = 86400


@pytest.fixture
def soft_gallery(clients):
    make_gallery(clients)
    body = gallery_body()
    body["properties"]["softDeletePolicy"] = {"isSoftDeleteEnabled": True}
    clients.compute.galleries.begin_create_or_update(clients.rg, "gal", body).result()
    make_version(clients, "1.0.0")
    return clients.compute.gallery_image_versions


def recreate(clients, name="1.0.0"):
    return clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", name, version_body(), polling=False
    )


def names(versions, clients) -> list[str]:
    return [v.name for v in versions.list_by_gallery_image(clients.rg, "gal", "img")]


def test_a_soft_deleted_version_is_not_listed_and_get_is_404(sb, clients, soft_gallery):
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0").result()
    assert names(soft_gallery, clients) == []
    with pytest.raises(ResourceNotFoundError) as caught:
        soft_gallery.get(clients.rg, "gal", "img", "1.0.0")
    assert caught.value.error.code == "ResourceNotFound"


def test_reusing_a_soft_deleted_name_is_409_naming_the_version_and_why(sb, clients, soft_gallery):
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0").result()
    with pytest.raises(HttpResponseError) as caught:
        recreate(clients)
    err = caught.value
    assert err.status_code == 409
    assert err.error.code == "GalleryImageVersionSoftDeleted"
    assert "'1.0.0'" in err.error.message and "soft-deleted" in err.error.message
    assert "Retry-After" not in err.response.headers
    recreate(clients, "1.0.1").result()  # another name is fine
    assert names(soft_gallery, clients) == ["1.0.1"]


def test_the_name_is_free_again_once_the_retention_period_ends(sb, clients, soft_gallery):
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0").result()
    sb.set_time_scale(0)
    sb.advance(6 * DAY)  # the default retention is 7 days (the session clock ran a few minutes meanwhile)
    with pytest.raises(HttpResponseError):
        recreate(clients)
    sb.advance(DAY + 3600)
    recreate(clients)
    sb.advance(1801)
    assert soft_gallery.get(clients.rg, "gal", "img", "1.0.0").properties.provisioning_state == "Succeeded"


def test_bypass_soft_delete_deletes_for_good(sb, clients, soft_gallery):
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0", bypass_soft_delete=True).result()
    recreate(clients).result()
    assert names(soft_gallery, clients) == ["1.0.0"]


def test_a_delete_with_bypass_purges_a_soft_deleted_version(sb, clients, soft_gallery):
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0").result()
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0", bypass_soft_delete=True).result()
    recreate(clients).result()
    assert names(soft_gallery, clients) == ["1.0.0"]


def test_a_definition_holding_soft_deleted_versions_cannot_be_deleted(sb, clients, soft_gallery):
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0").result()
    with pytest.raises(HttpResponseError) as caught:
        clients.compute.gallery_images.begin_delete(clients.rg, "gal", "img").result()
    assert caught.value.status_code == 409
    assert caught.value.error.code == "CannotDeleteResource"
    assert "soft-deleted" in caught.value.error.message
    soft_gallery.begin_delete(clients.rg, "gal", "img", "1.0.0", bypass_soft_delete=True).result()
    clients.compute.gallery_images.begin_delete(clients.rg, "gal", "img").result()


def test_without_the_gallery_policy_a_delete_is_final_and_the_name_reusable(sb, clients):
    make_gallery(clients)
    make_version(clients, "1.0.0")
    versions = clients.compute.gallery_image_versions
    versions.begin_delete(clients.rg, "gal", "img", "1.0.0").result()
    recreate(clients).result()
    assert names(versions, clients) == ["1.0.0"]
