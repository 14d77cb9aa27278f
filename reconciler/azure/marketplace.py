"""Marketplace image versions for the builds whose platform source is `version: latest`.

One `virtual_machine_images.list` per distinct location/publisher/offer/sku (the API has no paging: one call
returns every version). A SKU that does not exist in the region (404) observes as no versions, so the plan
says nothing is due rather than failing the whole observation.
"""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError

from reconciler.model.marketplace import MarketplaceSku, MarketplaceVersions


class MarketplaceError(RuntimeError):
    """A marketplace list failed after azure-core's retries; names the SKU and region."""


def list_versions(connection, sku: MarketplaceSku) -> MarketplaceVersions:
    images = connection.compute(sku.subscription_id).virtual_machine_images
    try:
        listed = images.list(sku.location, sku.publisher, sku.offer, sku.sku)
    except HttpResponseError as exc:
        if exc.status_code == 404:
            return MarketplaceVersions(sku)
        raise MarketplaceError(
            f"listing marketplace versions of {sku.label} in {sku.location} failed: "
            f"{exc.status_code} {exc.reason}: {exc.message}"
        ) from exc
    return MarketplaceVersions.of(sku, (item.name for item in listed or ()))
