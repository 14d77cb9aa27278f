"""Steps are a closed set of ops, each with its own typed data: a step that does not fit is refused where it is
made, not found out by the executor or the simulation later."""

from __future__ import annotations

import pytest

from reconciler.planner.host_steps import (
    DATA_OF,
    NO_DATA,
    CreateData,
    DrainData,
    RetireData,
    RetireReason,
    Step,
    StepOp,
)


def test_an_op_outside_the_closed_set_is_refused():
    with pytest.raises(ValueError):
        Step("reboot", "avd-0")


def test_data_of_another_op_is_refused():
    with pytest.raises(TypeError, match="create carries DrainData"):
        Step(StepOp.CREATE, "avd-0", DrainData("avd-0.corp"))
    with pytest.raises(TypeError, match="retire carries NoData"):
        Step(StepOp.RETIRE, "avd-0")


def test_an_op_given_as_text_becomes_the_enum():
    step = Step("create", "avd-4", CreateData("/v/2.0.0", replaces="avd-0"))
    assert step.op is StepOp.CREATE and step.data.replaces == "avd-0"
    assert Step(StepOp.RETIRE, "avd-0", RetireData(RetireReason.COUNT, None)).data.reason == "count"


def test_every_op_has_a_data_type():
    assert set(DATA_OF) == set(StepOp)
    assert Step(StepOp.JOIN, "avd-0").data is NO_DATA
