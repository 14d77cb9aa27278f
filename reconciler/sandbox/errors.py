"""ARM error responses. Every error carries a JSON body {"error": {code, message, ...}} and never Retry-After
(azure-core retries any status that carries it) unless it is a throttling answer."""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return {"error": err}


def provider_type_of(rid: str) -> str:
    parts = [p for p in rid.split("/") if p]
    low = [p.lower() for p in parts]
    if "providers" not in low:
        return "Microsoft.Resources/resourceGroups"
    i = low.index("providers")
    rest = parts[i + 1 :]
    return "/".join([rest[0]] + rest[1::2])


def not_found(rid: str) -> ArmError:
    """ARM's text: The Resource 'Microsoft.Compute/galleries/g/images/i' under resource group 'rg' was not found."""
    parts = [p for p in rid.split("/") if p]
    low = [p.lower() for p in parts]
    rg = parts[low.index("resourcegroups") + 1] if "resourcegroups" in low else ""
    what = "/".join(parts[low.index("providers") + 1 :]) if "providers" in low else parts[-1]
    return ArmError(
        404, "ResourceNotFound", f"The Resource '{what}' under resource group '{rg}' was not found."
    )


def parent_not_found(parent_id: str) -> ArmError:
    return ArmError(
        404,
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{parent_id}' not found.",
    )


def rg_not_found(rg: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def bad_request(message: str, code: str = "InvalidParameter", target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target)


def conflict(code: str, message: str, target: str | None = None) -> ArmError:
    return ArmError(409, code, message, target)


# What a write on a resource whose own operation is still running gets, per resource provider (see
# tests/fixtures/strict_refusals.md for the observed bodies these follow).
_CRP_OPERATION = {"PUT": "PUT", "PATCH": "Update", "DELETE": "Delete"}
_CRP_KIND = {
    "Microsoft.Compute/virtualMachines": "VM",
    "Microsoft.Compute/galleries": "Gallery",
    "Microsoft.Compute/galleries/images": "Gallery Image",
    "Microsoft.Compute/galleries/images/versions": "Gallery Image Version",
}


def operation_in_progress(
    type_name: str, res: dict[str, Any], op: dict[str, Any], method: str, status_url: str
) -> ArmError:
    name = res.get("name") or res["id"].rsplit("/", 1)[-1]
    namespace = type_name.split("/")[0]
    if op["kind"].endswith(":delete") and namespace == "Microsoft.Compute":
        kind = _CRP_KIND.get(type_name, "resource")
        return conflict(
            "OperationNotAllowed",
            f"Operation '{_CRP_OPERATION.get(method, method)}' is not allowed on {kind} '{name}' since the "
            f"{kind} is marked for deletion. You can only retry the Delete operation (or wait for an ongoing "
            "one to complete).",
        )
    if namespace == "Microsoft.Network":
        return conflict(
            "AnotherOperationInProgress",
            "Another operation on this or dependent resource is in progress. To retrieve status of the "
            f"operation use uri: {status_url}.",
        )
    return conflict(
        "Conflict",
        "The request failed due to conflict with a concurrent request. To resolve it, please refer to "
        "https://aka.ms/activitylog to get more details on the conflicting requests.",
    )
