"""Checks that need more than one document (or the resolved graph): regions, pins, retention, rings, names.

All functions are pure: `(DesiredState) -> list[SpecError]`.
"""

from __future__ import annotations

from reconciler.spec.desired import DesiredState, retained_versions
from reconciler.spec.errors import SpecError
from reconciler.spec.host_name_range import computer_name_max, highest_reachable_index
from reconciler.spec.suggest import did_you_mean

TRUSTED_LAUNCH_FEATURES = {
    "trustedlaunch",
    "trustedlaunchsupported",
    "trustedlaunchandconfidentialvmsupported",
}
CONFIDENTIAL_FEATURES = {
    "confidentialvm",
    "confidentialvmsupported",
    "trustedlaunchandconfidentialvmsupported",
}


def check_target_regions(state: DesiredState) -> list[SpecError]:
    errors = []
    for version in state.image_versions:
        first: dict[str, int] = {}
        for i, region in enumerate(version.spec.target_regions):
            if region.name in first:
                errors.append(
                    version.raw.error(
                        ("spec", "targetRegions", i, "name"),
                        f"region {region.name!r} is listed twice (also targetRegions[{first[region.name]}])",
                    )
                )
            first.setdefault(region.name, i)
        home = version.definition.location
        if home not in first:
            errors.append(
                version.raw.error(
                    ("spec", "targetRegions"),
                    f"targetRegions must include the gallery's location {home!r} (Azure requires the source region)",
                )
            )
    return errors


def max_name_prefix(highest_index: int, os_type: str) -> int:
    """Longest name prefix for which `<prefix>-<highest_index>` still fits the OS's computer-name limit."""
    return computer_name_max(os_type) - 1 - len(str(highest_index))


def _check_name_range(pool) -> list[SpecError]:
    hosts, rollout = pool.spec.session_hosts, pool.spec.rollout
    batch = rollout.batch_hosts(hosts.count) if hosts.count else 1
    highest = highest_reachable_index(hosts.count, batch, rollout.failure_budget)
    longest = max_name_prefix(highest, pool.definition.spec.os_type)
    if len(hosts.name_prefix) <= longest:
        return []
    limit = computer_name_max(pool.definition.spec.os_type)
    return [
        pool.raw.error(
            ("spec", "sessionHosts", "namePrefix"),
            f"prefix {hosts.name_prefix!r} is too long: with count {hosts.count}, batch {batch} and failure "
            f"budget {rollout.failure_budget}, host names reach '{hosts.name_prefix}-{highest}' "
            f"({len(hosts.name_prefix) + 1 + len(str(highest))} characters) and must fit in {limit}, "
            f"so at most {longest} for the prefix",
        )
    ]


def check_host_pools(state: DesiredState) -> list[SpecError]:
    errors = []
    for pool in state.host_pools:
        errors += _check_pool_type(pool)
        hosts, definition = pool.spec.session_hosts, pool.definition
        errors += _check_name_range(pool)
        security = hosts.security_type
        wanted = {"TrustedLaunch": TRUSTED_LAUNCH_FEATURES, "ConfidentialVM": CONFIDENTIAL_FEATURES}.get(
            security
        )
        if wanted:
            feature = (definition.spec.feature("SecurityType") or "").lower()
            if definition.spec.hyper_v_generation != "V2" or feature not in wanted:
                errors.append(
                    pool.raw.error(
                        ("spec", "sessionHosts", "securityType"),
                        f"securityType {security} needs ImageDefinition {definition.key} to be hyperVGeneration V2 "
                        f"with feature SecurityType in ({', '.join(sorted(wanted))})",
                    )
                )
        errors += _check_pin(state, pool)
    return errors


def _check_pool_type(pool) -> list[SpecError]:
    spec = pool.spec
    if spec.host_pool_type == "Personal" and spec.load_balancer_type not in (None, "Persistent"):
        return [
            pool.raw.error(
                ("spec", "loadBalancerType"), "a Personal host pool uses loadBalancerType Persistent"
            )
        ]
    if spec.host_pool_type == "Pooled" and spec.load_balancer_type == "Persistent":
        msg = "a Pooled host pool uses BreadthFirst or DepthFirst load balancing"
        return [pool.raw.error(("spec", "loadBalancerType"), msg)]
    if spec.host_pool_type == "Pooled" and spec.personal_desktop_assignment_type is not None:
        msg = "personalDesktopAssignmentType applies to Personal host pools only"
        return [pool.raw.error(("spec", "personalDesktopAssignmentType"), msg)]
    return []


def _check_pin(state: DesiredState, pool) -> list[SpecError]:
    return [pool.raw.error(("spec", "image", "version"), msg) for msg in _pin_problems(state, pool)]


