"""Differential test: the libyaml fast path of `parse_documents` must be indistinguishable from the
pure-Python parser — same documents, same values (types included), same key/value marks, same duplicate
keys, and the same errors (type, message, mark).

The edge cases below are texts where libyaml on its own disagrees with PyYAML (checked when they were
written); they pass only because `parse_documents` sends them to the pure-Python parser. Removing that guard
(`_ONLY_PURE_PYTHON`, `guard_empty`, or the fall-back on failure) makes this file fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.spec import positions
from reconciler.spec.positions import _parse_with, parse_documents

ROOT = Path(__file__).resolve().parents[2]
YAML_FILES = sorted(
    p
    for base in (ROOT / "desired", ROOT / "tests" / "spec" / "invalid")
    for p in base.rglob("*")
    if p.suffix in (".yaml", ".yml")
)

pytestmark = pytest.mark.skipif(
    positions._FAST_LOADER is None, reason="PyYAML built without libyaml: there is no fast path to compare"
)


def _outcome(parse: Any, text: str) -> Any:
    """Everything a caller can observe from one parse, in a form `==` compares exactly."""
    try:
        docs = parse(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return ("error", type(err).__name__, str(err), mark and (mark.line, mark.column))
    return [
        (
            doc.index,
            repr(doc.data),  # repr: 1, 1.0 and True are equal but must not be interchangeable
            doc.positions.values,
            doc.positions.keys,
            [(d.path, d.mark, d.first) for d in doc.duplicates],
            doc.start,
        )
        for doc in docs
    ]


def _pure(text: str) -> Any:
    return _parse_with(yaml.SafeLoader, text)


def assert_same(text: str) -> None:
    assert _outcome(parse_documents, text) == _outcome(_pure, text), f"parsers disagree on {text!r}"


def test_the_corpus_is_there():
    assert len(YAML_FILES) > 50  # desired/ plus the invalid corpus; guards against a wrong ROOT


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_and_invalid_file_parses_the_same(path: Path):
    assert_same(path.read_text(encoding="utf-8"))


EDGE_CASES = {
    # tabs: libyaml accepts some that PyYAML rejects, and words its errors differently
    "tab-after-colon": "a:\tb\n",
    "tab-indent": "a:\n\t- 1\n",
    "tab-inside-quotes": "a: 'x\ty'\n",
    # explicit `?` keys: marks of the empty nodes differ
    "question-key": "? a\n: 1\n",
    "question-empty-key": "? \n: 1\n",
    "question-in-flow": "{? a}\n",
    # block scalar header running into `#`: libyaml accepts, PyYAML rejects
    "literal-header-hash": "a: |#c\n  x\n",
    "folded-header-hash": "a: >-#\n  x\n",
    # byte-order marks: fine at the very start, different anywhere else
    "bom-at-start": "\ufeffa: 1\n",
    "bom-mid-document": "a: 1\n\ufeffb: 2\n",
    "bom-second-document": "a: 1\n---\n\ufeffb: 2\n",
    # empty nodes: libyaml marks them elsewhere
    "empty-flow-value": "{name: }\n",
    "empty-block-value": "a:\nb: 1\n",
    "empty-sequence-item": "- \n- 1\n",
    "empty-quoted": "a: ''\n",
    "empty-document": "---\n...\n",
    # errors worded differently by libyaml
    "empty-flow-item": "[a, , b]\n",
    "empty-key": ": 1\n",
    "unclosed-quote": "a: 'x\n",
    "bad-indent": "a:\n  b: 1\n c: 2\n",
    # things both handle, kept so the fast path is exercised too
    "merge-key": "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",
    "duplicate-key": "a: 1\nb: 2\na: 3\n",
    "two-documents": "a: 1\n---\n- x\n- 'y'\n",
    "typed-scalars": "i: 1\nf: 1.0\nb: true\nn: null\nt: ~\nd: 2024-01-01\ns: '1'\n",
    "comments": "# head\na: 1 # tail\n# mid\nb:\n  - x # item\n",
    "custom-tag": "a: !!python/object:os.system x\n",
    "recursive-alias": "a: &a [*a]\n",
}


@pytest.mark.parametrize("text", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_parse_the_same(text: str):
    assert_same(text)


# Generated texts: line by line from YAML fragments, so most are valid-looking block YAML and many are
# subtly broken — both parsers must agree on either outcome.
_KEYS = st.sampled_from(["a", "name", "spec", "'q k'", '"dq"', "1", "true", "null", "<<", "? a", "", "k k"])
_VALUES = st.sampled_from(
    [
        "",
        " x",
        " 1",
        " 1.5",
        " true",
        " ~",
        " ''",
        ' ""',
        " 'it''s'",
        ' "a\\tb"',
        " {}",
        " []",
        " {a: 1, b: [x, y]}",
        " {name: }",
        " [1, , 2]",
        " |",
        " >-",
        " |2",
        " &anc v",
        " *anc",
        " !!str 5",
        " 2024-01-01",
        " a: b",
        " -",
        " #",
    ]
)
_COMMENTS = st.sampled_from(["", "", " # c", "  #c", "#x", " # ? tab\t"])
_LINE = st.one_of(
    st.builds(
        lambda ind, dash, key, value, comment: f"{ind}{dash}{key}:{value}{comment}",
        st.sampled_from(["", " ", "  ", "    ", "\t"]),
        st.sampled_from(["", "", "- "]),
        _KEYS,
        _VALUES,
        _COMMENTS,
    ),
    st.builds(
        lambda ind, value, comment: f"{ind}-{value}{comment}",
        st.sampled_from(["", "  ", "    "]),
        _VALUES,
        _COMMENTS,
    ),
    st.sampled_from(["---", "...", "# only a comment", "", "  text", "\ufeffa: 1", "  - ", "? ", ": v"]),
)
_LINE_TEXTS = st.lists(_LINE, min_size=1, max_size=8).map(lambda lines: "\n".join(lines) + "\n")

# Generated data dumped in random styles: valid YAML whose shape varies, then comments sprinkled in.
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, width=32),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text("abk-_ ", min_size=1, max_size=5), inner, max_size=4),
    ),
    max_leaves=12,
)


@st.composite
def _dumped_texts(draw: st.DrawFn) -> str:
    text = yaml.safe_dump(
        draw(_DATA),
        indent=draw(st.integers(2, 6)),
        default_flow_style=draw(st.sampled_from([False, True, None])),
        default_style=draw(st.sampled_from([None, "'", '"'])),
        allow_unicode=draw(st.booleans()),
        sort_keys=False,
    )
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(["# comment", "  # indented comment", ""])))
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LINE_TEXTS)
def test_generated_line_texts_parse_the_same(text: str):
    assert_same(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_dumped_texts())
def test_generated_dumped_texts_parse_the_same(text: str):
    assert_same(text)
