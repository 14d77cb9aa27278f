"""What a run command write may contain, as ARM and Compute refuse it: members the type does not have (400
InvalidRequestContent, the deserialiser's words), malformed parameters and timeout, the source naming exactly one
kind, and a VM that is in another region or not running."""

from __future__ import annotations

from typing import Any

from ..errors import ArmError, bad_request, conflict
from ..routing import Request, norm_region
from ..store import PRIVATE

# ARM's deserialiser refuses members a type does not have (Azure/azure-sdk-for-net#3487: 400
# InvalidRequestContent "Could not find member 'X' on object of type 'Y'. Path 'X', line 1, position N.").
TOP_LEVEL = {"id", "name", "type", "location", "tags", "properties"}
WRITABLE = {
    "source",
    "parameters",
    "protectedParameters",
    "asyncExecution",
    "runAsUser",
    "runAsPassword",
    "timeoutInSeconds",
    "outputBlobUri",
    "errorBlobUri",
    "outputBlobManagedIdentity",
    "errorBlobManagedIdentity",
    "treatFailureAsDeploymentFailure",
}
READ_ONLY = {"provisioningState", "instanceView"}
SOURCE_KINDS = ("script", "scriptUri", "commandId")
SOURCE_MEMBERS = {*SOURCE_KINDS, "scriptUriManagedIdentity", "scriptShell"}


def not_deserialisable(raw: bytes, member: str, owner: str, path: str) -> ArmError:
    at = raw.find(f'"{member}"'.encode())
    position = at + len(member) + 2 if at >= 0 else 1
    return bad_request(
        "The request content was invalid and could not be deserialized: 'Could not find member "
        f"'{member}' on object of type '{owner}'. Path '{path}', line 1, position {position}.'.",
        "InvalidRequestContent",
    )


def check_body(req: Request, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for key in body:
        if key not in TOP_LEVEL:
            raise not_deserialisable(req.raw_body, key, "ResourceDefinition", key)
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise bad_request("The 'properties' must be an object.", "InvalidRequestContent")
    for key in props:
        if key not in WRITABLE | READ_ONLY:
            owner = "VirtualMachineRunCommandProperties"
            raise not_deserialisable(req.raw_body, key, owner, f"properties.{key}")
    source = props.get("source")
    if source is not None:
        if not isinstance(source, dict):
            raise bad_request("The 'source' must be an object.", "InvalidRequestContent")
        for key in source:
            if key not in SOURCE_MEMBERS:
                owner = "VirtualMachineRunCommandScriptSource"
                raise not_deserialisable(req.raw_body, key, owner, f"properties.source.{key}")
    for key in ("parameters", "protectedParameters"):
        for item in props.get(key) or []:
            if not isinstance(item, dict) or not item.get("name") or "value" not in item:
                raise bad_request(
                    f"Each of '{key}' must have a name and a value.",
                    "InvalidParameter",
                    f"properties.{key}",
                )
    timeout = props.get("timeoutInSeconds")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0):
        raise bad_request(
            "The value of parameter timeoutInSeconds is invalid.",
            "InvalidParameter",
            "properties.timeoutInSeconds",
        )
    user = props.get("runAsUser") or ((existing or {}).get("properties") or {}).get("runAsUser")
    if props.get("runAsPassword") and not user:
        raise bad_request(
            "runAsPassword is given without runAsUser.", "InvalidParameter", "properties.runAsUser"
        )


def check_source(props: dict[str, Any]) -> None:
    source = props.get("source") or {}
    given = [k for k in SOURCE_KINDS if source.get(k) is not None]
    if len(given) != 1:
        raise bad_request(
            "Exactly one of script, scriptUri and commandId must be given in the run command's source.",
            "InvalidParameter",
            "properties.source",
        )


def check_vm(vm: dict[str, Any] | None, location: str | None) -> None:
    if vm is None:
        return  # check_parent answered ParentResourceNotFound already
    if location is not None and norm_region(location) != norm_region(vm.get("location")):
        raise bad_request(
            f"The location '{location}' of the run command must be the location of its virtual machine "
            f"'{vm['name']}' ('{vm.get('location')}').",
            "InvalidParameter",
            "location",
        )
    power = vm.get(PRIVATE, {}).get("power", "running")
    if power != "running":
        # CRP's words for an operation that needs the guest (MicrosoftDocs/azure-docs#32404).
        raise conflict("OperationNotAllowed", "The operation requires the VM to be running (or set to run).")
