"""A hand-built plan touching every action, a rollout preview and diagnostics, for renderer tests."""

from __future__ import annotations

import pytest

from reconciler.model.plan import Action, Change, Diagnostic, Plan, Severity
from reconciler.model.rollout import BatchPreview, HostRef, RolloutPreview

SUB = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-images/providers"
GALLERY = f"{SUB}/Microsoft.Compute/galleries/corpgallery"
DEFINITION = f"{GALLERY}/images/win11-m365"
POOL = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-avd/providers/Microsoft.DesktopVirtualization/hostPools/prod"
TOKEN = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWdpc3RyYXRpb24ifQ.c2lnbmF0dXJl"
PASSWORD = "Sup3r-Secret-P@ssw0rd!"


def _change(action, kind, rid, **kw):
    return Change(
        action=action, kind=kind, resource_id=rid, reason=kw.pop("reason", f"desired/x.yaml:1 {kind}"), **kw
    )


@pytest.fixture
def sample_plan() -> Plan:
    changes = (
        _change(Action.CREATE, "gallery", GALLERY, after={"location": "westeurope", "tags": {"a": "b"}}),
        _change(
            Action.UPDATE,
            "image-definition",
            DEFINITION,
            before={"properties": {"description": "old"}},
            after={"properties": {"description": "new | piped"}},
            patch=[{"op": "replace", "path": "/properties/description", "value": "new | piped"}],
            depends_on=(f"create {GALLERY.lower()}",),
        ),
        _change(Action.REPLACE, "image-definition", DEFINITION + "x", details={"immutable": ["osType"]}),
        _change(Action.DELETE, "image-version", DEFINITION + "/versions/0.9.0"),
        _change(Action.BUILD, "image-build", f"{SUB}/Microsoft.VirtualMachineImages/imageTemplates/corp-abc"),
        _change(Action.REPLICATE, "image-version", DEFINITION + "/versions/1.2.0"),
        _change(
            Action.PIN,
            "host-pool",
            POOL,
            before={"properties": {"registrationInfo": {"token": TOKEN}}},
            after={"properties": {"registrationInfo": {"token": TOKEN}}, "adminPassword": PASSWORD},
            patch=[{"op": "add", "path": "/adminPassword", "value": PASSWORD}],
        ),
        _change(Action.ROLL, "host-pool", POOL, details={"connection": f"tok={TOKEN}"}),
        _change(Action.DEPRECATE, "image-version", DEFINITION + "/versions/1.0.0"),
        _change(Action.ADOPT, "gallery", GALLERY + "2"),
        _change(Action.NO_OP, "image-version", DEFINITION + "/versions/0.1.0", reason="kept: in use"),
    )
    rollout = RolloutPreview(
        pool_id=POOL,
        pool="prod",
        from_versions=("1.1.0",),
        to_version="1.2.0",
        strategy="surge",
        batch_size=2,
        surge=2,
        floor_percent=80,
        floor_hosts=4,
        target_count=4,
        batches=(
            BatchPreview(
                1,
                (HostRef("avd-0", "1.1.0", 3, "Available"), HostRef("avd-1", "1.1.0", 0, "Available")),
                3,
                4,
                4,
                6,
            ),
            BatchPreview(2, (HostRef("avd-2", "1.1.0", 5, "Available"),), 5, 4, 4, 5),
        ),
        window_start="2026-12-05T22:00:00+00:00",
        window_end="2026-12-06T02:00:00+00:00",
        gate={
            "after": "validation",
            "soak_seconds": 86400,
            "satisfied": False,
            "reason": "waits for validation",
        },
    )
    return Plan(
        changes=changes,
        generated_at="2026-11-29T12:00:00+00:00",
        levels=((changes[0].key,), (changes[1].key,)),
        rollouts=(rollout,),
        diagnostics=(Diagnostic(Severity.WARNING, DEFINITION, "osType cannot change", "desired/x.yaml:4"),),
        fingerprints={DEFINITION.lower(): "sha256:00"},
    )
