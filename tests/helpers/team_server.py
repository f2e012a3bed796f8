"""A real Jupyter server with the extension, in a subprocess, for team-mode tests.

One per test session (starting one takes a few seconds). Each test gets an empty
store: :meth:`TeamServer.reset` stops the deployments through the API, waits until the
server's controller has no replica left, then empties the tables of runs, models,
deployments and monitoring (see :data:`KEEP` for what stays).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

# Kept across tests: the controller's lease, experiments (the server caches their ids:
# they are never deleted), users and the append-only audit chain.
KEEP = frozenset({"controller_lease", "experiments", "users", "audit_events", "audit_head"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TeamServer:
    """``python -m jupyter_server`` on a free port with a random token and its own store."""

    def __init__(self, root: Path, user: str = "alice",
                 extra_args: tuple[str, ...] = ()) -> None:
        self.root = root
        self.home = root / "server-home"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.db_url = f"sqlite:///{self.home / 'mlops.db'}"
        self.log_path = root / "jupyter-server.log"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MLOPS_JLAB_", "JUPYTER_TOKEN"))}
        env.update({"MLOPS_JLAB_HOME": str(self.home), "MLOPS_JLAB_USER": user,
                    "MLOPS_JLAB_DB_URL": self.db_url})
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
             f"--port={self.port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
             f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.jpserver_extensions={'mlops_jlab': True}",
             "--ServerApp.identity_provider_class="
             "mlops_jlab.server.identity.MlopsIdentityProvider",
             "--MlopsJlab.monitor_interval=3600", *extra_args],
            cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {self.token}"

    def wait_ready(self, timeout: float = 90.0) -> TeamServer:
        """Poll ``/api/status`` (then the extension's ``/mlops/api/version``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited:\n{self.log_tail()}")
            try:
                if self.session.get(self.url + "api/status", timeout=2).ok and \
                        self.session.get(self.url + "mlops/api/version", timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyter server not ready after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """A raw request to ``/mlops/api{path}`` (``path`` starts with a slash)."""
        return self.session.request(method, f"{self.url}mlops/api{path}", timeout=60,
                                    **kwargs)

    def user(self, name: str, role: str) -> dict[str, str]:
        """Give ``name`` a role and an API token (as the admin); their request headers."""
        assert self.api("PUT", f"/users/{name}", json={"role": role}).status_code == 200
        token = self.api("POST", f"/users/{name}/token").json()["token"]
        return {"Authorization": f"token {token}"}

    def finished_firing(self, schedule: str, timeout: float = 240.0) -> dict:
        """The newest firing of ``schedule`` once it is no longer running (fails the test
        with the server's log after ``timeout`` seconds)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            history = self.api("GET", f"/schedules/{schedule}").json()["history"]
            if history and history[0]["status"] != "running":
                return dict(history[0])
            time.sleep(1)
        raise AssertionError(f"schedule {schedule} still running after {timeout} s:\n"
                             f"{self.log_tail()}")

    def reset(self) -> None:
        """An empty store for the next test."""
        deployments = self.api("GET", "/deployments").json()["deployments"]
        for d in deployments:
            if d["status"] == "active":
                self.api("DELETE", f"/deployments/{d['name']}")
        end = time.monotonic() + 30
        while deployments and time.monotonic() < end:
            observed = [self.api("GET", f"/deployments/{d['name']}").json()
                        .get("observed", {}).get("replicas", []) for d in deployments]
            if not any(observed):
                break
            time.sleep(0.1)
        from sqlalchemy import create_engine, text

        from mlops_jlab.store.schema import metadata

        engine = create_engine(self.db_url, connect_args={"timeout": 60})
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table in reversed(metadata.sorted_tables):
                if table.name not in KEEP:
                    conn.execute(text(f'DELETE FROM "{table.name}"'))
        engine.dispose()

    def stop(self) -> None:
        self.session.close()
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._log.close()
