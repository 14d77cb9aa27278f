"""Credential and SDK clients, pointed at Azure or at the sandbox by the same code path.

Nothing here knows about the sandbox: it is just another ARM endpoint with its own authority host and CA.
- credential: `DefaultAzureCredential` (env vars, workload/managed identity, Azure CLI, ...); with a
  non-public authority host it is built with `disable_instance_discovery=True` (AAD instance discovery would
  otherwise call login.microsoftonline.com to validate the authority);
- endpoint: `--arm-endpoint` / RECONCILE_ARM_ENDPOINT (default https://management.azure.com), and the token
  audience RECONCILE_ARM_AUDIENCE for sovereign clouds (default: the SDK's, management.azure.com);
- authority: `--authority-host` / AZURE_AUTHORITY_HOST (azure-identity's own variable);
- CA bundle: `--ca-bundle` / RECONCILE_CA_BUNDLE, used by the credential and by every ARM client.
Retries are azure-core's `RetryPolicy` (bounded: `retry_total`, `retry_backoff_max`, and a Retry-After
ceiling, see `BoundedRetryPolicy`); `MeteringPolicy` counts and paces every attempt.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
)
from azure.core.pipeline.policies import RetryPolicy
from azure.identity import DefaultAzureCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.desktopvirtualization import DesktopVirtualizationMgmtClient
from azure.mgmt.imagebuilder import ImageBuilderClient

from reconciler.azure.metering import CallMeter, MeteringPolicy, PacingSettings

PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
PUBLIC_AUTHORITY_HOSTS = ("https://login.microsoftonline.com", "login.microsoftonline.com")


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to talk to ARM. `from_env` reads the documented variables; flags override them."""

    arm_endpoint: str = PUBLIC_ARM_ENDPOINT
    arm_audience: str | None = None  # token audience; default: the SDK's (https://management.azure.com)
    authority_host: str | None = None
    ca_bundle: str | None = None
    # Where Key Vault data-plane requests go instead of the vault's own host (the sandbox, or a proxy): the
    # request keeps the vault's host name in its Host header, as curl's --resolve does.
    keyvault_endpoint: str | None = None
    retry_total: int = 6
    retry_status: int = 6  # azure-core's default is 3; a throttled subscription deserves the full budget
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is not waited for: the call fails as throttled
    polling_interval: float = 30.0
    pacing: PacingSettings = field(default_factory=PacingSettings)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> ConnectionSettings:
        env = os.environ if env is None else env
        settings = cls(
            arm_endpoint=(env.get("RECONCILE_ARM_ENDPOINT") or PUBLIC_ARM_ENDPOINT).rstrip("/"),
            arm_audience=env.get("RECONCILE_ARM_AUDIENCE") or None,
            authority_host=env.get("AZURE_AUTHORITY_HOST") or None,
            ca_bundle=env.get("RECONCILE_CA_BUNDLE") or None,
            keyvault_endpoint=(env.get("RECONCILE_KEYVAULT_ENDPOINT") or "").rstrip("/") or None,
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def is_public_authority(self) -> bool:
        host = (self.authority_host or "").rstrip("/")
        return not host or host in PUBLIC_AUTHORITY_HOSTS


class BoundedRetryPolicy(RetryPolicy):
    """azure-core's RetryPolicy, except that a `Retry-After` longer than `max_retry_after` is not slept on.

    azure-core would wait any Retry-After in full (a Compute 429 can say 1200 s); we let such a call fail
    with its 429 (the response stays on the `HttpResponseError`) instead of blocking a worker for twenty
    minutes: `azure/errors.py` reads its Retry-After and the engine waits it as a throttle, in server time."""

    def __init__(self, *, max_retry_after: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_retry_after = max_retry_after

    def is_retry(self, settings, response) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self.max_retry_after:
            return False
        return super().is_retry(settings, response)


def build_credential(settings: ConnectionSettings):
    """DefaultAzureCredential, trusting `ca_bundle` and skipping instance discovery off the public cloud."""
    kwargs: dict[str, Any] = {}
    if settings.authority_host:
        kwargs["authority"] = settings.authority_host
    if not settings.is_public_authority:
        kwargs["disable_instance_discovery"] = True
    if settings.ca_bundle:
        kwargs["connection_verify"] = settings.ca_bundle
    return DefaultAzureCredential(**kwargs)


class Connection:
    """The credential, one `CallMeter`, and lazily built per-subscription clients (thread-safe)."""

    def __init__(self, settings: ConnectionSettings | None = None, credential=None):
        self.settings = settings or ConnectionSettings.from_env()
        self.credential = credential or build_credential(self.settings)
        self.meter = CallMeter(self.settings.pacing)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client_kwargs(self) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {
            "base_url": s.arm_endpoint,
            "polling_interval": s.polling_interval,
            "retry_policy": BoundedRetryPolicy(
                max_retry_after=s.max_retry_after,
                retry_total=s.retry_total,
                retry_status=s.retry_status,
                retry_backoff_factor=s.retry_backoff_factor,
                retry_backoff_max=s.retry_backoff_max,
            ),
            "per_retry_policies": [MeteringPolicy(self.meter)],
        }
        if s.ca_bundle:
            kwargs["connection_verify"] = s.ca_bundle
        if s.arm_audience:  # sovereign clouds: e.g. https://management.usgovcloudapi.net
            kwargs["credential_scopes"] = [s.arm_audience.rstrip("/") + "/.default"]
        return kwargs

    def _client(self, kind: str, factory, subscription_id: str):
        key = (kind, subscription_id.lower())
        with self._lock:
            if key not in self._clients:
                self._clients[key] = factory(self.credential, subscription_id, **self.client_kwargs())
            return self._clients[key]

    def compute(self, subscription_id: str) -> ComputeManagementClient:
        return self._client("compute", ComputeManagementClient, subscription_id)

    def image_builder(self, subscription_id: str) -> ImageBuilderClient:
        return self._client("imagebuilder", ImageBuilderClient, subscription_id)

    def desktop(self, subscription_id: str) -> DesktopVirtualizationMgmtClient:
        return self._client("desktop", DesktopVirtualizationMgmtClient, subscription_id)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        close = getattr(self.credential, "close", None)
        if close:
            close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- errors, in one line, cause first -----------------------------------------------------------------------
_CONNECT = re.compile(
    r"HTTPSConnection\(host='([^']*)', port=(\d+)\): (?:Failed to establish a new connection: )?(.*)"
)
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
_CONTEXT = re.compile(r"^(?P<what>.+?) failed: ")


def _clean(text: str) -> str:
    """One line: a connection failure as `host:port: reason`, `[Errno n]` and SDK advice dropped."""
    text = " ".join(text.split())
    text = text.split(" To mitigate this issue", 1)[0]
    match = _CONNECT.search(text)
    if match:
        reason = _ERRNO.sub("", match.group(3)).rstrip(")").strip() or "connection failed"
        text = f"{match.group(1)}:{match.group(2)}: {reason[:1].lower() + reason[1:]}"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        text += " (set --ca-bundle or RECONCILE_CA_BUNDLE to the PEM that signs the endpoint)"
    return text.strip().rstrip(".")


def _credential_causes(message: str) -> list[str]:
    """`Attempted credentials:` lines of a DefaultAzureCredential failure, each `Credential: reason`."""
    causes = []
    for line in message.splitlines():
        line = line.strip()
        name, sep, reason = line.partition(": ")
        if sep and name.endswith("Credential") and " " not in name:
            reason = reason.removeprefix("Authentication failed: ").removeprefix(f"{name} ")
            sentences = [
                s for s in re.split(r"(?<=\.)\s+", reason) if "troubleshoot" not in s and "aka.ms" not in s
            ]
            causes.append(f"{name}: {_clean(' '.join(sentences))}")
    return causes


def describe_error(exc: BaseException) -> str:
    """One line for a failure reaching Azure, the cause first, then where it happened.

    `cannot sign in to Azure: EnvironmentCredential: AADSTS7000215: Invalid client secret provided (while
    listing host pools in <sub>)`; `cannot connect to 127.0.0.1:9: connection refused`. No "None None" of a
    credential error read as an HTTP error, no multi-line SDK text, no traceback. The client secret in the
    environment is never part of the line."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    context = ""
    outer = _CONTEXT.match(str(exc))
    if outer and not isinstance(exc, AzureError):
        context = f" (while {outer.group('what')})"
    root = next((e for e in chain if isinstance(e, AzureError)), chain[-1])
    if isinstance(root, ClientAuthenticationError) and root.status_code is None:
        causes = _credential_causes(str(root.message or root))
        line = "cannot sign in to Azure: " + ("; ".join(causes) or _clean(str(root.message or root)))
    elif isinstance(root, ServiceRequestError):
        line = f"cannot connect to {_clean(str(root.message or root))}"
    elif isinstance(root, HttpResponseError):
        code = getattr(root.error, "code", None) if root.error else None
        status = " ".join(str(p) for p in (root.status_code, code or root.reason) if p)
        text = _clean((str(root.message or "").splitlines() or [""])[0].removeprefix(f"({code}) "))
        line = f"Azure answered {status}: {text}" if status else f"Azure error: {text}"
    else:
        text = _clean(str(root)) or type(root).__name__
        ours = type(root).__module__.startswith("reconciler.")
        line = text if ours else f"{type(root).__name__}: {text}"
    line += context
    secret = os.environ.get("AZURE_CLIENT_SECRET", "")
    if len(secret) >= 4:
        line = line.replace(secret, "(secret)")
    return line if len(line) <= 600 else line[:599] + "…"
