from datetime import timedelta

from reconciler.engine import Failed, WaitUntil, build_recap, execute
from reconciler.engine.graph import NodeView
from reconciler.engine.outcome import changed, ok

from .conftest import T0, Script


def test_recap_counts_per_kind_like_ansible(clock):
    graph = [
        NodeView("gallery/a", "gallery"),
        NodeView("gallery/b", "gallery"),
        NodeView("definition/a1", "image_definition", frozenset({"gallery/a"})),
        NodeView("build/a1", "image_build", frozenset({"definition/a1"})),
        NodeView("version/a1", "image_version", frozenset({"build/a1"})),
        NodeView("version/b1", "image_version", frozenset({"gallery/b"})),
        NodeView("pool/p", "host_pool"),
    ]
    script = Script(
        {
            "gallery/a": [ok()],
            "gallery/b": [changed()],
            "definition/a1": [changed()],
            "build/a1": [Failed("customizer failed", "BuildFailed")],
            "version/b1": [WaitUntil(T0 + timedelta(hours=2), "replicating")],
            "pool/p": [ok()],
        }
    )
    report = execute(graph, script, clock=clock.now, sleeper=clock.sleep, max_wait=timedelta(minutes=30))
    recap = build_recap(report).to_dict()

    zero = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "waiting": 0, "pending": 0}
    assert recap["kinds"] == {
        "gallery": zero | {"ok": 2, "changed": 1},
        "host_pool": zero | {"ok": 1},
        "image_build": zero | {"failed": 1},
        "image_definition": zero | {"ok": 1, "changed": 1},
        "image_version": zero | {"skipped": 1, "waiting": 1},
    }
    assert list(recap["kinds"]) == sorted(recap["kinds"])
    assert recap["totals"] == {"ok": 4, "changed": 2, "failed": 1, "skipped": 1, "waiting": 1, "pending": 0}
    assert recap["failures"] == [
        {
            "id": "build/a1",
            "kind": "image_build",
            "why": "customizer failed",
            "error_code": "BuildFailed",
            "reason_code": "error",
        }
    ]
    assert recap["skipped"] == [
        {
            "id": "version/a1",
            "kind": "image_version",
            "why": "dependency build/a1 failed: customizer failed",
            "reason_code": "dependency-failed",
        }
    ]
    assert recap["unfinished"] == [
        {
            "id": "version/b1",
            "kind": "image_version",
            "status": "waiting",
            "why": "replicating",
            "resume_at": "2026-01-01T14:00:00+00:00",
            "reason_code": "waiting",
        }
    ]
    assert recap["complete"] is False and recap["succeeded"] is False


def test_report_and_recap_are_json_serialisable(clock):
    import json

    report = execute(
        [NodeView("a", "k")], Script({"a": [changed("made")]}), clock=clock.now, sleeper=clock.sleep
    )
    json.dumps(report.to_dict())
    assert json.loads(json.dumps(build_recap(report).to_dict()))["totals"]["changed"] == 1
    assert report.to_dict()["results"][0]["outcome"] == {
        "outcome": "changed",
        "detail": "made",
        "reason_code": "converged",
    }
