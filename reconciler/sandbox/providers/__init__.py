"""Resource providers of the sandbox. ``install(app)`` registers every resource type and its hooks."""

from __future__ import annotations

from typing import Any


def install(app: Any) -> None:
    from . import (
        avd,
        avd_hosts,
        compute_extensions,
        compute_gallery,
        compute_other,
        compute_versions,
        compute_vm,
        imagebuilder,
        landing,
        network,
        resources,
        run_commands,
    )

    for module in (
        resources,
        network,
        landing,
        compute_gallery,
        compute_versions,
        compute_other,
        compute_vm,
        compute_extensions,
        run_commands,
        imagebuilder,
        avd,
        avd_hosts,
    ):
        module.install(app)
