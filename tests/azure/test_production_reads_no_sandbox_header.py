"""Production talks to Azure, so it may read only what Azure sends: the sandbox's own headers stay inside the
sandbox (the server's clock comes from the standard `Date`, see reconciler/azure/date_clock.py)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"


def test_no_production_module_mentions_a_sandbox_only_header():
    production = [p for p in PACKAGE.rglob("*.py") if PACKAGE / "sandbox" not in p.parents]
    assert len(production) > 50  # the scan really ran over the package
    offenders = [str(p.relative_to(PACKAGE)) for p in production if "x-ms-sandbox" in p.read_text().lower()]
    assert offenders == []
