"""``/mlops/api/runs``: search runs, one run, a metric's history, an artifact's bytes."""

from __future__ import annotations

import mimetypes
import os
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..tracking.service import MAX_LIMIT
from .base import MlopsHandler


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


class RunsHandler(MlopsHandler):
    """``GET /runs?experiment=&filter=&order_by=&limit=&page_token=``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        experiment = self.get_query_argument("experiment", None) or None
        page = await self.call(
            self.mlops.tracking.search_runs,
            experiment,
            self.get_query_argument("filter", None) or None,
            self.get_query_argument("order_by", None) or None,
            self.query_int("limit", 100, 1, MAX_LIMIT),
            self.get_query_argument("page_token", None) or None,
        )
        root = self.mlops.root_dir
        body = page.to_dict()
        body["runs"] = [present_run(r, root, brief=True) for r in body["runs"]]
        self.reply(body)


class RunHandler(MlopsHandler):
    """``GET /runs/{id}``: everything recorded about a run."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        run = await self.call(self.mlops.tracking.get_run, run_id)
        self.reply(present_run(run.to_dict(), self.mlops.root_dir))


class MetricHistoryHandler(MlopsHandler):
    """``GET /runs/{id}/metrics/{key}``: every point of one metric."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str, key: str) -> None:
        points = await self.call(self.mlops.tracking.metric_history, run_id, key)
        self.reply({"run_id": run_id, "key": key,
                    "history": [{"step": p.step, "value": p.value, "timestamp": p.timestamp}
                                for p in points]})


class ArtifactHandler(MlopsHandler):
    """``GET /runs/{id}/artifacts/{path}``: download one artifact (verified by sha256)."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str, path: str) -> None:
        tracking = self.mlops.tracking
        blob = await self.call(tracking.artifact_blob, run_id, path)
        data = await self.call(tracking.artifacts.read_bytes, blob["sha256"])
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition",
                        f'attachment; filename="{os.path.basename(path)}"')
        self.set_header("X-Content-SHA256", blob["sha256"])
        self.finish(data)
