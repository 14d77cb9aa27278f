"""The image and the Kubernetes manifests agree with the controller and with Kubernetes.

Both variants (`deploy/kubernetes`, and `deploy/kubernetes/git-sync` after its overlay is rendered) validate
against the Kubernetes OpenAPI schemas shipped in `kubernetes-validate` (strict: an unknown field, e.g. a
misspelt `readOnlyRootFilesytem`, is an error), for the newest version it ships and the two minors before it.
The overlay is rendered by `kustomize build` when it is installed, else by `render()` below: resources (files
and folders), `namespace`, and strategic-merge `patches` with the merge keys the manifests use. `render()`
refuses any kustomization key it does not implement, so it cannot silently drop part of an overlay.
The image itself is exercised by scripts/container-smoke.sh (built, run, probed; not part of pytest).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kv

from .gitrepo import REPO

K8S = REPO / "deploy" / "kubernetes"
VARIANTS = {"git-clone": K8S, "git-sync": K8S / "git-sync"}
UID = 10001
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Strategic-merge keys of the lists our manifests patch (k8s.io/api patchMergeKey); other lists are replaced.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "resources", "patches"}


def merge(base: Any, patch: Any, key: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base[k], v, k) if k in base else v
        return out
    if isinstance(base, list) and isinstance(patch, list) and key in MERGE_KEYS:
        mk = MERGE_KEYS[key]
        out = list(base)
        for item in patch:
            at = next((i for i, b in enumerate(out) if b.get(mk) == item.get(mk)), None)
            if at is None:
                out.append(item)
            else:
                out[at] = merge(out[at], item)
        return out
    return patch


def render(folder: Path) -> list[dict]:
    """A minimal `kustomize build FOLDER` for the kustomizations in deploy/kubernetes."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    assert not unknown, (
        f"{folder}: render() does not implement {sorted(unknown)}; extend it or install kustomize"
    )
    objects: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = (folder / entry).resolve()
        if path.is_dir():
            objects += render(path)
        else:
            objects += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for patch_entry in kustomization.get("patches", []):
        assert set(patch_entry) == {"path"}, f"only file patches are implemented: {patch_entry}"
        patch = yaml.safe_load((folder / patch_entry["path"]).read_text())
        targets = [
            i
            for i, o in enumerate(objects)
            if o["kind"] == patch["kind"] and o["metadata"]["name"] == patch["metadata"]["name"]
        ]
        assert len(targets) == 1, f"patch {patch_entry['path']} matches {len(targets)} objects"
        objects[targets[0]] = merge(objects[targets[0]], patch)
    if "namespace" in kustomization:
        for o in objects:
            if o["kind"] not in CLUSTER_SCOPED:
                o["metadata"] = {**o["metadata"], "namespace": kustomization["namespace"]}
    return objects


def build(folder: Path) -> list[dict]:
    tool = shutil.which("kustomize")
    if tool:
        out = subprocess.run([tool, "build", str(folder)], capture_output=True, text=True, check=True).stdout
        return [d for d in yaml.safe_load_all(out) if d]
    return render(folder)


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request) -> tuple[str, list[dict]]:
    return request.param, build(VARIANTS[request.param])


def one(objects: list[dict], kind: str) -> dict:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def containers(objects: list[dict]) -> dict[str, dict]:
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    return {c["name"]: c for c in pod["containers"]}


def flag(args: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"{name}=")]
    assert len(values) == 1, f"{name} given {len(values)} times in {args}"
    return values[0]


def k8s_versions() -> list[str]:
    newest = kv.major_minor(kv.latest_version())
    major, minor = (int(p) for p in newest.split("."))
    return [f"{major}.{m}" for m in range(minor - 2, minor + 1)]


def test_render_merges_lists_by_their_merge_keys():
    base = {
        "spec": {
            "containers": [{"name": "a", "args": ["x", "y"], "volumeMounts": [{"mountPath": "/t"}]}],
            "volumes": [{"name": "t"}],
        }
    }
    patch = {
        "spec": {
            "containers": [
                {"name": "a", "args": ["z"], "volumeMounts": [{"mountPath": "/g"}]},
                {"name": "b"},
            ],
            "volumes": [{"name": "g"}],
        }
    }
    assert merge(base, patch) == {
        "spec": {
            "containers": [
                {"name": "a", "args": ["z"], "volumeMounts": [{"mountPath": "/t"}, {"mountPath": "/g"}]},
                {"name": "b"},
            ],
            "volumes": [{"name": "t"}, {"name": "g"}],
        }
    }


@pytest.mark.parametrize("version", k8s_versions())
def test_manifests_validate_against_the_kubernetes_schemas(variant, version):
    name, objects = variant
    assert {o["kind"] for o in objects} == {
        "Namespace",
        "ServiceAccount",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    }
    for o in objects:
        try:
            kv.validate(o, version, strict=True)
        except kv.ValidationError as exc:
            first = str(exc).splitlines()[0]
            pytest.fail(
                f"{name}: {o['kind']}/{o['metadata']['name']} is invalid for Kubernetes {version}: {first}"
            )


def test_the_version_validated_is_current():
    assert tuple(int(p) for p in k8s_versions()[-1].split(".")) >= (1, 33)


