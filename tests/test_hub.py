"""The team topology with a real JupyterHub: one MLOps server (a hub-managed service
holding the store) and users' single-user servers in client mode (docs/team-mode.md).

One hub for the module: JupyterHub (PyPI) with configurable-http-proxy (npm),
DummyAuthenticator, SimpleLocalProcessSpawner and SQLite in a temporary folder, on free
127.0.0.1 ports. The MLOps service is ``python -m jupyter_server`` with the extension,
``MlopsIdentityProvider`` checking hub tokens and ``MlopsServiceAuthorizer``; its local
user ``admin`` (behind its Jupyter token) is the store's admin. ``cora`` is granted
contributor, ``vera`` viewer. Code runs in each user's kernel, started through their
server's REST API and driven over its websocket, and everything is checked from the
outside: what the MLOps server records, and what each caller is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers.team_server import free_port

try:
    import jupyterhub
except ImportError:  # pragma: no cover - the 'hub' extra is part of the 'test' extra
    jupyterhub = None


def _proxy_command() -> str | None:
    """configurable-http-proxy: on PATH, or where .ci/test installs it (the venv)."""
    found = shutil.which("configurable-http-proxy")
    local = Path(sys.prefix) / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
    return found or (str(local) if local.exists() else None)


_MISSING = [name for name, ok in (("jupyterhub (pip install 'mlops_jlab[hub]')", jupyterhub),
                                  ("configurable-http-proxy (npm install "
                                   "configurable-http-proxy)", _proxy_command()))
            if not ok]
if _MISSING and os.environ.get("CI"):  # CI installs both (.ci/test): never skip there
    raise RuntimeError(f"tests/test_hub.py needs {' and '.join(_MISSING)}")
pytestmark = pytest.mark.skipif(bool(_MISSING),
                                reason=f"needs {' and '.join(_MISSING)} to run a JupyterHub")

STORE_VARS = ("MLOPS_JLAB_DB_URL", "MLOPS_JLAB_ARTIFACTS", "MLOPS_JLAB_HOME",
              "MLOPS_JLAB_AUDIT_KEY_FILE", "MLOPS_JLAB_USER")
TIMEOUT = 240.0  # a guard against hangs only (a loaded 2-core machine is slow)


class Hub:
    """A running JupyterHub with the mlops service, and what the test needs of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.hub_port, self.proxy_api_port, self.mlops_port = (
            free_port() for _ in range(4))
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_hex(32)  # the "tester" service: hub admin API
        self.mlops_token = secrets.token_hex(24)  # the MLOps server's own Jupyter token
        self.mlops_url = f"{self.url}/services/mlops/"
        self.store = root / "mlops-store"
        self.log_path = root / "jupyterhub.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}
        """The users' own hub tokens (as a browser or a script of theirs holds them)."""

    # ------------------------------------------------------------------ lifecycle
    def config(self, proxy: str) -> str:
        mlops_cmd = [
            sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
            f"--port={self.mlops_port}", "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0", "--ServerApp.base_url=/services/mlops/",
            f"--ServerApp.root_dir={self.root / 'mlops-root'}",
            "--ServerApp.jpserver_extensions={'mlops_jlab': True}",
            "--ServerApp.identity_provider_class="
            "mlops_jlab.server.identity.MlopsIdentityProvider",
            "--ServerApp.authorizer_class=mlops_jlab.server.identity.MlopsServiceAuthorizer",
            "--MlopsJlab.monitor_interval=3600", "--MlopsJlab.schedule_interval=3600"]
        settings = {
            "port": self.port, "hub_port": self.hub_port,
            "proxy_api": f"http://127.0.0.1:{self.proxy_api_port}", "proxy": proxy,
            "root": str(self.root), "python": sys.executable,
            "admin_token": self.admin_token,
            "mlops_service_url": f"http://127.0.0.1:{self.mlops_port}",
            "mlops_cmd": mlops_cmd,
            "mlops_env": {"MLOPS_JLAB_HOME": str(self.store), "MLOPS_JLAB_USER": "admin",
                          "JUPYTER_TOKEN": self.mlops_token},
            # what an operator might wrongly pass on to users' servers: client mode
            # must drop all of it (and act as the token's user, not "admin")
            "user_env": {"MLOPS_JLAB_URI": self.mlops_url,
                         "MLOPS_JLAB_DB_URL": f"sqlite:///{self.store / 'mlops.db'}",
                         "MLOPS_JLAB_ARTIFACTS": str(self.store / "artifacts"),
                         "MLOPS_JLAB_HOME": str(self.store),
                         "MLOPS_JLAB_AUDIT_KEY_FILE": str(self.store / "audit.key"),
                         "MLOPS_JLAB_USER": "admin"},
        }
        return f"""
import json
s = json.loads({json.dumps(json.dumps(settings))})
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = s["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.JupyterHub.db_url = "sqlite:///" + s["root"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = s["root"] + "/jupyterhub_cookie_secret"
c.ConfigurableHTTPProxy.api_url = s["proxy_api"]
c.ConfigurableHTTPProxy.command = [s["proxy"]]
c.ConfigurableHTTPProxy.pid_file = s["root"] + "/proxy.pid"
c.JupyterHub.authenticator_class = "jupyterhub.auth.DummyAuthenticator"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = s["root"] + "/home/{{username}}"
c.Spawner.cmd = [s["python"], "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--allow-root", "--ServerApp.jpserver_extensions={{'mlops_jlab': True}}"]
c.Spawner.environment = s["user_env"]
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
# a user's server token may reach the mlops service (and only act as its user there)
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                 "access:services!service=mlops"]
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service=mlops"]}},
    {{"name": "tester", "services": ["tester"],
     "scopes": ["admin:users", "admin:servers", "tokens", "access:servers",
                "access:services", "read:users"]}},
]
c.JupyterHub.services = [
    {{"name": "tester", "api_token": s["admin_token"]}},
    {{"name": "mlops", "url": s["mlops_service_url"], "command": s["mlops_cmd"],
     "environment": s["mlops_env"]}},
]
"""

    def start(self, proxy: str) -> None:
        (self.root / "mlops-root").mkdir()
        (self.root / "home").mkdir()
        path = self.root / "jupyterhub_config.py"
        path.write_text(self.config(proxy))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MLOPS_JLAB_", "JUPYTER_TOKEN", "JUPYTERHUB_", "JPY_"))}
        env["PATH"] = os.pathsep.join([str(Path(proxy).parent),
                                       str(Path(sys.executable).parent), env.get("PATH", "")])
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(path)], cwd=self.root,
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # the hub stops its proxy, service and user servers
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait(self, what: str, ready: Any) -> Any:
        """Poll ``ready()`` until it returns something truthy."""
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{self.log_tail()}")
            try:
                out = ready()
            except requests.ConnectionError:
                out = None
            if out:
                return out
            time.sleep(0.3)
        raise RuntimeError(f"{what}: not ready after {TIMEOUT} s\n{self.log_tail()}")

    # ------------------------------------------------------------------ HTTP
    def hub_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The hub's REST API as the tester service (hub admin)."""
        return requests.request(method, f"{self.url}/hub/api{path}", timeout=60,
                                headers={"Authorization": f"token {self.admin_token}"},
                                **kwargs)

    def mlops(self, method: str, path: str, token: str | None = None,
              **kwargs: Any) -> requests.Response:
        """The MLOps server's API through the proxy (default: as its local admin)."""
        headers = {"Authorization": f"token {token or self.mlops_token}",
                   **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.mlops_url}mlops/api{path}", timeout=60,
                                headers=headers, **kwargs)

    def user_server(self, user: str, method: str, path: str, token: str,
                    **kwargs: Any) -> requests.Response:
        """``/user/<user>/<path>`` through the proxy with a hub token."""
        headers = {"Authorization": f"token {token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/user/{user}/{path}", timeout=120,
                                headers=headers, **kwargs)

    def execute(self, user: str, token: str, code: str) -> dict[str, Any]:
        """Run ``code`` in a new kernel of ``user``'s server; its stdout, error name and
        message, and reply status."""
        kernel = self.user_server(user, "POST", "api/kernels", token,
                                  json={"name": "python3"})
        assert kernel.status_code == 201, kernel.text
        kernel_id = kernel.json()["id"]
        try:
            return asyncio.run(self._execute(user, token, kernel_id, code))
        finally:
            self.user_server(user, "DELETE", f"api/kernels/{kernel_id}", token)

    async def _execute(self, user: str, token: str, kernel_id: str,
                       code: str) -> dict[str, Any]:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = (f"ws://127.0.0.1:{self.port}/user/{user}/api/kernels/{kernel_id}/channels"
               f"?session_id={uuid.uuid4().hex}")
        ws = await websocket_connect(HTTPRequest(
            url, headers={"Authorization": f"token {token}"}, request_timeout=TIMEOUT))
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user,
                       "session": uuid.uuid4().hex, "version": "5.3",
                       "date": dt.datetime.now(dt.timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False,
                        "stop_on_error": True}}))
        out: dict[str, Any] = {"stdout": "", "stderr": "", "error": None, "status": None}
        idle = False
        try:
            while out["status"] is None or not idle:
                raw = await asyncio.wait_for(ws.read_message(), TIMEOUT)
                if raw is None:
                    raise RuntimeError("the kernel's websocket closed")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    out[content["name"]] += content["text"]
                elif kind == "error":
                    out["error"] = (content["ename"], content["evalue"])
                elif kind == "execute_reply":
                    out["status"] = content["status"]
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
        finally:
            ws.close()
        return out


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The hub, the mlops service with cora (contributor) and vera (viewer), and both
    users' servers started through the hub API."""
    proxy = _proxy_command()
    assert proxy is not None
    hub = Hub(tmp_path_factory.mktemp("hub"))
    hub.start(proxy)
    try:
        hub.wait("the hub", lambda: hub.hub_api("GET", "/").ok)
        hub.wait("the mlops service", lambda: hub.mlops("GET", "/version").ok)
        # the operator acts first: the store's first user (its admin) is the local one
        assert hub.mlops("GET", "/me").json()["role"] == "admin"
        for name, role in (("cora", "contributor"), ("vera", "viewer")):
            granted = hub.mlops("PUT", f"/users/{name}", json={"role": role},
                                headers={"Content-Type": "application/json"})
            assert granted.status_code == 200, granted.text
        created = hub.hub_api("POST", "/users", json={"usernames": ["cora", "vera"]})
        assert created.status_code == 201, created.text
        for name in ("cora", "vera"):
            started = hub.hub_api("POST", f"/users/{name}/server")
            assert started.status_code in (201, 202), started.text

        def ready(name: str) -> bool:
            model = hub.hub_api("GET", f"/users/{name}").json()
            return bool(model.get("servers", {}).get("", {}).get("ready"))

        for name in ("cora", "vera"):
            hub.wait(f"{name}'s server", lambda name=name: ready(name))
        for name in ("cora", "vera"):
            made = hub.hub_api("POST", f"/users/{name}/tokens",
                               json={"note": "test_hub", "expires_in": 3600})
            assert made.status_code == 201, made.text
            hub.tokens[name] = made.json()["token"]
        yield hub
    finally:
        hub.stop()


