"""Team mode: the Backend calls over the REST API of a shared Jupyter server.

``MLOPS_JLAB_URI=https://jupyter.example.org/`` (the server's base URL; the API is under
``/mlops/api``) and ``MLOPS_JLAB_TOKEN`` (sent as ``Authorization: token ...``) make the
Python API and the magics use :class:`HttpBackend`. It exposes ``tracking``,
``registry``, ``serving``, ``monitoring`` and ``alerts`` as REST proxies with the
services' method signatures and record types; the ``user`` arguments are ignored (the
server decides who acts).

Transport (:class:`HttpClient`): one keep-alive ``requests.Session``; every write sends
a fresh ``Idempotency-Key`` and a retry (connection error, timeout, 502/503/504, or the
server's ``request_in_progress``) resends the same key, so the write is applied once.
4xx JSON errors come back as the typed exceptions of :mod:`mlops_jlab.errors`; a server
that cannot be reached is a :class:`~mlops_jlab.errors.ConfigurationError` naming it.
"""

from __future__ import annotations

import builtins
import collections
import dataclasses
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pandas as pd
import requests

from .. import errors
from ..config import Settings
from ..errors import (
    ConfigurationError,
    InvalidInput,
    MlopsError,
    NotFound,
    PermissionDenied,
    RuleViolation,
)
from ..models.loaded import LoadedModel
from ..models.loader import load_verified
from ..monitoring.report import DriftReport
from ..registry.names import model_name, relative_path
from ..registry.records import ModelVersion, RegisteredModel, ValidationReport
from ..registry.service import run_model_files
from ..serving.records import Deployment, DeploymentEvent, RequestStats
from ..tracking.datasets import DatasetProfile
from ..tracking.records import Experiment, MetricPoint, Run, RunDetail, RunPage
from ..tracking.service import check_key, param_text
from . import remote_records as rec
from .backend import ServicesBackend
from .buffer import MetricBuffer, Point
from .http_governance import HttpAccess, HttpCards, HttpPromotions

API = "/mlops/api"
API_VERSION = 1
WRITES = ("POST", "PUT", "PATCH", "DELETE")
RETRY_STATUSES = (502, 503, 504)
KEY_HEADER = "Idempotency-Key"


def _q(part: str | int) -> str:
    """One path segment, escaped (an empty one would change the route: refused)."""
    text = str(part)
    if not text:
        raise InvalidInput("names and ids in the API must be non-empty strings")
    return quote(text, safe="")


