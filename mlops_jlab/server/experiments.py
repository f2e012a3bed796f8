"""``/mlops/api/experiments``: list and create experiments."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import MlopsHandler
from .idempotency import ReplayableWrites, idempotent


class ExperimentsHandler(ReplayableWrites, MlopsHandler):
    """``GET`` lists experiments; ``POST {"name", "tags"?, "exist_ok"?}`` creates one
    (``exist_ok``: or returns the existing one, 200)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        exps = await self.call(self.mlops.tracking.list_experiments, user=self.username)
        self.reply({"experiments": [e.to_dict() for e in exps]})

    @web.authenticated
    @authorized
    @idempotent
    async def post(self) -> None:
        body = self.json_body()
        if body.get("exist_ok") is True:
            exp = await self.call(self.mlops.tracking.get_or_create_experiment,
                                  body.get("name"), self.username)
            self.reply(exp.to_dict())
            return
        tags = body.get("tags") or {}
        if not isinstance(tags, dict):
            raise InvalidInput("tags must be an object of strings", field="tags")
        exp = await self.call(self.mlops.tracking.create_experiment, body.get("name"),
                              self.username, {str(k): str(v) for k, v in tags.items()})
        self.reply(exp.to_dict(), status=201)


class ExperimentHandler(MlopsHandler):
    """``GET /experiments/{id or name}``."""

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        exp = await self.call(self.mlops.tracking.get_experiment, ref, user=self.username)
        self.reply(exp.to_dict())


class ExperimentKeysHandler(MlopsHandler):
    """``GET /experiments/{id or name}/keys``: the param, metric and tag keys its runs
    use (what the panel's filter completes and its column chooser offers)."""

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        keys = await self.call(self.mlops.tracking.experiment_keys, ref,
                               user=self.username)
        self.reply(keys)
