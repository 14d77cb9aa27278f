"""Sign-in through DefaultAzureCredential from the documented environment variables (the production path),
and registration tokens never reaching the Observed snapshot."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.mgmt.desktopvirtualization.models import HostPoolPatch, RegistrationInfoPatch
from observe_support import connect, of_type

from reconciler.azure.connection import ConnectionSettings, build_credential
from reconciler.azure.observe import observe
from reconciler.model.observed import ObserveScope

ARM_SCOPE = "https://management.azure.com/.default"


def test_settings_come_from_the_documented_variables(sb, sandbox_env):
    settings = ConnectionSettings.from_env()
    assert settings.arm_endpoint == sb.endpoint
    assert settings.authority_host == sb.endpoint
    assert settings.ca_bundle == sb.ca_bundle
    assert not settings.is_public_authority
    assert ConnectionSettings.from_env({}).arm_endpoint == "https://management.azure.com"
    assert ConnectionSettings.from_env({}).is_public_authority


def test_default_credential_signs_in_against_the_sandbox_from_env_vars(sb, sandbox_env):
    credential = build_credential(ConnectionSettings.from_env())
    token = credential.get_token(ARM_SCOPE)
    assert token.token and token.expires_on > 0
    with connect() as conn:  # and the clients use it
        assert list(conn.compute(sb.subscription_ids[0]).galleries.list()) == []


def test_a_wrong_secret_is_an_authentication_error(sb, sandbox_env, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-the-secret")
    credential = build_credential(ConnectionSettings.from_env())
    with pytest.raises(ClientAuthenticationError):
        credential.get_token(ARM_SCOPE)


def test_registration_tokens_never_reach_the_snapshot(sb, estate, conn):
    pool = of_type(estate, "Microsoft.DesktopVirtualization/hostPools")[0]
    sub, rg, name = (pool["id"].split("/")[i] for i in (2, 4, 8))
    avd = conn.desktop(sub)
    expiry = sb.now() + timedelta(days=1)
    patch = HostPoolPatch(
        registration_info=RegistrationInfoPatch(expiration_time=expiry, registration_token_operation="Update")
    )
    avd.host_pools.update(rg, name, host_pool=patch)
    token = avd.host_pools.retrieve_registration_token(rg, name).token
    assert token and len(token) > 8

    observed = observe(ObserveScope.of(sb.subscription_ids, roll_pools=[pool["id"]]), conn)

    observed_pool = observed.host_pools[pool["id"].lower()]
    assert abs((observed_pool.registration_expires - expiry).total_seconds()) < 1
    everything = repr(observed) + json.dumps(
        [dict(x.raw) for c in _collections(observed) for x in c], default=str
    )
    assert token not in everything


def _collections(observed):
    return [getattr(observed, k).values() for k in observed.counts()]


def test_a_sovereign_audience_changes_the_token_scope_the_clients_ask_for(sb, sandbox_env, monkeypatch):
    monkeypatch.setenv("RECONCILE_ARM_AUDIENCE", "https://management.usgovcloudapi.net/")
    with connect() as conn:
        assert conn.settings.arm_audience == "https://management.usgovcloudapi.net/"
        client = conn.compute(sb.subscription_ids[0])
        assert client._config.credential_scopes == ["https://management.usgovcloudapi.net/.default"]
        # The sandbox's authority issues the token for the Gov audience; the sandbox's ARM, a public-cloud
        # one, refuses it as ARM does: proof the token was obtained for the sovereign scope.
        with pytest.raises(ClientAuthenticationError) as refused:
            list(client.galleries.list())
        assert refused.value.error.code == "InvalidAuthenticationTokenAudience"
        assert "'https://management.usgovcloudapi.net/'" in refused.value.message
