"""Every other path under ``/mlops/api``: 404 JSON (after authentication), never Jupyter's
HTML page, so a client (or a fuzzer) always gets the API's error shape."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import NotFound
from .base import MlopsHandler


class UnknownRouteHandler(MlopsHandler):
    """A path that no route matches, or whose arguments break the route's pattern (a run
    id that is not hexadecimal, say)."""

    routed = False

    def _unknown(self) -> None:
        raise NotFound(f"no such API route: {self.request.method} {self.request.path}")

    @web.authenticated
    @authorized
    def get(self, *args: str) -> None:
        self._unknown()

    @web.authenticated
    @authorized
    def post(self, *args: str) -> None:
        self._unknown()

    @web.authenticated
    @authorized
    def put(self, *args: str) -> None:
        self._unknown()

    @web.authenticated
    @authorized
    def patch(self, *args: str) -> None:
        self._unknown()

    @web.authenticated
    @authorized
    def delete(self, *args: str) -> None:
        self._unknown()


FALLBACK = (r"/mlops/api/.*", UnknownRouteHandler)
