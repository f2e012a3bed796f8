"""``/mlops/api/models/{name}/versions/{ref}/explanations``: explanations stored on a
model version (computed in kernels, see ``mlops.explain``)."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .idempotency import idempotent
from .models import RegistryHandler


class ExplanationsHandler(RegistryHandler):
    """``GET``: summaries (no figures, local rows or partial dependence), newest first;
    ``POST`` a computed record (without id, created_at, created_by, model, version)."""

    max_body_bytes = 64 * 1024 * 1024

    @property
    def explanations(self) -> Any:
        return self.mlops.explanations

    @web.authenticated
    @authorized
    async def get(self, name: str, ref: str) -> None:
        items = await self.call(self.explanations.list, name, ref, user=self.username)
        self.reply({"explanations": items})

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str, ref: str) -> None:
        body = self.json_body()
        record = await self.call(self.explanations.record, name, ref, body, self.username)
        self.reply(record, status=201)


class ExplanationHandler(RegistryHandler):
    """``GET /models/{name}/versions/{ref}/explanations/{id}`` (``id`` may be
    ``latest``): the full record."""

    @web.authenticated
    @authorized
    async def get(self, name: str, ref: str, explanation: str) -> None:
        record = await self.call(self.mlops.explanations.get, name, ref, explanation,
                                 user=self.username)
        self.reply(record)
