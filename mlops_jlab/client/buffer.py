"""Buffered metric logging: ``log_metric`` appends to memory, batches go to the store.

Points are flushed when the buffer holds ``max_points``, by a daemon thread once they
are ``max_age`` seconds old, on ``flush()`` (run end, reads, interpreter exit). A failed
flush puts its points back, in order, so nothing logged is lost.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Point = tuple[str, str, "float | None", int, int]  # run_id, key, value, step, timestamp ms
Writer = Callable[[Sequence[Point]], object]


class MetricBuffer:
    """Thread-safe buffer of metric points in front of a batch writer."""

    def __init__(self, writer: Writer, max_points: int = 20_000, max_age: float = 1.0) -> None:
        self._writer = writer
        self.max_points = max_points
        self.max_age = max_age
        self._points: list[Point] = []
        self._oldest = 0.0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None
        _live_buffers.add(self)

    def __len__(self) -> int:
        return len(self._points)

    def append(self, point: Point) -> None:
        """Queue one point; flushes inline when the buffer is full."""
        self.extend((point,))

    def extend(self, points: Sequence[Point]) -> None:
        """Queue many points at once."""
        if not points:
            return
        with self._lock:
            if not self._points:
                self._oldest = time.monotonic()
                self._ensure_thread()
            self._points.extend(points)
            full = len(self._points) >= self.max_points
        if full:
            self.flush()

    def flush(self) -> int:
        """Write every queued point now; returns how many were written."""
        with self._flush_lock:
            with self._lock:
                points, self._points = self._points, []
            if not points:
                return 0
            try:
                self._writer(points)
            except BaseException:
                with self._lock:
                    self._points[:0] = points
                raise
            return len(points)

    def take(self, run_id: str) -> list[Point]:
        """Remove and return the queued points of one run (to write them with its end)."""
        with self._flush_lock, self._lock:
            if all(p[0] == run_id for p in self._points):
                taken, self._points = self._points, []
            else:
                taken = [p for p in self._points if p[0] == run_id]
                self._points = [p for p in self._points if p[0] != run_id]
        return taken

    def put_back(self, points: Sequence[Point]) -> None:
        """Return points that could not be written, ahead of newer ones."""
        if points:
            with self._lock:
                self._points[:0] = points

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=_flush_loop, args=(weakref.ref(self),),
                                            name="mlops-metric-flush", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Flush and stop the background thread."""
        self._closed = True
        self.flush()


def _flush_loop(ref: weakref.ref[MetricBuffer]) -> None:
    while True:
        buf = ref()
        if buf is None or buf._closed:
            return
        wait = buf.max_age
        if buf._points and time.monotonic() - buf._oldest >= buf.max_age:
            try:
                buf.flush()
            except Exception as exc:  # keep points; retry on the next tick
                log.warning("mlops_jlab: metric flush failed, will retry: %s", exc)
        del buf
        time.sleep(wait / 2)


_live_buffers: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for buf in list(_live_buffers):
        try:
            buf.flush()
        except Exception as exc:
            log.error("mlops_jlab: could not flush %d metric points at exit: %s", len(buf), exc)
