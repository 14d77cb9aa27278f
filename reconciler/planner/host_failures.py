"""Judging a new session host: failed (and why) or not yet, and the marker that names one failed VM."""

from __future__ import annotations

from datetime import timedelta

from reconciler.model.rollout import HostFailure
from reconciler.planner.host_inputs import HostView, PoolInputs


def failure_of(host: HostView, p: PoolInputs) -> HostFailure | None:
    """Why a new host counts as failed, or None. Only hosts we created and never saw Available are judged.

    The health timeout runs from HOST_REGISTERED_TAG (when the reconciler sent the AVD agent), not from the
    VM's creation: a host whose next step is still the reconciler's (an apply killed, slow or not running)
    is waiting for us, not failing. Provisioning and extension failures are Azure's verdicts and count at once,
    except a VM whose create had already succeeded (`update_failed`): its Failed is a later PATCH's.
    """
    if not host.managed or host.established or host.retiring or host.deleting:
        return None
    if host.provisioning == "Failed" and not update_failed(host):
        code, message = host.provisioning_error or (None, None)
        return HostFailure("provisioning", code, message)
    extensions = host.extensions
    if extensions and "Failed" in extensions.values():  # seldom: the sort below names the first by name
        for name, state in sorted(extensions.items()):
            if state == "Failed":
                code, message = host.extension_errors.get(name) or (None, None)
                return HostFailure("extension", code, message, extension=name)
    sent = host.registered_at
    if sent is not None and p.now - sent > p.policy.health_timeout and not host.available:
        return HostFailure("timeout", timeout=_duration(p.policy.health_timeout))
    return None


def update_failed(host: HostView) -> bool:
    """A VM left Failed by an update, not by its create: the reconciler sent the AVD agent (only ever to a VM
    whose create succeeded) or a session host registered from it. ARM shows a VM whose tag PATCH failed as
    `provisioningState: Failed`, exactly like a failed create; the host itself is fine and the next
    successful PATCH (the ready mark) sets it Succeeded again. Counting it would delete a good host and spend
    the failure budget on an Azure hiccup: with budget 0, one failed tag write halted the pool."""
    return host.provisioning == "Failed" and (host.registered_at is not None or host.session_host is not None)


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def failure_marker(host: HostView) -> str:
    """Identifies one failed VM across cycles even if its name is later reused: name@creation second."""
    created = host.created_at
    return f"{host.name}@{int(created.timestamp())}" if created else host.name
