"""`reconcile run`: the long-lived GitOps controller (README.md).

source.py (git / folder) → loop.py (interval, last good commit, backoff) → engine_cycle.py (observe, plan,
apply through reconciler.engine.apply) with leader.py (one writer on a store lease), http.py (probes,
metrics, status), logs.py (JSON lines, no secrets), notify.py (webhooks), app.py (assembly, signals).
"""