KERNEL_ENV = ("import os, json; print(json.dumps({k: os.environ.get(k) for k in "
              f"{(*STORE_VARS, 'MLOPS_JLAB_URI')!r}}}))")


def test_a_viewers_kernel_cannot_track(hub: Hub) -> None:
    out = hub.execute("vera", hub.tokens["vera"], KERNEL_ENV + "\n" + (
        "import mlops_jlab as mlops\n"
        "print(mlops.whoami()['user'], mlops.whoami()['role'])\n"
        "mlops.start_run(name='vera-run', experiment='hub-team')\n"))
    environ = json.loads(out["stdout"].splitlines()[0])
    assert all(environ[k] is None for k in STORE_VARS), environ
    assert environ["MLOPS_JLAB_URI"] == hub.mlops_url
    assert out["stdout"].splitlines()[1] == "vera viewer"
    assert out["status"] == "error" and out["error"][0] == "PermissionDenied", out
    assert "contributor" in out["error"][1]
    runs = hub.mlops("GET", "/runs")
    assert runs.status_code == 200, runs.text
    assert not [r for r in runs.json()["runs"] if r["user"] == "vera"]


def test_a_contributors_kernel_tracks_as_itself_and_cannot_grant(hub: Hub) -> None:
    out = hub.execute("cora", hub.tokens["cora"], KERNEL_ENV + "\n" + (
        "import mlops_jlab as mlops\n"
        "with mlops.start_run(name='cora-run', experiment='hub-team') as run:\n"
        "    run.log_metric('auc', 0.9)\n"
        "print(run.id)\n"
        "try:\n"
        "    mlops.grant('cora', 'admin')\n"
        "except mlops.errors.PermissionDenied as exc:\n"
        "    print('refused:', exc)\n"))
    assert out["status"] == "ok", out
    lines = out["stdout"].splitlines()
    environ = json.loads(lines[0])
    assert all(environ[k] is None for k in STORE_VARS), environ
    run_id = lines[1]
    assert lines[2].startswith("refused:") and "admin" in lines[2]
    run = hub.mlops("GET", f"/runs/{run_id}")  # the MLOps server's record, as its admin
    assert run.status_code == 200, run.text
    assert run.json()["user"] == "cora" and run.json()["name"] == "cora-run"
    users = {u["name"]: u["role"] for u in hub.mlops("GET", "/users").json()["users"]}
    assert users["cora"] == "contributor" and "admin" in users


