"""The deployment controller: makes worker processes match each deployment's desired state.

One reconcile pass, for every deployment:

- active: keep ``replicas`` workers of the current revision alive. A worker that exits
  on its own is a crash: an event is stored and it is restarted after a backoff that
  doubles (1 s up to 30 s) while it keeps crashing. New workers are health-checked
  before they count as ready.
- a new revision: start its workers next to the old ones (all accept on one listening
  socket the controller opened and handed down, so retiring a worker never drops a
  queued connection), and stop old workers, which drain first, once enough new ones
  are ready.
- stopped (or gone): stop its workers.

Workers are forked from a preloaded zygote (:mod:`.zygote`; a direct ``python -m``
start is the fallback), so a replica is ready in a fraction of a second. Changes made in
this process wake the controller at once (``ServingService.listeners``); others are seen
at the next poll.

The same controller runs inside the Jupyter server and in ``mlops-jlab serve``; on
start it restores every active deployment from the store.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Union

from .service import ServingService
from .zygote import CHILD_FD, ForkedProcess, shared_zygote

WorkerProcess = Union["subprocess.Popen[bytes]", ForkedProcess]

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
READY_TIMEOUT = 60.0
LEASE_RENEW_SECONDS = 1.0  # the lease lives 5 s
STARTING_TICK = 0.02


@dataclass
class Replica:
    """One worker process the controller started."""

    deployment: str
    revision: int
    index: int
    process: WorkerProcess
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    stopping: bool = False
    ready_file: str = ""


@dataclass
class Slot:
    """Restart bookkeeping for one replica index of a deployment."""

    crashes: int = 0
    not_before: float = 0.0


class DeploymentController:
    """Reconciles deployments into worker processes."""

    def __init__(self, serving: ServingService, log_dir: str,
                 env: dict[str, str] | None = None, interval: float = 0.25) -> None:
        self.serving = serving
        self.log_dir = log_dir
        self.env = {**os.environ, **(env or {})}
        self.interval = interval
        self.replicas: dict[str, list[Replica]] = {}
        self.slots: dict[tuple[str, int], Slot] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.sockets: dict[str, socket.socket] = {}
        self.host = self.env.get("MLOPS_JLAB_SERVE_HOST", "127.0.0.1")
        self.leading = False

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Reconcile in a background thread until :meth:`stop`."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        if self._on_change not in self.serving.listeners:
            self.serving.listeners.append(self._on_change)
        shared_zygote()  # start preloading now, before the first worker is wanted
        self._thread = threading.Thread(target=self._loop, name="mlops-deployments",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        renewed = float("-inf")
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if now - renewed >= LEASE_RENEW_SECONDS:
                    self.leading = self.serving.acquire_lease(self.holder)
                    renewed = now
                if self.leading:
                    self.reconcile_once()
            except Exception:  # keep reconciling; the next pass may succeed
                log.exception("mlops_jlab: reconcile failed")
            # while a worker starts, look for its ready file often
            self._wake.wait(STARTING_TICK if self._starting() else self.interval)
            self._wake.clear()

    def wake(self) -> None:
        """Reconcile now (desired state changed in this process)."""
        self._wake.set()

    def _on_change(self, _name: str) -> None:
        self.wake()

    def _starting(self) -> bool:
        return any(not r.ready and not r.stopping
                   for replicas in list(self.replicas.values()) for r in replicas)

    def stop(self, terminate_workers: bool = True) -> None:
        """Stop reconciling; by default also stop every worker."""
        self._stop.set()
        self._wake.set()
        with contextlib.suppress(ValueError):
            self.serving.listeners.remove(self._on_change)
        if self._thread:
            self._thread.join(10)
        if terminate_workers:
            with self._lock:
                for name in list(self.replicas):
                    for replica in self.replicas.pop(name):
                        self._terminate(replica)
                for name in list(self.sockets):
                    self._close_socket(name)
        try:
            self.serving.release_lease(self.holder)
        except Exception:
            log.warning("mlops_jlab: could not release the controller lease", exc_info=True)

    # ---------------------------------------------------------------- reconcile
    def reconcile_once(self) -> None:
        """One pass over every deployment."""
        with self._lock:
            wanted = {d.name: d for d in self.serving.list()}
            for name in list(self.replicas):
                deployment = wanted.get(name)
                if deployment is None or deployment.status != "active":
                    for replica in self.replicas.pop(name):
                        self._terminate(replica)
                    self._close_socket(name)
            for deployment in wanted.values():
                if deployment.status == "active":
                    self._reconcile(deployment)

    def _reconcile(self, deployment: Any) -> None:
        name, revision = deployment.name, deployment.revision
        count = int(deployment.desired.get("replicas", 1))
        running = self.replicas.setdefault(name, [])
        now = time.monotonic()
        for replica in list(running):
            code = replica.process.poll()
            if code is None:
                continue
            running.remove(replica)
            if replica.stopping:
                continue
            slot = self.slots.setdefault((name, replica.index), Slot())
            slot.crashes += 1
            delay = min(MAX_BACKOFF, 2.0 ** (slot.crashes - 1))
            slot.not_before = now + delay
            self.serving.record_event(name, "crashed", f"replica {replica.index} (pid "
                                      f"{replica.process.pid}) exited with code {code}; "
                                      f"restarting in {delay:.0f} s",
                                      {"replica": replica.index, "exit_code": code,
                                       "revision": replica.revision})
        for replica in running:
            if not replica.ready and not replica.stopping:
                self._check_ready(replica)
        current = [r for r in running if r.revision == revision and not r.stopping]
        have = {r.index for r in current}
        for index in range(count):
            slot = self.slots.setdefault((name, index), Slot())
            if index in have or now < slot.not_before:
                continue
            replica = self._spawn(name, revision, index)
            running.append(replica)
            kind = "restarted" if slot.crashes else "started"
            self.serving.record_event(name, kind, f"replica {index} of revision {revision} "
                                      f"started (pid {replica.process.pid})",
                                      {"replica": index, "revision": revision,
                                       "pid": replica.process.pid})
        for replica in current:
            if replica.index >= count:
                self._retire(replica)
        ready_new = sum(1 for r in current if r.ready and r.index < count)
        old = [r for r in running if r.revision != revision and not r.stopping]
        if old and ready_new >= min(count, len(old)):
            for replica in old:  # enough new replicas serve: retire the old ones
                self._retire(replica)
            self.serving.record_event(name, "updated", f"now serving revision {revision} "
                                      f"with {ready_new} replica(s)", {"revision": revision})

    def _listening(self, name: str) -> socket.socket:
        """The deployment's listening socket, opened once and shared by every worker
        (pre-fork): retiring a worker never drops connections waiting to be accepted."""
        sock = self.sockets.get(name)
        if sock is None:
            from .worker import reuse_port_socket

            sock = reuse_port_socket(self.serving.get(name).port, self.host)
            sock.set_inheritable(True)
            self.sockets[name] = sock
        return sock

    def _close_socket(self, name: str) -> None:
        sock = self.sockets.pop(name, None)
        if sock is not None:
            sock.close()

    def _spawn(self, name: str, revision: int, index: int) -> Replica:
        sock = self._listening(name)
        os.makedirs(self.log_dir, exist_ok=True)
        ready_file = os.path.join(self.log_dir, f"{name}-{index}-r{revision}.ready")
        with contextlib.suppress(FileNotFoundError):
            os.remove(ready_file)
        log_path = os.path.join(self.log_dir, f"{name}-{index}.log")
        args = [name, "--revision", str(revision), "--replica", str(index),
                "--ready-file", ready_file]
        process: WorkerProcess | None = None
        zygote = shared_zygote()
        if zygote is not None:
            try:  # forked from a preloaded process: no imports on the way to ready
                process = zygote.spawn("mlops_jlab.serving.worker",
                                       [*args, "--fd", str(CHILD_FD), "--parent-pid",
                                        str(zygote.process.pid)], self.env, log_path, sock)
            except (OSError, RuntimeError):
                log.warning("mlops_jlab: worker zygote unavailable; starting %s directly",
                            name, exc_info=True)
        if process is None:
            fd = sock.fileno()
            with open(log_path, "ab") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "mlops_jlab.serving.worker", *args,
                     "--fd", str(fd), "--parent-pid", str(os.getpid())],
                    env=self.env, stdout=out, stderr=out,
                    start_new_session=True, pass_fds=(fd,))
        return Replica(name, revision, index, process, ready_file=ready_file)

    def _check_ready(self, replica: Replica) -> None:
        # the worker writes its pid to the ready file once it accepts connections
        try:
            with open(replica.ready_file) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            if time.monotonic() - replica.started > READY_TIMEOUT:
                self._terminate(replica)
            return
        if pid == replica.process.pid:
            with contextlib.suppress(OSError):
                os.remove(replica.ready_file)
            replica.ready = True
            self.slots[(replica.deployment, replica.index)] = Slot()
            self.serving.record_event(replica.deployment, "ready",
                                      f"replica {replica.index} of revision "
                                      f"{replica.revision} is ready",
                                      {"replica": replica.index, "revision": replica.revision,
                                       "seconds": round(time.monotonic() - replica.started, 3)})

    def _retire(self, replica: Replica) -> None:
        replica.stopping = True
        self._terminate(replica)

    @staticmethod
    def _terminate(replica: Replica) -> None:
        replica.stopping = True
        if replica.process.poll() is None:
            replica.process.terminate()
            try:
                replica.process.wait(10)
            except subprocess.TimeoutExpired:
                replica.process.kill()

    # ---------------------------------------------------------------- observed state
    def observed(self, name: str) -> dict[str, Any]:
        """Processes behind a deployment, as the controller sees them."""
        with self._lock:
            return {"replicas": [
                {"index": r.index, "revision": r.revision, "pid": r.process.pid,
                 "ready": r.ready, "alive": r.process.poll() is None}
                for r in self.replicas.get(name, [])]}
