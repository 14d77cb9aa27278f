"""--data FILE: the whole sandbox state as one JSON file, written on change (debounced) and on shutdown, and read
at start so a restart resumes (sandbox time continues from the saved instant)."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

FORMAT = 1


def snapshot(app: Any) -> dict[str, Any]:
    with app.lock:
        return {
            "format": FORMAT,
            "clock": app.clock.now_ts(),
            "time_scale": app.clock.time_scale,
            "resources": list(app.store.items.values()),
            "operations": app.ops.ops,
            "events": app.scheduler.dump(),
            "audit": app.audit.dump(),
            "faults": app.faults.rules,
        }


def save(app: Any, path: str) -> None:
    data = snapshot(app)
    with app.lock:
        text = json.dumps(data, separators=(",", ":"))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def load(app: Any, path: str) -> bool:
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return False
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown sandbox data format {data.get('format')!r}")
    with app.lock:
        app.clock.set(data["clock"], data.get("time_scale"))
        app.store.clear()
        for res in data["resources"]:
            app.store.put(res)
        app.ops.ops = data["operations"]
        app.scheduler.load(data["events"])
        app.audit.load(data["audit"])
        app.faults.rules = data.get("faults", [])
    return True


class Writer:
    """Background thread: after a change, wait `debounce` seconds for more, then write once."""

    def __init__(self, app: Any, path: str, debounce: float = 0.5) -> None:
        self.app, self.path, self.debounce = app, path, debounce
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-persist", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.app.changed.wait(0.2):
                self._stop.wait(self.debounce)
                self.app.changed.clear()
                save(self.app, self.path)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        save(self.app, self.path)
