"""The monitor loop: evaluates every active deployment's alert rules on a schedule, in
the process that reconciles deployments (the Jupyter server or ``mlops-jlab serve``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..store.leading import LeaderLoop
from .alerts import AlertService

log = logging.getLogger(__name__)


class MonitorLoop(LeaderLoop):
    """Runs :meth:`AlertService.evaluate` every ``interval`` seconds while ``leading()``
    (one evaluator per store: the holder of the controller lease)."""

    def __init__(self, alerts: AlertService, interval: float = 60.0,
                 leading: Callable[[], bool] = lambda: True) -> None:
        super().__init__(self._evaluate, interval, leading=leading, name="mlops-monitor",
                         failure="evaluating alert rules failed")
        self.alerts = alerts

    def _evaluate(self) -> None:
        for alert in self.alerts.evaluate():
            log.warning("mlops_jlab alert %s on %s: %s", alert["status"],
                        alert["deployment"], alert["message"])
