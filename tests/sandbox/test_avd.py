"""Host pools, session hosts and user sessions through the real DesktopVirtualizationMgmtClient (synchronous)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.desktopvirtualization.models import SendMessage, SessionHostPatch

from .helpers import host_pool_body, registration_patch, session_seed


def test_host_pool_crud_and_lists(sb, clients):
    created = clients.avd.host_pools.create_or_update(clients.rg, "hp1", host_pool_body())
    assert created.host_pool_type == "Pooled"
    patched = clients.avd.host_pools.update(clients.rg, "hp1", {"properties": {"friendlyName": "Pool one"}})
    assert patched.friendly_name == "Pool one"
    for i in range(6):
        clients.avd.host_pools.create_or_update(clients.rg, f"hp-x{i}", host_pool_body())
    assert len(list(clients.avd.host_pools.list_by_resource_group(clients.rg))) == 7
    assert len(list(clients.avd.host_pools.list())) == 7
    clients.avd.host_pools.delete(clients.rg, "hp1")
    with pytest.raises(ResourceNotFoundError):
        clients.avd.host_pools.get(clients.rg, "hp1")


def test_registration_token_rules(sb, clients):
    clients.avd.host_pools.create_or_update(clients.rg, "hp1", host_pool_body())
    for hours in (0.5, 24 * 31):
        with pytest.raises(HttpResponseError) as err:
            clients.avd.host_pools.update(clients.rg, "hp1", registration_patch(sb, hours))
        assert err.value.status_code == 400
    pool = clients.avd.host_pools.update(clients.rg, "hp1", registration_patch(sb, 48))
    assert pool.registration_info.token is None  # hidden on GET/PATCH
    assert clients.avd.host_pools.get(clients.rg, "hp1").registration_info.token is None
    info = clients.avd.host_pools.retrieve_registration_token(clients.rg, "hp1")
    assert info.token and info.expiration_time
    assert [t.token for t in clients.avd.host_pools.list_registration_tokens(clients.rg, "hp1").value] == [
        info.token
    ]
    clients.avd.host_pools.update(
        clients.rg, "hp1", {"properties": {"registrationInfo": {"registrationTokenOperation": "Delete"}}}
    )
    assert clients.avd.host_pools.retrieve_registration_token(clients.rg, "hp1").token is None


def seed_pool(sb, clients, sessions=2):
    clients.avd.host_pools.create_or_update(clients.rg, "hp1", host_pool_body())
    sb.seed(
        session_seed(clients.sub, clients.rg, "hp1", "h1.contoso.local", sessions=sessions)
        + session_seed(clients.sub, clients.rg, "hp1", "h2.contoso.local")
    )


def test_registration_token_on_a_seeded_pool_without_registration_info(sb, clients):
    """A pool that never had a token (seeded bare, as brownfield estates are) still gets one by PATCH."""
    pool_id = (
        f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/"
        "Microsoft.DesktopVirtualization/hostPools/hp-seeded"
    )
    props = {"hostPoolType": "Pooled", "loadBalancerType": "BreadthFirst", "preferredAppGroupType": "Desktop"}
    sb.seed([{"id": pool_id, "location": "westeurope", "properties": props}])
    assert "registrationInfo" not in sb.get(pool_id)["properties"]
    pool = clients.avd.host_pools.update(clients.rg, "hp-seeded", registration_patch(sb, 2))
    assert pool.registration_info.token is None and pool.registration_info.expiration_time
    assert clients.avd.host_pools.retrieve_registration_token(clients.rg, "hp-seeded").token


def test_drain_message_logoff_and_audit(sb, clients):
    seed_pool(sb, clients)
    sb.set_time_scale(0)
    host = clients.avd.session_hosts.update(
        clients.rg, "hp1", "h1.contoso.local", session_host=SessionHostPatch(allow_new_session=False)
    )
    assert host.allow_new_session is False and host.sessions == 2
    sessions = list(clients.avd.user_sessions.list(clients.rg, "hp1", "h1.contoso.local"))
    assert [s.name for s in sessions] == ["hp1/h1.contoso.local/1", "hp1/h1.contoso.local/2"]
    assert len(list(clients.avd.user_sessions.list_by_host_pool(clients.rg, "hp1"))) == 2
    filtered = clients.avd.user_sessions.list_by_host_pool(
        clients.rg, "hp1", filter="userPrincipalName eq 'user2@contoso.com'"
    )
    assert [s.user_principal_name for s in filtered] == ["user2@contoso.com"]
    clients.avd.user_sessions.send_message(
        clients.rg,
        "hp1",
        "h1.contoso.local",
        "1",
        send_message=SendMessage(message_title="Bye", message_body="Log off"),
    )
    clients.avd.user_sessions.disconnect(clients.rg, "hp1", "h1.contoso.local", "2")
    assert (
        clients.avd.user_sessions.get(clients.rg, "hp1", "h1.contoso.local", "2").session_state
        == "Disconnected"
    )
    sb.advance(1800)
    clients.avd.user_sessions.delete(clients.rg, "hp1", "h1.contoso.local", "1", force=True)
    with pytest.raises(ResourceNotFoundError):
        clients.avd.user_sessions.delete(clients.rg, "hp1", "h1.contoso.local", "1")
    audit = sb.audit()
    assert audit["messages"][0]["title"] == "Bye"
    ended = sb.invariants()["forced_session_ends"]
    assert ended[0]["reason"] == "logoff (force)" and ended[0]["seconds_after_drain"] == pytest.approx(
        1800, abs=1
    )
    pool = sb.invariants()["pools"]
    (p,) = pool.values()
    assert p["min"] == 1 and p["max"] == 2 and p["max_hosts"] == 2


def test_session_host_with_sessions_needs_force(sb, clients):
    seed_pool(sb, clients)
    with pytest.raises(ResourceExistsError) as err:
        clients.avd.session_hosts.delete(clients.rg, "hp1", "h1.contoso.local")
    assert err.value.error.code == "SessionHostHasActiveSessions"
    clients.avd.session_hosts.delete(clients.rg, "hp1", "h1.contoso.local", force=True)
    clients.avd.session_hosts.delete(clients.rg, "hp1", "h2.contoso.local")
    assert list(clients.avd.session_hosts.list(clients.rg, "hp1")) == []
    assert len(sb.invariants()["forced_session_ends"]) == 2


def test_host_pool_with_hosts_needs_force(sb, clients):
    seed_pool(sb, clients, sessions=0)
    with pytest.raises(ResourceExistsError):
        clients.avd.host_pools.delete(clients.rg, "hp1")
    clients.avd.host_pools.delete(clients.rg, "hp1", force=True)
    assert list(clients.avd.host_pools.list_by_resource_group(clients.rg)) == []


def test_seeded_sessions_end_over_time(sb, clients):
    sb.configure(session_mean_seconds=600)
    seed_pool(sb, clients, sessions=5)
    sb.advance(600 * 30)
    assert clients.avd.session_hosts.get(clients.rg, "hp1", "h1.contoso.local").sessions == 0
    assert sb.invariants()["forced_session_ends"] == []  # natural ends are not forced
