"""GalleryImageNotFound read lag: a VM create right after its region completed replication is refused for a while.

Azure's compute front end sees a new replica some time after the gallery reports the region Completed; until then
a VM create naming the version answers 404 GalleryImageNotFound with the same body as for a region never
replicated to (compute_vm_image.gallery_not_found). Off by default (`gallery_image_read_lag_seconds=0`).
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from support.sandbox import time_scale

from .helpers import make_gallery, version_body, vm_body

VERSION = "/providers/Microsoft.Compute/galleries/gal/images/img/versions/1.0.0"


def start_version(clients) -> str:
    clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", version_body(("westeurope",))
    )
    return f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}{VERSION}"


def test_vm_create_inside_the_lag_is_gallery_image_not_found_then_succeeds(sb, clients):
    sb.configure(replication_seconds=100.0, gallery_image_read_lag_seconds=300.0)
    make_gallery(clients)
    with time_scale(sb, 0) as frozen:
        lagging(frozen, clients)


def lagging(frozen, clients):
    version = start_version(clients)
    frozen.advance(150)  # replicated 50 s ago: inside the lag
    with pytest.raises(ResourceNotFoundError) as err:
        clients.compute.virtual_machines.begin_create_or_update(clients.rg, "vm1", vm_body(version))
    assert err.value.status_code == 404
    assert err.value.error.code == "GalleryImageNotFound"
    assert err.value.error.target == "imageReference"
    frozen.advance(300)  # past the lag: the same create is accepted
    poller = clients.compute.virtual_machines.begin_create_or_update(clients.rg, "vm1", vm_body(version))
    assert poller.status() in ("InProgress", "Succeeded")


def test_no_lag_by_default(sb, clients):
    sb.configure(replication_seconds=100.0)
    make_gallery(clients)
    with time_scale(sb, 0) as frozen:
        version = start_version(clients)
        frozen.advance(101)
        poller = clients.compute.virtual_machines.begin_create_or_update(clients.rg, "vm1", vm_body(version))
        assert poller.status() in ("InProgress", "Succeeded")
