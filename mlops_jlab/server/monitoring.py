"""``/mlops/api/monitoring``: drift of a deployment's traffic, its history, live
performance; ``/deployments/{name}/feedback`` takes ground truth."""

from __future__ import annotations

import math
from typing import Any

import orjson
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import MlopsHandler
from .idempotency import ReplayableWrites, idempotent


class MonitoringHandler(ReplayableWrites, MlopsHandler):
    """Base of the monitoring handlers (writes honour ``Idempotency-Key``)."""

    auth_resource = "mlops:monitoring"

    @property
    def monitoring(self) -> Any:
        return self.mlops.monitoring

    def window_args(self) -> dict[str, Any]:
        """``window`` (30m, 1h, 7d) or ``start``/``end`` (ms since the epoch)."""
        out: dict[str, Any] = {"window": self.get_query_argument("window", None) or None}
        for key in ("start", "end"):
            raw = self.get_query_argument(key, None)
            if raw:
                try:
                    out[key] = int(raw)
                except ValueError:
                    raise InvalidInput(f"{key} must be milliseconds since the epoch",
                                       field=key) from None
        return out


class DriftHandler(MonitoringHandler):
    """``GET ?window=1h | ?rows=N | ?start=&end=`` computes drift of the deployment's
    logged inputs against its serving version's training data, without recording it;
    ``POST`` with the same query computes it and records it in the drift history (201,
    audited). ``tests={"age": ["psi", 0.1]}`` (JSON) overrides tests per column and
    ``drift_share=0.3`` the share of drifted columns that makes dataset drift."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        store = self.get_query_argument("store", None)
        if store is not None and store.lower() not in ("0", "false", "no"):
            raise InvalidInput("GET only computes drift; POST the same query to record it "
                               "in the history", field="store")
        report = await self.call(self.monitoring.drift, name, store=False,
                                 **self.drift_args())
        self.reply(report.to_dict())

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str) -> None:
        report = await self.call(self.monitoring.drift, name, store=True,
                                 user=self.username, **self.drift_args())
        self.reply(report.to_dict(), status=201)

    def drift_args(self) -> dict[str, Any]:
        """The window (``window``, ``rows`` or ``start``/``end``) and the options."""
        args = self.window_args()
        rows = self.get_query_argument("rows", None)
        if rows:
            args["rows"] = self.query_int("rows", 1000, 1, 100_000_000)
        args.update(self.drift_options())
        return args

    def drift_options(self) -> dict[str, Any]:
        """``tests`` (a JSON object) and ``drift_share`` (0 < x <= 1) when given."""
        out: dict[str, Any] = {}
        raw = self.get_query_argument("tests", None)
        if raw:
            try:
                tests = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise InvalidInput("tests must be a JSON object such as "
                                   '{"age": ["psi", 0.1]}', field="tests") from None
            if not isinstance(tests, dict):
                raise InvalidInput("tests must be a JSON object of column: test",
                                   field="tests")
            out["tests"] = tests
        share = self.get_query_argument("drift_share", None)
        if share:
            try:
                value = float(share)
            except ValueError:
                value = math.nan
            if not 0 < value <= 1:
                raise InvalidInput(f"drift_share must be a number in (0, 1], got {share!r}",
                                   field="drift_share")
            out["drift_share"] = value
        return out


class DriftHistoryHandler(MonitoringHandler):
    """``GET ?limit=100``: recorded drift reports, newest first."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        limit = self.query_int("limit", 100, 1, 10_000)
        self.reply({"history": await self.call(self.monitoring.drift_history, name, limit)})


class PerformanceHandler(MonitoringHandler):
    """``GET ?window=7d&bucket=1h&task=classification|regression``: metrics of labelled
    predictions per version and time bucket."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        args = self.window_args()
        if args["window"] is None and "start" not in args:
            args["window"] = "7d"
        frame = await self.call(self.monitoring.performance, name,
                                bucket=self.get_query_argument("bucket", None) or None,
                                task=self.get_query_argument("task", None) or None, **args)
        rows = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in r.items()} for r in frame.to_dict(orient="records")]
        self.reply({"performance": rows})


class FeedbackHandler(MonitoringHandler):
    """``POST {"request_ids": [...], "labels": [...]}``: ground truth for logged
    predictions; answers ``{"stored", "matched"}``."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str) -> None:
        body = self.json_body()
        result = await self.call(self.monitoring.log_feedback, name, body.get("request_ids"),
                                 body.get("labels"), self.username)
        self.reply(result)


class AlertRulesHandler(MonitoringHandler):
    """``GET`` a deployment's alert rules; ``PUT {"rules": [...]}`` replaces them."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply({"rules": await self.call(self.mlops.alerts.rules, name)})

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, name: str) -> None:
        body = self.json_body()
        rules = await self.call(self.mlops.alerts.set_rules, name, body.get("rules"),
                                self.username)
        self.reply({"rules": rules})


class EvaluateHandler(MonitoringHandler):
    """``POST``: evaluate the deployment's rules now; the alerts that changed (actions
    such as retraining continue in the background)."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str) -> None:
        changed = await self.call(self.mlops.alerts.evaluate, name, user=self.username)
        self.reply({"alerts": changed})


class AlertsHandler(MonitoringHandler):
    """``GET ?deployment=&status=firing|acknowledged|resolved|open&limit=200``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        limit = self.query_int("limit", 200, 1, 10_000)
        items = await self.call(self.mlops.alerts.alerts,
                                self.get_query_argument("deployment", None) or None,
                                self.get_query_argument("status", None) or None, limit,
                                user=self.username)
        self.reply({"alerts": items})


class AcknowledgeHandler(MonitoringHandler):
    """``POST``: firing → acknowledged by the caller."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, alert_id: str) -> None:
        self.reply(await self.call(self.mlops.alerts.acknowledge, alert_id, self.username))
