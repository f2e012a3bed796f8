"""The monitor loop: evaluates every active deployment's alert rules on a schedule, in
the process that reconciles deployments (the Jupyter server or ``mlops-jlab serve``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .alerts import AlertService

log = logging.getLogger(__name__)


class MonitorLoop:
    """Runs :meth:`AlertService.evaluate` every ``interval`` seconds while ``leading()``
    (one evaluator per store: the holder of the controller lease)."""

    def __init__(self, alerts: AlertService, interval: float = 60.0,
                 leading: Callable[[], bool] = lambda: True) -> None:
        self.alerts = alerts
        self.interval = interval
        self.leading = leading
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Evaluate in a background thread until :meth:`stop`."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mlops-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.leading():
                continue
            try:
                for alert in self.alerts.evaluate():
                    log.warning("mlops_jlab alert %s on %s: %s", alert["status"],
                                alert["deployment"], alert["message"])
            except Exception:  # keep watching; the next pass may succeed
                log.exception("mlops_jlab: evaluating alert rules failed")

    def stop(self) -> None:
        """Stop the loop (a running evaluation finishes first)."""
        self._stop.set()
        if self._thread:
            self._thread.join(30)