def _pin_problems(state: DesiredState, pool) -> list[str]:
    versions = state.versions_of(pool.definition)
    key = pool.definition.key
    if pool.pinned == "latest":
        if state.latest_version(pool.definition, pool.location) is None:
            return [
                f"'latest' has nothing to resolve to: {key} declares no ImageVersion that is not excluded from "
                f"latest in {pool.location}"
            ]
        return []
    pinned = next((v for v in versions if v.name == pool.pinned), None)
    if pinned is None:
        declared = ", ".join(v.name for v in versions) or "none"
        return [f"ImageVersion {pool.pinned} of {key} is not declared (declared: {declared})"]
    problems = []
    if pool.location not in {t.name for t in pinned.target_regions}:
        problems.append(
            f"version {pinned.name} is not replicated to the pool's region {pool.location!r}; "
            "add it to that version's targetRegions"
        )
    retention = pool.definition.spec.retention
    if retention.delete_after_end_of_life:
        kept = retained_versions(versions, retention.keep_newest)
        if pinned not in kept:
            newest = ", ".join(v.name for v in kept)
            problems.append(
                f"retention of {key} keeps only the newest {retention.keep_newest} ({newest}) and deletes older "
                f"versions after end-of-life; {pinned.name} would be deleted under this pin"
            )
    return problems


def check_rings(state: DesiredState, broken: set[str] = frozenset()) -> list[SpecError]:
    errors = []
    names = {p.name for p in state.host_pools}
    for pool in state.host_pools:
        after = pool.gate_after
        if after is None:
            continue
        path = ("spec", "rollout", "gate", "after")
        if after == pool.name:
            errors.append(pool.raw.error(path, "a host pool cannot be gated on itself"))
        elif after in broken:
            continue  # that pool's own errors already explain it
        elif after not in names:
            errors.append(pool.raw.error(path, f"unknown HostPool {after!r}{did_you_mean(after, names)}"))
        else:
            cycle = _cycle_from(state, pool.name)
            if cycle:
                errors.append(pool.raw.error(path, "ring gates form a cycle: " + " -> ".join(cycle)))
            other = state.host_pool(after)
            if other and other.definition is not pool.definition:
                runs = f"({other.definition.key}, not {pool.definition.key})"
                msg = f"gated on {after!r}, which runs a different image {runs}"
                errors.append(pool.raw.error(path, msg))
    return errors


def _cycle_from(state: DesiredState, start: str) -> list[str]:
    seen = [start]
    current = state.host_pool(start)
    while current and current.gate_after:
        nxt = current.gate_after
        if nxt == start:
            return [*seen, nxt]
        if nxt in seen:
            return []  # a cycle that does not pass through `start` is reported at its own members
        seen.append(nxt)
        current = state.host_pool(nxt)
    return []


def check_builds(state: DesiredState) -> list[SpecError]:
    errors = []
    for build in state.image_builds:
        source = build.spec.source.image_version
        if source is None:
            continue
        found = state.find_definitions(source.definition)
        path = ("spec", "source", "imageVersion")
        if len(found) != 1:
            what = "ambiguous" if found else "unknown"
            hint = (
                "" if found else did_you_mean(source.definition, _definition_names(state, source.definition))
            )
            errors.append(
                build.raw.error((*path, "definition"), f"{what} ImageDefinition {source.definition!r}{hint}")
            )
        elif source.version != "latest" and source.version not in {
            v.name for v in state.versions_of(found[0])
        }:
            declared = [v.name for v in state.versions_of(found[0])]
            errors.append(
                build.raw.error(
                    (*path, "version"),
                    f"ImageVersion {source.version} of {found[0].key} is not declared"
                    f"{did_you_mean(source.version, declared)}",
                )
            )
    for build in state.image_builds:
        errors += _check_release(state, build)
    for version in state.image_versions:
        if version.build and version.definition.spec.os_type == "Linux":
            steps = [
                s.type
                for s in version.build.spec.customize
                if s.type.startswith("Windows") or s.type == "PowerShell"
            ]
            if steps:
                errors.append(
                    version.raw.error(
                        ("spec", "source", "build"),
                        f"build {version.build.name!r} has Windows steps ({steps[0]}) but {version.definition.key} is Linux",
                    )
                )
    return errors


def _check_release(state: DesiredState, build) -> list[SpecError]:
    """The release template (`reconcile release` writes versions from it) names one definition and includes
    its gallery's region, as every ImageVersion must."""
    release = build.spec.release
    if release is None:
        return []
    found = state.find_definitions(release.definition)
    if len(found) != 1:
        what = "ambiguous" if found else "unknown"
        hint = "" if found else did_you_mean(release.definition, _definition_names(state, release.definition))
        return [
            build.raw.error(
                ("spec", "release", "definition"), f"{what} ImageDefinition {release.definition!r}{hint}"
            )
        ]
    home = found[0].location
    if home not in {r.name for r in release.target_regions}:
        return [
            build.raw.error(
                ("spec", "release", "targetRegions"),
                f"targetRegions must include the gallery's location {home!r} (Azure requires the source region)",
            )
        ]
    return []


def _definition_names(state: DesiredState, ref: str) -> list[str]:
    return [d.key if "/" in ref else d.name for d in state.image_definitions]


def cross_check(state: DesiredState, broken_pools: set[str] = frozenset()) -> list[SpecError]:
    """Every cross-document check. `broken_pools`: host pools that failed validation (not re-reported)."""
    return [
        *check_target_regions(state),
        *check_host_pools(state),
        *check_rings(state, broken_pools),
        *check_builds(state),
    ]
