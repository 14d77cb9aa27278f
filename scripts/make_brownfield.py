"""Regenerate demo/brownfield.json: the estate `make demo` plans against.

It starts from what a converged Azure would hold for desired/ (tests/e2e/plan_estate.py) and then breaks it
the way real estates are broken, so the plan has something to explain:

- right:   the healthcare gallery, its definition and version 1.4.0; the corp validation pool;
- drifted: a hand-edited gallery description, a pool's max session limit, a replica count in West Europe;
- missing: corporate version 2026.11.1 (to be built) and the general corporate pool;
- adopt:   the corporate gallery exists but without our ownership tag;
- stale:   clinical version 1.3.0, no longer declared, still running two validation hosts with users.

Run: .venv/bin/python scripts/make_brownfield.py  (writes demo/brownfield.json; deterministic)
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.estate import PoolHosts, converged  # noqa: E402

from reconciler.spec import load_desired  # noqa: E402

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def main() -> int:
    desired = load_desired(ROOT / "desired")
    owner_tag, _ = desired.settings.ownership_tag
    resources = converged(
        desired,
        NOW,
        hosts={
            "hp-clinical-validation": PoolHosts(2, version="1.3.0", sessions=[2, 0]),
            "hp-clinical-weu": PoolHosts(6, version="1.4.0", sessions=[3, 1, 0, 2, 0, 4]),
        },
        skip_versions={"gal_avd_corporate/win11-24h2-corp/2026.11.1"},
    )
    by_name = {r["id"].rsplit("/", 1)[-1]: r for r in resources}
    clinical_140 = next(r for r in resources if r["id"].endswith("/win11-24h2-m365-clinical/versions/1.4.0"))

    # Stale: 1.3.0 is no longer declared, but two validation hosts still run it.
    stale = json.loads(json.dumps(clinical_140))
    stale["id"] = stale["id"].rsplit("/", 1)[0] + "/1.3.0"
    stale["name"] = "1.3.0"
    stale["properties"]["publishingProfile"]["publishedDate"] = "2026-08-12T06:00:00+00:00"
    resources.insert(resources.index(clinical_140), stale)

    # Drift made by hand in the portal.
    by_name["gal_avd_healthcare"]["properties"]["description"] = (
        "temp - edited in portal during incident 4711"
    )
    by_name["hp-clinical-neu"]["properties"]["maxSessionLimit"] = 20
    v150 = next(r for r in resources if r["id"].endswith("/win11-24h2-m365-clinical/versions/1.5.0"))
    for region in v150["properties"]["publishingProfile"]["targetRegions"]:
        if region["name"].replace(" ", "").lower() == "westeurope":
            region["regionalReplicaCount"] = 1

    # Missing: the general corporate pool was never created.
    resources = [r for r in resources if not r["id"].lower().endswith("/hostpools/hp-corp-general")]

    # Adopt: the corporate gallery was created by hand, without our ownership tag.
    by_name["gal_avd_corporate"]["tags"].pop(owner_tag, None)

    # Resource groups are the platform team's landing zone, not ours: every group desired/ names exists.
    docs = [*desired.galleries, *desired.host_pools, *desired.image_builds]
    groups = sorted({f"/subscriptions/{d.subscription_id}/resourceGroups/{d.resource_group}" for d in docs})
    rg_resources = [
        {
            "id": g,
            "name": g.rsplit("/", 1)[-1],
            "type": "Microsoft.Resources/resourceGroups",
            "location": "westeurope" if g.endswith("weu") or g.endswith("dev") else "northeurope",
            "properties": {"provisioningState": "Succeeded"},
        }
        for g in groups
    ]
    out = ROOT / "demo" / "brownfield.json"
    out.write_text(json.dumps({"resources": rg_resources + resources}, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}: {len(rg_resources) + len(resources)} resources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
