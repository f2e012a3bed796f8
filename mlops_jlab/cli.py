"""``mlops-jlab``: the command line (serve deployments without JupyterLab, list them)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .errors import MlopsError


def _serve(args: argparse.Namespace) -> int:
    from .client.api import backend
    from .serving.controller import DeploymentController

    b = backend()
    controller = DeploymentController(b.serving, log_dir=str(b.settings.home / "logs"),
                                      interval=args.interval)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    controller.start()
    from .monitoring.loop import MonitorLoop

    monitor = MonitorLoop(b.alerts, args.monitor_interval, leading=lambda: controller.leading)
    monitor.start()
    print(f"mlops-jlab serve: reconciling deployments of {b.settings.db_url} "
          f"(controller {controller.holder}); Ctrl-C stops it and its workers", flush=True)
    while not done.wait(1.0):
        if not controller.leading:
            holder = b.serving.lease_holder()
            if holder and holder != controller.holder:
                print(f"waiting: {holder} controls this store", flush=True)
    monitor.stop()
    controller.stop()
    return 0


def _deployments_list(args: argparse.Namespace) -> int:
    from .client.serving import deployments

    frame = deployments()
    if frame.empty:
        print("no deployments")
    else:
        print(frame.drop(columns=["url"] if args.brief else []).to_string(index=False))
    return 0


def _export(args: argparse.Namespace) -> int:
    from .client.api import backend
    from .serving.export import export_deployment

    b = backend()
    out = export_deployment(b.serving, b.registry, args.name, args.directory)
    print(f"wrote {out}: start it with `PORT=8080 sh {out}/start.sh`, or build its Dockerfile")
    return 0


def _users_grant(args: argparse.Namespace) -> int:
    from .client.governance import grant

    user = grant(args.user, args.role)
    print(f"{user.name} is now {user.role}")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    from .client.governance import users

    frame = users()
    print("no users yet" if frame.empty else frame[["name", "role", "granted_by"]]
          .to_string(index=False))
    return 0


def _users_token(args: argparse.Namespace) -> int:
    from .client.api import backend

    b = backend()
    token = b.access.issue_token(b.user, args.user)  # type: ignore[attr-defined]
    print(token)
    print(f"(API token of {args.user}, shown once: MLOPS_JLAB_TOKEN={token} with "
          "MLOPS_JLAB_URI=<server> in team mode; the server needs "
          "c.ServerApp.identity_provider_class = "
          "'mlops_jlab.server.identity.MlopsIdentityProvider')", file=sys.stderr)
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from .client.governance import verify_audit

    result = verify_audit()
    print(result)
    return 0 if result.ok else 1


def _audit_export(args: argparse.Namespace) -> int:
    from .client.governance import export_audit

    filters = {k: getattr(args, k) for k in ("actor", "action", "target") if getattr(args, k)}
    path = export_audit(args.output, format=args.format, **filters)
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="mlops-jlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the deployment controller in the "
                                "foreground (a host that only serves)")
    serve.add_argument("--monitor-interval", type=float, default=60.0,
                       help="seconds between evaluations of the alert rules (60)")
    serve.add_argument("--interval", type=float, default=0.5,
                       help="seconds between reconcile passes (default 0.5)")
    serve.set_defaults(func=_serve)
    deps = commands.add_parser("deployments", help="inspect deployments")
    deps_commands = deps.add_subparsers(dest="action", required=True)
    listing = deps_commands.add_parser("list", help="list deployments")
    listing.add_argument("--brief", action="store_true", help="leave out the URL column")
    listing.set_defaults(func=_deployments_list)
    users = commands.add_parser("users", help="users and roles")
    users_commands = users.add_subparsers(dest="action", required=True)
    granting = users_commands.add_parser("grant", help="give USER a ROLE (admins)")
    granting.add_argument("user")
    granting.add_argument("role", choices=["viewer", "contributor", "approver", "admin"])
    granting.set_defaults(func=_users_grant)
    users_commands.add_parser("list", help="list users and roles").set_defaults(
        func=_users_list)
    tokens = users_commands.add_parser("token", help="issue an API token for USER (team "
                                                     "mode; admins, or yourself)")
    tokens.add_argument("user")
    tokens.set_defaults(func=_users_token)
    audit = commands.add_parser("audit", help="the hash-chained audit trail")
    audit_commands = audit.add_subparsers(dest="action", required=True)
    audit_commands.add_parser("verify", help="recompute the chain; exit 1 and say where "
                                             "when an event was edited, deleted or "
                                             "reordered").set_defaults(func=_audit_verify)
    exporting = audit_commands.add_parser("export", help="write events to CSV or JSON")
    exporting.add_argument("-o", "--output", required=True)
    exporting.add_argument("--format", choices=["csv", "json"], default=None)
    for key in ("actor", "action", "target"):
        exporting.add_argument(f"--{key}", default=None)
    exporting.set_defaults(func=_audit_export)
    export = commands.add_parser("export-deployment", help="write a self-contained bundle "
                                 "(models, requirements, start script, Dockerfile, Kubernetes)")
    export.add_argument("name")
    export.add_argument("directory")
    export.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mlops-jlab``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MlopsError as exc:
        print(f"mlops-jlab: {exc}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
