"""The schedule runner: fires due schedules and executes each firing in its own process.

It runs beside the deployment controller (the Jupyter server or ``mlops-jlab serve``)
and fires only while that process leads the store, so one runner fires per store.
A firing runs ``mlops-jlab run`` (a notebook) or ``mlops-jlab pipeline run`` (a
pipeline) as a child process: the server's event loop and environment stay untouched,
a stuck notebook can be killed, and the runs it makes are tagged with the schedule and
the firing (``mlops.schedule``, ``mlops.schedule_firing``) and act as the schedule's
creator.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..governance.delegation import Delegation, Job
from ..governance.job_account import end_session
from .service import ScheduleService

log = logging.getLogger(__name__)

#: a firing still running after this long is stopped and recorded failed
DEFAULT_TIMEOUT = 6 * 3600


class ScheduleRunner:
    """Fires due schedules every ``interval`` seconds while ``leading()``."""

    def __init__(self, service: ScheduleService, store_env: Mapping[str, str],
                 interval: float = 30.0, leading: Callable[[], bool] = lambda: True,
                 parallel: int = 2, timeout: float = DEFAULT_TIMEOUT,
                 log_dir: str | os.PathLike[str] | None = None,
                 delegation: Delegation | None = None) -> None:
        self.service = service
        #: MLOPS_JLAB_* variables that point the child processes at this store
        self.store_env = dict(store_env)
        #: what a firing's process holds: in team mode a token acting as the schedule's
        #: owner and no store credentials (see :mod:`..governance.delegation`)
        self.delegation = delegation or Delegation(None, None, self.store_env)
        self.interval = interval
        self.leading = leading
        self.timeout = timeout
        self.log_dir = Path(log_dir) if log_dir else None
        self._pool = ThreadPoolExecutor(max_workers=parallel,
                                        thread_name_prefix="mlops-schedule")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._children: set[subprocess.Popen[bytes]] = set()
        #: ids of the firings this runner is executing (never "recovered" as interrupted)
        self._running: set[str] = set()
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- loop
    def start(self) -> None:
        """Fire due schedules in a background thread until :meth:`stop`. The first time
        this process leads, firings a previous leader left running are recorded failed."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mlops-scheduler",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        recovered = False
        while not self._stop.is_set():
            if self.leading():
                try:
                    if not recovered:
                        with self._lock:
                            here = set(self._running)
                        count = self.service.recover(here)
                        recovered = True
                        if count:
                            log.warning("mlops_jlab: %d scheduled run(s) were interrupted "
                                        "when the previous scheduler stopped", count)
                    self.tick()
                except Exception:  # the next pass may succeed (database busy, ...)
                    log.exception("mlops_jlab: firing schedules failed")
            self._stop.wait(self.interval)

    def tick(self) -> list[Future[dict[str, Any]]]:
        """Claim every due firing and start executing it; the futures of the firings."""
        return [self.launch(schedule, firing)
                for schedule, firing in self.service.claim_due()]

    def run_now(self, ref: str, user: str) -> tuple[dict[str, Any], Future[dict[str, Any]]]:
        """A manual firing of ``ref`` as ``user``: (the firing, its future).
        :class:`~..governance.job_account.JobsRefused` on a team server that has no job
        account (nothing is recorded then)."""
        self.delegation.check_jobs(f"firing schedule {ref!r}")
        schedule, firing = self.service.start_manual(ref, user)
        return firing, self.launch(schedule, firing)

    def launch(self, schedule: dict[str, Any], firing: dict[str, Any]
               ) -> Future[dict[str, Any]]:
        """Execute a claimed firing on the pool."""
        with self._lock:
            self._running.add(str(firing["id"]))
        return self._pool.submit(self._execute, schedule, firing)

    def stop(self) -> None:
        """Stop firing and terminate running firings (the next start records them as
        interrupted)."""
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        with self._lock:
            for child in list(self._children):
                child.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- one firing
    def command(self, schedule: Mapping[str, Any], kind: str, path: str,
                result: str) -> list[str]:
        """The command line of a firing."""
        cmd = [sys.executable, "-m", "mlops_jlab.cli"]
        cmd += ["run", path] if kind == "notebook" else ["pipeline", "run", path]
        params = schedule.get("parameters") or {}
        if params:
            cmd += ["--parameters-json", json.dumps(params)]
        if schedule.get("experiment"):
            cmd += ["--experiment", str(schedule["experiment"])]
        return [*cmd, "--result", result]

    def _execute(self, schedule: dict[str, Any], firing: dict[str, Any]) -> dict[str, Any]:
        outcome: dict[str, Any] = {"status": "failed", "run_id": None, "error": None}
        try:
            outcome = self._spawn(schedule, firing)
        except Exception as exc:  # recorded on the firing, never raised into the loop
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        try:
            self.service.finish(firing["id"], outcome["status"], outcome.get("run_id"),
                                outcome.get("error"))
        except Exception:
            log.exception("mlops_jlab: recording the end of firing %s failed", firing["id"])
        finally:
            with self._lock:
                self._running.discard(str(firing["id"]))
        return outcome

    def _spawn(self, schedule: dict[str, Any], firing: dict[str, Any]) -> dict[str, Any]:
        kind, path = self.service.stored_path(schedule["id"])
        if not os.path.isfile(path):
            return {"status": "failed", "run_id": None,
                    "error": f"the {kind} {path} no longer exists"}
        with self.delegation.job(
                self.service.actor(schedule),
                f"schedule {schedule['name']} firing {firing['id']}",
                self.timeout + 600) as job:
            job.env["MLOPS_JLAB_RUN_TAGS"] = json.dumps({
                "mlops.schedule": schedule["name"], "mlops.schedule_firing": firing["id"]})
            job.env.pop("MLOPS_JLAB_RUN_ID", None)
            job.env.pop("MLOPS_JLAB_PAPERMILL", None)
            return self._spawn_with(schedule, firing, kind, path, job)

    def _spawn_with(self, schedule: dict[str, Any], firing: dict[str, Any], kind: str,
                    path: str, job: Job) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="mlops-firing-") as tmp:
            if job.account is not None:
                job.account.give(tmp)  # the job writes its result there
            result = os.path.join(tmp, "result.json")
            logfile = self._log_path(schedule, firing)
            with open(logfile, "wb") if logfile else open(os.devnull, "wb") as out:
                child = subprocess.Popen(self.command(schedule, kind, path, result),
                                         env=job.env, cwd=os.path.dirname(path), stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         **job.options)
                with self._lock:
                    self._children.add(child)
                try:
                    code = child.wait(timeout=self.timeout)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                    return {"status": "failed", "run_id": _read(result).get("run_id"),
                            "error": f"stopped after {self.timeout:.0f} s (the schedule's "
                                     "time limit)"}
                finally:
                    if job.account is not None:
                        end_session(child.pid)  # kernels or daemons it left behind
                    with self._lock:
                        self._children.discard(child)
            report = _read(result)
        if not report:
            tail = _tail(logfile) if logfile else ""
            return {"status": "failed", "run_id": None,
                    "error": f"the {kind} did not start (exit code {code})" +
                             (f": {tail}" if tail else "")}
        ok = report.get("status") == "finished" and code == 0
        return {"status": "succeeded" if ok else "failed", "run_id": report.get("run_id"),
                "error": None if ok else (report.get("error") or f"exit code {code}")}

    def _log_path(self, schedule: Mapping[str, Any], firing: Mapping[str, Any]) -> str | None:
        if self.log_dir is None:
            return None
        folder = self.log_dir / "schedules" / str(schedule["name"])
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / f"{firing['id']}.log")


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _tail(path: str, lines: int = 5) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])
    except OSError:
        return ""
