"""``/mlops/api/deployments``: desired state, events and predictions through Jupyter auth."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import httpclient, web

from ..errors import InvalidInput, RuleViolation
from ..serving.service import STATS_BUCKETS, STATS_WINDOW_SECONDS
from .base import MlopsHandler
from .guard import refuse_trust_widening
from .idempotency import ReplayableWrites, idempotent


class ServingHandler(ReplayableWrites, MlopsHandler):
    """Base of the deployment handlers (writes honour ``Idempotency-Key``)."""

    auth_resource = "mlops:serving"

    @property
    def serving(self) -> Any:
        return self.mlops.serving

    def present(self, deployment: Any) -> dict[str, Any]:
        out = deployment.to_dict()
        controller = self.mlops.controller
        if controller is not None:
            out["observed"] = controller.observed(deployment.name)
        return out


def _int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(f"{key} must be an integer", field=key)
    return value


class DeploymentsHandler(ServingHandler):
    """``GET`` lists; ``POST {"model", "version"?, "name"?, "environment"?, "replicas"?,
    "canary"?: {"version", "percent"}, "shadow"?, "pii"?: {column: mode}}`` deploys (201,
    with the token once)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        items = await self.call(self.serving.list, user=self.username)
        overview = await self.call(self.mlops.monitoring.overview)
        out = []
        for d in items:
            body = self.present(d)
            watch = overview.get(d.name, {})
            body["monitoring"] = {"drift": watch.get("drift"),
                                  "alerts": {"firing": 0, "acknowledged": 0,
                                             **watch.get("alerts", {})}}
            out.append(body)
        self.reply({"deployments": out})

    @web.authenticated
    @authorized
    @idempotent
    async def post(self) -> None:
        body = self.json_body()
        refuse_trust_widening(body)
        model = body.get("model")
        if not isinstance(model, str):
            raise InvalidInput("model (string) is required", field="model")
        canary = body.get("canary")
        if canary is not None:
            if not isinstance(canary, dict):
                raise InvalidInput("canary must be {version, percent}", field="canary")
            canary = (canary.get("version"), canary.get("percent"))
        version = body.get("version", "latest")
        deployment, token = await self.call(
            self.serving.deploy, model, version, self.username, name=body.get("name"),
            environment=body.get("environment", "staging"),
            replicas=_int(body, "replicas") or 1, canary=canary, shadow=body.get("shadow"),
            pii=body.get("pii"))
        out = self.present(deployment)
        if token:
            out["token"] = token
        self.reply(out, status=201)


class DeploymentHandler(ServingHandler):
    """``GET``; ``PATCH {"traffic"?, "replicas"?, "shadow"?, "pii"?, "rollback"?: true}``;
    ``DELETE`` stops it."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(self.present(await self.call(self.serving.get, name)))

    @web.authenticated
    @authorized
    @idempotent
    async def patch(self, name: str) -> None:
        body = self.json_body()
        if body.get("rollback") is True:
            deployment = await self.call(self.serving.rollback, name, self.username)
        else:
            shadow = body.get("shadow", None)
            deployment = await self.call(
                self.serving.update, name, self.username, traffic=body.get("traffic"),
                replicas=_int(body, "replicas"), shadow=shadow if shadow else None,
                clear_shadow="shadow" in body and not shadow, pii=body.get("pii"))
        self.reply(self.present(deployment))

    @web.authenticated
    @authorized
    @idempotent
    async def delete(self, name: str) -> None:
        self.reply(self.present(await self.call(self.serving.stop, name, self.username)))


class EventsHandler(ServingHandler):
    """``GET /deployments/{name}/events?limit=``: newest first."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        events = await self.call(self.serving.events, name, self.query_int("limit", 100, 1,
                                                                             1000))
        self.reply({"events": [e.to_dict() for e in events]})


class StatsHandler(ServingHandler):
    """``GET /deployments/{name}/stats?window=3600&buckets=30[&end=ms]``: request rate,
    errors and p50/p95 latency per time bucket (see ``ServingService.request_stats``)."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        stats = await self.call(
            self.serving.request_stats, name,
            window_seconds=self.query_int("window", 3600, *STATS_WINDOW_SECONDS),
            buckets=self.query_int("buckets", 30, *STATS_BUCKETS), user=self.username,
            end=self.query_int("end", 0, 0, 2**53) or None)  # 0 or absent: now
        self.reply(stats.to_dict())


class TokenHandler(ServingHandler):
    """``POST /deployments/{name}/token``: issue a new bearer token (the old one stops
    working at once); answers ``{"name", "token"}`` (shown only this once)."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str) -> None:
        token = await self.call(self.serving.rotate_token, name, self.username)
        self.reply({"name": name, "token": token}, status=201)


class PredictHandler(ServingHandler):
    """``POST /deployments/{name}/predict``: the worker's contract, behind Jupyter auth.

    The server forwards the body to the worker port with the deployment's own
    credentials, so notebook users never handle the worker token. The worker applies its
    own body limit (``MLOPS_JLAB_MAX_BODY``) on top of this route's.
    """

    body_types = ("application/json", "application/vnd.apache.arrow.stream")
    max_body_bytes = 256 * 1024 * 1024

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        deployment = await self.call(self.serving.get, name)
        if deployment.status != "active":
            raise RuleViolation(f"deployment {name} is {deployment.status}")
        token = await self.call(self.serving.internal_token, name)
        client = httpclient.AsyncHTTPClient()
        # JSON or an Arrow IPC stream (?proba=true), as the worker takes them
        content_type = self.request.headers.get("Content-Type") or "application/json"
        query = f"?{self.request.query}" if self.request.query else ""
        for attempt in (1, 2):
            try:
                response = await client.fetch(
                    f"http://127.0.0.1:{deployment.port}/v1/predict{query}", method="POST",
                    body=self.request.body or b"{}", raise_error=False, request_timeout=60,
                    headers={"Content-Type": content_type,
                             "Authorization": f"Bearer {token}"})
            except OSError as exc:
                if attempt == 1:  # a replica died mid-request: another one takes it
                    await asyncio.sleep(0.05)
                    continue
                raise RuleViolation(f"deployment {name} is not reachable: {exc}") from None
            except httpclient.HTTPClientError as exc:  # timed out: no replica answered
                raise RuleViolation(f"deployment {name} did not answer within 60 s "
                                    f"({exc.message}); see its events") from None
            if response.code != 599 or attempt == 2:
                break
            await asyncio.sleep(0.05)  # a prediction is safe to repeat
        if response.code == 599:
            raise RuleViolation(f"deployment {name} is not answering (is it ready?)")
        self.set_status(response.code)
        self.set_header("Content-Type", "application/json")
        self.finish(response.body or json.dumps({}).encode())
