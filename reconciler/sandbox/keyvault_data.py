"""Key Vault's data plane for secrets: `GET https://{vault}.vault.azure.net/secrets/{name}[/{version}]`.

Requests reach the sandbox's one HTTPS server with the vault's own name in the Host header (the reconciler's
`RECONCILE_KEYVAULT_ENDPOINT`, like curl's --resolve, sends them to the sandbox's address and keeps the
vault's host), so the path is the service's own. Only the secret read is served: the management plane
(`providers/landing.py`) creates vaults and secrets, and keeps each secret's value private to the sandbox.

What Azure answers, and so does this (Key Vault REST reference, "Get Secret"; error codes from
https://learn.microsoft.com/azure/key-vault/general/rest-error-codes):
- no bearer token: 401 `Unauthorized` "AKV10000: Request is missing a Bearer or PoP token." with the
  challenge naming the authority and the resource https://vault.azure.net;
- a token for another audience (ARM's): 401 `Unauthorized` AKV10022;
- an api-version the service does not have: 400 `BadParameter`;
- a vault that does not exist: Azure's DNS has no such name, so the client cannot connect; the sandbox
  answers 404 `VaultNotFound` (there is no request to fail at DNS here), which the reader treats the same;
- a caller without `secrets/get` (access policy or role, vault_access.py): 403 `Forbidden` with inner code
  `AccessDenied` or `ForbiddenByRbac`, judged before the secret is looked up (Azure does not tell a caller
  without access whether a secret exists);
- a secret that does not exist: 404 `SecretNotFound`; a disabled one: 403 `Forbidden` / `SecretDisabled`.
Refusals that carry an inner code send it as Key Vault does: `{"error": {code, message, innererror: {code}}}`.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ArmError
from .routing import Request, Response
from .store import private
from .vault_access import denial

VAULT_HOST = re.compile(r"^([a-z0-9-]{3,24})\.vault\.azure\.net(?::\d+)?$", re.IGNORECASE)
# The data plane's own versions (the SDKs' `api_version` choices); 7.5 is what the reconciler sends.
API_VERSIONS = ("2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6")
# The version a BadParameter answer recommends: the one the reconciler sends, not the newest one accepted.
LATEST_SUPPORTED = "7.5"
AUDIENCE = "https://vault.azure.net/"
VAULT_TYPE = "microsoft.keyvault/vaults"


class KeyVaultError(ArmError):
    """A data-plane refusal with Key Vault's inner error code (the sandbox's ARM errors carry none)."""

    def __init__(self, status: int, code: str, message: str, inner: str) -> None:
        super().__init__(status, code, message)
        self.inner = inner

    def body(self) -> dict:
        body = super().body()
        body["error"]["innererror"] = {"code": self.inner}
        return body


def vault_of(req: Request) -> str | None:
    """The vault a request is for (its Host header), or None for an ARM request."""
    match = VAULT_HOST.match(req.headers.get("host", ""))
    return match.group(1).lower() if match else None


def handle(app: Any, req: Request, vault: str) -> Response:
    challenge = {
        "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{app.config.tenant_id}", '
        'resource="https://vault.azure.net"'
    }
    auth = req.headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") or not auth[7:].strip():
        raise ArmError(
            401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", headers=challenge
        )
    try:
        claims = app.tokens.validate(
            auth[7:].strip(), app.clock.now_ts(), challenge["WWW-Authenticate"], (AUDIENCE,)
        )
    except ArmError as exc:
        message = (
            "AKV10022: Invalid audience." if exc.code.endswith("Audience") else f"AKV10032: {exc.message}"
        )
        raise ArmError(401, "Unauthorized", message, headers=challenge) from None
    if req.api_version not in API_VERSIONS:
        raise ArmError(
            400,
            "BadParameter",
            f"The specified version ({req.api_version}) is not recognized. Consider using the latest supported "
            f"version ({LATEST_SUPPORTED}).",
        )
    segs = req.segments
    if req.method != "GET" or len(segs) not in (2, 3) or segs[0].lower() != "secrets":
        raise ArmError(405, "MethodNotAllowed", "The sandbox's Key Vault serves GET /secrets/{name} only.")
    with app.lock:
        app.settle()
        return _read(app, claims, vault, segs[1], segs[2] if len(segs) == 3 else None)


def _read(app: Any, claims: dict[str, Any], vault: str, name: str, version: str | None) -> Response:
    found = app.types[VAULT_TYPE].same_name(vault, "")
    if found is None:
        raise ArmError(404, "VaultNotFound", f"The vault {vault} does not exist (its name does not resolve).")
    refused = denial(app.store, found, claims, name)
    if refused is not None:
        raise KeyVaultError(403, "Forbidden", refused[1], refused[0])
    secret = app.store.get(f"{found['id']}/secrets/{name}")
    sb = private(secret) if secret is not None else {}
    if secret is None or (version is not None and version.lower() != sb.get("version")):
        raise ArmError(
            404,
            "SecretNotFound",
            f"A secret with (name/id) {name}{'/' + version if version else ''} was not found in this key vault. "
            "If you recently deleted this secret you may be able to recover it using the correct recovery "
            "command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
        )
    attributes = dict((secret.get("properties") or {}).get("attributes") or {})
    if attributes.get("enabled") is False:
        raise KeyVaultError(
            403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled"
        )
    attributes.setdefault("recoveryLevel", "Recoverable+Purgeable")
    return Response(
        200,
        {
            "value": sb["value"],
            "id": f"https://{found['name'].lower()}.vault.azure.net/secrets/{secret['name']}/{sb['version']}",
            "attributes": attributes,
            "tags": dict(secret.get("tags") or {}),
        },
    )
