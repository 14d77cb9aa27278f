"""The container and Kubernetes manifests agree with the controller: entrypoint, probes, replicas, PDB."""

from __future__ import annotations

import yaml

from .gitrepo import REPO

K8S = REPO / "deploy" / "kubernetes"


def docs(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())


def test_dockerfile_runs_reconcile_run_as_non_root():
    text = (REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["reconcile", "run"]' in text
    assert "USER 10001" in text and "-slim" in text


def test_deployment_two_replicas_probes_on_our_endpoints_and_workload_identity():
    dep = docs("deployment.yaml")
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["spec"]["serviceAccountName"] == docs("serviceaccount.yaml")["metadata"]["name"]
    container = pod["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert any(a.startswith("--state=blob:") for a in container["args"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert docs("pdb.yaml")["spec"]["minAvailable"] == 1


def test_the_manifest_flags_exist():
    from reconciler.cli import build_parser

    parser = build_parser()
    container = docs("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    sidecar = yaml.safe_load((K8S / "git-sync" / "sidecar.yaml").read_text())
    args = container["args"] + sidecar["spec"]["template"]["spec"]["containers"][0]["args"]
    for arg in args:
        parser.parse_args(["run", arg])  # raises SystemExit on an unknown flag
