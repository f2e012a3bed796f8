"""The model-server worker: one process per replica, an aiohttp app on a shared port.

``python -m mlops_jlab.serving.worker NAME --revision R --replica I`` loads the models
of revision R of deployment NAME (hash-verified, signature-checked), binds the
deployment's port with ``SO_REUSEPORT`` so replicas share it, and serves:

- ``POST /v1/predict`` with ``{"inputs": [{col: v}, ...]}``, MLflow's
  ``{"dataframe_split": {"columns": [...], "data": [[...]]}}`` or
  ``{"dataframe_records": [...]}``; ``"params": {"proba": true}`` adds probabilities,
  ``"params": {"explain": true}`` per-row explanations (see :mod:`.explainers`).
  An Arrow IPC stream (``Content-Type: application/vnd.apache.arrow.stream``, with
  ``?proba=true`` / ``?explain=true``) carries big batches without text to parse.
- ``GET /v1/health`` and ``GET /v1/metadata``.

Slow clients are bounded: the request line and headers must arrive within
``MLOPS_JLAB_HEADER_TIMEOUT`` seconds of the connection (or of the previous answer on a
kept-alive one), else the connection is closed; a body within ``MLOPS_JLAB_BODY_TIMEOUT``
seconds of its headers, else the answer is 408 and the connection is closed (30 s each by
default).

Canary and shadow are decided here, per request. Predictions are logged through a
buffer flushed by a background task, never on the request path.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import random
import signal
import socket
import time
import uuid
from typing import Any

import numpy as np
import orjson
from aiohttp import web

from ..errors import ConfigurationError, SchemaMismatch
from ..models.loaded import LoadedModel
from ..store import codec
from .explainers import WorkerExplainers
from .inputs import ARROW_STREAM, InputPlan, Inputs, silence_feature_name_warnings
from .pii import PiiPolicy

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_HEADER_TIMEOUT = 30.0
FLUSH_SECONDS = 0.5
DRAIN_SECONDS = 1.0
FLUSHER = web.AppKey("flusher", asyncio.Task)


def env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable ``name``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=codec.dumps_bytes(body), status=status,
                        content_type="application/json")


def _error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return _json({"error": code, "message": message, **extra}, status)


class Worker:
    """State of one replica: its models, traffic split, token and log buffer."""

    def __init__(self, deployment: str, revision: int, replica: int,
                 models: dict[int, LoadedModel], traffic: list[dict[str, int]],
                 shadow: int | None, token_hash: str, log_sink: Any,
                 max_body: int = DEFAULT_MAX_BODY, internal_token: str | None = None,
                 pii: PiiPolicy | None = None,
                 explain_backgrounds: dict[int, dict[str, Any] | None] | None = None,
                 body_timeout: float = DEFAULT_BODY_TIMEOUT) -> None:
        self.deployment = deployment
        self.revision = revision
        self.replica = replica
        self.models = models
        self.traffic = traffic
        self.shadow = shadow
        self.token_hash = token_hash
        self.internal_token = internal_token
        self.log_sink = log_sink
        #: PII columns hashed, masked or dropped in every logged row (the model still
        #: gets the real values)
        self.pii = pii
        self.max_body = max_body
        #: seconds a request body may take to arrive (slow bodies hold a connection)
        self.body_timeout = body_timeout
        self.plans = {v: InputPlan(m) for v, m in models.items()}
        #: per-row explainers, built at the first ``"explain": true`` request of a version
        self.explainers = WorkerExplainers(models, self.plans, explain_backgrounds or {})
        self.pending_logs: list[tuple[Any, ...]] = []
        self.served = 0
        self.draining = False
        self._versions = [t["version"] for t in traffic]
        self._weights = [t["weight"] for t in traffic]

    # ---------------------------------------------------------------- app
    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body, middlewares=[self._errors])
        app.router.add_post("/v1/predict", self.predict)
        app.router.add_get("/v1/health", self.health)
        app.router.add_get("/v1/metadata", self.metadata)
        app.on_startup.append(self._start_flusher)
        app.on_cleanup.append(self._stop_flusher)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPRequestEntityTooLarge:
            response = _error(413, "too_large", f"request body is over {self.max_body} bytes")
        except web.HTTPException as exc:
            response = _error(exc.status, "http", exc.reason)
        except Exception as exc:  # never a plain-text traceback page
            response = _error(500, "worker_error", f"{type(exc).__name__}: {exc}")
        if self.draining:
            response.force_close()  # keep-alive clients reconnect to another worker
        return response

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        token = token.strip()
        if self.internal_token and hmac.compare_digest(token, self.internal_token):
            return True  # the Jupyter server, forwarding an authenticated user's request
        digest = hashlib.sha256(token.encode()).hexdigest()
        return hmac.compare_digest(digest, self.token_hash)

    async def health(self, request: web.Request) -> web.Response:
        return _json({"status": "ok", "deployment": self.deployment,
                      "revision": self.revision, "replica": self.replica, "pid": os.getpid(),
                      "served": self.served})

    async def metadata(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, "unauthorized", "missing or wrong bearer token")
        first = self.models[self._versions[0]]
        return _json({"deployment": self.deployment, "revision": self.revision,
                      "model": first.uri, "traffic": self.traffic, "shadow": self.shadow,
                      "signature": first.manifest.get("signature"),
                      "versions": {str(v): m.manifest.get("model_class")
                                   for v, m in self.models.items()}})

    async def predict(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        if not self._authorized(request):
            return _error(401, "unauthorized", "missing or wrong bearer token")
        version = random.choices(self._versions, self._weights)[0] \
            if len(self._versions) > 1 else self._versions[0]

        def refuse(status: int, code: str, message: str, **extra: Any) -> web.Response:
            # refused requests are logged too (no inputs): the error rate is monitored
            self.pending_logs.append((uuid.uuid4().hex, version, False, None,
                                      {"error": code}, (time.perf_counter() - started) * 1000,
                                      time.time(), status))
            return _error(status, code, message, **extra)

        try:
            raw = await asyncio.wait_for(request.read(), self.body_timeout)
        except asyncio.TimeoutError:
            timed_out = refuse(408, "request_timeout", "the request body did not arrive "
                               f"within {self.body_timeout:g} s")
            timed_out.force_close()  # the rest of the body may still be on its way
            return timed_out
        arrow = request.content_type == ARROW_STREAM
        body: Any = None
        if arrow:  # binary columns: no text to parse (params in the query string)
            proba = request.query.get("proba", "").lower() in ("1", "true", "yes")
            explain = request.query.get("explain", "").lower() in ("1", "true", "yes")
        else:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                return refuse(400, "bad_json", f"body is not valid JSON: {exc}")
            params = body.get("params") if isinstance(body, dict) else None
            proba = isinstance(params, dict) and bool(params.get("proba"))
            explain = params.get("explain", False) if isinstance(params, dict) else False
            if not isinstance(explain, bool):
                return refuse(400, "bad_request", "params.explain must be true or false, "
                              f"got {explain!r}")
        model = self.models[version]
        plan = self.plans[version]
        try:
            inputs = plan.prepare_arrow(raw) if arrow else plan.prepare(body)
        except ValueError as exc:
            return refuse(400, "bad_request", str(exc))
        except SchemaMismatch as exc:
            return refuse(422, "schema_mismatch", exc.message, problems=exc.problems)
        if proba and not hasattr(model.model, "predict_proba"):
            return refuse(422, "no_proba", "this model has no predict_proba")
        try:
            predictions = np.asarray(model.model.predict(inputs.model_input))
            out: dict[str, Any] = {"predictions": predictions, "model_version": version,
                                   "request_id": uuid.uuid4().hex}
            if proba:
                out["probabilities"] = np.asarray(
                    model.model.predict_proba(inputs.model_input))
        except Exception as exc:  # the rows passed the signature, the model refused them
            return refuse(422, "model_error", f"model version {version} could not predict "
                          f"these rows: {type(exc).__name__}: {exc}")
        if explain:
            explain_started = time.perf_counter()
            try:
                out["explanations"] = self.explainers.explain(version, inputs)
            except Exception as exc:
                return refuse(422, "explain_error", f"model version {version} could not "
                              f"explain these rows: {type(exc).__name__}: {exc}")
            out["explain_ms"] = (time.perf_counter() - explain_started) * 1000
        latency = (time.perf_counter() - started) * 1000
        self.served += 1
        logged = {"predictions": predictions, "probabilities": out["probabilities"]} \
            if proba else predictions  # probabilities, when asked, feed ROC AUC monitoring
        self.pending_logs.append((out["request_id"], version, False, inputs, logged,
                                  latency, time.time(), 200))
        if self.shadow is not None:
            self._run_shadow(out["request_id"], inputs)
        return _json(out)

    def _run_shadow(self, request_id: str, inputs: Inputs) -> None:
        shadow = self.shadow or 0

        def run() -> None:
            started = time.perf_counter()
            try:
                # the shadow gets the same checked rows, shaped for it
                prepared = self.plans[shadow].prepare(
                    {"dataframe_split": {"columns": inputs.columns,
                                         "data": inputs.values.tolist()}})
                outputs: Any = np.asarray(self.models[shadow].model.predict(
                    prepared.model_input))
            except Exception as exc:  # the shadow's failure never touches the live answer
                outputs = {"error": f"{type(exc).__name__}: {exc}"}
            self.pending_logs.append((request_id, shadow, True, inputs, outputs,
                                      (time.perf_counter() - started) * 1000, time.time(),
                                      200))

        asyncio.get_running_loop().call_soon(run)

    def log_rows(self, entries: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        """Prediction-log rows of pending entries (built in the flusher's thread, off the
        request path); PII columns are hashed, masked or dropped here, before the rows go
        to the log sink."""
        return [{"deployment": self.deployment, "request_id": request_id, "version": version,
                 "shadow": 1 if shadow else 0,
                 "inputs": self._log_inputs(inputs),
                 "outputs": outputs, "latency_ms": latency, "time": int(at * 1000),
                 "status": status}
                for request_id, version, shadow, inputs, outputs, latency, at, status
                in entries]

    def _log_inputs(self, inputs: Inputs | None) -> dict[str, Any]:
        if inputs is None:
            return {}
        form = inputs.log_form()
        return self.pii.apply(form) if self.pii else form

    # ---------------------------------------------------------------- log flushing
    async def _start_flusher(self, app: web.Application) -> None:
        app[FLUSHER] = asyncio.create_task(self._flush_loop())

    async def _stop_flusher(self, app: web.Application) -> None:
        app[FLUSHER].cancel()
        await self.flush()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush()

    async def flush(self) -> None:
        """Write pending prediction logs in a worker thread (never on the request path)."""
        if not self.pending_logs:
            return
        batch, self.pending_logs = self.pending_logs, []
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: self.log_sink(self.log_rows(batch)))
        except Exception:
            self.pending_logs[:0] = batch  # keep them; retry on the next tick


def reuse_port_socket(port: int, host: str = "127.0.0.1") -> socket.socket:
    """A listening socket that other replicas can bind too (SO_REUSEPORT)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def build_worker(name: str, revision: int, replica: int) -> tuple[Worker, int]:
    """Load a deployment revision's models from the configured store."""
    from ..client.api import backend

    b = backend()
    serving = b.serving
    deployment = serving.get(name)
    desired = serving.desired_at(name, revision)
    versions = {t["version"] for t in desired["traffic"]}
    if desired.get("shadow"):
        versions.add(desired["shadow"])
    models = {v: b.registry.load_version(deployment.model, v) for v in sorted(versions)}
    max_body = int(os.environ.get("MLOPS_JLAB_MAX_BODY", DEFAULT_MAX_BODY))
    backgrounds = {v: b.explanations.latest_background(deployment.model, v)
                   for v in sorted(versions)}
    worker = Worker(name, revision, replica, models, desired["traffic"], desired.get("shadow"),
                    serving.token_hash_of(name), serving.log_predictions, max_body,
                    serving.internal_token(name), serving.pii_policy(name, desired),
                    explain_backgrounds=backgrounds,
                    body_timeout=env_seconds("MLOPS_JLAB_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT))
    return worker, deployment.port


def build_bundle_worker(bundle: str, replica: int) -> Worker:
    """A worker for an exported bundle: models from its folders (hashes verified),
    predictions logged as JSON lines to ``predictions.jsonl`` beside them."""
    import json
    from pathlib import Path

    from ..models.loader import load_folder

    root = Path(bundle)
    spec = json.loads((root / "deployment.json").read_text())
    desired = spec["desired"]
    versions = {t["version"] for t in desired["traffic"]}
    if desired.get("shadow"):
        versions.add(desired["shadow"])
    models = {v: load_folder(str(root / "models" / str(v))) for v in sorted(versions)}
    log_path = root / "predictions.jsonl"

    def log_sink(rows: list[dict[str, Any]]) -> None:
        with open(log_path, "ab") as out:
            for row in rows:
                out.write(codec.dumps_bytes(row) + b"\n")

    max_body = int(os.environ.get("MLOPS_JLAB_MAX_BODY", DEFAULT_MAX_BODY))
    pii = None
    if desired.get("pii"):  # the bundle's own hashing key (not the store's)
        key = spec.get("pii_key")
        pii = PiiPolicy(desired["pii"], bytes.fromhex(key) if key else None)
    return Worker(spec["name"], spec["revision"], replica, models, desired["traffic"],
                  desired.get("shadow"), spec["token_sha256"], log_sink, max_body, pii=pii,
                  body_timeout=env_seconds("MLOPS_JLAB_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT))


def prepare_process() -> None:
    """Process-wide settings of a worker: inputs reach models already checked (finite,
    columns in the fitted order), so scikit-learn need not check them again."""
    import sklearn

    sklearn.set_config(assume_finite=True)
    silence_feature_name_warnings()


def main(argv: list[str] | None = None) -> None:
    """Entry point of a replica process."""
    parser = argparse.ArgumentParser(prog="mlops_jlab.serving.worker")
    parser.add_argument("deployment", nargs="?")
    parser.add_argument("--revision", type=int)
    parser.add_argument("--replica", type=int, default=0)
    parser.add_argument("--bundle", help="serve an exported bundle folder instead")
    parser.add_argument("--port", type=int, help="port (bundles; default from the store)")
    parser.add_argument("--fd", type=int, help="accept on this inherited listening socket")
    parser.add_argument("--ready-file", help="write this process's pid here once serving")
    parser.add_argument("--host", default=os.environ.get("MLOPS_JLAB_SERVE_HOST", "127.0.0.1"))
    parser.add_argument("--parent-pid", type=int,
                        help="exit once this is no longer the parent process (default: the "
                             "parent at start)")
    args = parser.parse_args(argv)
    # the parent as of now, before loading models: a controller that dies while they
    # load is noticed once serving starts
    parent = args.parent_pid if args.parent_pid is not None else os.getppid()
    prepare_process()
    if args.bundle:
        worker, port = build_bundle_worker(args.bundle, args.replica), args.port or 8080
    else:
        if not args.deployment or args.revision is None:
            parser.error("DEPLOYMENT and --revision are required (or --bundle DIR)")
        worker, port = build_worker(args.deployment, args.revision, args.replica)
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)  # the controller's shared listening socket
        sock.setblocking(False)
    else:
        sock = reuse_port_socket(port, args.host)

    # aiohttp closes a connection whose next request has not fully arrived when its
    # keep-alive timer ends (the timer runs from the connection's start and from each
    # answer; bytes trickling in do not extend it): it bounds slow headers
    header_timeout = env_seconds("MLOPS_JLAB_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT)

    async def serve() -> None:
        runner = web.AppRunner(worker.app(), access_log=None,
                               keepalive_timeout=header_timeout)
        await runner.setup()
        site = web.SockSite(runner, sock)
        await site.start()
        if args.ready_file:
            with open(args.ready_file, "w") as ready:
                ready.write(str(os.getpid()))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        async def watch_parent() -> None:
            # a controller's worker never outlives it: no orphan keeps serving old state
            while not stop.is_set() and not args.bundle:
                if os.getppid() != parent:
                    stop.set()
                await asyncio.sleep(1.0)

        watcher = asyncio.create_task(watch_parent())
        await stop.wait()
        watcher.cancel()
        # drain: stop accepting (the socket stays open in the other workers), answer what
        # is in flight with Connection: close, then shut down
        worker.draining = True
        await site.stop()
        await asyncio.sleep(DRAIN_SECONDS)
        await runner.cleanup()

    run_event_loop(serve())


def run_event_loop(main: Any) -> None:
    """Run the worker's event loop: uvloop where installed (a faster loop for the same
    asyncio code), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