def _dumps(body: Any) -> bytes:
    return orjson.dumps(body, default=str,
                        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


class HttpClient:
    """Requests to ``<base>/mlops/api``: keep-alive, retries, idempotency keys, typed
    errors. ``sent`` counts requests by ``(method, route)`` (for diagnostics)."""

    def __init__(self, base_url: str, token: str | None, *, retries: int = 6,
                 backoff: float = 0.1, timeout: tuple[float, float] = (10.0, 600.0)) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = self.base_url + API
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "mlops-jlab-client"
        if token:
            self.session.headers["Authorization"] = f"token {token}"
        self.sent: collections.Counter[tuple[str, str]] = collections.Counter()
        self._lock = threading.Lock()

    def request(self, method: str, path: str, *, json: Any = None,
                data: bytes | Path | None = None, params: Any = None,
                headers: Mapping[str, str] | None = None,
                key: str | None = None) -> requests.Response:
        """One API call (``path`` below ``/mlops/api``), retried on transient failures.

        Writes carry ``Idempotency-Key`` (``key``, or a fresh one) on every attempt.
        """
        method = method.upper()
        url = self.api + path
        sent_headers = dict(headers or {})
        if json is not None:
            data = _dumps(json)
            sent_headers.setdefault("Content-Type", "application/json")
        if method in WRITES:
            sent_headers[KEY_HEADER] = key or uuid.uuid4().hex
        delay = self.backoff
        failure: str = ""
        for attempt in range(1, self.retries + 1):
            if attempt > 1:
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            with self._lock:
                self.sent[(method, path.split("?")[0])] += 1
            try:
                if isinstance(data, Path):
                    with data.open("rb") as body:
                        response = self.session.request(method, url, data=body, params=params,
                                                        headers=sent_headers,
                                                        timeout=self.timeout)
                else:
                    response = self.session.request(method, url, data=data, params=params,
                                                    headers=sent_headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                failure = f"HTTP {response.status_code}"
                continue
            if response.status_code == 409 and _code(response) == "request_in_progress":
                failure = "the first attempt is still running"
                continue
            if response.status_code >= 400:
                raise self.error(response)
            return response
        raise ConfigurationError(
            f"cannot reach the mlops_jlab server at {self.base_url} ({method} {API}{path}: "
            f"{failure}, {self.retries} attempts); check MLOPS_JLAB_URI and that the server "
            "runs", url=self.base_url)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call whose answer is JSON (``None`` for an empty body)."""
        response = self.request(method, path, **kwargs)
        return orjson.loads(response.content) if response.content else None

    def error(self, response: requests.Response) -> MlopsError:
        """The typed error of a 4xx/5xx answer."""
        status = response.status_code
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or "error" not in body:
            return ConfigurationError(
                f"{self.base_url} answered HTTP {status} without an mlops_jlab error body "
                f"for {response.request.method} {response.url}: is MLOPS_JLAB_URI the base "
                "URL of a Jupyter server with the mlops_jlab extension?", url=self.base_url)
        if status == 403 and body.get("error") == "forbidden":
            return ConfigurationError(
                f"the server at {self.base_url} refused the request ({body.get('message')}): "
                "check MLOPS_JLAB_TOKEN", url=self.base_url)
        if status >= 500:
            return MlopsError(f"the server at {self.base_url} failed: {body.get('message')}",
                              status=status)
        return errors.from_dict(body, status)

    def close(self) -> None:
        self.session.close()


def _code(response: requests.Response) -> object:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body.get("error") if isinstance(body, dict) else None


# ---------------------------------------------------------------- tracking
class HttpTracking:
    """The tracking service's calls over REST (``user`` arguments are ignored)."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def create_experiment(self, name: str, user: str = "",
                          tags: Mapping[str, str] | None = None) -> Experiment:
        return rec.experiment(self.http.json("POST", "/experiments",
                                             json={"name": name, "tags": dict(tags or {})}))

    def get_or_create_experiment(self, name: str, user: str = "") -> Experiment:
        return rec.experiment(self.http.json("POST", "/experiments",
                                             json={"name": name, "exist_ok": True}))

    def get_experiment(self, ref: str, *, user: str | None = None) -> Experiment:
        return rec.experiment(self.http.json("GET", f"/experiments/{_q(ref)}"))

    def list_experiments(self, *, user: str | None = None) -> list[Experiment]:
        return [rec.experiment(e) for e in self.http.json("GET", "/experiments")["experiments"]]

    def create_run(self, user: str = "", experiment: str | None = None,
                   name: str | None = None, params: Mapping[str, object] | None = None,
                   tags: Mapping[str, object] | None = None,
                   source: Mapping[str, Any] | None = None,
                   environment: Mapping[str, Any] | None = None,
                   parent_run_id: str | None = None, start_time: int | None = None) -> Run:
        body = {"experiment": experiment, "name": name, "params": _params(params),
                "tags": _tags(tags), "source": dict(source or {}),
                "environment": dict(environment or {}), "parent_run_id": parent_run_id,
                "start_time": start_time}
        return rec.run(self.http.json("POST", "/runs", json=body))

    def log_params(self, run_id: str, params: Mapping[str, object], user: str = "") -> None:
        if params:
            self.http.request("POST", f"/runs/{_q(run_id)}/params",
                              json={"params": _params(params)})

    def set_tags(self, run_id: str, tags: Mapping[str, object], user: str = "") -> None:
        if tags:
            self.http.request("POST", f"/runs/{_q(run_id)}/tags", json={"tags": _tags(tags)})

    def log_metrics(self, points: Sequence[Point], user: str = "") -> int:
        """One POST per batch."""
        if not points:
            return 0
        return int(self.http.json("POST", "/metrics",
                                  json={"points": [list(p) for p in points]})["written"])

    def last_steps(self, run_id: str) -> dict[str, int]:
        return dict(self.http.json("GET", f"/runs/{_q(run_id)}/steps")["steps"])

    def end_run(self, run_id: str, user: str = "", status: str = "finished",
                error: str | None = None, end_time: int | None = None,
                points: Sequence[Point] = ()) -> None:
        self.http.request("POST", f"/runs/{_q(run_id)}/end", json={
            "status": status, "error": error, "end_time": end_time,
            "points": [list(p) for p in points]})

    def update_run(self, run_id: str, user: str = "", *, name: str | None = None,
                   source: Mapping[str, Any] | None = None,
                   environment: Mapping[str, Any] | None = None) -> None:
        self.http.request("PATCH", f"/runs/{_q(run_id)}", json={
            "name": name, "source": dict(source) if source else None,
            "environment": dict(environment) if environment else None})

    def log_artifact(self, run_id: str, local_path: str | os.PathLike[str], user: str = "",
                     artifact_path: str | None = None) -> list[dict[str, Any]]:
        """Upload a file, or a folder's files, one PUT each (checked by sha256)."""
        src = Path(local_path)
        if not src.exists():
            raise InvalidInput(f"no such file or folder: {str(src)!r}")
        prefix = (artifact_path or "").strip("/")
        if ".." in Path(prefix).parts:
            raise InvalidInput(f"artifact path must stay inside the run: {artifact_path!r}")
        if src.is_dir():
            files = sorted(p for p in src.rglob("*") if p.is_file())
            names = [str(p.relative_to(src)).replace(os.sep, "/") for p in files]
            names = [f"{prefix}/{n}" if prefix else n for n in names]
        else:
            files, names = [src], [f"{prefix}/{src.name}" if prefix else src.name]
        return [self._put(run_id, name, path, _file_sha256(path))
                for path, name in zip(files, names, strict=True)]

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes,
                           user: str = "") -> dict[str, Any]:
        return self._put(run_id, path, bytes(data), hashlib.sha256(data).hexdigest())

    def _put(self, run_id: str, path: str, data: bytes | Path, sha256: str) -> dict[str, Any]:
        clean = path.strip("/")
        if not clean or ".." in Path(clean).parts:
            raise InvalidInput(f"bad artifact path {path!r}")
        return dict(self.http.json(
            "PUT", f"/runs/{_q(run_id)}/artifacts/{quote(clean, safe='/')}", data=data,
            headers={"Content-Type": "application/octet-stream",
                     "X-Content-SHA256": sha256}))

    def artifact_bytes(self, run_id: str, path: str, sha256: str | None = None) -> bytes:
        """An artifact's content, checked against ``sha256`` (or the server's header)."""
        response = self.http.request(
            "GET", f"/runs/{_q(run_id)}/artifacts/{quote(path.strip('/'), safe='/')}")
        expected = sha256 or response.headers.get("X-Content-SHA256")
        data = response.content
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise errors.UntrustedModel(
                f"artifact {path!r} of run {run_id} does not match its sha256 (damaged in "
                "transfer or on the server)")
        return data

    def list_artifacts(self, run_id: str) -> list[dict[str, Any]]:
        return list(self.get_run(run_id).artifacts)

    def artifact_blob(self, run_id: str, path: str) -> dict[str, Any]:
        for artifact in self.list_artifacts(run_id):
            if artifact["path"] == path:
                return artifact
        raise NotFound(f"run {run_id} has no artifact {path!r}")

    def log_dataset(self, run_id: str, profile: DatasetProfile, user: str = "",
                    role: str = "train") -> dict[str, Any]:
        return dict(self.http.json("POST", f"/runs/{_q(run_id)}/datasets", json={
            "role": role, "profile": dataclasses.asdict(profile)}))

    def get_run(self, run_id: str, *, user: str | None = None) -> RunDetail:
        return rec.run_detail(self.http.json("GET", f"/runs/{_q(run_id)}"))

    def metric_history(self, run_id: str, key: str, *, user: str | None = None
                       ) -> list[MetricPoint]:
        return rec.metric_points(self.http.json(
            "GET", f"/runs/{_q(run_id)}/metrics/{quote(key, safe='/')}"))

    def search_runs(self, experiments: Iterable[str] | str | None = None,
                    filter: str | None = None, order_by: str | Sequence[str] | None = None,
                    limit: int = 100, page_token: str | None = None, *,
                    user: str | None = None) -> RunPage:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidInput(f"limit must be an integer, got {limit!r}")
        refs = [experiments] if isinstance(experiments, str) else list(experiments or [])
        params: list[tuple[str, Any]] = [("experiment", r) for r in refs]
        if filter:
            params.append(("filter", filter))
        if order_by:
            params.append(("order_by", order_by if isinstance(order_by, str)
                           else ",".join(order_by)))
        params.append(("limit", limit))
        if page_token:
            params.append(("page_token", page_token))
        return rec.run_page(self.http.json("GET", "/runs", params=params))


