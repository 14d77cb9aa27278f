"""Read a Key Vault secret's value by its URI (`https://{vault}.vault.azure.net/secrets/{name}[/{version}]`).

Only acceptance tests need this: a run command's protectedParameters and runAsPassword take values, not Key
Vault references (the domain join's extension reads its password inside Azure, `protectedSettingsFromKeyVault`).
The data plane's `GET {uri}?api-version=7.5` through azure-core's pipeline (bearer token for the vault
audience, the same retry policy and CA bundle as ARM); with `RECONCILE_KEYVAULT_ENDPOINT` set (the sandbox),
the request goes there with the vault's host name in its Host header. Values are returned to the caller only:
never logged, cached or put in an error message (the error names the URI).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from azure.core import PipelineClient
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from azure.core.rest import HttpRequest

from reconciler.azure.connection import Connection

API_VERSION = "7.5"
SCOPE = "https://vault.azure.net/.default"
SECRET_URI = re.compile(
    r"^https://[a-z0-9-]{3,24}\.vault\.[a-z0-9.]+/secrets/[A-Za-z0-9-]{1,127}(/[0-9a-f]{32})?/?$"
)

SecretResolver = Callable[[str], str]
# What a 403's inner code means for the person who must fix it (Key Vault's inner codes: AccessDenied under
# access policies, ForbiddenByRbac under Azure RBAC).
DENIED = {
    "accessdenied": "the reconciler has no secrets 'get' permission in vault {vault}'s access policies",
    "forbiddenbyrbac": (
        "the reconciler has no role with secrets/getSecret on vault {vault}, e.g. Key Vault Secrets User"
    ),
    "secretdisabled": "the secret is disabled",
}


class SecretUnavailable(LookupError):
    """A secret could not be read (no access, absent, or not a secret URI). The message names the URI only."""


class KeyVaultSecrets:
    """`resolve(uri) -> value`; one pipeline per vault host."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._clients: dict[str, PipelineClient] = {}
        self._lock = threading.Lock()

    def _client(self, base: str) -> PipelineClient:
        with self._lock:
            if base not in self._clients:
                kwargs = self.conn.client_kwargs()
                policies = [BearerTokenCredentialPolicy(self.conn.credential, SCOPE)]
                self._clients[base] = PipelineClient(
                    base,
                    per_call_policies=policies,
                    retry_policy=kwargs["retry_policy"],
                    connection_verify=kwargs.get("connection_verify", True),
                )
            return self._clients[base]

    def __call__(self, uri: str) -> str:
        if not SECRET_URI.match(uri or ""):
            raise SecretUnavailable(f"not a Key Vault secret URI: {uri}")
        base, path = uri.split("/secrets/", 1)
        headers = {}
        if self.conn.settings.keyvault_endpoint:
            headers["Host"] = base.split("://", 1)[1]
            base = self.conn.settings.keyvault_endpoint
        request = HttpRequest("GET", f"{base}/secrets/{path}?api-version={API_VERSION}", headers=headers)
        try:
            response = self._client(base).send_request(request)
            response.raise_for_status()
            value = response.json().get("value")
        except (AzureError, ValueError) as exc:
            raise SecretUnavailable(_refusal(uri, getattr(exc, "response", None))) from None
        if not isinstance(value, str):
            raise SecretUnavailable(f"Key Vault secret {uri} has no value")
        return value


def _refusal(uri: str, response) -> str:
    """The URI, the status and, for a 403, which permission is missing: never the body's text (it names the
    caller's ids) and never a value."""
    status = getattr(response, "status_code", None)
    why = ""
    if status == 403:
        try:
            inner = str(((response.json().get("error") or {}).get("innererror") or {}).get("code") or "")
        except (ValueError, AttributeError):
            inner = ""
        vault = uri.split("://", 1)[1].split(".", 1)[0]
        hint = DENIED.get(inner.lower())
        why = f" {inner}: {hint.format(vault=vault)}" if hint else ""
    return f"cannot read Key Vault secret {uri} (HTTP {status}{why})"
