"""A pre-loaded process that forks model-server workers, so a worker starts in a
fraction of a second instead of importing pandas, scikit-learn and aiohttp again.

The controller starts one zygote per process (:func:`main` in a new interpreter)
and talks to it over a Unix ``SOCK_SEQPACKET`` pair: a ``spawn`` message carries the
worker's arguments, environment and log file, with the deployment's listening socket
passed along as a file descriptor (``SCM_RIGHTS``). The zygote forks; the child becomes
the worker (its own session, its log on stdout/stderr, the given environment). The zygote
reaps its children and reports every exit code back.

Nothing outlives the controller's process, however it ends (a clean stop, SIGTERM
without the extension's stop hooks, SIGKILL): the zygote exits when the controller's
end of the pair closes, when its parent process changes (a watchdog, checked every
:data:`WATCH_SECONDS`) or, on Linux, at once by ``PR_SET_PDEATHSIG`` when it was started
from the main thread; it sends SIGTERM to the workers it forked when it exits, and each
worker also gets ``PR_SET_PDEATHSIG`` (SIGTERM) and watches its parent, so a worker
still loading its models when the zygote dies ends too.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

PRELOAD = (
    "numpy", "pandas", "sklearn", "sklearn.linear_model", "sklearn.ensemble",
    "sklearn.tree", "sklearn.pipeline", "sklearn.preprocessing", "sklearn.compose",
    "sklearn.impute", "skops.io", "aiohttp.web", "uvloop", "pyarrow", "pyarrow.ipc",
    "sqlalchemy", "orjson",
    "mlops_jlab.serving.worker", "mlops_jlab.client.api",
)
MESSAGE = 1 << 20
CHILD_FD = 3  # where a child finds the listening socket
WATCH_SECONDS = 0.5  # how often the zygote checks that its parent is still there
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send ``sig`` to this process when the thread that started it ends
    (``prctl(PR_SET_PDEATHSIG)``); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


# ---------------------------------------------------------------- the zygote process
def main(control_fd: int, parent: int | None = None, deathsig: bool = False) -> None:
    """Preload, say ready, then fork workers on request until the controller goes
    (its end of the pair closes, or ``parent`` is no longer this process's parent)."""
    if deathsig:
        die_with_parent()
    if parent is not None and os.getppid() != parent:
        return  # the controller's process ended before this one got here
    control = socket.socket(fileno=control_fd)
    if sys.path and sys.path[0] == "":  # ``-c``: pin the start folder, as ``-m`` does
        sys.path[0] = os.getcwd()
    for module in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the controller decides when we end
    signal.signal(signal.SIGTERM, _exit_on_signal)  # ... or SIGTERM: end the workers too
    control.send(json.dumps({"op": "ready", "pid": os.getpid()}).encode())
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    children: set[int] = set()
    try:
        while parent is None or os.getppid() == parent:
            for key, _ in selector.select(WATCH_SECONDS):
                if key.fileobj is control:
                    data, fds, _flags, _addr = socket.recv_fds(control, MESSAGE, 4)
                    if not data:
                        return  # the controller's process ended
                    children.add(_fork(json.loads(data), fds, control, (wake_r, wake_w)))
                else:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 512)
            _reap(control, children)
    finally:
        for pid in children:  # no worker outlives the zygote
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # through ``main``'s ``finally``: workers get SIGTERM


