"""Plain data shared by planner, azure, engine and render (no I/O, no SDK types)."""

# Observed snapshot (helper C1).
from reconciler.model.observed import (  # noqa: E402,F401
    CallStats,
    ImageIdentifier,
    Observed,
    ObservedGallery,
    ObservedHostPool,
    ObservedImageDefinition,
    ObservedImageTemplate,
    ObservedImageVersion,
    ObservedRegionReplication,
    ObservedSessionHost,
    ObservedTargetRegion,
    ObservedUserSession,
    ObservedVM,
    ObserveScope,
    norm_id,
    normalize_region,
)

# Plans, changes, rollout previews, fingerprints (helper C2).
from reconciler.model.fingerprint import fingerprint  # noqa: E402,F401
from reconciler.model.plan import (  # noqa: E402,F401
    FORMAT_VERSION,
    Action,
    Change,
    Diagnostic,
    Plan,
    PlanFormatError,
    Severity,
    change_key,
)
from reconciler.model.rollout import BatchPreview, HostRef, RolloutPreview  # noqa: E402,F401

# ruff: noqa: I001  (two helpers append re-export blocks here; keep them grouped by owner, not sorted)
