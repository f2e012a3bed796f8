"""Periodic work done by the one process that leads a store.

Several processes may open one store (Jupyter servers, ``mlops-jlab serve``); the
deployment controller's lease makes one of them the leader. Work that must happen once
per store on a schedule (evaluating alert rules, anchoring the audit chain) runs in a
:class:`LeaderLoop` of every process and does its pass only while ``leading()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class LeaderLoop:
    """Calls ``work()`` every ``interval`` seconds (never when ``interval <= 0``) in a
    background thread, while ``leading()``; a failing pass is logged and the next one
    runs on time."""

    def __init__(self, work: Callable[[], object], interval: float, *,
                 leading: Callable[[], bool] = lambda: True, name: str = "mlops-loop",
                 failure: str = "a periodic pass failed") -> None:
        self.work = work
        self.interval = interval
        self.leading = leading
        self.name = name
        self.failure = failure
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start passing in a background thread until :meth:`stop`."""
        if self.interval <= 0 or (self._thread and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.leading():
                continue
            try:
                self.work()
            except Exception:  # keep going; the next pass may succeed
                log.exception("mlops_jlab: %s", self.failure)

    def stop(self) -> None:
        """Stop the loop (a pass under way finishes first)."""
        self._stop.set()
        if self._thread:
            self._thread.join(30)
