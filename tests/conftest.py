"""Shared fixtures: one sandbox per test session (reset before each test) and the real SDK clients against it.

The clients use polling_interval=0 and retry_backoff_factor=0 (emulator-recipe §5): waits come only from the
sandbox's Retry-After headers, which follow its clock (time_scale 100000: a 30-minute replication is 18 ms).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sandbox.helpers import estates_landing_zone

from reconciler.sandbox import Sandbox

TIME_SCALE = 100_000
RG = "rg-test"


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(time_scale=TIME_SCALE) as sb:
        yield sb


@pytest.fixture
def sb(sandbox):
    """The session sandbox, emptied and set back to its start-up settings, with resource group `rg-test` and a
    small landing zone (`sandbox.helpers.estates_landing_zone`)."""
    sandbox.reset()
    sub = sandbox.subscription_ids[0]
    sandbox.seed([{"id": f"/subscriptions/{sub}/resourceGroups/{RG}", "location": "westeurope"}])
    sandbox.seed(estates_landing_zone(sandbox.subscription_ids))
    yield sandbox


@pytest.fixture(scope="session")
def credential(sandbox):
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(
        sandbox.tenant_id,
        sandbox.client_id,
        sandbox.client_secret,
        authority=f"127.0.0.1:{sandbox.port}",
        disable_instance_discovery=True,
        connection_verify=sandbox.ca_bundle,
    )


def make_clients(sandbox, credential, subscription_id=None, **extra):
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.desktopvirtualization import DesktopVirtualizationMgmtClient
    from azure.mgmt.imagebuilder import ImageBuilderClient

    sub = subscription_id or sandbox.subscription_ids[0]
    kw = dict(
        base_url=sandbox.endpoint,
        connection_verify=sandbox.ca_bundle,
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


@pytest.fixture(scope="session")
def client_factory():
    """make_clients(sandbox, credential, subscription_id=None, **client_kwargs) for extra sandboxes."""
    return make_clients


@pytest.fixture(scope="session")
def session_clients(sandbox, credential):
    return make_clients(sandbox, credential)


@pytest.fixture
def clients(sb, session_clients):
    """compute, aib, avd clients (real SDKs over HTTPS) for subscription 1; `clients.rg` exists."""
    return session_clients
