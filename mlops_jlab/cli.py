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
