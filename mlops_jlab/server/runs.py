"""``/mlops/api/runs``: search and start runs, one run (read, update, end), params, tags,
metric batches and histories, datasets, artifacts (upload and download)."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from ..tracking.datasets import DatasetProfile
from ..tracking.service import MAX_LIMIT, check_key, check_metric_value
from .base import MlopsHandler
from .idempotency import ReplayableWrites, idempotent

MAX_BATCH = 100_000  # metric points in one POST /metrics


def present_run(run: dict[str, Any], root_dir: str | None,
                brief: bool = False) -> dict[str, Any]:
    """Add ``source.notebook_path`` relative to the Jupyter root (what the UI can open);
    ``brief`` (list items) leaves out the cell source."""
    source = run.get("source") or {}
    if brief and "cell_source" in source:
        source = {k: v for k, v in source.items() if k != "cell_source"}
        run = {**run, "source": source}
    abspath = source.get("notebook_abspath")
    if abspath and root_dir:
        try:
            rel = os.path.relpath(abspath, root_dir)
        except ValueError:  # other drive on Windows
            rel = None
        source = {**source, "notebook_path": None if rel is None or rel.startswith("..")
                  else rel.replace(os.sep, "/")}
        run = {**run, "source": source}
    elif "notebook_path" not in source:
        run = {**run, "source": {**source, "notebook_path": None}}
    return run


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise InvalidInput(f"{key} must be an object", field=key)
    return value


def _string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string", field=key)
    return value


def _integer(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(f"{key} must be an integer", field=key)
    return value


def metric_points(raw: object) -> list[tuple[str, str, float | None, int, int]]:
    """``[[run_id, key, value, step, timestamp], ...]`` checked (``null`` value: NaN)."""
    if not isinstance(raw, list):
        raise InvalidInput("points must be a list of [run_id, key, value, step, timestamp]",
                           field="points")
    if len(raw) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} points per request", field="points")
    points = []
    for i, point in enumerate(raw):
        if not isinstance(point, list) or len(point) != 5:
            raise InvalidInput(f"point {i} must be [run_id, key, value, step, timestamp]",
                               field="points")
        run_id, key, value, step, ts = point
        if not isinstance(run_id, str):
            raise InvalidInput(f"point {i}: run_id must be a string", field="points")
        key = check_key(key, "metric key")
        number = None if value is None else check_metric_value(key, value)
        for name, v in (("step", step), ("timestamp", ts)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidInput(f"point {i}: {name} must be an integer", field="points")
        points.append((run_id, key, number, step, ts))
    return points


class RunsHandler(ReplayableWrites, MlopsHandler):
    """``GET /runs?experiment=&filter=&order_by=&limit=&page_token=&count=``; ``POST`` starts a
    run: ``{"experiment"?, "name"?, "params"?, "tags"?, "source"?, "environment"?,
    "parent_run_id"?, "start_time"?}``."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self) -> None:
        body = self.json_body()
        run = await self.call(
            self.mlops.tracking.create_run, self.username,
            experiment=_string(body, "experiment"), name=_string(body, "name"),
            params=_object(body, "params"), tags=_object(body, "tags"),
            source=_object(body, "source"), environment=_object(body, "environment"),
            parent_run_id=_string(body, "parent_run_id"),
            start_time=_integer(body, "start_time"))
        self.reply(run.to_dict(), status=201)

    @web.authenticated
    @authorized
    async def get(self) -> None:
        experiments = [e for e in self.get_query_arguments("experiment") if e]
        experiment: str | list[str] | None = \
            experiments[0] if len(experiments) == 1 else experiments or None
        page = await self.call(
            self.mlops.tracking.search_runs,
            experiment,
            self.get_query_argument("filter", None) or None,
            self.get_query_argument("order_by", None) or None,
            self.query_int("limit", 100, 1, MAX_LIMIT),
            self.get_query_argument("page_token", None) or None,
            user=self.username,
            count=self.query_bool("count", False),
        )
        root = self.mlops.root_dir
        body = page.to_dict()
        body["runs"] = [present_run(r, root, brief=True) for r in body["runs"]]
        self.reply(body)


class RunHandler(ReplayableWrites, MlopsHandler):
    """``GET /runs/{id}``: everything recorded about a run; ``PATCH {"name"?, "source"?,
    "environment"?}`` renames it or merges more source/environment facts."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        run = await self.call(self.mlops.tracking.get_run, run_id, user=self.username)
        self.reply(present_run(run.to_dict(), self.mlops.root_dir))

    @web.authenticated
    @authorized
    @idempotent
    async def patch(self, run_id: str) -> None:
        body = self.json_body()
        await self.call(self.mlops.tracking.update_run, run_id, self.username,
                        name=_string(body, "name"), source=_object(body, "source"),
                        environment=_object(body, "environment"))
        self.reply({"run_id": run_id})


class RunEndHandler(ReplayableWrites, MlopsHandler):
    """``POST /runs/{id}/end {"status"?, "error"?, "end_time"?, "points"?}``: ends the
    run, writing its last metric points in the same transaction."""

    max_body_bytes = 64 * 1024 * 1024

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, run_id: str) -> None:
        body = self.json_body()
        points = metric_points(body["points"]) if body.get("points") is not None else []
        if any(p[0] != run_id for p in points):
            raise InvalidInput("points of another run", field="points")
        await self.call(self.mlops.tracking.end_run, run_id, self.username,
                        status=_string(body, "status") or "finished",
                        error=_string(body, "error"), end_time=_integer(body, "end_time"),
                        points=points)
        self.reply({"run_id": run_id, "status": body.get("status") or "finished"})


class RunParamsHandler(ReplayableWrites, MlopsHandler):
    """``POST /runs/{id}/params {"params": {...}}`` (params are immutable: 409 on a
    different value)."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, run_id: str) -> None:
        params = _object(self.json_body(), "params")
        if params is None:
            raise InvalidInput("params (object) is required", field="params")
        await self.call(self.mlops.tracking.log_params, run_id, params, self.username)
        self.reply({"run_id": run_id, "logged": len(params)})


