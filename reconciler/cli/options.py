"""Flags and the error exit that several subcommands share, spelled once so their help and defaults agree."""

from __future__ import annotations

import argparse
import sys

from reconciler.cli.exits import EXIT_ERROR
from reconciler.render.cli_messages import render_error


def add_azure_connection(parser: argparse.ArgumentParser) -> None:
    """`--arm-endpoint` and `--ca-bundle`: where ARM is (Azure, or the sandbox) and whom to trust there."""
    parser.add_argument(
        "--arm-endpoint", help="ARM endpoint (default: $RECONCILE_ARM_ENDPOINT or Azure public)"
    )
    parser.add_argument("--ca-bundle", help="PEM bundle to trust (default: $RECONCILE_CA_BUNDLE)")


def fail(message: str) -> int:
    """Print `message` as the CLI's one error shape and return the error exit code."""
    sys.stderr.write(render_error(message))
    return EXIT_ERROR
