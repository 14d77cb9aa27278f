"""Session-host writes: create, register, drain, message, log off, remove — through the typed SDK clients.

Long-running operations are started and not waited for (`polling=False`): the next rollout cycle observes
the result (provisioningState, extension state, the session host appearing), so no worker blocks for the
minutes a VM create takes, and a crash loses nothing. 404 on logoff/message/delete means "already gone".
Registration tokens are short-lived (hours, not Azure's 30-day maximum), used only inside an extension's
protectedSettings, and never logged, printed or stored. Their expiry is computed from the server's clock as
read by the request right before the mint, not from the cycle's observation time: by the time the PATCH
lands that time can be far behind (slow cycles, or a simulated clock running 100,000x), and Azure rejects an
expiry less than 1 h ahead of its own clock.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.desktopvirtualization.models import (
    HostPoolPatch,
    RegistrationInfoPatch,
    SendMessage,
    SessionHostPatch,
)

from reconciler.azure.arm_calls import server_time
from reconciler.azure.connection import Connection
from reconciler.azure.metering import CallMeter
from reconciler.model.observed import id_parts

# Azure accepts 1 h to 30 days ahead of its clock. 4 h sits well inside that window: our estimate of the server
# time may be up to 3 h stale (or the PATCH that slow) and the expiry is still valid, and it is still short.
TOKEN_LIFETIME = timedelta(hours=4)
TOKEN_MIN_LEFT = timedelta(hours=2)  # reuse a token only while an agent still has ample time to register


class PoolWriter:
    """Writes for one host pool (`pool_id`), its VMs (same resource group) and its session hosts."""

    def __init__(self, conn: Connection, pool_id: str):
        p = id_parts(pool_id)
        self.pool_id = pool_id
        self.sub, self.rg, self.pool = p["subscriptions"], p["resourcegroups"], p["hostpools"]
        self.compute = conn.compute(self.sub)
        self.avd = conn.desktop(self.sub)
        self.meter: CallMeter = conn.meter
        self._token: str | None = None
        self._token_lock = threading.Lock()

    # -- VMs ---------------------------------------------------------------------------------------------
    def create_vm(self, name: str, body: dict[str, Any]) -> None:
        self.compute.virtual_machines.begin_create_or_update(self.rg, name, body, polling=False)

    def put_extension(self, vm: str, name: str, body: dict[str, Any]) -> datetime | None:
        """Send the extension; returns the server time once it was accepted (the latest `Date` seen)."""
        self.compute.virtual_machine_extensions.begin_create_or_update(self.rg, vm, name, body, polling=False)
        return self.meter.last_server_time

    def tag_vm(self, vm: str, tags: dict[str, str]) -> None:
        """Replace the VM's tags with `tags` (callers merge: a PATCH of tags replaces the whole set)."""
        self.compute.virtual_machines.begin_update(self.rg, vm, {"tags": tags}, polling=False)

    def delete_vm(self, vm: str) -> None:
        # Graceful (no forceDeletion): the OS gets its shutdown; NIC and OS disk go with it (deleteOption).
        with contextlib.suppress(ResourceNotFoundError):
            self.compute.virtual_machines.begin_delete(self.rg, vm, force_deletion=False, polling=False)

    # -- host pool -----------------------------------------------------------------------------------------
    def tag_pool(self, tags: dict[str, str]) -> None:
        self.avd.host_pools.update(self.rg, self.pool, host_pool=HostPoolPatch(tags=tags))

    def registration_token(self, now: datetime) -> str:
        """A valid token for this batch: the pool's current one if it has time left, else a new short one.

        `now` is a lower bound of the server time (the cycle's observation); the server time of the read just
        before the mint replaces it when later.
        """
        with self._token_lock:
            return self._registration_token(now)

    def _registration_token(self, now: datetime) -> str:
        if self._token:
            return self._token
        info, stamp = self.avd.host_pools.retrieve_registration_token(
            self.rg,
            self.pool,
            cls=lambda response, model, _headers: (model, server_time(response.http_response.headers)),
        )
        now = max(t for t in (now, stamp, self.meter.last_server_time) if t is not None)
        expires = info.expiration_time
        if not info.token or expires is None or expires - now < TOKEN_MIN_LEFT:
            patch = HostPoolPatch(
                registration_info=RegistrationInfoPatch(
                    expiration_time=now + TOKEN_LIFETIME, registration_token_operation="Update"
                )
            )
            self.avd.host_pools.update(self.rg, self.pool, host_pool=patch)
            info = self.avd.host_pools.retrieve_registration_token(self.rg, self.pool)
        self._token = info.token
        return info.token

    # -- session hosts and users ---------------------------------------------------------------------------
    def drain(self, session_host: str) -> datetime | None:
        """allowNewSession=false; returns the service's lastUpdateTime (when the drain took effect)."""
        patched = self.avd.session_hosts.update(
            self.rg, self.pool, session_host, session_host=SessionHostPatch(allow_new_session=False)
        )
        return patched.last_update_time

    def assign(self, session_host: str, user: str) -> None:
        self.avd.session_hosts.update(
            self.rg, self.pool, session_host, force=True, session_host=SessionHostPatch(assigned_user=user)
        )

    def message(self, session_host: str, session_id: str, title: str, body: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):  # already gone
            self.avd.user_sessions.send_message(
                self.rg,
                self.pool,
                session_host,
                session_id,
                send_message=SendMessage(message_title=title, message_body=body),
            )

    def logoff(self, session_host: str, session_id: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):  # already gone
            self.avd.user_sessions.delete(self.rg, self.pool, session_host, session_id, force=True)

    def delete_session_host(self, session_host: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):  # already gone
            self.avd.session_hosts.delete(self.rg, self.pool, session_host, force=True)
