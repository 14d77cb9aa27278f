"""`reconcile run`: the long-lived GitOps controller (issue 7). Empty until that issue lands."""
