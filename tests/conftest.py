"""Shared fixtures: one sandbox per test session (reset before each test) and the real SDK clients against it.

What they are built from (clients, connections, clocks, estates) lives in the `support` package, so a test
that needs a sandbox of its own builds it the same way.
"""

from __future__ import annotations

import pytest
from controller.azurite import BIN, MISSING, Azurite
from support.sandbox import RG, TIME_SCALE, credential_for, landing_zone, make_clients, time_scale

from reconciler.sandbox import Sandbox


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
    sandbox.seed(landing_zone(sandbox.subscription_ids))
    yield sandbox


@pytest.fixture
def frozen(sb):
    """The session sandbox with its clock frozen: only the test moves it (`sb.advance`)."""
    with time_scale(sb, 0):
        yield sb


@pytest.fixture
def sandbox_env(sb, monkeypatch):
    """The sandbox's endpoint, CA bundle and service principal in the environment, as production reads them."""
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    return sb.env


@pytest.fixture(scope="session")
def credential(sandbox):
    return credential_for(sandbox)


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


@pytest.fixture
def cli_env(sb, sandbox_env, monkeypatch, tmp_path):
    """`reconcile` run in process against the session sandbox: its environment, no colour, and the state
    directory in tmp_path/state."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("RECONCILE_STATE", str(tmp_path / "state"))
    return sb


def _azurite():
    if not BIN.exists():
        pytest.skip(MISSING)
    server = Azurite().start()
    yield server
    server.stop()


# Azurite's blob service (skipped with the reason when node_modules is absent): one for the session (Blob
# leases), and one per module for the build-log tests. The sandbox's staging accounts all live in Azurite's one
# account, where Azure gives each template its own; a module that looks for "the newest log" starts empty.
azurite = pytest.fixture(scope="session", name="azurite")(_azurite)
module_azurite = pytest.fixture(scope="module", name="module_azurite")(_azurite)
