"""The rollout engine decides on typed observations: it never reads REST JSON itself (one conversion, in
reconciler.azure.convert). The import-linter contract `engine-reads-typed` keeps it from importing the
converters; this test keeps the rollout modules from digging in payloads by hand."""

from __future__ import annotations

import re
from pathlib import Path

import reconciler.engine as engine_pkg
from reconciler.azure import hosts_read
from reconciler.azure.reads import Reader
from reconciler.model.observed import PoolObservation

ENGINE = Path(engine_pkg.__file__).parent
# Reading a REST payload: `x["properties"]`, `x.get("properties")`, `.get("tags")` on a dict from Azure.
PAYLOAD = re.compile(r"""(\[|\.get\()["'](properties|tags|resourceId)["']""")


def test_the_rollout_modules_parse_no_rest_payload():
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(ENGINE.glob("rollout*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if PAYLOAD.search(line)
    ]
    assert offenders == []


def test_the_pool_read_returns_a_typed_observation():
    assert hosts_read.read_pool.__annotations__["return"] in ("PoolObservation", PoolObservation)


def test_the_engine_reader_answers_typed_values_only():
    """What apply reads between writes (reconciler.azure.reads.Reader) comes back converted: no public method
    hands the engine a REST body to dig in."""
    public = {n: f for n, f in vars(Reader).items() if callable(f) and not n.startswith("_")}
    assert {"exists", "tags", "version", "template", "run_output", "users_of_version"} <= set(public)
    untyped = {
        n: f.__annotations__.get("return")
        for n, f in public.items()
        if "Any" in str(f.__annotations__.get("return", "Any"))
    }
    assert untyped == {}
