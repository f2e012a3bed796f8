"""Server facts: version handshake and the OpenAPI document."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .._version import __version__
from .base import MlopsHandler
from .openapi import openapi_document

API_VERSION = 1


class VersionHandler(MlopsHandler):
    """``GET /mlops/api/version``: lets the frontend (and team-mode clients) check they
    talk to a matching server; ``user`` is who the server takes the caller for."""

    auth_resource = "mlops:server"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply({"version": __version__, "api": API_VERSION, "user": self.username})


class OpenApiHandler(MlopsHandler):
    """``GET /mlops/api/openapi.json``: every route, parameter and error shape."""

    auth_resource = "mlops:server"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(openapi_document(__version__))
