"""The `Sandbox` context manager: start an in-process sandbox for tests, demos and benchmarks.

with Sandbox(time_scale=100_000) as sb:          # bare: no resource groups, networks or vaults at all
    client = ComputeManagementClient(cred, sb.subscription_ids[0], base_url=sb.endpoint,
                                     connection_verify=sb.ca_bundle)

`landing_zone=True` seeds the network, identities, Key Vaults and staging group the shipped `desired/`
references (`landing_zone.shipped`), or pass a list of resources (`landing_zone.build(...)`). The default is
bare, so a test states the landing zone it relies on; `reconcile sandbox serve` seeds the shipped one unless
told `--bare`. Seeded resources are part of the start-up seed: `reset()` restores them.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from datetime import datetime
from typing import Any

from . import faults as faults_mod
from . import landing_zone as landing_zones
from . import persist
from . import seed as seeding
from .admin import invariants, stats
from .app import App
from .clock import SandboxClock
from .config import SandboxConfig
from .server import ServerThread
from .tls import make_tls


class Sandbox:
    def __init__(
        self,
        *,
        port: int = 0,
        time_scale: float = 1.0,
        start: datetime | None = None,
        data: str | None = None,
        seed: str | list[dict[str, Any]] | None = None,
        estate: str | None = None,
        faults: str | list[dict[str, Any]] | None = None,
        landing_zone: bool | list[dict[str, Any]] = False,
        throttle: bool = False,
        page_size: int | None = None,
        settings: dict[str, Any] | None = None,
        client_secret: str | None = None,
        workdir: str | None = None,
    ) -> None:
        self.config = SandboxConfig()
        if settings:
            self.config.update(settings)
        self.config.throttle = throttle or self.config.throttle
        if page_size:
            self.config.page_size = int(page_size)
        self.clock = SandboxClock(start, time_scale)
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self._port, self._data, self._seed, self._estate, self._faults = port, data, seed, estate, faults
        self._landing_zone = landing_zone
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="sandbox-")
        self.app: App | None = None
        self._server: ServerThread | None = None
        self._writer: persist.Writer | None = None
        self.warnings: list[str] = []

    # ---- lifecycle
    def start(self) -> Sandbox:
        tls = make_tls(self.workdir)
        self.ca_bundle, self.requests_bundle = tls.ca_path, tls.bundle_path
        app = self.app = App(self.config, self.clock, self.client_secret)
        initial: list[dict[str, Any]] = []
        if self._landing_zone is True:
            initial.extend(landing_zones.shipped(self.config.subscription_ids))
        elif self._landing_zone:
            initial.extend(self._landing_zone)
        if self._estate:
            generated = seeding.estate(self._estate, self.config.subscription_ids, self.clock.now())
            if generated is None:
                self.warnings.append(f"estate {self._estate!r} skipped: reconciler.sandbox.estate is missing")
            else:
                self.config.subscription_ids = tuple(generated[0])
                app.base_config["subscription_ids"] = tuple(generated[0])
                initial.extend(generated[1])
        if self._seed is not None:
            initial.extend(seeding.load_file(self._seed) if isinstance(self._seed, str) else self._seed)
        app.initial = initial
        restored = persist.load(app, self._data) if self._data else False
        if not restored and initial:
            app.seed(initial)
        if self._faults is not None:
            rules = faults_mod.load_rules(self._faults) if isinstance(self._faults, str) else self._faults
            for rule in rules:
                app.faults.add(rule)
        self._server = ServerThread(self._port, tls.context, app)
        self._server.start()
        if self._data:
            self._writer = persist.Writer(app, self._data)
            self._writer.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- connection facts
    @property
    def port(self) -> int:
        assert self._server is not None, "sandbox not started"
        return self._server.port

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def subscription_ids(self) -> list[str]:
        return list(self.config.subscription_ids)

    @property
    def tenant_id(self) -> str:
        return self.config.tenant_id

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def object_id(self) -> str:
        """The reconciler's service principal object id (its tokens' `oid`)."""
        return self.config.object_id

    @property
    def env(self) -> dict[str, str]:
        return {
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_AUTHORITY_HOST": self.endpoint,
            "RECONCILE_ARM_ENDPOINT": self.endpoint,
            "RECONCILE_KEYVAULT_ENDPOINT": self.endpoint,
            "RECONCILE_CA_BUNDLE": self.ca_bundle,
            "REQUESTS_CA_BUNDLE": self.requests_bundle,
        }

    def info(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "ca_bundle": self.ca_bundle,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "object_id": self.object_id,
            "client_secret": self.client_secret,
            "subscription_ids": self.subscription_ids,
            "env": self.env,
        }

    # ---- control
    def _app(self) -> App:
        assert self.app is not None, "sandbox not started"
        return self.app

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> datetime:
        app = self._app()
        with app.lock:
            self.clock.advance(seconds)
            app.settle()
        app.changed.set()
        return self.clock.now()

    def set_time_scale(self, time_scale: float) -> None:
        self.clock.set_scale(time_scale)

    def configure(self, **settings: Any) -> None:
        with self._app().lock:
            self.config.update(settings)

    def seed(self, resources: list[dict[str, Any]]) -> int:
        return self._app().seed(resources)

    def get(self, rid: str) -> dict[str, Any] | None:
        """The stored resource (including sandbox-private state under "_sb"), for assertions."""
        app = self._app()
        with app.lock:
            app.settle()
            return app.store.get(rid)

    def audit(self) -> dict[str, Any]:
        app = self._app()
        with app.lock:
            app.settle()
            return app.audit.dump()

    def invariants(self) -> dict[str, Any]:
        app = self._app()
        with app.lock:
            app.settle()
            return invariants(app)

    def stats(self) -> dict[str, Any]:
        app = self._app()
        with app.lock:
            return stats(app)

    def inject_fault(self, **rule: Any) -> dict[str, Any]:
        app = self._app()
        with app.lock:
            return app.faults.add(rule)

    def reset(self) -> None:
        self._app().reset()
