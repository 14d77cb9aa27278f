"""Assembling a controller from its options: store, source, election, cycle, probes, signals.

``RunOptions`` mirrors ``reconcile run``'s flags (the CLI only parses); ``serve(options)`` runs until
SIGTERM/SIGINT (or one cycle with ``once``) and returns the exit code. On SIGTERM: start nothing new, let
in-flight ARM calls finish, release the leader lease (so a standby takes over at once), stop the probes.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import tempfile
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from reconciler.controller.http import Probes, ProbeServer
from reconciler.controller.leader import LeaderElector
from reconciler.controller.loop import Controller, LoopSettings
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.notify import Notifier
from reconciler.controller.source import DirSource, GitSource, read_secret
from reconciler.store import LocalStore, StoreError

log = logging.getLogger("reconciler.controller")


@dataclass
class RunOptions:
    desired: str | None = None
    git_url: str | None = None
    git_ref: str = "main"
    git_path: str = "desired"
    git_token_file: str | None = None
    git_ssh_key_file: str | None = None
    git_known_hosts: str | None = None
    workdir: str | None = None
    interval: float | None = None
    poll: float = 60.0
    retry_base: float = 30.0
    state: str = "local:./state"
    lease_ttl: float = 30.0
    identity: str | None = None
    dry_run: bool = False
    listen: str | None = "127.0.0.1:8080"
    webhook: str | None = None
    webhook_format: str = "generic"
    once: bool = False
    arm_endpoint: str | None = None
    ca_bundle: str | None = None
    parallelism: int = 4
    release: bool = False
    push: bool = False
    release_branch: str | None = None
    git_author: str | None = None


def default_identity() -> str:
    """The pod name in Kubernetes (POD_NAME from the downward API), else host and pid."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


def open_store(spec: str, *, user_agent: str | None = None):
    kind, _, target = spec.partition(":")
    if kind == "local":
        return LocalStore(target or "./state")
    if kind == "blob":
        from reconciler.store.blob import BlobStore  # the Azure SDK only when asked for

        return BlobStore.from_spec(target, user_agent=user_agent)
    raise StoreError(f"--state {spec!r}: expected local:DIR or blob:ACCOUNT_URL/CONTAINER")


def build_source(o: RunOptions):
    if o.git_url:
        token = read_secret(o.git_token_file, "RECONCILE_GIT_TOKEN")
        workdir = o.workdir or str(Path(tempfile.gettempdir()) / f"reconcile-src-{os.getpid()}")
        return GitSource(
            o.git_url,
            ref=o.git_ref,
            path=o.git_path,
            workdir=workdir,
            token=token,
            ssh_key_file=o.git_ssh_key_file,
            known_hosts_file=o.git_known_hosts,
        ), token
    return DirSource(o.desired or "desired"), None


def build_controller(o: RunOptions, cycle=None) -> tuple[Controller, LeaderElector]:
    identity = o.identity or default_identity()
    # Every ARM and storage request names the replica in its User-Agent, so the Azure activity log (and the
    # sandbox audit) tell the replicas apart even when they share one workload identity.
    user_agent = f"reconcile-run/{identity}"
    store = open_store(o.state, user_agent=user_agent)
    source, token = build_source(o)
    metrics = ControllerMetrics()
    notifier = Notifier(o.webhook or os.environ.get("RECONCILE_WEBHOOK_URL"), shape=o.webhook_format)
    if cycle is None:
        from reconciler.controller.engine_cycle import EngineCycle

        cycle = EngineCycle(
            store,
            arm_endpoint=o.arm_endpoint,
            ca_bundle=o.ca_bundle,
            parallelism=o.parallelism,
            user_agent=user_agent,
        )
    settings = LoopSettings(
        interval=o.interval, poll=o.poll, retry_base=o.retry_base, dry_run=o.dry_run, once=o.once
    )
    controller = Controller(
        source, cycle, elector=None, settings=settings, metrics=metrics, notifier=notifier, identity=identity
    )
    elector = LeaderElector(
        store,
        identity=f"reconcile run ({identity})",
        ttl=timedelta(seconds=o.lease_ttl),
        on_change=controller.leadership_changed,
    )
    controller.elector = elector
    if o.release:
        from reconciler.controller.release import Publisher, ReleaseSettings

        controller.publisher = Publisher(source, ReleaseSettings(o.push, o.release_branch, o.git_author))
    controller.secrets = [token] if token else []
    return controller, elector


def serve(o: RunOptions, cycle=None, redactor=None) -> int:
    controller, elector = build_controller(o, cycle)
    for secret in controller.secrets:
        if redactor is not None:
            redactor.add(secret)  # a token read from a mounted file: scrub it from every log line too
    server = None
    if o.listen:
        from reconciler.controller.estate import controller_view

        view = controller_view(
            controller,
            arm_endpoint=o.arm_endpoint,
            ca_bundle=o.ca_bundle,
            user_agent=f"reconcile-run/{controller.identity}",
        )
        probes = Probes(
            controller.healthy, controller.ready, controller.metrics.exposition, controller.status, view
        )
        server = ProbeServer(o.listen, probes).start()
        log.info(
            "serving the dashboard at / and /healthz /readyz /metrics /status on %s:%d",
            o.listen.rpartition(":")[0],
            server.port,
            extra={"event": "listening"},
        )
    election_stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info(
            "received %s: finishing in-flight calls, then stopping",
            signal.Signals(signum).name,
            extra={"event": "signal"},
        )
        controller.request_stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    try:
        elector.step()  # know our role before the first cycle
        thread = elector.start(election_stop)
        code = controller.run()
    finally:
        election_stop.set()
        if thread := locals().get("thread"):
            thread.join(timeout=10)
        elector.release()
        if server:
            server.stop()
        close = getattr(controller.cycle, "close", None)
        if close:
            close()
    log.info("stopped", extra={"event": "stopped"})
    return code
