"""``MlopsJlab``: the jupyter-server extension app (traitlets config, handlers, services)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Unicode

from .. import config
from .._version import __version__
from ..explain import ExplanationService
from ..governance import AccessControl
from ..governance.approvals import PromotionService
from ..governance.card import ModelCards
from ..monitoring.alerts import AlertService
from ..monitoring.loop import MonitorLoop
from ..monitoring.retrain import Retrainer
from ..monitoring.service import MonitoringService
from ..registry import RegistryService
from ..scheduling import ScheduleService
from ..scheduling.runner import ScheduleRunner
from ..serving import ServingService
from ..serving.controller import DeploymentController
from ..store import Database
from ..store.artifacts import open_artifact_store
from ..tracking import TrackingService
from .fallback import FALLBACK
from .idempotency import IdempotencyStore
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
    owner: str = ""
    """The local user of this server: who acts when Jupyter's identity is the default
    shared-token one (single-user JupyterLab)."""


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
    allow_private_webhooks = Bool(False, config=True,
                                  help="Let alert webhooks reach loopback and private "
                                       "addresses (refused by default: SSRF)")

    def initialize_settings(self) -> None:
        settings = config.resolve(home=self.home or None, db_url=self.db_url or None,
                                  artifacts=self.artifacts or None)
        # Kernels this server starts inherit its environment: export the resolved store
        # so %%mlops_train in a notebook writes where the panel reads, traits included.
        os.environ.update(config.store_env(settings))
        db = Database(settings.db_url)
        artifacts = open_artifact_store(settings.artifacts)
        access = AccessControl(db, default_role=self.default_role or settings.default_role)
        tracking = TrackingService(db, artifacts, access)
        registry = RegistryService(db, artifacts, tracking)
        registry.sweep_pending()
        serving = ServingService(db, registry, settings.home)
        promotions = PromotionService(registry, on_promoted=serving.follow_production)
        controller = DeploymentController(serving, log_dir=str(settings.home / "logs")) \
            if self.run_controller else None
        if self.allow_private_webhooks:
            os.environ["MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS"] = "1"
        monitoring = MonitoringService(db, tracking, registry, serving)
        alerts = AlertService(monitoring, Retrainer(
            monitoring, settings.home, root=getattr(self.serverapp, "root_dir", None)).run)
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
        root = getattr(self.serverapp, "root_dir", None)
        services.schedules = ScheduleService(db, access, root=root)
        if controller is not None:
            services.scheduler = ScheduleRunner(
                services.schedules, config.store_env(settings), self.schedule_interval,
                leading=lambda: bool(controller and controller.leading),
                log_dir=str(settings.home / "logs"))
        if controller is not None:
            controller.start()  # restores every active deployment
        if monitor is not None:
            monitor.start()
        if services.scheduler is not None:
            services.scheduler.start()
        self.settings.update({"mlops_services": services})
        self.log.info("mlops_jlab %s: database %s, artifacts %s", __version__,
                      settings.db_url, settings.artifacts)

    async def stop_extension(self) -> None:
        """Stop the controller and its workers with the server (they are restored on the
        next start)."""
        services = self.settings.get("mlops_services")
        if services is not None and services.scheduler is not None:
            services.scheduler.stop()
        if services is not None and services.monitor is not None:
            services.monitor.stop()
            services.alerts.close()
        if services is not None and services.controller is not None:
            services.controller.stop()

    def initialize_handlers(self) -> None:
        self.handlers.extend([*ROUTES, FALLBACK])  # FALLBACK: any other path, 404 JSON
