"""Registration tokens for new session hosts: minted against the server's clock, short-lived, reused while they
have time left, never logged. The sandbox clock is frozen here so "stale" is exact, not a race."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from reconciler.azure.hosts_write import TOKEN_LIFETIME, TOKEN_MIN_LEFT, PoolWriter

POOL = "hp-token"


@pytest.fixture
def pool_id(sb, conn):
    scale = sb.clock.time_scale
    sb.set_time_scale(0)
    rg = f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/rg-test"
    rid = f"{rg}/providers/Microsoft.DesktopVirtualization/hostPools/{POOL}"
    body = {
        "location": "westeurope",
        "host_pool_type": "Pooled",
        "load_balancer_type": "BreadthFirst",
        "preferred_app_group_type": "Desktop",
    }
    conn.desktop(sb.subscription_ids[0]).host_pools.create_or_update("rg-test", POOL, body)
    yield rid
    sb.set_time_scale(scale)


def _expiry(conn, sb):
    return conn.desktop(sb.subscription_ids[0]).host_pools.retrieve_registration_token("rg-test", POOL)


def test_a_stale_observation_time_still_mints_a_valid_token(sb, conn, pool_id, caplog):
    caplog.set_level(logging.DEBUG)
    server_now = sb.now()
    # The cycle observed the pool three sandbox hours ago (a slow cycle, or a clock running 100,000x):
    # an expiry computed from that time would be rejected ("between 1 hour and 30 days from now").
    token = PoolWriter(conn, pool_id).registration_token(server_now - timedelta(hours=3))
    info = _expiry(conn, sb)
    assert token and token == info.token
    # from the server's clock (its Date header: whole seconds), not the stale one
    assert timedelta(0) <= server_now + TOKEN_LIFETIME - info.expiration_time < timedelta(seconds=1)
    assert timedelta(hours=1) < info.expiration_time - server_now <= timedelta(hours=6)  # short, never 30 d
    assert token not in caplog.text


def test_a_token_is_reused_while_it_has_time_left_then_replaced(sb, conn, pool_id):
    first = PoolWriter(conn, pool_id).registration_token(sb.now())
    sb.advance((TOKEN_LIFETIME - TOKEN_MIN_LEFT).total_seconds() - 60)
    assert PoolWriter(conn, pool_id).registration_token(sb.now()) == first  # the next batch reuses it
    sb.advance(120)  # now less than TOKEN_MIN_LEFT left: an agent might not register in time
    second = PoolWriter(conn, pool_id).registration_token(sb.now())
    assert second != first
    short = sb.now() + TOKEN_LIFETIME - _expiry(conn, sb).expiration_time  # Date has whole seconds
    assert timedelta(0) <= short < timedelta(seconds=1)
