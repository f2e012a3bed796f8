"""Client mode: the extension on a user's JupyterLab server forwards the panel's API calls
to the team's MLOps server, with the user's own credential.

In the team topology (see docs/team-mode.md) one MLOps server holds the store, and each
user's JupyterLab server (e.g. a JupyterHub single-user server) holds nothing of it.
``c.MlopsJlab.remote_url`` (default ``$MLOPS_JLAB_URI`` when it is an http(s) URL) turns
the extension into a client of that server:

- no store is opened and no controller, scheduler or monitor runs here;
- :class:`RemoteHandler` answers every ``/mlops/api/...`` request of the panel (after
  Jupyter's own authentication and authorization on this server) by sending it on to
  ``<remote_url>/mlops/api/...`` with ``Authorization: token <remote_token>`` and
  relaying the status, the body and the headers that matter. The caller's own
  credentials for this server (cookie, token) never leave it;
- kernels started by this server get ``MLOPS_JLAB_URI`` and ``MLOPS_JLAB_TOKEN`` and no
  database URL, artifact root, home, audit key or user override
  (:func:`export_client_environment`).

``remote_token`` defaults to ``$MLOPS_JLAB_TOKEN``, else ``$JUPYTERHUB_API_TOKEN``: on a
JupyterHub single-user server that token belongs to the server's owner, so the MLOps
server (with ``MlopsIdentityProvider`` checking hub tokens) sees that user. On such a
server (``$JUPYTERHUB_USER`` set) only its owner may use the forwarding: someone else
let into the server (an admin, a shared server) would otherwise act as the owner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError

from .. import config
from ..governance.roles import same_user

API = "/mlops/api"
SETTINGS_KEY = "mlops_remote"
#: request headers sent on to the MLOps server (credentials are never among them)
REQUEST_HEADERS = ("Content-Type", "Accept", "Idempotency-Key", "If-None-Match")
#: response headers relayed back to the panel
RESPONSE_HEADERS = ("Content-Type", "Content-Disposition", "Cache-Control", "ETag",
                    "Last-Modified", "Location", "Retry-After")
#: variables a client-mode server and its kernels must not hold (they reach the store
#: directly or choose who acts)
STORE_ONLY_VARS = (*config.STORE_VARS.values(), "MLOPS_JLAB_USER")


def is_remote_url(value: str | None) -> bool:
    """Whether ``value`` is an http(s) URL (what puts the extension in client mode)."""
    return bool(value) and str(value).startswith(("http://", "https://"))


def default_remote_url(environ: Any = None) -> str:
    """``$MLOPS_JLAB_URI`` when it is an http(s) URL, else ``""`` (server mode)."""
    value = (os.environ if environ is None else environ).get("MLOPS_JLAB_URI", "")
    return value if is_remote_url(value) else ""


def default_remote_token(environ: Any = None) -> str:
    """``$MLOPS_JLAB_TOKEN``, else ``$JUPYTERHUB_API_TOKEN`` (a hub single-user server's
    token, scoped to its owner), else ``""``."""
    env = os.environ if environ is None else environ
    return str(env.get("MLOPS_JLAB_TOKEN") or env.get("JUPYTERHUB_API_TOKEN") or "")


@dataclass(frozen=True)
class Remote:
    """Where a client-mode server forwards, and as whom."""

    url: str
    """Base URL of the MLOps server (its API is under ``/mlops/api``)."""
    token: str
    """The credential sent with every forwarded request."""
    owner: str | None = None
    """The only Jupyter user allowed to use the forwarding (``$JUPYTERHUB_USER`` on a
    hub single-user server); None: whoever this server authenticates."""
    timeout: float = 600.0

    @property
    def api(self) -> str:
        """``<url>/mlops/api``."""
        return self.url.rstrip("/") + API


def export_client_environment(remote: Remote, environ: Any = None) -> None:
    """Make what this server starts (kernels) reach the store only over REST: set
    ``MLOPS_JLAB_URI`` and ``MLOPS_JLAB_TOKEN``, remove every variable that points at a
    store or chooses the acting user."""
    env = os.environ if environ is None else environ
    for var in STORE_ONLY_VARS:
        env.pop(var, None)
    env["MLOPS_JLAB_URI"] = remote.url
    if remote.token:
        env["MLOPS_JLAB_TOKEN"] = remote.token


def _error(handler: web.RequestHandler, status: int, code: str, message: str) -> None:
    handler.set_status(status)
    handler.set_header("Content-Type", "application/json; charset=UTF-8")
    handler.finish(orjson.dumps({"error": code, "message": message}))


class RemoteHandler(ExtensionHandlerMixin, APIHandler):
    """Every ``/mlops/api/...`` route of a client-mode server: authenticated and
    authorized here, then forwarded to the MLOps server as this server's user."""

    auth_resource = "mlops:tracking"

    @property
    def remote(self) -> Remote:
        """The forwarding target (see ``MlopsJlab.remote_url``)."""
        remote: Remote = self.settings[SETTINGS_KEY]
        return remote

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Jupyter's own refusals (403, 405) as the API's JSON errors."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        codes = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        _error(self, status_code, codes.get(status_code, "server_error"
                                            if status_code >= 500 else "bad_request"),
               str(message) if status_code < 500 else
               "internal error; see the Jupyter server log")

    def _rest(self) -> str | None:
        """The raw path after ``/mlops/api`` (still percent-encoded), or None when it
        holds a ``.`` or ``..`` segment (which could climb out of the API)."""
        prefix = url_path_join(self.base_url, API.lstrip("/"))
        path = self.request.path or ""
        if not path.startswith(prefix):
            return None
        rest = path[len(prefix):]
        if any(unquote(seg) in (".", "..") for seg in rest.split("/")):
            return None
        return rest

    async def _forward(self) -> None:
        remote = self.remote
        user = self.current_user
        name = str(getattr(user, "username", "") or "")
        if remote.owner and not same_user(name, remote.owner):
            _error(self, 403, "forbidden",
                   f"this server forwards to the MLOps server as its owner "
                   f"{remote.owner!r}; {name!r} must use their own server")
            return
        rest = self._rest()
        if rest is None:
            _error(self, 400, "bad_request", "not an API path: '.' and '..' segments are "
                   "not allowed")
            return
        url = remote.api + rest + (f"?{self.request.query}" if self.request.query else "")
        headers = {k: v for k in REQUEST_HEADERS
                   if (v := self.request.headers.get(k)) is not None}
        if remote.token:
            headers["Authorization"] = f"token {remote.token}"
        method = (self.request.method or "GET").upper()
        body = self.request.body if (self.request.body or
                                     method in ("POST", "PUT", "PATCH")) else None
        request = HTTPRequest(url, method=method, headers=headers, body=body,
                              follow_redirects=False, allow_nonstandard_methods=True,
                              connect_timeout=10.0, request_timeout=remote.timeout)
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError, StreamClosedError) as exc:
            self.log.warning("mlops_jlab: cannot reach the MLOps server at %s: %s",
                             remote.url, exc)
            _error(self, 502, "bad_gateway",
                   f"cannot reach the MLOps server at {remote.url} ({type(exc).__name__}); "
                   "check c.MlopsJlab.remote_url / MLOPS_JLAB_URI and that it runs")
            return
        if response.code == 599:  # a transport failure reported as a response
            _error(self, 502, "bad_gateway",
                   f"cannot reach the MLOps server at {remote.url} ({response.error})")
            return
        self.set_status(response.code, response.reason)
        for name in RESPONSE_HEADERS:
            value = response.headers.get(name)
            if value is not None:
                self.set_header(name, value)
        self.finish(response.body or b"")

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Forward a read."""
        await self._forward()

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Forward a write."""
        await self._forward()

    @web.authenticated
    @authorized
    async def put(self) -> None:
        """Forward a write."""
        await self._forward()

    @web.authenticated
    @authorized
    async def patch(self) -> None:
        """Forward a write."""
        await self._forward()

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        """Forward a write."""
        await self._forward()


#: what a client-mode extension registers: every path under /mlops/api
HANDLERS = [(r"/mlops/api(?:/.*)?", RemoteHandler)]


def start_client_mode(settings: dict[str, Any], url: str, token: str, log: Any) -> Remote:
    """Client mode of ``MlopsJlab`` (see the module docstring): export the kernels'
    environment and register the forwarding target in the server's ``settings``."""
    remote = Remote(url=url, token=token, owner=os.environ.get("JUPYTERHUB_USER") or None)
    export_client_environment(remote)
    settings[SETTINGS_KEY] = remote
    if not token:
        log.warning("mlops_jlab: client mode without a token (set c.MlopsJlab.remote_token "
                    "or MLOPS_JLAB_TOKEN): the MLOps server will refuse every call")
    log.info("mlops_jlab: client mode, forwarding /mlops/api to %s%s", remote.api,
             f" as {remote.owner}" if remote.owner else "")
    return remote
