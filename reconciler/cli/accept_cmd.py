"""`reconcile accept VERSION --rerun | --force --reason "…"`: a person's word on an image version's acceptance.

- `--rerun` removes the version's acceptance tags (the suite's verdict, every test's outcome, the failure
  excerpt), so the next apply runs the whole suite again on the validation pool;
- `--force --reason "…"` tags the version `forced` with the reason: it counts as accepted everywhere (rings
  open after the soak, `latest` may resolve to it). The failure excerpt goes; the history keeps it.
Both then delete the suite's run commands still on the host that ran it (a suite running when the person
decided): a forced version's suite is never looked at again, and a rerun must not find an old result.
Both are appended to the state store's history (kind `accept`) with who, when (server time), the reason and
the verdict they replaced, under the apply lock, so no apply writes the same tags meanwhile.
VERSION is the version's ARM id or `gallery/definition/1.2.3` (resolved through desired/).
Exit codes: 0 done, 1 error (nothing changed).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from reconciler.cli.exits import EXIT_OK
from reconciler.cli.options import add_azure_connection, fail
from reconciler.model.acceptance import (
    ACCEPT_TEST_TAG_PREFIX,
    ACCEPTANCE_FAILURE_TAG,
    ACCEPTANCE_TAG,
    RUN_COMMAND_PREFIX,
    Acceptance,
    AcceptanceState,
    acceptance_of,
)
from reconciler.spec import DesiredStateError, load_desired
from reconciler.store import LocalStore, LockHeld, StoreError

REASON_LIMIT = 200  # the tag value holds state, time and host too (256 characters in all)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "accept",
        help="re-run an image version's acceptance tests, or force-accept it with a reason",
        description="--rerun: remove VERSION's acceptance tags so the next apply runs its tests again. "
        '--force --reason "…": mark VERSION accepted by a person. Both are recorded in the history.',
    )
    p.add_argument("version", metavar="VERSION", help="image version ARM id, or gallery/definition/1.2.3")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--rerun", action="store_true", help="run the acceptance tests again on the next apply")
    how.add_argument("--force", action="store_true", help="accept the version without (passing) tests")
    p.add_argument("--reason", help="why (required with --force; recorded in the history)")
    p.add_argument(
        "--by",
        default=os.environ.get("RECONCILE_ACTOR"),
        help="who, for the history (default: $RECONCILE_ACTOR or the login name)",
    )
    p.add_argument(
        "--desired", default="desired", metavar="DIR", help="desired-state directory (default: ./desired)"
    )
    p.add_argument(
        "--state",
        default=os.environ.get("RECONCILE_STATE", "state"),
        metavar="DIR",
        help="state directory: lock and history (default: ./state)",
    )
    add_azure_connection(p)
    p.set_defaults(func=run)


def version_id(ref: str, desired_dir: str) -> str:
    """The ARM id VERSION names; ValueError with a one-line reason when it names none."""
    ref = ref.strip()
    if ref.lower().startswith("/subscriptions/"):
        if "/versions/" not in ref.lower() or "/galleries/" not in ref.lower():
            raise ValueError(f"{ref} is not an image version id (…/galleries/G/images/D/versions/X.Y.Z)")
        return ref.rstrip("/")
    parts = ref.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"VERSION {ref!r}: give an image version ARM id or gallery/definition/1.2.3")
    try:
        desired = load_desired(desired_dir)
    except DesiredStateError as exc:
        raise ValueError(
            f"cannot resolve {ref}: {desired_dir} does not load ({len(exc.errors)} error(s))"
        ) from None
    definition = desired.image_definition(f"{parts[0]}/{parts[1]}")
    if definition is None:
        raise ValueError(f"VERSION {ref!r}: no ImageDefinition {parts[0]}/{parts[1]} in {desired_dir}")
    return f"{definition.arm_id}/versions/{parts[2]}"


def run(args: argparse.Namespace) -> int:
    reason = (args.reason or "").strip()
    if args.force and not reason:
        return fail('--force needs --reason "…": a forced acceptance must say why')
    if len(reason) > REASON_LIMIT:
        return fail(f"--reason is {len(reason)} characters; at most {REASON_LIMIT} fit in the version's tag")
    try:
        vid = version_id(args.version, args.desired)
    except ValueError as exc:
        return fail(str(exc))
    store = LocalStore(args.state)
    try:
        lease = store.acquire("apply", owner="reconcile accept")
    except LockHeld as exc:
        return fail(f"an apply is running: {exc}")
    except StoreError as exc:
        return fail(f"state store {args.state}: {exc}")
    try:
        return _locked(args, store, vid, reason)
    finally:
        store.release(lease)


def _locked(args: argparse.Namespace, store, vid: str, reason: str) -> int:
    from reconciler.azure.connection import Connection, ConnectionSettings, describe_error
    from reconciler.azure.image_version_tags import VersionNotFound, VersionTags
    from reconciler.azure.writes import HttpResponseError

    who = args.by or getpass.getuser()
    settings = ConnectionSettings.from_env(arm_endpoint=args.arm_endpoint, ca_bundle=args.ca_bundle)
    with Connection(settings) as conn:
        tags = VersionTags(conn)  # the PATCH is started, not waited for (an LRO of seconds on Azure)
        try:
            before = tags.read(vid)
            now = conn.meter.last_server_time
            if now is None:
                raise RuntimeError("the service sent no Date header")
            previous = acceptance_of(before)
            if args.rerun:
                gone = tuple(
                    k for k in before if k in _ACCEPTANCE_KEYS or k.startswith(ACCEPT_TEST_TAG_PREFIX)
                )
                tags.merge(vid, {}, remove=gone)
                action, told = "rerun", "acceptance tags removed: the next apply runs its tests again"
            else:
                verdict = Acceptance(AcceptanceState.FORCED, now.isoformat(), "", f"{who}: {reason}")
                tags.merge(vid, {ACCEPTANCE_TAG: verdict.to_tag()}, remove=(ACCEPTANCE_FAILURE_TAG,))
                action, told = "force", "accepted by hand"
        except VersionNotFound:
            return fail(f"image version {vid} does not exist")
        except HttpResponseError as exc:
            if exc.status_code == 409:  # an apply's tag PATCH (or a replication) still in flight on it
                return fail(f"image version {vid} is being updated; nothing changed, try again in a minute")
            return fail(f"image version {vid}: {describe_error(exc)}")
        except Exception as exc:  # noqa: BLE001 -- sign-in and connection errors: one line, no traceback
            return fail(describe_error(exc))
        try:
            deleted = _delete_run_commands(conn, vid, previous, args.desired)
        except Exception as exc:  # noqa: BLE001 -- the verdict is written: say what is left, do not undo it
            deleted = []
            sys.stderr.write(
                f"warning: {told}, but its run commands on {previous.host} could not be deleted "
                f"({describe_error(exc)}); the next apply deletes them\n"
            )
    entry = {
        "kind": "accept",
        "action": action,
        "recorded_at": now.isoformat(),
        "version": vid,
        "by": who,
        "reason": reason or None,
        "previous": previous.state.value if previous else None,
        "previous_failure": before.get(ACCEPTANCE_FAILURE_TAG),
        "deleted_run_commands": deleted,
        "succeeded": True,
    }
    try:
        store.append_history(entry)
    except StoreError as exc:
        return fail(f"{vid}: {told}, but the history could not be written: {exc}")
    print(f"{vid}: {told} (by {who}{', ' + reason if reason else ''})")
    return EXIT_OK


_ACCEPTANCE_KEYS = frozenset({ACCEPTANCE_TAG, ACCEPTANCE_FAILURE_TAG})


def _delete_run_commands(conn, vid: str, previous: Acceptance | None, desired_dir: str) -> list[str]:
    """Start deleting the suite's run commands on the host the verdict names, in each validation pool of the
    version's definition (the VM lives in its pool's resource group); the ids whose delete was started."""
    from reconciler.azure.run_commands import RunCommands
    from reconciler.azure.writes import ResourceNotFoundError
    from reconciler.model.observed import norm_id

    if previous is None or not previous.host:
        return []
    try:
        desired = load_desired(desired_dir)
    except DesiredStateError:
        return []  # nothing says where the host is; the next apply deletes them (engine/actions/acceptance)
    definition_id = norm_id(vid.rsplit("/versions/", 1)[0])
    runs, deleted = RunCommands(conn), []
    for pool in desired.host_pools:
        if norm_id(pool.definition.arm_id) != definition_id or not desired.is_validation(pool):
            continue
        rg = pool.arm_id.split("/providers/", 1)[0]
        vm_id = f"{rg}/providers/Microsoft.Compute/virtualMachines/{previous.host}"
        try:
            found = runs.list(vm_id)
        except ResourceNotFoundError:
            continue  # the host is gone, and its run commands with it
        for run in found:
            if run.name.startswith(RUN_COMMAND_PREFIX) and run.provisioning_state != "Deleting":
                runs.delete(vm_id, run.name)
                deleted.append(f"{vm_id}/runCommands/{run.name}")
    return deleted