def _params(params: Mapping[str, object] | None) -> dict[str, str]:
    """Params as the text the store keeps (so the server stores what local mode would)."""
    return {check_key(k, "param key"): param_text(k, v) for k, v in (params or {}).items()}


def _tags(tags: Mapping[str, object] | None) -> dict[str, str]:
    return {check_key(k, "tag key"): str(v) for k, v in (tags or {}).items()}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- registry
class HttpRegistry:
    """The registry's calls over REST. Loading downloads the model files into a cache
    under ``$MLOPS_JLAB_HOME/cache/artifacts`` (by sha256), verifies each file against
    the hash the registry recorded, and loads them as local mode does."""

    def __init__(self, http: HttpClient, tracking: HttpTracking, cache: Path) -> None:
        self.http = http
        self.tracking = tracking
        self.cache = cache

    def _model(self, name: str) -> str:
        return f"/models/{_q(model_name(name))}"  # the server's own check, before the URL

    def create_model(self, name: str, user: str = "", description: str = "",
                     tags: Mapping[str, str] | None = None) -> RegisteredModel:
        return rec.registered_model(self.http.json("POST", "/models", json={
            "name": name, "description": description, "tags": dict(tags or {})}))

    def get_model(self, name: str, *, user: str | None = None) -> RegisteredModel:
        return rec.registered_model(self.http.json("GET", self._model(name)))

    def list_models(self, *, user: str | None = None) -> list[RegisteredModel]:
        return [rec.registered_model(m) for m in self.http.json("GET", "/models")["models"]]

    def update_model(self, name: str, user: str = "", description: str | None = None,
                     tags: Mapping[str, str] | None = None) -> RegisteredModel:
        return rec.registered_model(self.http.json("PATCH", self._model(name), json={
            "description": description, "tags": dict(tags) if tags is not None else None}))

    def register(self, run_id: str, name: str, user: str = "",
                 model_path: str = "model") -> ModelVersion:
        return rec.model_version(self.http.json(
            "POST", f"{self._model(name)}/versions",
            json={"run_id": run_id, "model_path": model_path}))

    def get_version(self, name: str, ref: int | str, *, user: str | None = None
                    ) -> ModelVersion:
        return rec.model_version(self.http.json(
            "GET", f"{self._model(name)}/versions/{_q(_ref(ref))}"))

    def list_versions(self, name: str, include_archived: bool = False, *,
                      user: str | None = None) -> list[ModelVersion]:
        body = self.http.json("GET", f"{self._model(name)}/versions",
                              params={"include_archived": str(bool(include_archived)).lower()})
        return [rec.model_version(v) for v in body["versions"]]

    def update_version(self, name: str, ref: int | str, user: str = "", *,
                       description: str | None = None, tags: Mapping[str, str] | None = None,
                       archived: bool | None = None) -> ModelVersion:
        return rec.model_version(self.http.json(
            "PATCH", f"{self._model(name)}/versions/{_q(_ref(ref))}", json={
                "description": description, "tags": dict(tags) if tags is not None else None,
                "archived": archived}))

    def set_alias(self, name: str, alias: str, version: int | str,
                  user: str = "") -> ModelVersion:
        body = self.http.json("PUT", f"{self._model(name)}/aliases/{_q(alias)}",
                              json={"version": version})
        return self.get_version(name, body["version"])

    def delete_alias(self, name: str, alias: str, user: str = "") -> None:
        self.http.request("DELETE", f"{self._model(name)}/aliases/{_q(alias)}")

    def set_rules(self, name: str, rules: Iterable[Mapping[str, Any] | str],
                  user: str = "") -> list[dict[str, Any]]:
        return list(self.http.json("PUT", f"{self._model(name)}/rules",
                                   json={"rules": list(rules)})["rules"])

    def get_rules(self, name: str) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{self._model(name)}/rules")["rules"])

    def list_validations(self, name: str, ref: int | str) -> list[ValidationReport]:
        body = self.http.json("GET", f"{self._model(name)}/versions/{_q(_ref(ref))}/validations")
        return [rec.validation_report(r) for r in body["validations"]]

    def validate(self, name: str, ref: int | str, X: Any, y: Any, user: str = "", *,
                 trusted_types: Iterable[str] = ()) -> ValidationReport:
        """Send ``X`` and ``y`` (one Arrow stream); the server runs the stored model, in
        an isolated process, trusting what its own configuration trusts: a client cannot
        widen that (``trusted_types`` here is refused)."""
        from ..serving.inputs import ARROW_STREAM, arrow_stream
        from ..tracking.datasets import as_frame

        if list(trusted_types):
            raise InvalidInput(
                "in team mode the server decides which types a model may contain "
                "(its administrator sets c.MlopsJlab.trusted_types); validate without "
                "trusted_types, or ask them to trust these", field="trusted_types")

        frame = as_frame(X).copy()
        frame.columns = [str(c) for c in frame.columns]
        if y is not None and len(y) != len(frame):
            raise InvalidInput(f"X has {len(frame)} rows but y has {len(y)}")
        target = "__mlops_target__"
        while target in frame.columns:
            target = "_" + target
        frame[target] = pd.Series(list(y) if y is not None else [None] * len(frame),
                                  index=frame.index)
        return rec.validation_report(self.http.json(
            "POST", f"{self._model(name)}/versions/{_q(_ref(ref))}/validations",
            data=arrow_stream(frame), headers={"Content-Type": ARROW_STREAM},
            params={"target": target}))

    def validate_with_dataset(self, name: str, ref: int | str, dataset: str, target: str,
                              user: str = "",
                              dataset_version: int | None = None) -> ValidationReport:
        return rec.validation_report(self.http.json(
            "POST", f"{self._model(name)}/versions/{_q(_ref(ref))}/validations",
            json={"dataset": dataset, "target": target, "dataset_version": dataset_version}))

    def lineage(self, name: str, ref: int | str) -> dict[str, Any]:
        return dict(self.http.json("GET",
                                   f"{self._model(name)}/versions/{_q(_ref(ref))}/lineage"))

    def load_version(self, name: str, ref: int | str, *, trusted_types: Iterable[str] = (),
                     allow_pickle: bool = False) -> LoadedModel:
        """Download (or reuse from the cache) and load a ready version."""
        version = self.get_version(name, ref)
        if version.status != "ready":
            raise RuleViolation(f"{version.name} v{version.version} is {version.status}")
        files = version.files or {}
        return load_verified(self._reader(version.run_id, version.model_path, files), files,
                             uri=f"models:/{version.name}/{version.version}",
                             trusted_types=trusted_types, allow_pickle=allow_pickle)

    def load_run_model(self, run_id: str, model_path: str = "model", *,
                       trusted_types: Iterable[str] = (),
                       allow_pickle: bool = False) -> LoadedModel:
        model_path = relative_path(model_path)
        files = run_model_files(run_id, model_path, self.tracking.list_artifacts(run_id))
        return load_verified(self._reader(run_id, model_path, files), files,
                             uri=f"runs:/{run_id}/{model_path}",
                             trusted_types=trusted_types, allow_pickle=allow_pickle)

    def _reader(self, run_id: str, model_path: str, files: Mapping[str, str]) -> Any:
        by_sha = {sha: path for path, sha in files.items()}

        def read(sha256: str) -> bytes:
            cached = self.cache / sha256[:2] / sha256
            if cached.exists():
                data = cached.read_bytes()
                if hashlib.sha256(data).hexdigest() == sha256:
                    return data
            path = by_sha.get(sha256)
            if path is None:
                raise errors.UntrustedModel(f"no file of the model has sha256 {sha256}")
            data = self.tracking.artifact_bytes(run_id, f"{model_path}/{path}", sha256)
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.name}.{uuid.uuid4().hex}.part")
            partial.write_bytes(data)
            os.replace(partial, cached)
            return data

        return read


