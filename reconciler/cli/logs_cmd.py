"""`reconcile logs build NAME [--run ID] [--diagnose]`: print an Image Builder run's customization.log.

The log is read from the template's staging storage account the way apply reads it (azure/build_logs.py):
GET the account, listKeys, download `packerlogs/<run>/customization.log`. Without `--run`, the last run of
the build's newest template (the one its lastRunStatus names, else the newest log there). `--diagnose` prints
the cause, hint and excerpt instead of the whole log. The account key is never printed.
Exit 0, or 1 when the build is unknown, has no template, or its log cannot be read (the reason on stderr).
"""

from __future__ import annotations

import argparse
import logging
import sys

from reconciler.cli.exits import EXIT_ERROR, EXIT_OK
from reconciler.cli.options import add_azure_connection
from reconciler.spec import DesiredStateError, load_desired
from reconciler.spec.suggest import did_you_mean


def register(subparsers: argparse._SubParsersAction) -> None:
    logs = subparsers.add_parser(
        "logs",
        help="print an Image Builder build's customization.log",
        description="Print the customization.log of an ImageBuild's run, read from its staging storage account.",
    )
    kinds = logs.add_subparsers(dest="what", metavar="WHAT", required=True)
    build = kinds.add_parser("build", help="an ImageBuild's run log", description="An ImageBuild's run log.")
    build.add_argument("name", help="ImageBuild (metadata.name)")
    build.add_argument(
        "--run", metavar="ID", help="the run's id (the packerlogs/<ID> folder); default: the last"
    )
    build.add_argument("--diagnose", action="store_true", help="print cause, hint and excerpt, not the log")
    build.add_argument("--desired", default="desired", metavar="DIR", help="desired-state directory")
    add_azure_connection(build)
    build.set_defaults(func=run_logs_build)


def run_logs_build(args) -> int:
    try:
        return _logs_build(args)
    except DesiredStateError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except LookupError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - one line, cause first, never a traceback
        from reconciler.azure.connection import describe_error

        print(f"error: {describe_error(exc)}", file=sys.stderr)
    return EXIT_ERROR


def _logs_build(args) -> int:
    desired = load_desired(args.desired)
    builds = {b.name: b for b in desired.image_builds}
    build = builds.get(args.name)
    if build is None:
        raise LookupError(
            f"no ImageBuild named {args.name!r} in {args.desired}{did_you_mean(args.name, list(builds))}"
        )
    logging.getLogger("azure").setLevel(logging.ERROR)
    from reconciler.azure.build_logs import BuildLogReader, build_templates
    from reconciler.azure.connection import Connection, ConnectionSettings
    from reconciler.planner.build_diagnosis import customizers_of, diagnose

    settings = ConnectionSettings.from_env(arm_endpoint=args.arm_endpoint, ca_bundle=args.ca_bundle)
    with Connection(settings) as conn:
        templates = build_templates(conn, build.subscription_id, build.resource_group, build.name)
        if not templates:
            raise LookupError(f"ImageBuild {build.name} has no image template in {build.resource_group}")
        template = templates[-1]
        message = None if args.run else template.run_message
        log = BuildLogReader(conn).read(
            template.id, message, run_id=args.run, staging_group=template.staging_group
        )
    where = log.location
    run_id = where.run_id if where else "?"
    print(f"# {template.name}: run {run_id} ({template.run_state or 'never run'})", file=sys.stderr)
    if log.text is None:
        runs = f" (runs with a log: {', '.join(log.runs)})" if log.runs else ""
        print(f"error: the log of build {build.name} cannot be read: {log.note}{runs}", file=sys.stderr)
        return EXIT_ERROR
    if args.diagnose:
        diagnosis = diagnose(log.text, template.run_message or "", customizers_of(template.body))
        print("\n".join(diagnosis.lines()))
    else:
        sys.stdout.write(log.text)
    return EXIT_OK
