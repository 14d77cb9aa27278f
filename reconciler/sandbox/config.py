"""Sandbox configuration: simulated durations (sandbox seconds), failure shares and switches.

Defaults follow reference/limits.md A4/A5 (replication ~30 min per region, AIB build ~40 min, VM create ~4 min,
registration ~10 min). Every duration is in *sandbox* seconds; the clock's time_scale maps them to real time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_SUBSCRIPTIONS = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
DEFAULT_TENANT = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
DEFAULT_CLIENT_ID = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
# The reconciler's service principal object id: a token's `oid`, not its `appid` (Key Vault access policies and
# role assignments name the object id).
DEFAULT_OBJECT_ID = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"


@dataclass
class SandboxConfig:
    subscription_ids: tuple[str, ...] = DEFAULT_SUBSCRIPTIONS
    tenant_id: str = DEFAULT_TENANT
    client_id: str = DEFAULT_CLIENT_ID
    object_id: str = DEFAULT_OBJECT_ID
    page_size: int = 5
    # --- durations, sandbox seconds
    gallery_seconds: float = 10.0
    image_seconds: float = 10.0
    replication_seconds: float = 1800.0
    replication_seconds_by_region: dict[str, float] = field(default_factory=dict)
    version_delete_seconds: float = 60.0
    delete_seconds: float = 10.0
    vm_create_seconds: float = 240.0
    vm_delete_seconds: float = 90.0
    vm_action_seconds: float = 60.0
    extension_seconds: float = 120.0
    registration_seconds: float = 600.0
    template_create_seconds: float = 30.0
    build_seconds: float = 2400.0
    cancel_seconds: float = 60.0
    session_mean_seconds: float = 7200.0
    platform_release_days: float = 30.0
    # --- failure shares (0..1)
    vm_create_failure_share: float = 0.0
    registration_failure_share: float = 0.0
    build_failure_share: float = 0.0
    replication_failure_share: float = 0.0
    # --- switches
    throttle: bool = False
    strict_version_delete: bool = False  # refuse deleting a version any VM references (Azure allows it)
    auto_resource_groups: bool = False  # create missing resource groups on first PUT (Azure does not)
    lenient_api_versions: bool = False  # accept any api-version (Azure refuses one its type does not publish)
    token_lifetime_seconds: float = 3600.0  # bearer token lifetime, sandbox seconds (Entra ID: ~1 h)
    token_min_real_seconds: float = 360.0  # ...but at least this long in real seconds (tokens.py says why)
    # Lenient: a write while the resource's own operation runs replaces it (Azure answers 409).
    concurrent_writes: bool = False
    # Lenient: a gallery version or an Image Builder template may name a source image that does not exist.
    lenient_version_sources: bool = False
    # Eventual consistency: a definition still answers CannotDeleteResource this long after its last version
    # was deleted (Azure: ~10-20 s, azure-surface §4). 0 = off.
    ghost_child_seconds: float = 0.0
    # Read-after-replication lag: a VM create naming a version whose region completed less than this long ago
    # answers 404 GalleryImageNotFound (seen on Azure right after replication; 0 = off, the e2e tests turn it on).
    gallery_image_read_lag_seconds: float = 0.0
    # A Blob service (connection string, e.g. Azurite's) for Image Builder's staging storage accounts: with
    # one, a failed build run leaves a customization.log there (providers/imagebuilder_staging.py). "" = no logs.
    blob_connection_string: str = ""
    session_host_domain: str = "sandbox.local"
    # A registered host's agent version, and when (after registering) it reports its health checks.
    session_host_agent_version: str = "1.0.9103.3700"
    session_host_health_check_seconds: float = 180.0
    # Managed Run Commands: queued before the script starts, how long a script runs unless a fault rule says
    # otherwise, and the timeout when the command gives none (run_commands.py).
    run_command_start_seconds: float = 2.0
    run_command_seconds: float = 20.0
    run_command_default_timeout_seconds: float = 5400.0
    session_host_delete_conflict_code: str = "SessionHostHasActiveSessions"
    # Retry-After on operation-status polls: real seconds until done, capped here (fractions allowed).
    poll_retry_after_cap: float = 1.0
    # Integer Retry-After on initial LRO responses (0 = omitted; the Azure CLI wants 1).
    initial_retry_after: int = 0
    seed: int = 1234
    latency: Any = ""  # "" off, "azure", or {operation: distribution} (sandbox/latency.py); real seconds
    # throttle buckets: (capacity, refill per sandbox second) per subscription+principal (limits.md A1)
    read_bucket: tuple[float, float] = (250.0, 25.0)
    write_bucket: tuple[float, float] = (200.0, 10.0)
    delete_bucket: tuple[float, float] = (200.0, 10.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, values: dict[str, Any]) -> None:
        """Apply known keys; unknown keys are an error so typos do not silently do nothing."""
        known = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise KeyError(f"unknown sandbox setting {key!r}")
            current = getattr(self, key)
            if isinstance(current, tuple) and isinstance(value, list):
                value = tuple(value)
            setattr(self, key, value)
