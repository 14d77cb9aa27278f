"""References into the landing zone: what desired state points at but never creates, and whether it is there.

A reference is a subnet (host pools' `sessionHosts.subnetId`, image builds' `subnetId`), a user-assigned
identity (image builds' `identity`), a staging resource group (image builds' `stagingResourceGroup`) or a Key
Vault secret (host pools' `localAdmin.password` and `join.password`). The reconciler creates none of them: a
landing zone owns them (role assignments, address plans, secret rotation). `reference_ids(desired)` is what the
observer reads (one GET each, deduplicated); `check_references(ctx)` turns a missing or unreadable one into an
error diagnostic that names the desired file:line and the resource id, so the plan stops before any write.

A Key Vault secret is read through ARM as `<vault id>/secrets/<name>` (metadata only, never the value). A bare
`vaultName` means a vault in the pool's own subscription and resource group — the same id the domain-join
extension is given (`reconciler.azure.hosts_body.vault_id`); give `vaultId` for a vault elsewhere.

Only references that were read are judged: an observation made without `scope.references` (a benchmark, a
saved plan's re-observation) checks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.observed import norm_id
from reconciler.model.plan import Diagnostic, Severity
from reconciler.planner.context import Context
from reconciler.planner.diff import Outcome
from reconciler.spec.desired import DesiredState

BARE_VAULT_NOTE = (
    "a bare vaultName means a vault in the pool's own resource group; give vaultId for one elsewhere"
)


@dataclass(frozen=True)
class Reference:
    what: str  # "subnet", "user-assigned identity", "staging resource group", "Key Vault secret"
    resource_id: str  # the id that is read
    origin: str  # desired file:line of the field
    owner: str  # e.g. "HostPool hp-a: spec.sessionHosts.subnetId"
    note: str = ""  # added to a "does not exist" error


def _vault_id(pool, secret) -> str:
    if secret.vault_id:
        return secret.vault_id
    return (
        f"/subscriptions/{pool.subscription_id}/resourceGroups/{pool.resource_group}"
        f"/providers/Microsoft.KeyVault/vaults/{secret.vault_name}"
    )


def references(desired: DesiredState) -> list[Reference]:
    """Every landing-zone reference of desired state, in document order (duplicates kept: each has an origin)."""
    out: list[Reference] = []
    for build in desired.image_builds:
        spec = build.spec
        fields = (
            ("user-assigned identity", "identity", spec.identity),
            ("subnet", "subnetId", spec.subnet_id),
            ("staging resource group", "stagingResourceGroup", spec.staging_resource_group),
        )
        for what, name, value in fields:
            if value:
                out.append(
                    Reference(
                        what, value, build.origin(f"spec.{name}"), f"ImageBuild {build.name}: spec.{name}"
                    )
                )
    for pool in desired.host_pools:
        hosts = pool.spec.session_hosts
        out.append(
            Reference(
                "subnet",
                hosts.subnet_id,
                pool.origin("spec.sessionHosts.subnetId"),
                f"HostPool {pool.name}: spec.sessionHosts.subnetId",
            )
        )
        secrets = [("localAdmin", hosts.local_admin.password)]
        if getattr(hosts.join, "password", None) is not None:
            secrets.append(("join", hosts.join.password))
        for part, ref in secrets:
            secret = ref.key_vault_secret
            path = f"spec.sessionHosts.{part}.password.keyVaultSecret"
            note = BARE_VAULT_NOTE if secret.vault_name else ""
            out.append(
                Reference(
                    "Key Vault secret",
                    f"{_vault_id(pool, secret)}/secrets/{secret.secret_name}",
                    pool.origin(path),
                    f"HostPool {pool.name}: {path}",
                    note,
                )
            )
    return out


def reference_ids(desired: DesiredState) -> tuple[str, ...]:
    """The ids to read, each once (case-insensitively), sorted."""
    unique = {norm_id(r.resource_id): r.resource_id for r in references(desired)}
    return tuple(unique[k] for k in sorted(unique))


def check_references(ctx: Context) -> Outcome:
    out = Outcome()
    reads = ctx.observed.references
    if not reads:
        return out
    for ref in references(ctx.desired):
        read = reads.get(norm_id(ref.resource_id))
        if read is None or read.found:
            continue
        if read.missing:
            problem = "does not exist"
            if ref.what == "Key Vault secret" and read.code.lower() in ("parentresourcenotfound",):
                problem = "does not exist (its vault does not)"
        else:
            problem = f"cannot be read: {read.status} {read.code}".rstrip()
        hint = f" ({ref.note})" if ref.note and read.missing else ""
        out.diagnostics.append(
            Diagnostic(
                Severity.ERROR,
                ref.resource_id,
                f"{ref.origin}: {ref.what} {ref.resource_id} {problem}; {ref.owner} refers to it{hint}",
                ref.origin,
            )
        )
    return out
