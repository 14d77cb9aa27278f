"""`reconcile status` shows the test VM (where: testVm) of the suite in progress, end to end on the frozen
sandbox: its name, the version it tests and since when, in the JSON and the text; and, once the pin has
moved on, that it is left to delete and why."""

from __future__ import annotations

import contextlib
import io
import json

from support.acceptance import write
from support.sandbox import sandbox_environ

from reconciler.cli import main
from reconciler.model.rollout import HOST_CREATED_TAG

from .test_acceptance_test_vm import TEST_VM, on_test_vm
from .test_acceptance_test_vm_cleanup import VM_ID, mid_suite


def status(sb, root, *extra: str) -> str:
    out = io.StringIO()
    with sandbox_environ(sb), contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["status", "hp-val", "--desired", str(root), *extra]) == 0
    return out.getvalue()


def test_status_shows_the_test_vm_running_the_suite_then_the_one_left_to_delete(frozen, tmp_path):
    root = mid_suite(frozen, tmp_path)
    since = frozen.get(VM_ID)["tags"][HOST_CREATED_TAG]
    [pool] = json.loads(status(frozen, root, "-o", "json"))["pools"]
    assert pool["test_vms"] == [
        {
            "name": TEST_VM,
            "version": "2.0.0",
            "since": since,
            "provisioning": "Succeeded",
            "state": "running",
            "reason": None,
        }
    ]
    assert f"test VM {TEST_VM}: acceptance of 2.0.0 running since {since} (Succeeded)" in status(frozen, root)
    on_test_vm(write(root, "1.0.0"))
    [pool] = json.loads(status(frozen, root, "-o", "json"))["pools"]
    assert [(v["state"], v["reason"]) for v in pool["test_vms"]] == [
        ("stale", "it tests 2.0.0, no longer the pool's pin (now 1.0.0)")
    ]
    assert f"test VM {TEST_VM} (2.0.0): to delete: it tests 2.0.0" in status(frozen, root)
    assert f"delete-test-vm {TEST_VM}" in " ".join(pool["next_step"])
