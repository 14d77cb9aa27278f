"""How far the host-name generator (planner/host_names.py `next_name`) can count, so validate can check its names.

The VM name is also the Windows computerName, which Azure refuses beyond 15 characters: 400 InvalidParameter
"Windows computer name cannot be more than 15 characters long, be entirely numeric, or contain the following
characters: ..." with target computerName (the body `az vm create` prints, quoted on GitHub; Microsoft's
naming-rules doc for Microsoft.Compute/virtualMachines: Windows 1-15 characters).
"""

from __future__ import annotations

WINDOWS_COMPUTER_NAME_MAX = 15
OTHER_COMPUTER_NAME_MAX = 64


def highest_reachable_index(count: int, batch: int, failure_budget: int) -> int:
    """The largest n in `<prefix>-<n>` the generator can return for a pool of `count` hosts.

    It picks the smallest free index, which is at most the number of `<prefix>-*` names in use when a host is
    created. Creations stop at count + surge hosts (surge ≤ batch); failed hosts keep their names until they are
    cleaned, at most the failure budget of them beyond that room. So at most count + batch + failure_budget names
    are taken and the next free index is never above that number.
    """
    return max(count, 1) + max(batch, 0) + max(failure_budget, 0)


def computer_name_max(os_type: str) -> int:
    return WINDOWS_COMPUTER_NAME_MAX if os_type == "Windows" else OTHER_COMPUTER_NAME_MAX