def _reap(control: socket.socket, children: set[int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            control.send(json.dumps({"op": "exited", "pid": pid, "code": code}).encode())


def _fork(request: dict[str, Any], fds: list[int], control: socket.socket,
          wake: tuple[int, int]) -> int:
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 1
        try:
            die_with_parent()  # forked by the zygote's only thread: ends with the zygote
            if os.getppid() != zygote:
                os._exit(1)  # the zygote ended already
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            control.close()
            for fd in wake:
                os.close(fd)
            os.setsid()
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
            if fds:
                os.dup2(fds[0], CHILD_FD)
                for fd in fds:
                    if fd != CHILD_FD:
                        os.close(fd)
            os.environ.clear()
            os.environ.update(request["env"])
            with contextlib.suppress(OSError):
                os.chdir(request.get("cwd") or "/")
            module = importlib.import_module(request["module"])
            sys.argv = [request["module"], *request["argv"]]
            module.main(request["argv"])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    for fd in fds:
        os.close(fd)
    control.send(json.dumps({"op": "spawned", "id": request["id"], "pid": pid}).encode())
    return pid


# ---------------------------------------------------------------- the controller's side
class ForkedProcess:
    """A worker forked by the zygote, with the parts of ``Popen`` the controller uses."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid

    def poll(self) -> int | None:
        """The exit code, or None while it runs."""
        code = self.zygote.exit_code(self.pid)
        if code is None and not self.zygote.alive() and not _exists(self.pid):
            return -1  # the zygote died first: the code is lost, the process is gone
        return code

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit (``subprocess.TimeoutExpired`` after ``timeout``)."""
        code = self.zygote.wait_exit(self.pid, timeout)
        if code is None:
            if not self.zygote.alive() and not _exists(self.pid):
                return -1
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return code

    def terminate(self) -> None:
        """SIGTERM: drain, then exit."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Zygote:
    """The controller's handle on its zygote process (one per controller process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._exits: dict[int, int] = {}
        self._spawned: dict[int, int] = {}
        self._next_id = 0
        self._ready = False
        self._dead = False
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control = parent
        env = dict(os.environ)
        # PR_SET_PDEATHSIG fires when the starting *thread* ends: only the main thread
        # lives as long as the process (else the parent-pid watchdog and EOF suffice)
        deathsig = threading.current_thread() is threading.main_thread()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from mlops_jlab.serving.zygote import main; "
             "main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == '1')",
             str(child.fileno()), str(os.getpid()), "1" if deathsig else "0"],
            pass_fds=(child.fileno(),), env=env, start_new_session=True,
            stdin=subprocess.DEVNULL)
        child.close()
        self._reader = threading.Thread(target=self._read, name="mlops-zygote", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self._control.recv(MESSAGE)
            except OSError:
                data = b""
            with self._lock:
                if not data:
                    self._dead = True
                    self._changed.notify_all()
                    return
                message = json.loads(data)
                if message["op"] == "ready":
                    self._ready = True
                elif message["op"] == "spawned":
                    self._spawned[message["id"]] = message["pid"]
                elif message["op"] == "exited":
                    self._exits[message["pid"]] = message["code"]
                self._changed.notify_all()

    def alive(self) -> bool:
        """Whether the zygote still answers."""
        return not self._dead and self.process.poll() is None

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the zygote has preloaded (False if it died or timed out)."""
        with self._lock:
            self._changed.wait_for(lambda: self._ready or self._dead, timeout)
            return self._ready and not self._dead

    def spawn(self, module: str, argv: list[str], env: dict[str, str], log: str,
              sock: socket.socket | None = None, timeout: float = 30.0) -> ForkedProcess:
        """Fork ``python -m module argv`` from the zygote; ``--fd`` in ``argv`` should
        name :data:`CHILD_FD`, where the child finds ``sock``."""
        if not self.wait_ready(timeout):
            raise RuntimeError("the worker zygote is not running")
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        request = json.dumps({"op": "spawn", "id": ident, "module": module, "argv": argv,
                              "env": env, "log": log, "cwd": os.getcwd()}).encode()
        fds = [sock.fileno()] if sock is not None else []
        socket.send_fds(self._control, [request], fds)
        with self._lock:
            if not self._changed.wait_for(lambda: ident in self._spawned or self._dead,
                                          timeout) or self._dead:
                raise RuntimeError("the worker zygote did not fork")
            return ForkedProcess(self, self._spawned.pop(ident))

    def exit_code(self, pid: int) -> int | None:
        """A forked worker's exit code once it has exited."""
        with self._lock:
            return self._exits.get(pid)

    def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        """Wait for a forked worker's exit code (None on time-out or zygote death)."""
        with self._lock:
            self._changed.wait_for(lambda: pid in self._exits or self._dead, timeout)
            return self._exits.get(pid)

    def close(self, timeout: float = 5.0) -> None:
        """End the zygote (it sends SIGTERM to its workers as it goes); SIGKILL if it
        has not ended after ``timeout`` seconds."""
        with contextlib.suppress(OSError):
            self._control.shutdown(socket.SHUT_RDWR)
        self._control.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)


_shared: Zygote | None = None
_shared_lock = threading.Lock()


def shared_zygote() -> Zygote | None:
    """This process's zygote, started on first use (None where it cannot run)."""
    global _shared
    if not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        return None
    with _shared_lock:
        if _shared is None or not _shared.alive():
            try:
                _shared = Zygote()
            except OSError:
                _shared = None
        return _shared


def close_shared_zygote() -> None:
    """End this process's zygote, if one runs (a server shutting down)."""
    global _shared
    with _shared_lock:
        zygote, _shared = _shared, None
    if zygote is not None:
        zygote.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