def _ref(ref: int | str) -> str:
    if isinstance(ref, bool):
        raise InvalidInput(f"not a version: {ref!r}")
    return str(ref)


# ---------------------------------------------------------------- serving
class HttpServing:
    """Deployments over REST. The server's own controller serves them; predictions go
    through the server (``/deployments/{name}/predict``)."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def deploy(self, model: str, version: int | str, user: str = "", *,
               name: str | None = None, environment: str = "staging", replicas: int = 1,
               canary: tuple[int | str, int] | None = None, shadow: int | str | None = None,
               **options: Any) -> tuple[Deployment, str | None]:
        body: dict[str, Any] = {"model": model, "version": version, "name": name,
                                "environment": environment, "replicas": replicas,
                                "shadow": shadow, **options}
        if canary is not None:
            body["canary"] = {"version": canary[0], "percent": canary[1]}
        out = self.http.json("POST", "/deployments", json=body)
        return rec.deployment(out), out.get("token")

    def get(self, name: str) -> Deployment:
        return rec.deployment(self.http.json("GET", f"/deployments/{_q(name)}"))

    def list(self, include_stopped: bool = True) -> builtins.list[Deployment]:
        items = [rec.deployment(d) for d in self.http.json("GET", "/deployments")["deployments"]]
        return items if include_stopped else [d for d in items if d.status != "stopped"]

    def update(self, name: str, user: str = "", *,
               traffic: Sequence[Mapping[str, Any]] | None = None,
               replicas: int | None = None, shadow: int | str | None = None,
               clear_shadow: bool = False, **options: Any) -> Deployment:
        body: dict[str, Any] = {"traffic": list(traffic) if traffic is not None else None,
                                "replicas": replicas, **options}
        if clear_shadow:
            body["shadow"] = None
        elif shadow is not None:
            body["shadow"] = shadow
        return rec.deployment(self.http.json("PATCH", f"/deployments/{_q(name)}", json=body))

    def rollback(self, name: str, user: str = "") -> Deployment:
        return rec.deployment(self.http.json("PATCH", f"/deployments/{_q(name)}",
                                             json={"rollback": True}))

    def stop(self, name: str, user: str = "") -> Deployment:
        return rec.deployment(self.http.json("DELETE", f"/deployments/{_q(name)}"))

    def events(self, name: str, limit: int = 100) -> builtins.list[DeploymentEvent]:
        body = self.http.json("GET", f"/deployments/{_q(name)}/events",
                              params={"limit": limit})
        return [rec.deployment_event(e) for e in body["events"]]

    def rotate_token(self, name: str, user: str = "") -> str:
        return str(self.http.json("POST", f"/deployments/{_q(name)}/token")["token"])

    def request_stats(self, name: str, *, window_seconds: int = 3600, buckets: int = 30,
                      user: str | None = None, end: int | None = None) -> RequestStats:
        params = {"window": window_seconds, "buckets": buckets}
        if end is not None:
            params["end"] = end
        return RequestStats.from_dict(self.http.json(
            "GET", f"/deployments/{_q(name)}/stats", params=params))

    def lease_holder(self) -> str | None:
        """The server's controller serves team-mode deployments (never this process)."""
        return f"the server at {self.http.base_url}"

    def predict(self, name: str, data: bytes, content_type: str, proba: bool,
                timeout: float) -> requests.Response:
        """POST a prediction body through the server; the raw answer (any status).
        Predictions are safe to repeat, so a dropped connection is retried once."""
        url = f"{self.http.api}/deployments/{_q(name)}/predict"
        for attempt in (1, 2):
            try:
                return self.http.session.post(
                    url, data=data, params={"proba": "true"} if proba else None,
                    headers={"Content-Type": content_type}, timeout=(10.0, timeout))
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == 2:
                    raise ConfigurationError(
                        f"cannot reach the mlops_jlab server at {self.http.base_url}: {exc}",
                        url=self.http.base_url) from None
                time.sleep(0.05)
        raise AssertionError("unreachable")


