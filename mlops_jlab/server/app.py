"""``MlopsJlab``: the jupyter-server extension app (traitlets config, handlers, services)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Unicode

from .. import config
from .._version import __version__
from ..monitoring.service import MonitoringService
from ..registry import RegistryService
from ..serving import ServingService
from ..serving.controller import DeploymentController
from ..store import Database
from ..store.artifacts import open_artifact_store
from ..tracking import TrackingService
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

    def initialize_settings(self) -> None:
        settings = config.resolve(home=self.home or None, db_url=self.db_url or None,
                                  artifacts=self.artifacts or None)
        # Kernels this server starts inherit its environment: export the resolved store
        # so %%mlops_train in a notebook writes where the panel reads, traits included.
        os.environ.update({"MLOPS_JLAB_HOME": str(settings.home),
                           "MLOPS_JLAB_DB_URL": settings.db_url,
                           "MLOPS_JLAB_ARTIFACTS": settings.artifacts})
        db = Database(settings.db_url)
        artifacts = open_artifact_store(settings.artifacts)
        tracking = TrackingService(db, artifacts)
        registry = RegistryService(db, artifacts, tracking)
        registry.sweep_pending()
        serving = ServingService(db, registry, settings.home)
        controller = DeploymentController(serving, log_dir=str(settings.home / "logs")) \
            if self.run_controller else None
        services = Services(tracking, registry, serving, controller,
                            getattr(self.serverapp, "root_dir", None),
                            MonitoringService(db, tracking, registry, serving))
        if controller is not None:
            controller.start()  # restores every active deployment
        self.settings.update({"mlops_services": services})
        self.log.info("mlops_jlab %s: database %s, artifacts %s", __version__,
                      settings.db_url, settings.artifacts)

    async def stop_extension(self) -> None:
        """Stop the controller and its workers with the server (they are restored on the
        next start)."""
        services = self.settings.get("mlops_services")
        if services is not None and services.controller is not None:
            services.controller.stop()

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)
