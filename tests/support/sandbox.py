"""The sandbox as the tests use it: the real SDK clients and a production `Connection` against it, its clock
held still or run at another speed for the length of a block, and its environment set as production reads it.

The clients use polling_interval=0 and retry_backoff_factor=0 (emulator-recipe §5): waits come only from the
sandbox's Retry-After headers, which follow its clock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from reconciler.azure.connection import Connection, ConnectionSettings
from reconciler.sandbox import Sandbox

TIME_SCALE = 100_000  # the session sandbox: a 30-minute replication is 18 ms
RG = "rg-test"


def landing_zone(subscription_ids) -> list[dict]:
    from sandbox.helpers import estates_landing_zone

    from support.image_sources import golden_images

    return estates_landing_zone(subscription_ids) + golden_images(subscription_ids)


@contextmanager
def own_sandbox(*, landing: bool = True, **options) -> Iterator[Sandbox]:
    """A sandbox of the test's own (its clock, estate or settings differ from the session one), with the small
    landing zone the estates reference (subnet, identity, vault) unless `landing=False`."""
    with Sandbox(**options) as sb:
        if landing:
            sb.seed(landing_zone(sb.subscription_ids))
        yield sb


@contextmanager
def time_scale(sb, scale: float) -> Iterator[Sandbox]:
    """The sandbox clock at `scale` (0: frozen, moved only by `sb.advance`) for the block, then as it was."""
    before = sb.clock.time_scale
    sb.set_time_scale(scale)
    try:
        yield sb
    finally:
        sb.set_time_scale(before)


@contextmanager
def sandbox_environ(sb) -> Iterator[dict[str, str]]:
    """os.environ carries the sandbox's endpoint, CA bundle and service principal (what production reads)
    for the block; the previous values come back afterwards."""
    saved = {name: os.environ.get(name) for name in sb.env}
    os.environ.update(sb.env)
    try:
        yield sb.env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def credential_for(sb):
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(
        sb.tenant_id,
        sb.client_id,
        sb.client_secret,
        authority=f"127.0.0.1:{sb.port}",
        disable_instance_discovery=True,
        connection_verify=sb.ca_bundle,
    )


def access_token(sb) -> str:
    """A bearer token the sandbox signed, fetched through the real credential (fresh each call: at a fast
    clock a token lasts milliseconds)."""
    return credential_for(sb).get_token("https://management.azure.com/.default").token


def bearer(sb) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(sb)}"}


def make_clients(sb, credential, subscription_id=None, **extra) -> SimpleNamespace:
    """compute, aib, avd clients (real SDKs over HTTPS) for one subscription (default: the first)."""
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.desktopvirtualization import DesktopVirtualizationMgmtClient
    from azure.mgmt.imagebuilder import ImageBuilderClient

    sub = subscription_id or sb.subscription_ids[0]
    kw = dict(
        base_url=sb.endpoint,
        connection_verify=sb.ca_bundle,
        polling_interval=0,
        retry_backoff_factor=0,
        **extra,
    )
    return SimpleNamespace(
        compute=ComputeManagementClient(credential, sub, **kw),
        aib=ImageBuilderClient(credential, sub, **kw),
        avd=DesktopVirtualizationMgmtClient(credential, sub, **kw),
        sub=sub,
        rg=RG,
    )


def connect(sb) -> Connection:
    """A production `Connection` to `sb` with immediate LRO polling and no exponential backoff."""
    settings = ConnectionSettings(
        arm_endpoint=sb.endpoint,
        ca_bundle=sb.ca_bundle,
        keyvault_endpoint=sb.endpoint,
        polling_interval=0,
        retry_backoff_factor=0,
    )
    return Connection(settings, credential=credential_for(sb))


def stored(sb, rtype: str, prefix: str = "") -> list[dict]:
    """Resources of one type in the sandbox store (after settling due operations)."""
    app = sb._app()
    with app.lock:
        app.settle()
        return [
            r
            for r in app.store.all()
            if r.get("type", "").lower() == rtype.lower() and r["id"].lower().startswith(prefix.lower())
        ]