# ---------------------------------------------------------------- monitoring
class HttpMonitoring:
    """Drift, feedback and performance over REST."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def drift(self, deployment: str, *, window: str | None = None, start: int | None = None,
              end: int | None = None, rows: int | None = None,
              tests: Mapping[str, Any] | None = None, drift_share: float = 0.5,
              store: bool = True, user: str | None = None) -> DriftReport:
        """GET computes; POST (``store``) also records it, as the server's user."""
        params: dict[str, Any] = {"drift_share": drift_share}
        for key, value in (("window", window), ("start", start), ("end", end),
                           ("rows", rows)):
            if value is not None:
                params[key] = value
        if tests:
            params["tests"] = _dumps(dict(tests)).decode()
        return rec.drift_report(self.http.json("POST" if store else "GET",
                                               f"/monitoring/{_q(deployment)}/drift",
                                               params=params))

    def drift_history(self, deployment: str, limit: int = 100) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"/monitoring/{_q(deployment)}/drift/history",
                                   params={"limit": limit})["history"])

    def log_feedback(self, deployment: str, request_ids: Sequence[str],
                     labels: Sequence[Any], user: str = "") -> dict[str, int]:
        return dict(self.http.json("POST", f"/deployments/{_q(deployment)}/feedback",
                                   json={"request_ids": list(request_ids),
                                         "labels": list(labels)}))

    def performance(self, deployment: str, *, window: str | None = None,
                    start: int | None = None, end: int | None = None,
                    bucket: str | None = None, task: str | None = None) -> pd.DataFrame:
        params = {k: v for k, v in (("window", window), ("start", start), ("end", end),
                                    ("bucket", bucket), ("task", task)) if v is not None}
        rows = self.http.json("GET", f"/monitoring/{_q(deployment)}/performance",
                              params=params)["performance"]
        return pd.DataFrame(rows)

    def reference(self, model: str, version: int | str) -> Any:
        raise RuleViolation(
            "in team mode a model version's training profile stays on the server: compare "
            "with a deployment's traffic (drift_report(deployment, window=...)) or pass a "
            "reference DataFrame (drift_report(reference_df, current_df))")