def test_every_container_is_locked_down_and_has_resources(variant):
    name, objects = variant
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    pod_sc = pod["securityContext"]
    assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] == UID and pod_sc["fsGroup"] == UID
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    for c in pod["containers"]:
        sc = c["securityContext"]
        assert sc.get("runAsNonRoot", pod_sc["runAsNonRoot"]) is True, c["name"]
        assert sc.get("runAsUser", pod_sc["runAsUser"]) != 0, c["name"]
        assert sc["readOnlyRootFilesystem"] is True, c["name"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add"), c["name"]
        assert sc.get("privileged", False) is False, c["name"]
        assert {"cpu", "memory"} <= set(c["resources"]["requests"]), c["name"]
        assert "memory" in c["resources"]["limits"], c["name"]
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert "/tmp" in mounts, f"{name}/{c['name']}: /tmp must be a volume on a read-only root"
    volumes = {v["name"] for v in pod["volumes"]}
    for c in pod["containers"]:
        assert {m["name"] for m in c["volumeMounts"]} <= volumes, c["name"]


def test_the_controller_writes_only_to_volumes(variant):
    _, objects = variant
    c = containers(objects)["reconciler"]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    home = re.search(r"HOME=(\S+)", (REPO / "Dockerfile").read_text()).group(1)
    assert home in mounts and not mounts[home].get("readOnly"), "HOME (ssh known_hosts) must be writable"
    workdir = [a.split("=", 1)[1] for a in c["args"] if a.startswith("--workdir=")]
    for path in workdir:
        assert any(path.startswith(m + "/") and not mounts[m].get("readOnly") for m in mounts), path
    state = flag(c["args"], "--state")
    assert state.startswith("blob:"), "a pod's state lives in Blob Storage (two replicas share the lease)"


def test_probes_hit_our_endpoints_on_the_listen_port(variant):
    _, objects = variant
    c = containers(objects)["reconciler"]
    port = int(flag(c["args"], "--listen").rsplit(":", 1)[1])
    assert flag(c["args"], "--listen").startswith("0.0.0.0:")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["http"] == port
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # The startup probe covers a first clone and observe (2 min) before liveness may restart the pod.
    assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] >= 120
    pod = one(objects, "Deployment")["spec"]["template"]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    service = one(objects, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_workload_identity_labels_and_annotations(variant):
    _, objects = variant
    dep, sa = one(objects, "Deployment"), one(objects, "ServiceAccount")
    pod = dep["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    assert UUID.match(sa["metadata"]["annotations"]["azure.workload.identity/client-id"])
    assert (
        sa["metadata"]["namespace"]
        == dep["metadata"]["namespace"]
        == one(objects, "Namespace")["metadata"]["name"]
    )
    # No secret for Azure sign-in: workload identity injects AZURE_FEDERATED_TOKEN_FILE and friends.
    env = {e["name"] for c in pod["spec"]["containers"] for e in c.get("env", [])}
    assert not env & {"AZURE_CLIENT_SECRET", "AZURE_STORAGE_CONNECTION_STRING"}


def test_two_replicas_a_pdb_and_time_to_finish_in_flight_calls(variant):
    _, objects = variant
    dep = one(objects, "Deployment")
    assert dep["spec"]["replicas"] == 2
    assert one(objects, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
    assert (
        dep["spec"]["selector"]["matchLabels"].items()
        <= dep["spec"]["template"]["metadata"]["labels"].items()
    )


def test_the_git_sync_variant_reads_the_synced_worktree():
    c = containers(build(VARIANTS["git-sync"]))
    reconciler, sync = c["reconciler"], c["git-sync"]
    assert not any(a.startswith("--git-url") for a in reconciler["args"]), (
        "the overlay replaces the clone flags"
    )
    desired = flag(reconciler["args"], "--desired")
    root, link = flag(sync["args"], "--root"), flag(sync["args"], "--link")
    assert desired.startswith(f"{root}/{link}/")
    shared = {m["name"] for m in reconciler["volumeMounts"] if desired.startswith(m["mountPath"] + "/")}
    assert shared and shared <= {m["name"] for m in sync["volumeMounts"]}


def test_dockerfile_takes_its_base_and_runs_reconcile_run_as_the_pods_user():
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE=python:3\.11-slim$", text, re.M)
    assert text.count("FROM ${BASE}") == 3, (
        "every stage on the same base: the venv's interpreter link resolves"
    )
    assert 'ENTRYPOINT ["reconcile", "run"]' in text
    assert f"USER {UID}:{UID}" in text
    assert "PATH=/opt/venv/bin:" in text
    for tool in ("git", "openssh-client", "ca-certificates"):
        assert tool in text
    pod = one(render(K8S), "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == UID
    ignore = [line for line in (REPO / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    assert ignore[0] == "*" and "!reconciler/" in ignore, ".dockerignore is an allowlist"


def test_the_manifest_flags_exist(variant):
    from reconciler.cli import build_parser

    parser = build_parser()
    for arg in containers(variant[1])["reconciler"]["args"]:
        parser.parse_args(["run", arg])  # raises SystemExit on an unknown flag