class RunTagsHandler(ReplayableWrites, MlopsHandler):
    """``POST /runs/{id}/tags {"tags": {...}}`` sets (or overwrites) tags."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, run_id: str) -> None:
        tags = _object(self.json_body(), "tags")
        if tags is None:
            raise InvalidInput("tags (object) is required", field="tags")
        await self.call(self.mlops.tracking.set_tags, run_id, tags, self.username)
        self.reply({"run_id": run_id, "logged": len(tags)})


class MetricsHandler(ReplayableWrites, MlopsHandler):
    """``POST /metrics {"points": [[run_id, key, value, step, timestamp], ...]}``: one
    batch of metric points (any runs) in one transaction."""

    max_body_bytes = 64 * 1024 * 1024

    @web.authenticated
    @authorized
    @idempotent
    async def post(self) -> None:
        points = metric_points(self.json_body().get("points"))
        written = await self.call(self.mlops.tracking.log_metrics, points, self.username)
        self.reply({"written": written})


class RunStepsHandler(MlopsHandler):
    """``GET /runs/{id}/steps``: the highest step logged per metric key."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.reply({"run_id": run_id,
                    "steps": await self.call(self.mlops.tracking.last_steps, run_id,
                                             user=self.username)})


class RunDatasetsHandler(ReplayableWrites, MlopsHandler):
    """``POST /runs/{id}/datasets {"role"?, "profile": {"name", "fingerprint", "rows",
    "schema", "profile"}}``: links a dataset version (profiled by the client)."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, run_id: str) -> None:
        body = self.json_body()
        raw = _object(body, "profile")
        if raw is None:
            raise InvalidInput("profile (object) is required", field="profile")
        rows, schema = raw.get("rows"), raw.get("schema")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InvalidInput("profile.rows must be a non-negative integer", field="profile")
        if not isinstance(schema, list) or not all(isinstance(c, dict) for c in schema):
            raise InvalidInput("profile.schema must be a list of objects", field="profile")
        fingerprint = raw.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            raise InvalidInput("profile.fingerprint must be a string", field="profile")
        profile = DatasetProfile(raw.get("name"), fingerprint, rows,  # type: ignore[arg-type]
                                 schema, _object(raw, "profile") or {})
        linked = await self.call(self.mlops.tracking.log_dataset, run_id, profile,
                                 self.username, _string(body, "role") or "train")
        self.reply(linked, status=201)


class MetricHistoryHandler(MlopsHandler):
    """``GET /runs/{id}/metrics/{key}``: every point of one metric."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str, key: str) -> None:
        points = await self.call(self.mlops.tracking.metric_history, run_id, key,
                                user=self.username)
        self.reply({"run_id": run_id, "key": key,
                    "history": [{"step": p.step, "value": p.value, "timestamp": p.timestamp}
                                for p in points]})


class ArtifactHandler(ReplayableWrites, MlopsHandler):
    """``GET /runs/{id}/artifacts/{path}``: download one artifact (verified by sha256);
    ``PUT`` with the raw bytes (``application/octet-stream``) stores one. An
    ``X-Content-SHA256`` request header, when sent, must match the body."""

    body_types = ("application/octet-stream",)
    max_body_bytes = 512 * 1024 * 1024

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, run_id: str, path: str) -> None:
        data = self.request.body or b""
        expected = self.request.headers.get("X-Content-SHA256")
        if expected and hashlib.sha256(data).hexdigest() != expected.strip().lower():
            raise InvalidInput("the body does not match its X-Content-SHA256 header "
                               "(truncated upload?)", field="X-Content-SHA256")
        stored = await self.call(self.mlops.tracking.log_artifact_bytes, run_id, path, data,
                                 self.username)
        self.reply(stored, status=201)

    @web.authenticated
    @authorized
    async def get(self, run_id: str, path: str) -> None:
        tracking = self.mlops.tracking
        blob = await self.call(tracking.artifact_blob, run_id, path, user=self.username)
        data = await self.call(tracking.artifacts.read_bytes, blob["sha256"])
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition",
                        f'attachment; filename="{os.path.basename(path)}"')
        self.set_header("X-Content-SHA256", blob["sha256"])
        self.finish(data, set_content_type=kind)  # APIHandler would say application/json