class HttpAlerts:
    """Alert rules and alerts over REST; actions (retraining) run on the server."""

    def __init__(self, http: HttpClient, serving: HttpServing) -> None:
        self.http = http
        self.serving = serving

    def set_rules(self, deployment: str, rules: Sequence[Mapping[str, Any]],
                  user: str = "") -> list[dict[str, Any]]:
        return list(self.http.json("PUT", f"/monitoring/{_q(deployment)}/rules",
                                   json={"rules": rules})["rules"])

    def rules(self, deployment: str) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"/monitoring/{_q(deployment)}/rules")["rules"])

    def alerts(self, deployment: str | None = None, status: str | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("deployment", deployment), ("status", status),
                                    ("limit", limit)) if v is not None}
        return list(self.http.json("GET", "/alerts", params=params)["alerts"])

    def get_alert(self, alert_id: str) -> dict[str, Any]:
        for alert in self.alerts(limit=10_000):
            if alert["id"] == alert_id:
                return alert
        raise NotFound(f"alert {alert_id!r} does not exist")

    def acknowledge(self, alert_id: str, user: str = "") -> dict[str, Any]:
        return dict(self.http.json("POST", f"/alerts/{_q(alert_id)}/acknowledge"))

    def evaluate(self, deployment: str | None = None, *, user: str = "",
                 run_actions: bool = True) -> list[dict[str, Any]]:
        names = [deployment] if deployment else \
            [d.name for d in self.serving.list() if d.status == "active"]
        changed: list[dict[str, Any]] = []
        for name in names:
            changed.extend(self.http.json("POST", f"/monitoring/{_q(name)}/evaluate")["alerts"])
        return changed

    def wait_for_actions(self, timeout: float | None = None) -> None:
        """Actions run on the server, which reports their outcome on the alert."""

    def close(self) -> None:
        """Nothing to release: the server owns the actions."""


