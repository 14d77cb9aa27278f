"""Executing a plan: outcomes, the dependency-graph executor, and the recap of what happened."""

from reconciler.engine.backoff import NO_RETRY, RetryPolicy
from reconciler.engine.executor import RunContext, execute
from reconciler.engine.graph import ExecNode, GraphError, NodeView, nodes_from_changes
from reconciler.engine.operations import OperationLedger, PendingOperation
from reconciler.engine.outcome import Done, Failed, Outcome, Retry, WaitUntil
from reconciler.engine.recap import Recap, build_recap
from reconciler.engine.report import EventKind, ExecEvent, ExecutionReport, NodeResult, NodeStatus

__all__ = [
    "NO_RETRY",
    "Done",
    "EventKind",
    "ExecEvent",
    "ExecNode",
    "ExecutionReport",
    "Failed",
    "GraphError",
    "NodeResult",
    "NodeStatus",
    "NodeView",
    "OperationLedger",
    "Outcome",
    "PendingOperation",
    "Recap",
    "Retry",
    "RetryPolicy",
    "RunContext",
    "WaitUntil",
    "build_recap",
    "execute",
    "nodes_from_changes",
]
