"""Backends: how the Python API and magics reach the services.

``LocalBackend`` opens the store in-process (single user, papermill, CI). Team mode
(``MLOPS_JLAB_URI=http(s)://...``) makes the same calls over the REST API
(:class:`~.http.HttpBackend`); see ``open_backend``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..config import Settings
from ..explain import ExplanationService
from ..governance import AccessControl, AuditLog
from ..governance.approvals import PromotionService
from ..governance.card import ModelCards
from ..monitoring.alerts import AlertService
from ..monitoring.retrain import Retrainer
from ..monitoring.service import MonitoringService
from ..registry import RegistryService
from ..scheduling import ScheduleService
from ..serving import ServingService
from ..store import Database
from ..store.artifacts import open_artifact_store
from ..tracking import Experiment, MetricPoint, Run, RunDetail, RunPage, TrackingService
from ..tracking.datasets import DatasetProfile
from .buffer import MetricBuffer, Point


class Backend(Protocol):
    """The calls the client faces make; the acting user is the backend's."""

    user: str
    settings: Settings
    metrics: MetricBuffer
    tracking: TrackingService
    registry: RegistryService
    serving: ServingService
    monitoring: MonitoringService
    alerts: AlertService
    explanations: Any

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment: ...
    def get_or_create_experiment(self, name: str) -> Experiment: ...
    def get_experiment(self, ref: str) -> Experiment: ...
    def list_experiments(self) -> list[Experiment]: ...
    def create_run(self, **kwargs: Any) -> Run: ...
    def log_params(self, run_id: str, params: Mapping[str, object]) -> None: ...
    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None: ...
    def write_metrics(self, points: Sequence[Point]) -> int: ...
    def last_steps(self, run_id: str) -> dict[str, int]: ...
    def end_run(self, run_id: str, status: str = "finished",
                error: str | None = None) -> None: ...
    def update_run(self, run_id: str, **kwargs: Any) -> None: ...
    def log_artifact(self, run_id: str, local_path: str | os.PathLike[str],
                     artifact_path: str | None = None) -> list[dict[str, Any]]: ...
    def log_artifact_bytes(self, run_id: str, path: str, data: bytes) -> dict[str, Any]: ...
    def artifact_bytes(self, run_id: str, path: str) -> bytes: ...
    def log_dataset(self, run_id: str, profile: DatasetProfile, role: str) -> dict[str, Any]: ...
    def get_run(self, run_id: str) -> RunDetail: ...
    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]: ...
    def search_runs(self, experiments: Iterable[str] | str | None, filter: str | None,
                    order_by: str | Sequence[str] | None, limit: int,
                    page_token: str | None) -> RunPage: ...
    def close(self) -> None: ...


class ServicesBackend:
    """The Backend calls on top of service objects (in-process, or REST proxies with the
    same signatures: see :mod:`.http`); the acting user is ``self.user``."""

    settings: Settings
    user: str
    metrics: MetricBuffer
    tracking: Any
    registry: Any
    serving: Any
    monitoring: Any
    alerts: Any
    explanations: Any

    # experiments
    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        return self.tracking.create_experiment(name, self.user, tags)

    def get_or_create_experiment(self, name: str) -> Experiment:
        return self.tracking.get_or_create_experiment(name, self.user)

    def get_experiment(self, ref: str) -> Experiment:
        return self.tracking.get_experiment(ref, user=self.user)

    def list_experiments(self) -> list[Experiment]:
        return self.tracking.list_experiments(user=self.user)

    # runs
    def create_run(self, **kwargs: Any) -> Run:
        return self.tracking.create_run(self.user, **kwargs)

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        self.tracking.log_params(run_id, params, self.user)

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        self.tracking.set_tags(run_id, tags, self.user)

    def write_metrics(self, points: Sequence[Point]) -> int:
        return self.tracking.log_metrics(points, self.user)

    def last_steps(self, run_id: str) -> dict[str, int]:
        return self.tracking.last_steps(run_id)

    def end_run(self, run_id: str, status: str = "finished", error: str | None = None) -> None:
        points = self.metrics.take(run_id)
        try:
            self.tracking.end_run(run_id, self.user, status=status, error=error, points=points)
        except BaseException:
            self.metrics.put_back(points)
            raise

    def update_run(self, run_id: str, **kwargs: Any) -> None:
        self.tracking.update_run(run_id, self.user, **kwargs)

    # artifacts and datasets
    def log_artifact(self, run_id: str, local_path: str | os.PathLike[str],
                     artifact_path: str | None = None) -> list[dict[str, Any]]:
        return self.tracking.log_artifact(run_id, local_path, self.user, artifact_path)

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes) -> dict[str, Any]:
        return self.tracking.log_artifact_bytes(run_id, path, data, self.user)

    def log_dataset(self, run_id: str, profile: DatasetProfile, role: str) -> dict[str, Any]:
        return self.tracking.log_dataset(run_id, profile, self.user, role)

    # reads: flush first so nothing logged is invisible
    def get_run(self, run_id: str) -> RunDetail:
        self.metrics.flush()
        return self.tracking.get_run(run_id, user=self.user)

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        self.metrics.flush()
        return self.tracking.metric_history(run_id, key, user=self.user)

    def search_runs(self, experiments: Iterable[str] | str | None, filter: str | None,
                    order_by: str | Sequence[str] | None, limit: int,
                    page_token: str | None) -> RunPage:
        self.metrics.flush()
        return self.tracking.search_runs(experiments, filter, order_by, limit, page_token,
                                         user=self.user)

    def artifact_bytes(self, run_id: str, path: str) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        self.metrics.close()


class LocalBackend(ServicesBackend):
    """Services in-process over the configured database and artifact store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.user = settings.user
        self.db = Database(settings.db_url)
        artifacts = open_artifact_store(settings.artifacts)
        audit = AuditLog(self.db, key=settings.audit_key_file, anchors=settings.audit_anchors)
        self.access = AccessControl(self.db, audit, default_role=settings.default_role)
        self.tracking = TrackingService(self.db, artifacts, self.access)
        self.registry = RegistryService(self.db, artifacts, self.tracking)
        self.explanations = ExplanationService(self.db, self.registry)
        self.serving = ServingService(self.db, self.registry, settings.home)
        self.promotions = PromotionService(self.registry,
                                           on_promoted=self.serving.follow_production)
        self.cards = ModelCards(self.registry, self.promotions, self.serving)
        self.monitoring = MonitoringService(self.db, self.tracking, self.registry,
                                            self.serving)
        self.alerts = AlertService(self.monitoring,
                                   Retrainer(self.monitoring, settings.home).run)
        self.schedules = ScheduleService(self.db, self.access)
        self.metrics = MetricBuffer(self.write_metrics)

    def artifact_bytes(self, run_id: str, path: str) -> bytes:
        blob = self.tracking.artifact_blob(run_id, path)
        return bytes(self.tracking.artifacts.read_bytes(blob["sha256"]))

    def close(self) -> None:
        self.metrics.close()
        self.db.dispose()


def open_backend(settings: Settings) -> Backend:
    """The backend the settings ask for: :class:`~.http.HttpBackend` when
    ``MLOPS_JLAB_URI`` is an http(s) URL (team mode), else :class:`LocalBackend`."""
    if settings.remote:
        from .http import HttpBackend

        return HttpBackend(settings)
    return LocalBackend(settings)
