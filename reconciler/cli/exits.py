"""The process exit codes of every `reconcile` command (README "Exit codes"), in one place so that no two
commands can drift apart on what a number means to a CI job.

2 is never a usage error (argparse's own 2 is turned into 1): it always means "there is more to do", with
each command's own reading of it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1  # invalid desired state, failed action, refused operation, usage error
EXIT_CHANGES = 2  # plan --detailed-exitcode: changes are pending
EXIT_PENDING = 2  # apply --detailed-exitcode: done, but work is pending (as EXIT_CHANGES reads)
EXIT_RELEASED = 2  # release: ImageVersions were written to desired/
EXIT_INTERRUPTED = 130  # SIGINT or SIGTERM
