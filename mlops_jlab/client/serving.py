"""Python API of serving: ``mlops.deploy(...)`` and the deployment handle."""

from __future__ import annotations

import atexit
import http.client
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InvalidInput, MlopsError, RuleViolation
from ..serving.controller import DeploymentController
from ..serving.inputs import ARROW_STREAM, arrow_stream
from ..serving.records import Deployment, DeploymentEvent, RequestStats
from ..store import codec
from .api import backend

_REF = re.compile(r"^(?:models:/)?(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))?$")
_embedded: DeploymentController | None = None
ARROW_ROWS = 1000  # DataFrames this big go to the worker as Arrow, not JSON
Progress = Callable[[Deployment, Sequence[DeploymentEvent]], None]


def _ensure_controller() -> str:
    """Use the running controller (Jupyter server or ``mlops-jlab serve``), or start one
    in this process when none holds the lease (papermill, scripts)."""
    global _embedded
    b = backend()
    holder = b.serving.lease_holder()
    if holder is not None:
        return holder
    if _embedded is None:
        _embedded = DeploymentController(b.serving, log_dir=str(b.settings.home / "logs"))
        _embedded.start()
        atexit.register(_embedded.stop)
    return _embedded.holder


def _remote_serving() -> Any:
    """The REST serving proxy in team mode (predictions go through the server), else
    ``None`` (they go to the worker port with the deployment's token)."""
    from .http import HttpServing

    serving = backend().serving
    return serving if isinstance(serving, HttpServing) else None


def parse_model_ref(model: str, version: int | str | None) -> tuple[str, int | str]:
    """``"churn"``, ``"churn@staging"``, ``"churn/3"`` or ``"models:/churn@production"``."""
    match = _REF.match(model) if isinstance(model, str) else None
    if not match:
        raise InvalidInput(f"cannot read model reference {model!r}: use NAME, NAME@ALIAS, "
                           "NAME/VERSION or models:/NAME@ALIAS")
    ref = match.group("alias") or match.group("version") or version
    return match.group("name"), ref if ref is not None else "latest"


