"""The acceptance tags' codec and the output sanitiser: the contract planner and engine share."""

from reconciler.model.acceptance import (
    ACCEPT_TEST_TAG_PREFIX,
    ACCEPTANCE_TAG,
    FAILURE_EXCERPT_LIMIT,
    TAG_VALUE_LIMIT,
    Acceptance,
    AcceptanceState,
    Outcome,
    Verdict,
    acceptance_of,
    failure_excerpt,
    is_accepted,
    outcomes_of,
    sanitize_output,
)


def test_acceptance_round_trips_and_keeps_separators_out_of_fields():
    a = Acceptance(AcceptanceState.FORCED, "2026-12-07T10:00:00Z", "", "vendor | confirmed")
    parsed = Acceptance.parse(a.to_tag())
    assert parsed == Acceptance(AcceptanceState.FORCED, "2026-12-07T10:00:00Z", "", "vendor / confirmed")
    assert len(Acceptance(AcceptanceState.FAILED, "t", "vm", "x" * 900).to_tag()) == TAG_VALUE_LIMIT


def test_malformed_values_are_no_verdict():
    for value in (None, "", "passed", "passed|t", "weird|t|vm", "passed|t|vm|"):
        parsed = Acceptance.parse(value)
        assert parsed is None or parsed.reason is None
    assert Acceptance.parse("weird|t|vm") is None
    assert Outcome.parse("passed|zero|t|vm") is None


def test_only_passed_or_forced_is_accepted():
    assert [s for s in AcceptanceState if is_accepted(s)] == [AcceptanceState.PASSED, AcceptanceState.FORCED]
    assert not is_accepted(None)


def test_results_read_from_version_tags():
    tags = {
        ACCEPTANCE_TAG: "running|t0|vm-0",
        ACCEPT_TEST_TAG_PREFIX + "ehr-client": "passed|0|t1|vm-0",
        ACCEPT_TEST_TAG_PREFIX + "printer": "timed-out|-|t2|vm-0",
        ACCEPT_TEST_TAG_PREFIX + "broken": "nonsense",
        "owner": "team",
    }
    assert acceptance_of(tags).state is AcceptanceState.RUNNING
    assert outcomes_of(tags) == {
        "ehr-client": Outcome(Verdict.PASSED, 0, "t1", "vm-0"),
        "printer": Outcome(Verdict.TIMED_OUT, None, "t2", "vm-0"),
    }


def test_output_is_stripped_masked_and_keeps_its_end():
    raw = (
        "\x1b[2J\x1b[31mboom\x1b[0m\r\nbell\x07 zero\u200bwidth token=s3cret-token s3cret\n"
        + "y" * 5000
        + "END"
    )
    out = sanitize_output(raw, secrets=("s3cret", "s3cret-token"))
    assert out.endswith("END") and len(out) == 4096
    head = sanitize_output(raw.split("y", 1)[0], secrets=("s3cret", "s3cret-token"))
    assert head == "boom\nbell zerowidth token=*** ***\n"


def test_failure_excerpt_fits_a_tag_and_names_test_and_exit():
    text = failure_excerpt("ehr-client", 1, "\n".join(f"line {i}" for i in range(200)))
    assert text.startswith("ehr-client: exit 1: …") and text.endswith("line 199")
    assert len(text) <= FAILURE_EXCERPT_LIMIT
    assert failure_excerpt("printer", None, "") == "printer: timed out"
