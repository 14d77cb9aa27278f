"""E2E fixtures: a production Connection to the session sandbox with its clock frozen (moved only by the tests)."""

from __future__ import annotations

import pytest
from support.sandbox import connect


@pytest.fixture
def conn(frozen):
    with connect(frozen) as c:
        yield c
