"""References into the landing zone: what desired state points at but never creates, and whether it is there.

A reference is a subnet (host pools' `sessionHosts.subnetId`, image builds' `subnetId`), a user-assigned
identity (image builds' `identity`), a staging resource group (image builds' `stagingResourceGroup`), a Key
Vault secret (host pools' `localAdmin.password` and `join.password`) or the VM an image version is captured
from (`source.virtualMachineId`: for a Generalized definition it must be deallocated and generalized until
the version exists). The reconciler creates none of them: a
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


SOURCE_VM = "source VM"
KEY_VAULT_SECRET = "Key Vault secret"
# What to do when the VM a Generalized definition's version is captured from is not ready (azure-docs
# virtual-machines/generalize.md; Sysprep's own log of why it failed is setuperr.log in Panther).
NOT_GENERALIZED_HINT = (
    "inside the VM run `sysprep /oobe /generalize /shutdown` (if it fails, read "
    r"C:\Windows\System32\Sysprep\Panther\setuperr.log), then `az vm deallocate` and `az vm generalize`; "
    "a generalized VM can never be started again"
)


@dataclass(frozen=True)
class Reference:
    what: str  # "subnet", "user-assigned identity", "staging resource group", KEY_VAULT_SECRET, SOURCE_VM
    resource_id: str  # the id that is read
    origin: str  # desired file:line of the field
    owner: str  # e.g. "HostPool hp-a: spec.sessionHosts.subnetId"
    note: str = ""  # added to a "does not exist" error
    version_id: str = ""  # SOURCE_VM only: the version captured from it (judged only while it is absent)
    generalized: bool = False  # SOURCE_VM only: its definition is Generalized, so the VM must be too


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
    for version in desired.image_versions:
        vm_id = version.spec.source.virtual_machine_id
        if vm_id:
            path = "spec.source.virtualMachineId"
            out.append(
                Reference(
                    SOURCE_VM,
                    vm_id,
                    version.origin(path),
                    f"ImageVersion {version.key}: {path}",
                    version_id=version.arm_id,
                    generalized=version.definition.spec.os_state == "Generalized",
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
                _secret_reference(
                    _vault_id(pool, secret),
                    secret.secret_name,
                    pool.origin(path),
                    f"HostPool {pool.name}: {path}",
                    note,
                )
            )
    out += _acceptance_secrets(desired)
    return out


def _acceptance_secrets(desired: DesiredState) -> list[Reference]:
    """A test VM's subnet, and acceptance tests' secrets given by `vaultId`: checked like a pool's. A bare `vaultName` names no
    resource group (the suite belongs to a definition, not to a pool), so it is only read when a test runs."""
    out: list[Reference] = []
    for definition in desired.image_definitions:
        suite = definition.spec.acceptance
        if suite is not None and suite.test_vm is not None:
            path = "spec.acceptance.where.testVm.subnetId"
            out.append(
                Reference(
                    "subnet",
                    suite.test_vm.subnet_id,
                    definition.origin(path),
                    f"ImageDefinition {definition.key}: {path}",
                )
            )
        for i, test in enumerate(suite.tests if suite else ()):
            refs = [(f"parameters.{name}", value) for name, value in test.parameters.items() if value.secret]
            if test.run_as is not None:
                refs.append(("runAs.password", test.run_as.password))
            for part, ref in refs:
                secret = ref.key_vault_secret
                if not secret.vault_id:
                    continue
                path = f"spec.acceptance.tests[{i}].{part}.keyVaultSecret"
                owner = f"ImageDefinition {definition.key}: acceptance test {test.name}: {part}"
                out.append(
                    _secret_reference(secret.vault_id, secret.secret_name, definition.origin(path), owner)
                )
    return out


def _secret_reference(vault_id: str, secret_name: str, origin: str, owner: str, note: str = "") -> Reference:
    """One shape for a pool's and an acceptance test's secret, so both are read and judged alike."""
    return Reference(KEY_VAULT_SECRET, f"{vault_id}/secrets/{secret_name}", origin, owner, note)


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
        if ref.what == SOURCE_VM and ctx.observed.get(ref.version_id) is not None:
            continue  # captured already: Azure keeps a version whose VM is gone, and so do we
        if read is not None and read.found and ref.what == SOURCE_VM:
            out.diagnostics.extend(_source_vm_not_ready(ref, read.statuses))
        if read is None or read.found:
            continue
        if read.missing:
            problem = "does not exist"
            if ref.what == KEY_VAULT_SECRET and read.code.lower() in ("parentresourcenotfound",):
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


def _source_vm_not_ready(ref: Reference, statuses: tuple[str, ...]) -> list[Diagnostic]:
    """A Generalized definition's version is captured only from a VM that is deallocated and generalized:
    Compute refuses anything else (409 OperationNotAllowed), so say so, and how to fix it, before any write.
    A Specialized definition takes the VM as it is."""
    codes = {s.lower() for s in statuses}
    wanted = (("deallocated", "powerstate/deallocated"), ("generalized", "osstate/generalized"))
    missing = [part for part, code in wanted if code not in codes]
    if not ref.generalized or not missing:
        return []
    return [
        Diagnostic(
            Severity.ERROR,
            ref.resource_id,
            f"{ref.origin}: {ref.what} {ref.resource_id} is not {' and '.join(missing)}; {ref.owner} is "
            f"captured from it: {NOT_GENERALIZED_HINT}",
            ref.origin,
        )
    ]
