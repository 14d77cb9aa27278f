"""E2E fixtures: the session sandbox with a frozen clock (moved only by the tests) and a Connection to it."""

from __future__ import annotations

import pytest

from e2e.rollout_support import connect


@pytest.fixture
def frozen(sb):
    scale = sb.clock.time_scale
    sb.set_time_scale(0)
    yield sb
    sb.set_time_scale(scale)


@pytest.fixture
def conn(frozen):
    with connect(frozen) as c:
        yield c