class DeploymentHandle:
    """A deployment: its endpoint, token, status and events; predict, update, roll back."""

    def __init__(self, name: str, token: str | None = None) -> None:
        self.name = name
        self.token = token

    def __repr__(self) -> str:
        return f"<Deployment {self.name} {self.url}>"

    @property
    def info(self) -> Deployment:
        return backend().serving.get(self.name)

    @property
    def url(self) -> str:
        return self.info.url

    def status(self) -> dict[str, Any]:
        """Desired state, status, and what the worker port answers right now (team mode:
        the replicas the server's controller observes)."""
        info = self.info
        out = info.to_dict()
        if _remote_serving() is not None:
            out["health"] = info.observed
            return out
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{info.port}/v1/health",
                                        timeout=1) as response:
                out["health"] = json.loads(response.read())
        except OSError as exc:
            out["health"] = {"status": "unreachable", "error": str(exc)}
        return out

    def events(self, limit: int = 50) -> pd.DataFrame:
        """Newest events first: time, kind, message."""
        rows = [e.to_dict() for e in backend().serving.events(self.name, limit)]
        frame = pd.DataFrame(rows, columns=["time", "kind", "message", "data"])
        frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True)
        return frame

    def wait_ready(self, timeout: float = 60.0, progress: Progress | None = None
                   ) -> DeploymentHandle:
        """Block until a worker of the current revision is ready; explain a failure.

        ``progress(deployment, events)`` is called on every poll with the deployment
        and its newest events (first), e.g. to show a live status."""
        serving = backend().serving
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            info = serving.get(self.name)
            events = serving.events(self.name, 200)
            if progress is not None:
                progress(info, events)
            for event in events:
                if event.kind == "ready" and event.data.get("revision") == info.revision:
                    return self
            time.sleep(0.02)
        crashes = [e.message for e in serving.events(self.name, 20) if e.kind == "crashed"]
        log_tail = self._log_tail()
        raise RuleViolation(
            f"deployment {self.name} is not ready after {timeout:.0f} s"
            + (f"; last crash: {crashes[0]}" if crashes else "")
            + (f"\nworker log:\n{log_tail}" if log_tail else ""))

    def _log_tail(self, lines: int = 15) -> str:
        path = Path(backend().settings.home) / "logs" / f"{self.name}-0.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def predict(self, rows: Any, proba: bool = False, timeout: float = 30.0,
                arrow: bool | None = None, explain: bool = False) -> dict[str, Any]:
        """POST rows (DataFrame, records or one dict) to the endpoint; the JSON answer.

        DataFrames of :data:`ARROW_ROWS` rows or more go as an Arrow IPC stream (no text
        to parse on either side); ``arrow=True``/``False`` decides it yourself.
        ``explain=True`` adds per-row ``explanations`` (and ``explain_ms``); it is sent as
        JSON.
        """
        if explain:
            arrow = False
        remote = _remote_serving()
        if self.token is None and remote is None:
            raise InvalidInput(f"the token of {self.name} is not known here: "
                               "use mlops.rotate_token(name) to issue a new one")
        url, content_type = "" if remote is not None else self.url, "application/json"
        if isinstance(rows, pd.DataFrame) and (arrow if arrow is not None
                                               else len(rows) >= ARROW_ROWS):
            data = arrow_stream(rows)
            url += "?proba=true" if proba else ""
            content_type = ARROW_STREAM
        else:
            body: dict[str, Any]
            if isinstance(rows, pd.DataFrame):  # the compact column-split form
                body = {"dataframe_split": {"columns": [str(c) for c in rows.columns],
                                            "data": rows.to_numpy(dtype=object).tolist()}}
            else:
                body = {"inputs": [rows] if isinstance(rows, dict) else list(rows)}
            if proba or explain:
                body["params"] = {"proba": True} if proba else {}
                if explain:
                    body["params"]["explain"] = True
            data = codec.dumps_bytes(body)
        if remote is not None:  # team mode: through the server, with Jupyter auth
            response = remote.predict(self.name, data, content_type,
                                      proba and content_type == ARROW_STREAM, timeout)
            detail = json.loads(response.content or b"{}")
            if response.status_code >= 400:
                raise InvalidInput(f"{response.status_code}: "
                                   f"{detail.get('message', response.reason)}",
                                   status=response.status_code,
                                   problems=detail.get("problems"))
            return dict(detail)
        for attempt in (1, 2):
            request = urllib.request.Request(
                url, data=data, method="POST",
                headers={"Content-Type": content_type,
                         "Authorization": f"Bearer {self.token}"})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return dict(json.loads(response.read()))
            except urllib.error.HTTPError as exc:
                detail = json.loads(exc.read() or b"{}")
                raise InvalidInput(f"{exc.code}: {detail.get('message', exc.reason)}",
                                   status=exc.code, problems=detail.get("problems")) from None
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
                # a replica that died mid-request: predictions are safe to repeat, and
                # the other replicas (or the restarted one) take the retry
                if attempt == 2:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def update(self, *, traffic: list[dict[str, int]] | None = None,
               canary: tuple[int, int] | None = None, replicas: int | None = None,
               shadow: int | None = None, clear_shadow: bool = False,
               pii: dict[str, str] | None = None, wait: bool = True) -> DeploymentHandle:
        """Change traffic (or ``canary=(version, percent)``), replicas, shadow or the
        PII columns of the prediction log (``pii={}`` clears them)."""
        b = backend()
        if canary is not None:
            current = b.serving.get(self.name).desired["traffic"][0]["version"]
            version, percent = canary
            traffic = [{"version": current, "weight": 100 - percent},
                       {"version": version, "weight": percent}]
        b.serving.update(self.name, b.user, traffic=traffic, replicas=replicas, shadow=shadow,
                         clear_shadow=clear_shadow, pii=pii)
        return self.wait_ready() if wait else self

    def rollback(self, wait: bool = True) -> DeploymentHandle:
        """Return to the previous desired state."""
        b = backend()
        b.serving.rollback(self.name, b.user)
        return self.wait_ready() if wait else self

    def stop(self) -> None:
        """Stop serving (history is kept)."""
        b = backend()
        b.serving.stop(self.name, b.user)

    def stats(self, window: int | str = 3600, buckets: int = 30) -> RequestStats:
        """Request rate, errors and latency per time bucket (see
        :func:`deployment_stats`)."""
        return deployment_stats(self.name, window=window, buckets=buckets)

    def curl(self) -> str:
        """A ready-to-paste curl command with the input example."""
        token = self.token or "<token>"
        return (f"curl -s {self.url} -H 'Authorization: Bearer {token}' "
                "-H 'Content-Type: application/json' -d '{\"inputs\": [{...}]}'")


