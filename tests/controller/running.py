"""`reconcile run` as a real subprocess: started with the sandbox's env, probed over HTTP, stopped by signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .azurite import free_port


class RunningController:
    def __init__(self, tmp: Path, env: dict[str, str], *, identity: str, args: list[str]) -> None:
        self.identity = identity
        self.port = free_port()
        self.log_path = tmp / f"{identity}.log"
        cmd = [
            sys.executable,
            "-m",
            "reconciler",
            "run",
            "--identity",
            identity,
            "--listen",
            f"127.0.0.1:{self.port}",
            "--workdir",
            str(tmp / f"work-{identity}"),
            *args,
        ]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def status(self) -> dict[str, Any] | None:
        try:
            code, body = self.get("/status")
        except OSError:
            return None
        return json.loads(body) if code == 200 else None

    def wait_for(self, what: str, predicate: Callable[[dict], bool], timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.identity} exited with {self.proc.returncode}:\n{self.log()[-3000:]}"
                )
            last = self.status()
            if last is not None and predicate(last):
                return last
            time.sleep(0.1)
        raise AssertionError(
            f"{self.identity}: {what} not seen within {timeout} s; last status {last}\n{self.log()[-3000:]}"
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_records(self) -> list[dict]:
        """Every line must be one JSON object (this is the assertion, not a filter)."""
        return [json.loads(line) for line in self.log().splitlines() if line.strip()]

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def wait(self, timeout: float = 20) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