def test_the_panel_route_of_a_users_server_forwards_as_its_owner(hub: Hub) -> None:
    cora, vera = hub.tokens["cora"], hub.tokens["vera"]
    me = hub.user_server("cora", "GET", "mlops/api/me", cora)
    assert me.status_code == 200, me.text
    assert me.json()["user"] == "cora" and me.json()["role"] == "contributor"
    # a write with its body, media type and Idempotency-Key: applied once, as cora
    key = uuid.uuid4().hex
    first, again = (hub.user_server("cora", "POST", "mlops/api/experiments", cora,
                                    json={"name": "from-coras-panel"},
                                    headers={"Idempotency-Key": key}) for _ in range(2))
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert hub.mlops("GET", f"/experiments/{first.json()['id']}").json()["created_by"] == \
        "cora"
    # errors come back as they are: a viewer's write through her own server
    refused = hub.user_server("vera", "POST", "mlops/api/experiments", vera,
                              json={"name": "from-veras-panel"})
    assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"
    # vera cannot use cora's server (the hub refuses her there), nor climb out of the API
    assert hub.user_server("cora", "GET", "mlops/api/me", vera,
                           allow_redirects=False).status_code in (302, 403, 404)
    climb = hub.user_server("cora", "GET", "mlops/api/%2E%2E/%2E%2E/api/kernels", cora)
    assert climb.status_code == 400 and "kernels" not in climb.text


