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
import threading
from dataclasses import dataclass, field, replace
from typing import Any

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
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def is_public_authority(self) -> bool:
        host = (self.authority_host or "").rstrip("/")
        return not host or host in PUBLIC_AUTHORITY_HOSTS


class BoundedRetryPolicy(RetryPolicy):
    """azure-core's RetryPolicy, except that a `Retry-After` longer than `max_retry_after` is not slept on.

    azure-core would wait any Retry-After in full (a Compute 429 can say 1200 s); we let such a call fail
    with its 429 so the caller can report `retry(after)` instead of blocking a worker for twenty minutes."""

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
