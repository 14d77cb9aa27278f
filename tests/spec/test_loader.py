"""Table tests of the loader: durations, regions, defaults, multi-document files, positions, YAML errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.spec import DesiredStateError, format_duration, load_desired, normalise_region, parse_duration
from reconciler.spec.positions import parse_documents

from .helpers import BASE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("90d", timedelta(days=90)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("0s", timedelta(0)),
        (" 15m ", timedelta(minutes=15)),
    ],
)
def test_durations_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "m30", "1.5h", "30 m", "1y", "", "-5m", 30, None, "30M"])
def test_bad_durations_are_rejected(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(days=1), "1d"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(0), "0s"),
        (timedelta(seconds=61), "1m1s"),
    ],
)
def test_durations_format_round_trip(td, text):
    assert format_duration(td) == text
    assert parse_duration(text) == td


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("West Europe", "westeurope"),
        ("westeurope", "westeurope"),
        ("WestEurope", "westeurope"),
        ("  North   Europe ", "northeurope"),
        ("Australia Central 2", "australiacentral2"),
        ("brandnewregion", "brandnewregion"),  # unknown but not a near-miss: allowed (Azure adds regions)
    ],
)
def test_regions_normalise(written, normal):
    assert normalise_region(written) == normal


@pytest.mark.parametrize(("written", "hint"), [("westeurop", "westeurope"), ("North Eurpoe", "northeurope")])
def test_region_typos_are_rejected_with_a_suggestion(written, hint):
    with pytest.raises(ValueError, match=hint):
        normalise_region(written)


@pytest.mark.parametrize("written", ["", "1west", "west-europe", 42])
def test_non_region_names_are_rejected(written):
    with pytest.raises(ValueError):
        normalise_region(written)


def test_positions_of_keys_and_values():
    text = "a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n---\nf: g\n"
    first, second = parse_documents(text)
    assert first.data == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": 2}]}}
    assert first.positions.value(("a",)) == (1, 4)
    assert first.positions.key(("b", "c")) == (3, 3)
    assert first.positions.value(("b", "c", 1)) == (3, 10)
    assert first.positions.value(("b", "d", 0, "e")) == (5, 10)
    assert second.index == 1 and second.positions.value(("f",)) == (7, 4)
    assert first.positions.nearest(("b", "zz", 3)) == (("b",), (3, 3))


def test_merge_keys_and_anchors_are_understood():
    (doc,) = parse_documents("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n")
    assert doc.data["use"] == {"x": 1, "y": 2}


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "d" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "d"


def test_loads_all_files_recursively_and_multi_document(tmp_path):
    text = (BASE / "base.yaml").read_text()
    docs = text.split("\n---\n")
    root = _write(
        tmp_path,
        {
            "settings.yml": docs[0],
            "g/gallery.yaml": "\n---\n".join(docs[1:4]) + "\n---\n",  # trailing empty document is fine
            "g/deeper/versions.yaml": "\n---\n".join(docs[4:]),
            "notes.txt": "not yaml: [",  # ignored
            ".hidden/bad.yaml": "{{{",  # hidden directories are skipped
        },
    )
    state = load_desired(root)
    assert state.counts() == {
        "Settings": 1,
        "Gallery": 1,
        "ImageDefinition": 1,
        "ImageVersion": 3,
        "ImageBuild": 1,
        "HostPool": 1,
    }
    assert len(state.files) == 3


def test_defaults_are_applied_from_settings_and_models(tmp_path):
    state = load_desired(BASE)
    (gallery,) = state.galleries
    assert gallery.subscription_id == "11111111-1111-4111-8111-111111111111"
    assert (gallery.resource_group, gallery.location) == ("rg-base", "westeurope")
    assert gallery.tags == {"avd-reconciler-owner": "avd-reconciler"}
    (pool,) = state.host_pools
    rollout = pool.spec.rollout
    assert rollout.strategy == "surge" and rollout.batch_size == 1 and rollout.capacity_floor == 80
    assert rollout.drain_grace == timedelta(hours=1) and rollout.force_logoff is True
    assert rollout.health_timeout == timedelta(minutes=45) and rollout.failure_budget == 0
    assert pool.spec.effective_load_balancer_type == "BreadthFirst"
    assert pool.spec.max_session_limit == 999999
    assert pool.spec.session_hosts.security_type == "TrustedLaunch"
    assert pool.spec.session_hosts.local_admin.username == "avdadmin"
    assert state.settings.interval == timedelta(minutes=15)
    (definition,) = state.image_definitions
    assert definition.spec.hyper_v_generation == "V2"
    assert definition.spec.retention.end_of_life_after == timedelta(days=30)
    version = state.versions_of(definition)[0]
    assert version.target_regions[0].replica_count == 1
    assert version.target_regions[0].storage_account_type == "Standard_LRS"


def test_all_errors_in_one_run_sorted_by_file_and_line(tmp_path):
    root = _write(
        tmp_path,
        {
            "b.yaml": "apiVersion: avd.reconciler.io/v1alpha1\nkind: Gallery\nmetadata: {name: g-1}\n",
            "a.yaml": "apiVersion: nope\nkind: Gallery\nmetadata: {name: ok}\n---\nkind: Foo\n",
            "c.yaml": "key: [unclosed\n",
        },
    )
    with pytest.raises(DesiredStateError) as info:
        load_desired(root)
    errors = info.value.errors
    assert [(e.file.rsplit("/", 1)[-1], e.line) for e in errors] == [
        ("a.yaml", 1),
        ("a.yaml", 5),
        ("a.yaml", 5),
        ("b.yaml", 3),
        ("c.yaml", 2),
    ]
    assert str(errors[3]).startswith(f"{root}/b.yaml:3:18: metadata.name: invalid gallery name")


def test_missing_directory_and_empty_directory(tmp_path):
    with pytest.raises(DesiredStateError, match="does not exist"):
        load_desired(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DesiredStateError, match="no \\*.yaml"):
        load_desired(tmp_path / "empty")


def test_error_string_format():
    from reconciler.spec import SpecError

    assert str(SpecError("desired/x.yaml", 3, 5, "spec.a", "boom")) == "desired/x.yaml:3:5: spec.a: boom"


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a]\n",  # self-referencing alias
        "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",  # "billion laughs"
        "x: !!python/object/apply:os.system [echo]\n",  # unsafe tag
    ],
)
def test_hostile_yaml_is_an_error_not_a_crash(tmp_path, text):
    (tmp_path / "x.yaml").write_text(text)
    with pytest.raises(DesiredStateError) as info:
        load_desired(tmp_path)
    assert info.value.errors[0].field == "(yaml)"
