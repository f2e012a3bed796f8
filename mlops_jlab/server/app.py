"""``MlopsJlab``: the jupyter-server extension app (traitlets config, handlers, services)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, List, Unicode, default

from .. import config
from .._version import __version__
from ..errors import ConfigurationError
from ..explain import ExplanationService
from ..governance import AccessControl, AuditLog
from ..governance.anchors import AUDITOR, AnchorLoop
from ..governance.approvals import PromotionService
from ..governance.card import ModelCards
from ..governance.delegation import Delegation
from ..governance.job_account import JobAccount, JobAccounts
from ..models.isolation import IsolatedModels
from ..monitoring.alerts import AlertService
from ..monitoring.loop import MonitorLoop
from ..monitoring.retrain import Retrainer
from ..monitoring.service import MonitoringService
from ..registry import RegistryService
from ..scheduling import ScheduleService
from ..scheduling.runner import ScheduleRunner
from ..serving import ServingService
from ..serving.controller import DeploymentController
from ..serving.zygote import close_shared_zygote
from ..store import Database
from ..store.artifacts import open_artifact_store
from ..store.paths import is_inside
from ..tracking import TrackingService
from . import remote
from .fallback import FALLBACK
from .idempotency import IdempotencyStore
from .page_token import hide_page_token
from .routes import ROUTES


@dataclass
class Services:
    """The services one server process holds."""

    tracking: TrackingService
    registry: RegistryService
    serving: ServingService
    controller: DeploymentController | None
    root_dir: str | None
    monitoring: MonitoringService
    alerts: AlertService
    monitor: MonitorLoop | None
    idempotency: IdempotencyStore | None = None
    access: AccessControl | None = None
    promotions: PromotionService | None = None
    cards: ModelCards | None = None
    schedules: ScheduleService | None = None
    scheduler: ScheduleRunner | None = None
    explanations: ExplanationService | None = None
    audit_anchors: AnchorLoop | None = None
    owner: str = ""
    """The local user of this server: who acts when Jupyter's identity is the default
    shared-token one (single-user JupyterLab)."""
    delegation: Delegation | None = None
    """How processes started for a user get their environment (team or local mode)."""


class MlopsJlab(ExtensionApp):
    """Serves ``/mlops/api``; configure with ``c.MlopsJlab.<trait>`` or env vars."""

    name = "mlops_jlab"
    version = __version__
    description = "Notebook-native MLOps: tracking REST API for the JupyterLab panel"
    load_other_extensions = True

    home = Unicode("", config=True,
                   help="Home folder (default $MLOPS_JLAB_HOME or ~/.mlops_jlab)")
    db_url = Unicode("", config=True,
                     help="SQLAlchemy URL (default $MLOPS_JLAB_DB_URL or SQLite in home)")
    artifacts = Unicode("", config=True,
                        help="Artifact root, folder or fsspec URL (default "
                             "$MLOPS_JLAB_ARTIFACTS or <home>/artifacts)")

    run_controller = Bool(True, config=True,
                          help="Run the deployment controller in this server (serves the "
                               "deployments of the store)")
    monitor_interval = Float(60.0, config=True,
                             help="Seconds between evaluations of the alert rules (in the "
                                  "server that runs the controller)")
    default_role = Unicode("", config=True,
                           help="Role of users seen for the first time: viewer, contributor, "
                                "approver or admin (default $MLOPS_JLAB_DEFAULT_ROLE or "
                                "viewer; the first user of an empty store is admin)")
    schedule_interval = Float(30.0, config=True,
                              help="Seconds between checks for due schedules (in the server "
                                   "that runs the controller)")
    trusted_types = List(Unicode(), default_value=[], config=True,
                         help="Extra types (e.g. 'xgboost.sklearn.XGBClassifier') that model "
                              "files loaded by this server may contain beyond the built-in "
                              "safe list. Only this configuration widens trust: a request "
                              "never can. The server loads models (validation gates, the "
                              "preflight of a deployment) in an isolated process without "
                              "secrets.")
    isolate_models = Bool(True, config=True,
                          help="Load models for validation and deployment preflight in a "
                               "child process with a scrubbed environment (recommended)")
    team_mode = Bool(None, allow_none=True, config=True,
                     help="Team mode: several people use this server, each with their own "
                          "identity. Code it runs for someone (schedule firings, retraining, "
                          "kernels with MlopsKernelManager) then reaches the store only "
                          "through this REST API with a short-lived token acting as that "
                          "person, and holds no store credentials. Default: on when the "
                          "identity provider tells people apart (MlopsIdentityProvider, "
                          "JupyterHub), off with Jupyter's single shared token")
    job_users = List(Unicode(), default_value=[], config=True,
                     help="Team mode: unprivileged OS accounts that schedule firings and "
                          "retraining run as, each lent to one job at a time (so as many "
                          "jobs run at once as there are accounts), so people's code "
                          "cannot read what this server's account can (its environment, "
                          "a local store, the audit key) nor another job's token. Needs "
                          "the server to run as root (or with CAP_SETUID/CAP_SETGID); the "
                          "accounts need read access to the scheduled notebooks and their "
                          "folders. See docs/team-mode.md")
    job_user = Unicode("", config=True, help="One job account: job_users=[job_user]")
    jobs_as_server_user = Bool(False, config=True,
                               help="Team mode without job_users: run schedule firings and "
                                    "retraining as this server's own OS user anyway. Only "
                                    "when everyone who may schedule notebooks or attach "
                                    "retraining to an alert rule is trusted on this host; "
                                    "otherwise a team server refuses them")
    allow_private_webhooks = Bool(False, config=True,
                                  help="Let alert webhooks reach loopback and private "
                                       "addresses (refused by default: SSRF)")
    audit_key_file = Unicode("", config=True,
                             help="HMAC key file of the audit chain, mode 0600, created on "
                                  "first use (default $MLOPS_JLAB_AUDIT_KEY_FILE or "
                                  "<home>/audit.key); see docs/audit.md")
    audit_anchors = Unicode("", config=True,
                            help="Folder or fsspec URL where signed anchors of the audit "
                                 "chain's head are written (default <home>/audit-anchors)")
    audit_anchor_interval = Float(3600.0, config=True,
                                  help="Seconds between audit anchors, written only when "
                                       "the chain moved (0: off)")
    audit_anchor_webhook = Unicode("", config=True,
                                   help="Also POST each scheduled audit anchor to this URL "
                                        "(SSRF-checked like alert webhooks)")

    remote_url = Unicode(config=True,
                         help="Client mode: the base URL of the team's MLOps server (e.g. "
                              "a JupyterHub service). This server then opens no store, runs "
                              "no controller, scheduler or monitor, forwards the panel's "
                              "/mlops/api calls there with remote_token, and its kernels get "
                              "only MLOPS_JLAB_URI and MLOPS_JLAB_TOKEN. Default: "
                              "$MLOPS_JLAB_URI when it is an http(s) URL; see "
                              "docs/team-mode.md")
    remote_token = Unicode(config=True,
                           help="Client mode: the credential sent to the MLOps server, the "
                                "user's own (default $MLOPS_JLAB_TOKEN, else "
                                "$JUPYTERHUB_API_TOKEN: a hub single-user server's token)")

    @default("remote_url")
    def _default_remote_url(self) -> str:
        return remote.default_remote_url()

    @default("remote_token")
    def _default_remote_token(self) -> str:
        return remote.default_remote_token()

    def initialize_settings(self) -> None:
        if self.remote_url:  # client mode (see .remote): no store in this process
            remote.start_client_mode(self.settings, self.remote_url, self.remote_token,
                                     self.log)
            return
        settings = config.resolve(home=self.home or None, db_url=self.db_url or None,
                                  artifacts=self.artifacts or None,
                                  audit_key_file=self.audit_key_file or None)
        store_env = config.store_env(settings)
        team = self._team()
        if team:
            # Nothing this server starts inherits the store: kernels, firings and
            # retraining get this API's URL and (see .kernels, governance.delegation) a
            # token acting as their user; workers get the store explicitly.
            for var in (*config.STORE_VARS.values(), "MLOPS_JLAB_USER"):
                os.environ.pop(var, None)
        else:
            # Kernels this server starts inherit its environment: export the resolved
            # store so %%mlops_train in a notebook writes where the panel reads.
            os.environ.update(store_env)
        db = Database(settings.db_url)
        artifacts = open_artifact_store(settings.artifacts)
        audit = AuditLog(db, key=settings.audit_key_file,
                         anchors=self.audit_anchors or settings.audit_anchors)
        access = AccessControl(db, audit,
                               default_role=self.default_role or settings.default_role)
        tracking = TrackingService(db, artifacts, access)
        registry = RegistryService(db, artifacts, tracking)
        if self.isolate_models:
            registry.isolated = IsolatedModels(artifacts.read_bytes,
                                               trusted_types=self.trusted_types)
        registry.sweep_pending()
        serving = ServingService(db, registry, settings.home)
        promotions = PromotionService(registry, on_promoted=serving.follow_production)
        controller = DeploymentController(serving, log_dir=str(settings.home / "logs"),
                                          env=store_env) if self.run_controller else None
        delegation = Delegation(access, self._api_url if team else None, store_env,
                                accounts=self._job_accounts(team, settings),
                                jobs_as_server_user=self.jobs_as_server_user)
        if self.allow_private_webhooks:
            os.environ["MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS"] = "1"
        monitoring = MonitoringService(db, tracking, registry, serving)
        alerts = AlertService(monitoring, Retrainer(
            monitoring, settings.home, root=getattr(self.serverapp, "root_dir", None),
            delegation=delegation).run)
        alerts.jobs_check = delegation.check_jobs
        monitor = MonitorLoop(alerts, self.monitor_interval,
                              leading=lambda: bool(controller and controller.leading)) \
            if controller is not None else None
        services = Services(tracking, registry, serving, controller,
                            getattr(self.serverapp, "root_dir", None), monitoring, alerts,
                            monitor)
        services.idempotency = IdempotencyStore(db)
        services.access, services.promotions = access, promotions
        services.cards = ModelCards(registry, promotions, serving)
        services.explanations = ExplanationService(db, registry)
        services.owner = settings.user
        services.delegation = delegation
        root = getattr(self.serverapp, "root_dir", None)
        services.schedules = ScheduleService(db, access, root=root)
        if controller is not None:
            services.scheduler = ScheduleRunner(
                services.schedules, store_env, self.schedule_interval,
                leading=lambda: bool(controller and controller.leading),
                log_dir=str(settings.home / "logs"), delegation=delegation)
        if controller is not None:
            controller.start()  # restores every active deployment
        if monitor is not None:
            monitor.start()
        services.audit_anchors = AnchorLoop(
            lambda: audit.anchor(AUDITOR, webhook=self.audit_anchor_webhook or None,
                                 only_if_moved=True),
            self.audit_anchor_interval,
            leading=lambda: controller is None or bool(controller.leading))
        services.audit_anchors.start()
        if services.scheduler is not None:
            services.scheduler.start()
        self.settings.update({"mlops_services": services})
        if team:  # kernels (and whatever else starts later) find the API, not the store
            os.environ["MLOPS_JLAB_URI"] = self._api_url()
            hide_page_token(getattr(self.serverapp, "web_app", None))
            self._warn_if_served(settings)
        self.log.info("mlops_jlab %s: database %s, artifacts %s", __version__,
                      settings.db_url, settings.artifacts)

    async def stop_extension(self) -> None:
        """Stop the controller and its workers with the server (they are restored on the
        next start)."""
        services = self.settings.get("mlops_services")
        if services is not None and services.scheduler is not None:
            services.scheduler.stop()
        if services is not None and services.audit_anchors is not None:
            services.audit_anchors.stop()
        if services is not None and services.monitor is not None:
            services.monitor.stop()
            services.alerts.close()
        if services is not None and services.controller is not None:
            services.controller.stop()
            close_shared_zygote()  # nothing this server started outlives it

    def _warn_if_served(self, settings: config.Settings) -> None:
        """Warn when the store lies inside the folder Jupyter serves: whoever may read
        files there (viewers, under MlopsAuthorizer) could download it."""
        root = getattr(self.serverapp, "root_dir", None)
        if not root:
            return
        served = [p for p in config.secret_paths(settings) if is_inside(root, p)
                  and not any(part.startswith(".") for part in
                              os.path.relpath(os.path.realpath(p),
                                              os.path.realpath(root)).split(os.sep))]
        if served:
            self.log.warning("mlops_jlab: %s lie inside the folder this server serves (%s): "
                             "anyone who may read files here can download them; move "
                             "MLOPS_JLAB_HOME (and the database, artifacts, audit key) "
                             "out of it", ", ".join(served), root)

    def _team(self) -> bool:
        """Whether this server is in team mode (the trait, else its identity provider)."""
        if self.team_mode is not None:
            return bool(self.team_mode)
        from .identity import SHARED_SECRET_PROVIDERS, MlopsIdentityProvider

        provider = type(getattr(self.serverapp, "identity_provider", None))
        return provider is MlopsIdentityProvider or provider not in SHARED_SECRET_PROVIDERS

    def _job_accounts(self, team: bool, settings: config.Settings) -> JobAccounts | None:
        """The accounts jobs run as (team mode), or None; an unusable account (one
        that could read the store, or not this server's Python) is logged and leaves
        none, so jobs are refused rather than run where they could read what the
        server holds."""
        names = list(self.job_users) or ([self.job_user] if self.job_user else [])
        if not names:
            return None
        if not team:
            self.log.warning("mlops_jlab: job_users are for team mode; this server is "
                             "single-user, so jobs run as its own account")
            return None
        try:
            accounts = JobAccounts(JobAccount.resolve(name) for name in names)
        except ConfigurationError as exc:
            self.log.error("mlops_jlab: %s; schedule firings and retraining are refused "
                           "until this is fixed", exc)
            return None
        for account in accounts.accounts:
            exposed = account.exposed(config.secret_paths(settings))
            missing = account.unreachable_python()
            if exposed or missing:
                self.log.error(
                    "mlops_jlab: job user %s %s; schedule firings and retraining are "
                    "refused until this is fixed", account.name,
                    f"can read {', '.join(exposed)} (chmod o-rwx, and g-rwx if it is in "
                    "the group)" if exposed else
                    f"cannot read this server's Python ({', '.join(missing)}): install "
                    "it where every account may read it")
                return None
        return accounts

    def _api_url(self) -> str:
        """This server's base URL as processes on this machine reach it."""
        app = self.serverapp
        assert app is not None, "the extension is loaded by a server"
        scheme = "https" if getattr(app, "certfile", None) else "http"
        ip = app.ip if app.ip not in ("", "0.0.0.0", "::", "*") else "127.0.0.1"
        host = f"[{ip}]" if ":" in ip else ip
        return f"{scheme}://{host}:{app.port}{app.base_url}"

    def initialize_handlers(self) -> None:
        if self.remote_url:  # client mode: every /mlops/api path is forwarded
            self.handlers.extend(remote.HANDLERS)
            return
        self.handlers.extend([*ROUTES, FALLBACK])  # FALLBACK: any other path, 404 JSON
