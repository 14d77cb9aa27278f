"""Microsoft.Storage/storageAccounts: the staging account Image Builder makes for a template's logs.

Only what a caller with Contributor needs to read a build log: GET the account (`primaryEndpoints.blob`), list
the accounts of a resource group, and POST `listKeys`. The data plane is a real Blob service given by the
`blob_connection_string` setting (Azurite in the tests and the demo): every staging account's
`primaryEndpoints.blob` points at it, and `listKeys` answers its key, so the SDK's shared-key client works
unchanged. Many ARM accounts share the one emulator account; their blobs never collide because every run
writes under its own `packerlogs/<run guid>/` folder.

The sandbox writes blobs with a shared-key-signed PUT of its own (the Blob REST protocol, a few lines) rather
than the Azure SDK: the sandbox emulates Azure and stays free of the clients it is meant to test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from ..clock import iso
from ..errors import ArmError
from ..routing import Request, Response
from ..store import PRIVATE, public
from .base import ResourceType

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
BLOB_VERSION = "2021-08-06"


def parse_connection_string(text: str) -> dict[str, str]:
    parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
    if not parts.get("AccountName") or not parts.get("AccountKey"):
        raise ValueError("blob_connection_string needs AccountName and AccountKey")
    endpoint = parts.get("BlobEndpoint") or (
        f"{parts.get('DefaultEndpointsProtocol', 'https')}://{parts['AccountName']}.blob."
        f"{parts.get('EndpointSuffix', 'core.windows.net')}"
    )
    return {"account": parts["AccountName"], "key": parts["AccountKey"], "endpoint": endpoint.rstrip("/")}


class BlobWriter:
    """Create a container and put a block blob, signed with the account key (Blob service SharedKey)."""

    def __init__(self, connection_string: str) -> None:
        info = parse_connection_string(connection_string)
        self.account, self.key, self.endpoint = info["account"], info["key"], info["endpoint"]

    def _request(self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]):
        url = urlsplit(self.endpoint)
        full_path = url.path.rstrip("/") + "/" + quote(path)
        headers = {
            "x-ms-date": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "x-ms-version": BLOB_VERSION,
            **headers,
        }
        length = str(len(body)) if body else ""
        canonical_headers = "".join(
            f"{k}:{v}\n"
            for k, v in sorted((k.lower(), v) for k, v in headers.items() if k.startswith("x-ms-"))
        )
        canonical_resource = f"/{self.account}{full_path}" + "".join(
            f"\n{k}:{v}" for k, v in sorted(query.items())
        )
        content_type = headers.get("Content-Type", "")
        to_sign = "\n".join([method, "", "", length, "", content_type, "", "", "", "", "", ""])
        to_sign += "\n" + canonical_headers + canonical_resource
        digest = hmac.new(base64.b64decode(self.key), to_sign.encode(), hashlib.sha256).digest()
        headers["Authorization"] = f"SharedKey {self.account}:{base64.b64encode(digest).decode()}"
        headers["Content-Length"] = str(len(body))
        target = full_path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        conn_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        conn = conn_type(url.netloc, timeout=10)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    def put_text(self, container: str, name: str, text: str) -> None:
        status = self._request("PUT", container, {"restype": "container"}, b"", {})
        if status not in (201, 409):  # 409: the container exists already
            raise OSError(f"creating container {container}: HTTP {status}")
        status = self._request(
            "PUT",
            f"{container}/{name}",
            {},
            text.encode(),
            {"x-ms-blob-type": "BlockBlob", "Content-Type": "text/plain; charset=utf-8"},
        )
        if status != 201:
            raise OSError(f"writing {container}/{name}: HTTP {status}")


class StorageAccounts(ResourceType):
    type_name = STORAGE_TYPE
    actions = {"listkeys": "list_keys"}

    def render(self, req, res):
        out = public(res)
        endpoint = parse_connection_string(self.app.config.blob_connection_string)["endpoint"]
        out["properties"]["primaryEndpoints"] = {"blob": endpoint + "/"}
        return out

    def list_keys(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        if not self.app.config.blob_connection_string:
            raise ArmError(
                409, "StorageAccountUnavailable", "The storage account's data plane is not available."
            )
        key = parse_connection_string(self.app.config.blob_connection_string)["key"]
        created = res["properties"]["creationTime"]
        # key2 is never used by the emulator: a different value, so a caller that picks the wrong one fails.
        key2 = base64.b64encode(hashlib.sha256(("key2" + rid.lower()).encode()).digest() * 2).decode()
        keys = [
            {"keyName": "key1", "value": key, "permissions": "FULL", "creationTime": created},
            {"keyName": "key2", "value": key2, "permissions": "FULL", "creationTime": created},
        ]
        return Response(200, {"keys": keys})


def account_name(rng: Any) -> str:
    """24 lower-case letters and digits, the shape of Image Builder's random staging account names."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(rng.choice(alphabet) for _ in range(24))


def create_account(app: Any, rg_id: str, location: str) -> dict[str, Any]:
    rid = f"{rg_id}/providers/{STORAGE_TYPE}/{account_name(app.rng)}"
    now = app.clock.now_ts()
    res = {
        "id": rid,
        "name": rid.rsplit("/", 1)[1],
        "type": STORAGE_TYPE,
        "location": location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "tags": {"createdby": "azureimagebuilder"},
        "properties": {
            "provisioningState": "Succeeded",
            "creationTime": iso(now),
            "allowSharedKeyAccess": True,
            "supportsHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
        },
        PRIVATE: {},
    }
    app.store.put(res)
    return res


def install(app: Any) -> None:
    app.register(StorageAccounts(app))