# ---------------------------------------------------------------- backend
class HttpBackend(ServicesBackend):
    """The Backend over the REST API of a shared Jupyter server (team mode)."""

    def __init__(self, settings: Settings, client: HttpClient | None = None) -> None:
        if not settings.uri:
            raise ConfigurationError("team mode needs MLOPS_JLAB_URI (the Jupyter server URL)")
        self.settings = settings
        self.http = client or HttpClient(settings.uri, settings.token)
        facts = self.http.json("GET", "/version")
        if not isinstance(facts, dict) or facts.get("api") != API_VERSION:
            raise ConfigurationError(
                f"the server at {settings.uri} speaks mlops_jlab API "
                f"{(facts or {}).get('api')!r} (version {(facts or {}).get('version')}), this "
                f"client API {API_VERSION}: install matching versions", url=settings.uri)
        self.server_version = str(facts.get("version"))
        self.user = str(facts.get("user") or settings.user)  # who the server says acts
        if settings.user_explicit and settings.user.casefold() != self.user.casefold():
            raise PermissionDenied(
                f"in team mode you act as the user of your token ({self.user}); "
                f"MLOPS_JLAB_USER and mlops.configure(user=...) ({settings.user!r}) act only "
                "in single-user local mode")
        self.tracking = HttpTracking(self.http)
        self.registry = HttpRegistry(self.http, self.tracking,
                                     settings.home / "cache" / "artifacts")
        self.serving = HttpServing(self.http)
        self.monitoring = HttpMonitoring(self.http)
        self.alerts = HttpAlerts(self.http, self.serving)
        self.access = HttpAccess(self.http)
        self.promotions = HttpPromotions(self.http)
        self.cards = HttpCards(self.http)
        from .http_explain import HttpExplanations
        from .http_scheduling import HttpSchedules

        self.explanations = HttpExplanations(self.http)

        self.schedules = HttpSchedules(self.http)
        self.metrics = MetricBuffer(self.write_metrics)

    def artifact_bytes(self, run_id: str, path: str) -> bytes:
        return self.tracking.artifact_bytes(run_id, path)

    def close(self) -> None:
        try:
            self.metrics.close()
        finally:
            self.http.close()
