"""Managed run commands (`Microsoft.Compute/virtualMachines/{vm}/runCommands/{name}`): an acceptance test's
script sent to a session host, its verdict read back from the instance view.

Every write is started and not waited for (writes_lro.start): `asyncExecution: true` makes Azure finish the
PUT as soon as the script starts, and the next rollout cycle reads the instance view (`$expand=instanceView`),
so no worker blocks for the minutes a test runs and a killed apply finds the command where it left it.
`treatFailureAsDeploymentFailure: false` (Azure's default, sent explicitly): a script that fails still ends
`provisioningState: Succeeded`, and the verdict is the instance view's `executionState` and `exitCode`
(reference/pipeline.md §2). Protected parameters and the run-as password are sent once, never returned by
Azure, never logged here. Retries stay in azure-core's pipeline.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure.clock import server_seconds_of
from reconciler.azure.connection import Connection
from reconciler.azure.convert import parse_time, rest_dict
from reconciler.azure.writes_lro import LroStatus, start
from reconciler.model.observed import id_parts

# Instance view states that end a run (the others: Unknown, Pending, Running).
FINISHED = frozenset({"Succeeded", "Failed", "TimedOut", "Canceled"})


@dataclass(frozen=True)
class RunCommandSpec:
    """What to run. `secret_parameters` and `run_as_password` are resolved values: kept out of repr."""

    name: str
    location: str
    script: str | None = None
    script_uri: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    secret_parameters: tuple[tuple[str, str], ...] = ()
    run_as_user: str | None = None
    run_as_password: str | None = None
    timeout_seconds: int = 600
    tags: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:  # a secret must not reach a log through a repr
        return f"RunCommandSpec(name={self.name!r}, location={self.location!r})"

    def body(self) -> dict[str, Any]:
        if (self.script is None) == (self.script_uri is None):
            raise ValueError(f"run command {self.name}: give exactly one of script or scriptUri")
        source = {"script": self.script} if self.script is not None else {"scriptUri": self.script_uri}
        props: dict[str, Any] = {
            "source": source,
            "parameters": [{"name": n, "value": v} for n, v in self.parameters],
            "timeoutInSeconds": self.timeout_seconds,
            "asyncExecution": True,
            "treatFailureAsDeploymentFailure": False,
        }
        if self.secret_parameters:
            props["protectedParameters"] = [{"name": n, "value": v} for n, v in self.secret_parameters]
        if self.run_as_user:
            props["runAsUser"] = self.run_as_user
            if self.run_as_password is not None:
                props["runAsPassword"] = self.run_as_password
        return {"location": self.location, "tags": dict(self.tags), "properties": props}


@dataclass(frozen=True)
class RunCommandResult:
    """A run command as Azure reports it: provisioning, and the run itself (the instance view)."""

    name: str
    provisioning_state: str | None
    execution_state: str | None  # Unknown | Pending | Running | Failed | Succeeded | TimedOut | Canceled
    exit_code: int | None
    output: str
    error: str
    message: str | None  # executionMessage: Azure's word on a script it could not run
    start_time: datetime | None
    end_time: datetime | None
    tags: dict[str, str]
    timeout_seconds: int | None = None

    @property
    def finished(self) -> bool:
        return self.execution_state in FINISHED


def result_of(raw: dict[str, Any]) -> RunCommandResult:
    props = raw.get("properties") or {}
    view = props.get("instanceView") or {}
    code = view.get("exitCode")
    return RunCommandResult(
        name=str(raw.get("name") or "").rsplit("/", 1)[-1],
        provisioning_state=props.get("provisioningState"),
        execution_state=view.get("executionState"),
        exit_code=int(code) if code is not None else None,
        output=view.get("output") or "",
        error=view.get("error") or "",
        message=view.get("executionMessage"),
        start_time=parse_time(view.get("startTime")),
        end_time=parse_time(view.get("endTime")),
        tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
        timeout_seconds=props.get("timeoutInSeconds"),
    )


class RunCommands:
    """The run commands of the VMs of one resource group (`vm_id` names any VM: its group is read from it)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._server_seconds = server_seconds_of(conn.meter.server_clock)

    def _ops(self, vm_id: str):
        p = id_parts(vm_id)
        return (
            self.conn.compute(p["subscriptions"]).virtual_machine_run_commands,
            p["resourcegroups"],
            p["virtualmachines"],
        )

    def create(self, vm_id: str, spec: RunCommandSpec) -> LroStatus:
        """PUT the run command and return without waiting for it (the run is read from `get`)."""
        ops, rg, vm = self._ops(vm_id)
        _, status = start(
            ops.begin_create_or_update, rg, vm, spec.name, spec.body(), server_seconds=self._server_seconds
        )
        return status

    def get(self, vm_id: str, name: str) -> RunCommandResult | None:
        """The run command with its instance view, or None when it does not exist."""
        ops, rg, vm = self._ops(vm_id)
        try:
            got = ops.get_by_virtual_machine(rg, vm, name, expand="instanceView")
        except ResourceNotFoundError:
            return None
        return result_of(rest_dict(got))

    def list(self, vm_id: str) -> list[RunCommandResult]:
        ops, rg, vm = self._ops(vm_id)
        return [
            result_of(rest_dict(item)) for item in ops.list_by_virtual_machine(rg, vm, expand="instanceView")
        ]

    def delete(self, vm_id: str, name: str) -> None:
        """Start the delete (it also stops a script still running); an absent command is already deleted."""
        ops, rg, vm = self._ops(vm_id)
        with contextlib.suppress(ResourceNotFoundError):
            start(ops.begin_delete, rg, vm, name, server_seconds=self._server_seconds)
