"""Every REST route of the extension (path templates relative to the server base URL)."""

from __future__ import annotations

from .experiments import ExperimentHandler, ExperimentsHandler
from .meta import OpenApiHandler, VersionHandler
from .runs import ArtifactHandler, MetricHistoryHandler, RunHandler, RunsHandler

API = "/mlops/api"
_ID = r"(?P<run_id>[0-9a-fA-F]{1,64})"

ROUTES = [
    (rf"{API}/version", VersionHandler),
    (rf"{API}/openapi\.json", OpenApiHandler),
    (rf"{API}/experiments", ExperimentsHandler),
    (rf"{API}/experiments/(?P<ref>[^/]+)", ExperimentHandler),
    (rf"{API}/runs", RunsHandler),
    (rf"{API}/runs/{_ID}", RunHandler),
    (rf"{API}/runs/{_ID}/metrics/(?P<key>.+)", MetricHistoryHandler),
    (rf"{API}/runs/{_ID}/artifacts/(?P<path>.+)", ArtifactHandler),
]
