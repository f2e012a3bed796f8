"""``mlops-jlab``: the command line: run notebooks, sweeps and pipelines as tracked runs,
schedule them, serve deployments without JupyterLab, govern users and the audit trail."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .errors import InvalidInput, MlopsError


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
    from .config import store_env
    from .scheduling.runner import ScheduleRunner

    scheduler = ScheduleRunner(b.schedules, store_env(b.settings), args.schedule_interval,
                               leading=lambda: controller.leading,
                               log_dir=str(b.settings.home / "logs"))
    scheduler.start()
    print(f"mlops-jlab serve: reconciling deployments of {b.settings.db_url} "
          f"(controller {controller.holder}); Ctrl-C stops it and its workers", flush=True)
    while not done.wait(1.0):
        if not controller.leading:
            holder = b.serving.lease_holder()
            if holder and holder != controller.holder:
                print(f"waiting: {holder} controls this store", flush=True)
    scheduler.stop()
    monitor.stop()
    controller.stop()
    return 0


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    """``-p KEY VALUE`` pairs (values read as papermill does) over ``--parameters-json``."""
    import json

    from .automation.grid import parse_value

    out: dict[str, Any] = {}
    if getattr(args, "parameters_json", None):
        try:
            value = json.loads(args.parameters_json)
        except ValueError as exc:
            raise InvalidInput(f"--parameters-json is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise InvalidInput("--parameters-json must be a JSON object")
        out.update(value)
    for key, value in args.parameter or []:
        out[key] = parse_value(value)
    return out


def _write_result(path: str | None, result: dict[str, Any]) -> None:
    if path:
        import json

        with open(path, "w", encoding="utf-8") as f:
            json.dump(result, f, default=str)


def _run(args: argparse.Namespace) -> int:
    from .automation.notebook_run import run_notebook

    result = run_notebook(args.notebook, _parameters(args), output=args.output,
                          experiment=args.experiment, cwd=args.cwd, timeout=args.timeout,
                          kernel_name=args.kernel, progress=not args.quiet)
    _write_result(args.result, result.to_dict())
    print(f"run {result.run_id}: {result.status} in {result.seconds:.1f} s"
          f" (executed notebook: {result.output_path})")
    if result.metrics:
        print("metrics: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in sorted(result.metrics.items())))
    if result.error:
        print(result.error, file=sys.stderr)
    return 0 if result.ok else 1


def _sweep(args: argparse.Namespace) -> int:
    from .automation.grid import parse_value
    from .automation.sweep import sweep

    grid: dict[str, list[Any]] = {}
    for values in args.parameter or []:
        if len(values) < 2:
            raise InvalidInput(f"-p {values[0]} needs at least one value")
        grid[values[0]] = [parse_value(v) for v in values[1:]]
    result = sweep(args.notebook, grid, parallel=args.parallel, scheduler=args.scheduler,
                   experiment=args.experiment, metric=args.metric, goal=args.goal,
                   timeout=args.timeout, progress=not args.quiet)
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(result.table().to_string(index=False, na_rep="—"))
    print(result.summary())
    print(f"parent run {result.parent_run_id}: chart and table stored as its artifacts "
          "sweep/summary.json and sweep/summary.csv")
    if args.html:
        result.figure().write_html(args.html, include_plotlyjs=True)
        print(f"wrote {args.html}")
    return 0 if result.failed.empty else 1


def _pipeline_run(args: argparse.Namespace) -> int:
    from .automation.pipeline_run import run_pipeline

    result = run_pipeline(args.file, _parameters(args), parallel=args.parallel,
                          resume=not args.fresh, experiment=args.experiment,
                          timeout=args.timeout, progress=not args.quiet)
    _write_result(args.result, result.to_dict())
    print(result.summary())
    if not result.ok:
        print(result.failure(), file=sys.stderr)
    return 0 if result.ok else 1


def _pipeline_check(args: argparse.Namespace) -> int:
    from .automation.pipeline import load_pipeline

    pipeline = load_pipeline(args.file)
    for name in pipeline.order():
        step = pipeline.step(name)
        after = f" (after {', '.join(step.depends_on)})" if step.depends_on else ""
        print(f"{name}: {step.notebook.name}{after}")
    print(f"{pipeline.name}: {len(pipeline.steps)} step(s), valid")
    return 0


def _schedules_list(args: argparse.Namespace) -> int:
    from .client.scheduling import schedules

    frame = schedules()
    print("no schedules" if frame.empty else frame.to_string(index=False))
    return 0


def _schedules_create(args: argparse.Namespace) -> int:
    from .client.scheduling import create_schedule

    kind = "pipeline" if args.target.lower().endswith((".yaml", ".yml")) else "notebook"
    info = create_schedule(args.name, args.cron, args.target, kind=kind,
                           parameters=_parameters(args), experiment=args.experiment,
                           timezone=args.timezone)
    print(f"{info['name']}: {info['description']} ({info['timezone']}); next run "
          f"{_when(info['next_run_at'])}")
    return 0


def _schedules_set_paused(args: argparse.Namespace) -> int:
    from .client.scheduling import pause_schedule, resume_schedule

    info = (pause_schedule if args.action == "pause" else resume_schedule)(args.name)
    state = "paused" if info["paused"] else f"next run {_when(info['next_run_at'])}"
    print(f"{info['name']}: {state}")
    return 0


def _schedules_delete(args: argparse.Namespace) -> int:
    from .client.scheduling import delete_schedule

    delete_schedule(args.name)
    print(f"deleted {args.name}")
    return 0


def _schedules_history(args: argparse.Namespace) -> int:
    from .client.scheduling import schedule_history

    frame = schedule_history(args.name, limit=args.limit)
    print("never fired" if frame.empty else frame.to_string(index=False))
    return 0


def _when(ms: int | None) -> str:
    if ms is None:
        return "—"
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")


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

    result = verify_audit(args.anchors)
    print(result)
    return 0 if result.ok else 1


def _audit_anchor(args: argparse.Namespace) -> int:
    from .client.governance import anchor_audit

    result = anchor_audit(args.to, webhook=args.webhook)
    if result is None:
        print("the audit chain is empty: nothing to anchor")
        return 0
    print(result)
    return 1 if result.webhook is not None and not result.webhook.get("ok") else 0


def _audit_rotate_key(args: argparse.Namespace) -> int:
    from .client.governance import rotate_audit_key

    done = rotate_audit_key()
    print(f"rotated the audit key: new key {done['key_id']} (was {done['previous_key_id']}),"
          f" recorded as event #{done['seq']}; the old keys stay in {done['key_file']} to "
          "verify older events")
    return 0


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
    serve.add_argument("--schedule-interval", type=float, default=30.0,
                       help="seconds between checks for due schedules (30)")
    serve.set_defaults(func=_serve)
    _add_automation(commands)
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
    audit = commands.add_parser("audit", help="the MAC-chained audit trail (docs/audit.md)")
    audit_commands = audit.add_subparsers(dest="action", required=True)
    verifying = audit_commands.add_parser(
        "verify", help="recompute the chain with the audit key and check the anchors; "
                       "exit 1 and say where when an event was edited, deleted, reordered "
                       "or rewritten, the chain was cut, or an anchor was forged or deleted")
    verifying.add_argument("--anchors", metavar="LOCATION", default=None,
                           help="folder or fsspec URL of the anchors to check (default: "
                                "$MLOPS_JLAB_HOME/audit-anchors when it exists)")
    verifying.set_defaults(func=_audit_verify)
    anchoring = audit_commands.add_parser(
        "anchor", help="write a signed anchor of the chain head (a new file; never "
                       "overwrites one)")
    anchoring.add_argument("--to", metavar="LOCATION", default=None,
                           help="folder or fsspec URL (default "
                                "$MLOPS_JLAB_HOME/audit-anchors)")
    anchoring.add_argument("--webhook", metavar="URL", default=None,
                           help="also POST the anchor to this URL (exit 1 if that fails)")
    anchoring.set_defaults(func=_audit_anchor)
    audit_commands.add_parser(
        "rotate-key", help="switch to a fresh audit key (admins); the old keys stay in "
                           "the key file to verify older events").set_defaults(
        func=_audit_rotate_key)
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


def _common(parser: argparse.ArgumentParser, *, params: bool = True,
            execution: bool = True) -> None:
    """Options shared by the commands: parameters, experiment, and (for commands that
    execute now) the cell time limit and quiet output."""
    if params:
        parser.add_argument("-p", "--parameter", nargs=2, action="append",
                            metavar=("KEY", "VALUE"), help="a parameter (repeatable)")
        parser.add_argument("--parameters-json", metavar="JSON",
                            help="parameters as a JSON object (-p wins)")
    parser.add_argument("--experiment", help="experiment of the run(s)")
    if execution:
        parser.add_argument("--timeout", type=float, default=None,
                            help="seconds a cell may run (default: no limit)")
        parser.add_argument("-q", "--quiet", action="store_true",
                            help="no progress output")


def _add_automation(commands: Any) -> None:
    run = commands.add_parser("run", help="execute a notebook with papermill as a "
                                          "tracked run")
    run.add_argument("notebook")
    _common(run)
    run.add_argument("-o", "--output", help="executed notebook path (default: under "
                                            "$MLOPS_JLAB_HOME/notebook-runs)")
    run.add_argument("--cwd", help="working directory (default: the notebook's folder)")
    run.add_argument("--kernel", help="kernel name (default: the notebook's)")
    run.add_argument("--result", help="write the outcome as JSON to this file")
    run.set_defaults(func=_run)

    sweep = commands.add_parser("sweep", help="run a notebook once per combination of "
                                              "parameters on Dask")
    sweep.add_argument("notebook")
    sweep.add_argument("-p", "--parameter", nargs="+", action="append",
                       metavar="KEY VALUE", help="a parameter and its values, e.g. "
                       "-p alpha 0.01 0.1 1 (repeatable)")
    _common(sweep, params=False)
    sweep.add_argument("--parallel", type=int, default=2,
                       help="local Dask workers (default 2)")
    sweep.add_argument("--scheduler", help="address of an existing Dask scheduler "
                                           "(tcp://host:8786) instead of local workers")
    sweep.add_argument("--metric", help="metric to summarise (default: the first logged)")
    sweep.add_argument("--goal", choices=["max", "min"], default="max")
    sweep.add_argument("--html", help="also write the chart to this HTML file")
    sweep.set_defaults(func=_sweep)

    pipeline = commands.add_parser("pipeline", help="pipelines of notebooks (YAML)")
    pipeline_commands = pipeline.add_subparsers(dest="action", required=True)
    prun = pipeline_commands.add_parser("run", help="run a pipeline; after a failure, "
                                                    "resumes at the failed step")
    prun.add_argument("file")
    _common(prun)
    prun.add_argument("--parallel", type=int, default=1,
                      help="independent steps run at once (default 1)")
    prun.add_argument("--fresh", action="store_true",
                      help="run every step, even those a failed run can reuse")
    prun.add_argument("--result", help="write the outcome as JSON to this file")
    prun.set_defaults(func=_pipeline_run)
    check = pipeline_commands.add_parser("check", help="validate a pipeline file and "
                                                       "print its step order")
    check.add_argument("file")
    check.set_defaults(func=_pipeline_check)

    sched = commands.add_parser("schedules", help="cron schedules of notebooks and "
                                                  "pipelines")
    sched_commands = sched.add_subparsers(dest="action", required=True)
    sched_commands.add_parser("list", help="every schedule").set_defaults(
        func=_schedules_list)
    create = sched_commands.add_parser("create", help="schedule a notebook or pipeline")
    create.add_argument("name")
    create.add_argument("cron", help="five fields, e.g. '0 2 * * *' (02:00 daily)")
    create.add_argument("target", help="notebook (.ipynb) or pipeline file (.yaml)")
    create.add_argument("--timezone", default="UTC")
    _common(create, execution=False)
    create.set_defaults(func=_schedules_create)
    for action in ("pause", "resume", "delete", "history"):
        sub = sched_commands.add_parser(action, help=f"{action} a schedule")
        sub.add_argument("name")
        if action == "history":
            sub.add_argument("--limit", type=int, default=20)
        sub.set_defaults(func={"pause": _schedules_set_paused,
                               "resume": _schedules_set_paused,
                               "delete": _schedules_delete,
                               "history": _schedules_history}[action])


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
