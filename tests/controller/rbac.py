"""Azure RBAC action strings for the ARM requests the sandbox saw (audit: writes; stats: every request)."""

from __future__ import annotations

# First resource type of a sandbox stats group -> its provider namespace. An unknown type fails the role
# test on purpose: a new kind of call needs a decision about the role.
NAMESPACES = {
    "galleries": "Microsoft.Compute",
    "virtualMachines": "Microsoft.Compute",
    "disks": "Microsoft.Compute",
    "images": "Microsoft.Compute",
    "imageTemplates": "Microsoft.VirtualMachineImages",
    "hostPools": "Microsoft.DesktopVirtualization",
    "networkInterfaces": "Microsoft.Network",
    "userAssignedIdentities": "Microsoft.ManagedIdentity",
    "virtualNetworks": "Microsoft.Network",  # plan's reference check of a subnet
    "vaults": "Microsoft.KeyVault",  # plan's reference check of a secret (ARM metadata, never the value)
}


def action_of_write(method: str, resource_id: str) -> str:
    """PUT/PATCH -> <type>/write, DELETE -> <type>/delete, POST .../<name> -> <type>/<name>/action."""
    parts = [p for p in resource_id.strip("/").split("/")]
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered and len(parts) == 4 and lowered[2] == "resourcegroups":
        return "Microsoft.Resources/subscriptions/resourceGroups/" + (
            "delete" if method == "DELETE" else "write"
        )
    at = len(lowered) - 1 - lowered[::-1].index("providers")
    namespace, rest = parts[at + 1], parts[at + 2 :]
    if method == "POST":
        types, verb = rest[0:-1:2], f"{rest[-1]}/action"
    else:
        types, verb = rest[0::2], "write" if method in ("PUT", "PATCH") else "delete"
    return "/".join([namespace, *types, verb])


def action_of_read(group: str) -> str | None:
    """A stats key ``"GET galleries/images list"`` -> ``Microsoft.Compute/galleries/images/read``."""
    method, _, what = group.partition(" ")
    if method != "GET":
        return None
    what = what.removesuffix(" list")
    if what == "operations":
        return None  # polling an operation the caller started; authorised with the write that started it
    if what.startswith("subscriptions"):
        return "Microsoft.Resources/subscriptions/read"
    if what.startswith("resourceGroups"):
        return "Microsoft.Resources/subscriptions/resourceGroups/read"
    first = what.split("/", 1)[0]
    namespaces = {k.lower(): v for k, v in NAMESPACES.items()}
    if first.lower() not in namespaces:
        raise AssertionError(
            f"no namespace known for read {group!r}: add it to NAMESPACES and decide the role"
        )
    return f"{namespaces[first.lower()]}/{what}/read"


# Linked access checks: the only actions the role grants that no request of ours calls. ARM checks them on
# resources a request body references, as part of that request (the sandbox does not model them): the
# user-assigned identity of an image template (assign); the subnet and the VM-managed NIC of a session host
# (networkInterfaceConfigurations: subnet join, NIC write and join); the Key Vault behind a reference
# (protectedSettingsFromKeyVault of the domain-join extension, deploy). Each is counted as used only when the
# request that triggers it was made. The role test checks they never show up as calls of their own.
LINKED = {
    "Microsoft.VirtualMachineImages/imageTemplates/write": {
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
    },
    "Microsoft.Compute/virtualMachines/write": {
        "Microsoft.Network/virtualNetworks/subnets/join/action",
        "Microsoft.Network/networkInterfaces/write",
        "Microsoft.Network/networkInterfaces/join/action",
    },
    "Microsoft.Compute/virtualMachines/extensions/write": {"Microsoft.KeyVault/vaults/deploy/action"},
}


def used_actions(audit: dict, stats: dict, *, linked_checks: bool = True) -> set[str]:
    """The actions of the requests the sandbox saw, plus (``linked_checks``) ARM's checks they trigger."""
    used = {action_of_write(e["method"], e["id"]) for e in audit["entries"] if e["method"] != "GET"}
    used |= {a for g in stats["requests"] if (a := action_of_read(g))}
    if not linked_checks:
        return used
    linked = {k.lower(): v for k, v in LINKED.items()}
    for action in list(used):
        used |= linked.get(action.lower(), set())
    return used