def test_the_mlops_server_accepts_only_users_hub_tokens_for_its_api(hub: Hub) -> None:
    cora = hub.tokens["cora"]
    me = hub.mlops("GET", "/me", cora)
    assert me.json()["user"] == "cora"
    # not tokens: 403 JSON
    for bad in ("not-a-token", secrets.token_hex(32), "mlops_" + secrets.token_hex(8)):
        refused = hub.mlops("GET", "/me", bad)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    # a service's token is no person, even with access to the service
    assert hub.mlops("GET", "/me", hub.admin_token).status_code == 403
    # a token of cora's made for something else (no access to the mlops service)
    narrow = hub.hub_api("POST", "/users/cora/tokens",
                         json={"note": "activity only", "expires_in": 600,
                               "scopes": ["users:activity!user=cora"]})
    assert narrow.status_code == 201, narrow.text
    assert hub.mlops("GET", "/me", narrow.json()["token"]).status_code == 403
    # hub tokens count in the Authorization header only
    query = requests.get(f"{hub.mlops_url}mlops/api/me", params={"token": cora},
                         timeout=60)
    assert query.status_code == 403
    # a hub user reaches /mlops/api only: no kernel, file or terminal on the MLOps server
    for method, path in (("POST", "api/kernels"), ("GET", "api/contents"),
                         ("POST", "api/terminals")):
        denied = requests.request(method, f"{hub.mlops_url}{path}", timeout=60,
                                  headers={"Authorization": f"token {cora}"})
        assert denied.status_code == 403, (method, path, denied.text)
    operator = requests.get(f"{hub.mlops_url}api/kernels", timeout=60,
                            headers={"Authorization": f"token {hub.mlops_token}"})
    assert operator.status_code == 200
