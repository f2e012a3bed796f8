"""One base handler: authentication, JSON in and out, domain errors mapped to HTTP.

Handlers stay thin: parse input, call a service with the acting user in a worker
thread (the event loop never waits on the database), serialize the result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import orjson
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..errors import InvalidInput, MlopsError
from .guard import DEFAULT_MAX_BODY_BYTES, JSON, check_body_size, check_media_type, nul_in
from .identity import acting_user
from .route_access import route_access

T = TypeVar("T")
log = logging.getLogger(__name__)


class MlopsHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every mlops_jlab REST handler."""

    auth_resource = "mlops:tracking"
    #: media types a write's body may have (see :mod:`.guard`); a handler taking other
    #: bodies declares them, e.g. ``("application/json", "application/octet-stream")``
    body_types: tuple[str, ...] = (JSON,)
    #: the largest body (bytes) this handler accepts; larger is 413 before parsing. The
    #: body is already buffered by then, up to ``ServerApp.max_body_size`` (see
    #: :mod:`.guard` for what each limit bounds)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: False only for the catch-all 404 handler, which has no route in the access table
    routed: bool = True

    def initialize(self, route: str = "", **kwargs: Any) -> None:  # type: ignore[override]
        """``route``: the path template this handler serves (see :mod:`.routes`)."""
        self.route = route
        super().initialize(**kwargs)

    async def prepare(self) -> None:  # type: ignore[override]
        """Jupyter's checks (host, identity, XSRF for cookie-authenticated writes, origin)
        first, so a caller without credentials learns nothing more than 403; then the
        write's size (413) and media type (415), from the headers alone; then the route's
        declared access (:mod:`.route_access`: role, then the scoped resource), before
        the body is parsed, a model loaded or anything computed."""
        await super().prepare()
        if self._finished:
            return
        request = self.request
        check_body_size(request.headers.get("Content-Length"), len(request.body or b""),
                        self.max_body_bytes)
        check_media_type(request.method or "", request.headers.get("Content-Type"),
                         len(request.body or b""), self.body_types)
        if nul_in(self.path_kwargs) or nul_in(request.query_arguments):
            raise InvalidInput("NUL characters are not allowed in paths or query arguments")
        await self._check_access()

    async def _check_access(self) -> None:
        """Enforce this route-method's entry of the access table (403/404 JSON)."""
        method = (self.request.method or "").lower()
        implemented = getattr(type(self), method, None) is not getattr(
            web.RequestHandler, method, None)
        if not self.routed or not implemented:
            return  # the fallback's 404, or tornado's 405
        if self.current_user is None:
            raise web.HTTPError(403)
        rule = route_access(self.route, method)
        access = getattr(self.mlops, "access", None)
        if access is None:
            raise web.HTTPError(403, "this server has no access control")
        user, path = self.username, dict(self.path_kwargs)

        def check() -> None:
            with access.db.read() as conn:
                rule.check(conn, access, user, path)

        await self.call(check)

    @property
    def mlops(self) -> Any:
        """The services of this server (see ``MlopsJlab.initialize_settings``)."""
        return self.settings["mlops_services"]

    @property
    def username(self) -> str:
        """The acting user (see :func:`.identity.acting_user`): the server's local user
        behind Jupyter's shared token, else the Jupyter identity or the API token's
        user."""
        return acting_user(self, getattr(self.mlops, "owner", ""))

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking service call off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, partial(fn, *args, **kwargs))

    def reply(self, body: Any, status: int = 200) -> None:
        """Send a JSON body."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY))

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or 400."""
        try:
            body = orjson.loads(self.request.body or b"{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise InvalidInput("request body must be a JSON object")
        if nul_in(body):
            raise InvalidInput("NUL characters (\\u0000) are not allowed in request bodies")
        return body

    def query_int(self, name: str, default: int, low: int, high: int) -> int:
        """An integer query argument within [low, high], or 400 naming it."""
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(f"{name} must be an integer, got {raw!r}", field=name) from None
        if not low <= value <= high:
            raise InvalidInput(f"{name} must be between {low} and {high}, got {value}",
                               field=name)
        return value

    def query_bool(self, name: str, default: bool) -> bool:
        """A boolean query argument (``true``/``false``/``1``/``0``), or 400 naming it."""
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        if raw.lower() not in ("true", "false", "1", "0"):
            raise InvalidInput(f"{name} must be true or false, got {raw!r}", field=name)
        return raw.lower() in ("true", "1")

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, MlopsError) and not self._finished:
            status = e.http_status if 400 <= e.http_status < 500 else 400
            self.set_status(status)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(orjson.dumps(e.to_dict()))
            return
        if not isinstance(e, web.HTTPError):
            log.exception("mlops_jlab: unexpected error in %s %s", self.request.method,
                          self.request.path)
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors Jupyter raises itself (403, 404 route, 405) as JSON without traceback."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        if message and getattr(exc, "args", None) and isinstance(exc, web.HTTPError):
            message = message % exc.args
        body = {"error": {403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                          413: "payload_too_large", 415: "unsupported_media_type"}
                .get(status_code, "server_error" if status_code >= 500 else "bad_request"),
                "message": message if status_code < 500 else
                "internal error; see the Jupyter server log"}
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(orjson.dumps(body))
