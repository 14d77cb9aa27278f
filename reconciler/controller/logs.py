"""Controller logs: one JSON object per line (or plain text), never a secret.

Every record carries ``time`` (UTC, ISO 8601), ``level``, ``message`` and, when the caller passes them in
``extra=``, the fields ``commit``, ``resource``, ``action``, ``outcome`` (and a few more listed in
:data:`FIELDS`). Secrets are removed twice over: callers never pass them, and :class:`Redactor` replaces any
registered secret value (client secret, git token, storage key) that still reaches a message with ``***``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

FIELDS = ("commit", "resource", "action", "kind", "outcome", "why", "duration_s", "role", "event", "error")
# Environment variables whose values must never appear in a log line.
SECRET_ENV = (
    "AZURE_CLIENT_SECRET",
    "RECONCILE_GIT_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_KEY",
    "RECONCILE_WEBHOOK_URL",
)
LOGGER = "reconciler"


class Redactor(logging.Filter):
    """Replace each registered secret (and, for connection strings, their AccountKey) with ``***``."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        for value in secrets or []:
            self.add(value)

    def add(self, value: str | None) -> None:
        if not value or len(value) < 6:  # too short to be a secret worth scrubbing; would mangle text
            return
        self._secrets.add(value)
        for part in value.split(";"):  # connection strings: the key alone may be echoed by an SDK
            name, _, secret = part.partition("=")
            if name.strip().lower() in ("accountkey", "sharedaccesssignature") and len(secret) >= 6:
                self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        for name in FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, self.scrub(value))
        return True


def _when(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": _when(record), "level": record.levelname.lower(), "message": record.getMessage()}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["error"] = out.get("error") or self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{n}={getattr(record, n)}" for n in FIELDS if getattr(record, n, None) is not None)
        line = f"{_when(record)} {record.levelname:<7} {record.getMessage()}"
        return f"{line}  {extras}" if extras else line


def setup_logging(
    fmt: str = "json", *, level: int = logging.INFO, stream=None, secrets: list[str] | None = None
) -> Redactor:
    """Route the ``reconciler`` logger (and the Azure SDK's warnings) to ``stream`` in ``fmt``."""
    redactor = Redactor([*(secrets or []), *(os.environ.get(name, "") for name in SECRET_ENV)])
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_reconcile_run", False):  # ours from an earlier call; leave others (pytest's) alone
            root.removeHandler(old)
    handler._reconcile_run = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # third-party libraries: warnings only (the SDK logs requests at INFO)
    logging.getLogger(LOGGER).setLevel(level)
    logging.getLogger("azure").setLevel(logging.ERROR)
    return redactor


def teardown_logging() -> None:
    """Remove the handler ``setup_logging`` installed (when ``reconcile run`` returns inside a bigger process)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_reconcile_run", False):
            root.removeHandler(handler)