def deploy(model: str, version: int | str | None = None, *, name: str | None = None,
           env: str = "staging", replicas: int = 1, canary: tuple[int | str, int] | None = None,
           shadow: int | str | None = None, pii: dict[str, str] | None = None,
           wait: bool = True, timeout: float = 60.0) -> DeploymentHandle:
    """Serve a registered model version as a REST endpoint.

    ``model`` is ``NAME``, ``NAME@ALIAS``, ``NAME/VERSION`` or ``models:/NAME@ALIAS``.
    Production (``env="production"``) needs the version to carry ``@production``.
    ``pii={"email": "hash", "ssn": "mask", "name": "drop"}``: what the prediction log
    stores of those input columns (a keyed hash, ``***``, or nothing); the model still
    gets the real values.
    Waits until a worker answers (``wait=False`` returns at once).
    """
    b = backend()
    model_name, ref = parse_model_ref(model, version)
    deployment, token = b.serving.deploy(model_name, ref, b.user, name=name, environment=env,
                                         replicas=replicas, canary=canary, shadow=shadow,
                                         pii=pii)
    _ensure_controller()
    handle = DeploymentHandle(deployment.name, token)
    return handle.wait_ready(timeout) if wait else handle


def get_deployment(name: str, token: str | None = None) -> DeploymentHandle:
    """A handle on an existing deployment."""
    backend().serving.get(name)
    return DeploymentHandle(name, token)


def deployment_stats(name: str | DeploymentHandle, window: int | str = 3600,
                     buckets: int = 30) -> RequestStats:
    """Live traffic of a deployment: requests, errors, rate and p50/p95 latency per time
    bucket over the last ``window`` (seconds, or a duration such as ``"15m"``, ``"1h"``,
    ``"7d"``: 60 s to 7 days) cut into ``buckets`` (1-240) equal buckets ending now.

    Shadow copies are left out; a request the worker did not answer with 200 (refused
    inputs, a failing model) is an error. ``.to_dict()`` gives the totals and buckets,
    ``.to_frame()`` the buckets as a DataFrame.
    """
    if isinstance(name, DeploymentHandle):
        name = name.name
    if isinstance(window, str):
        from ..monitoring.service import parse_duration

        window = parse_duration(window) // 1000
    b = backend()
    return b.serving.request_stats(name, window_seconds=window, buckets=buckets,
                                   user=b.user)


def rotate_token(name: str) -> DeploymentHandle:
    """Issue a new bearer token (the old one stops working at once)."""
    b = backend()
    token = b.serving.rotate_token(name, b.user)
    return DeploymentHandle(name, token)


def deployments() -> pd.DataFrame:
    """Every deployment: name, model, environment, status, revision, traffic, url."""
    rows = []
    for d in backend().serving.list():
        rows.append({"name": d.name, "model": d.model, "environment": d.environment,
                     "status": d.status, "revision": d.revision,
                     "traffic": ", ".join(f"v{t['version']}:{t['weight']}%"
                                          for t in d.desired.get("traffic", [])),
                     "shadow": d.desired.get("shadow"), "replicas": d.desired.get("replicas"),
                     "url": d.url})
    return pd.DataFrame(rows, columns=["name", "model", "environment", "status", "revision",
                                       "traffic", "shadow", "replicas", "url"])


__all__ = ["DeploymentHandle", "MlopsError", "deploy", "deployment_stats", "deployments",
           "get_deployment", "rotate_token"]
