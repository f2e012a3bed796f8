"""``/mlops/api/schedules``: cron schedules of notebooks and pipelines (paths relative
to the Jupyter root), their firing history, a preview of a cron expression, and
"run now"."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import MlopsHandler
from .idempotency import ReplayableWrites, idempotent


class SchedulesBase(ReplayableWrites, MlopsHandler):
    """Base of the schedule handlers (writes honour ``Idempotency-Key``)."""

    auth_resource = "mlops:schedules"

    @property
    def schedules(self) -> Any:
        return self.mlops.schedules

    def target(self, body: dict[str, Any]) -> tuple[Any, Any]:
        """(kind, path) of the body's ``target``."""
        target = body.get("target")
        if not isinstance(target, dict):
            raise InvalidInput("target must be {\"kind\": \"notebook\"|\"pipeline\", "
                               "\"path\": \"...\"}", field="target")
        return target.get("kind"), target.get("path")


class SchedulesHandler(SchedulesBase):
    """``GET``: every schedule. ``POST {name, cron, target: {kind, path}, parameters?,
    experiment?, timezone?, paused?}``: a new schedule (201)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        rows = await self.call(self.schedules.list, self.username)
        self.reply({"schedules": rows})

    @web.authenticated
    @authorized
    @idempotent
    async def post(self) -> None:
        body = self.json_body()
        kind, path = self.target(body)
        paused = body.get("paused", False)
        if not isinstance(paused, bool):
            raise InvalidInput("paused must be true or false", field="paused")
        created = await self.call(
            self.schedules.create, self.username, body.get("name"), body.get("cron"), kind,
            path, parameters=body.get("parameters"), experiment=body.get("experiment"),
            timezone=body.get("timezone") or "UTC", paused=paused)
        self.reply(created, status=201)


class SchedulePreviewHandler(SchedulesBase):
    """``POST {cron, timezone?, count?}``: the expression's description and next fire
    times (400 naming what is wrong)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        count = body.get("count", 5)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 20:
            raise InvalidInput("count must be an integer from 1 to 20", field="count")
        self.reply(await self.call(self.schedules.preview, body.get("cron"),
                                   body.get("timezone") or "UTC", count))


class ScheduleHandler(SchedulesBase):
    """``GET ?limit=50``: a schedule (id or name) with its firings; ``PATCH`` changes
    it (``{"paused": true}`` pauses); ``DELETE`` removes it and its history."""

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        limit = self.query_int("limit", 50, 1, 1000)
        self.reply(await self.call(self.schedules.get, ref, self.username, limit))

    @web.authenticated
    @authorized
    @idempotent
    async def patch(self, ref: str) -> None:
        changes = self.json_body()
        self.reply(await self.call(self.schedules.update, ref, self.username, **changes))

    @web.authenticated
    @authorized
    @idempotent
    async def delete(self, ref: str) -> None:
        self.reply({"deleted": await self.call(self.schedules.delete, ref, self.username)})


class ScheduleRunHandler(SchedulesBase):
    """``POST``: fire the schedule now (202 with the firing; its outcome appears in the
    history). 409 when it is running already."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, ref: str) -> None:
        runner = self.mlops.scheduler
        if runner is None:
            raise InvalidInput("this server does not run schedules "
                               "(c.MlopsJlab.run_controller is off)")
        firing, _ = await self.call(runner.run_now, ref, self.username)
        self.reply(firing, status=202)
