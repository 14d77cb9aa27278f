"""Microsoft.Compute disks, managed images and snapshots, Microsoft.Network NICs, and the platform image catalog.

Disks and NICs are created by VMs (and left behind as orphans when their deleteOption is Detach). Managed images
and snapshots exist so a gallery version has a source. The platform catalog publishes a new version of every
publisher/offer/sku every `platform_release_days` sandbox days, like Microsoft's monthly patch images.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import ArmError
from ..routing import ArmPath, Request, Response, norm_region
from .base import ResourceType

CATALOG_EPOCH = datetime(2024, 1, 9, tzinfo=UTC).timestamp()  # a Patch Tuesday


class Disks(ResourceType):
    type_name = "Microsoft.Compute/disks"
    create_status = 202

    def build(self, req, rid, body, existing):
        res = super().build(req, rid, body, existing)
        res["properties"].setdefault("diskState", "Unattached")
        return res


class Snapshots(ResourceType):
    type_name = "Microsoft.Compute/snapshots"
    create_status = 202


class ManagedImages(ResourceType):
    type_name = "Microsoft.Compute/images"


class NetworkInterfaces(ResourceType):
    type_name = "Microsoft.Network/networkInterfaces"


def catalog_versions(app: Any) -> list[tuple[str, float]]:
    days = max(app.config.platform_release_days, 1.0)
    now = app.clock.now_ts()
    out = []
    k = 0
    while CATALOG_EPOCH + k * days * 86400 <= now:
        ts = CATALOG_EPOCH + k * days * 86400
        out.append((f"26100.{1000 + k}.{datetime.fromtimestamp(ts, UTC).strftime('%y%m%d')}", ts))
        k += 1
    return out


def catalog(app: Any):
    def handle(req: Request, p: ArmPath) -> Response:
        rest = p.rest
        low = [r.lower() for r in rest]
        loc = norm_region(rest[1])
        base = f"/Subscriptions/{p.sub}/Providers/Microsoft.Compute/Locations/{loc}"
        if len(rest) == 11 and low[4] == "artifacttypes" and low[10] == "versions":
            prefix = (
                base
                + f"/Publishers/{rest[3]}/ArtifactTypes/VMImage/Offers/{rest[7]}/Skus/{rest[9]}/Versions/"
            )
            items = [{"location": loc, "name": v, "id": prefix + v} for v, _ in catalog_versions(app)]
            return Response(200, items)
        if len(rest) == 12 and low[10] == "versions":
            versions = dict(catalog_versions(app))
            if rest[11] not in versions:
                raise ArmError(404, "NotFound", f"Artifact: VMImage was not found: {rest[11]}.")
            return Response(
                200,
                {
                    "location": loc,
                    "name": rest[11],
                    "id": base
                    + f"/Publishers/{rest[3]}/ArtifactTypes/VMImage/Offers/{rest[7]}/Skus/{rest[9]}/Versions/{rest[11]}",
                    "properties": {
                        "hyperVGeneration": "V2",
                        "architecture": "x64",
                        "osDiskImage": {"operatingSystem": "Windows", "sizeInGb": 127},
                        "dataDiskImages": [],
                    },
                },
            )
        if len(rest) == 9 and low[8] == "skus":
            return Response(
                200,
                [
                    {
                        "location": loc,
                        "name": n,
                        "id": f"{base}/Publishers/{rest[3]}/ArtifactTypes/VMImage/Offers/{rest[7]}/Skus/{n}",
                    }
                    for n in ("win11-24h2-avd", "win11-24h2-ent")
                ],
            )
        raise ArmError(404, "NotFound", f"No route for {req.method} {req.path}.")

    return handle


def latest_platform_version(app: Any) -> str:
    versions = catalog_versions(app)
    return versions[-1][0] if versions else "26100.1000.240109"


def install(app: Any) -> None:
    for cls in (Disks, Snapshots, ManagedImages, NetworkInterfaces):
        app.register(cls(app))
    app.subpaths["microsoft.compute/locations/publishers"] = catalog(app)
