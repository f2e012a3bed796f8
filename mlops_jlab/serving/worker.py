"""The model-server worker: one process per replica, an aiohttp app on a shared port.

``python -m mlops_jlab.serving.worker NAME --revision R --replica I`` loads the models
of revision R of deployment NAME (hash-verified, signature-checked), binds the
deployment's port with ``SO_REUSEPORT`` so replicas share it, and serves:

- ``POST /v1/predict`` with ``{"inputs": [{col: v}, ...]}``, MLflow's
  ``{"dataframe_split": {"columns": [...], "data": [[...]]}}`` or
  ``{"dataframe_records": [...]}``; ``"params": {"proba": true}`` adds probabilities.
- ``GET /v1/health`` and ``GET /v1/metadata``.

Canary and shadow are decided here, per request. Predictions are logged through a
buffer flushed by a background task, never on the request path.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import math
import os
import random
import signal
import socket
import time
import uuid
from typing import Any

import numpy as np
import orjson
import pandas as pd
from aiohttp import web

from ..errors import SchemaMismatch
from ..models.loaded import LoadedModel
from ..models.signature import enforce_signature

DEFAULT_MAX_BODY = 10 * 1024 * 1024
FLUSH_SECONDS = 0.5
DRAIN_SECONDS = 1.0


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
                        status=status, content_type="application/json")


def _error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return _json({"error": code, "message": message, **extra}, status)


def parse_inputs(body: Any) -> pd.DataFrame:
    """The request's rows as a DataFrame; ValueError names what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    if "inputs" in body or "dataframe_records" in body:
        rows = body.get("inputs", body.get("dataframe_records"))
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise ValueError("'inputs' must be a non-empty list of objects {column: value}")
        return pd.DataFrame.from_records(rows)
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("columns"), list) or \
                not isinstance(split.get("data"), list) or not split["data"]:
            raise ValueError("'dataframe_split' needs 'columns' (list) and 'data' "
                             "(non-empty list of rows)")
        if any(not isinstance(r, list) or len(r) != len(split["columns"]) for r in split["data"]):
            raise ValueError("every row of 'dataframe_split.data' must have one value per "
                             "column")
        return pd.DataFrame(split["data"], columns=split["columns"])
    raise ValueError("expected 'inputs', 'dataframe_split' or 'dataframe_records'")


def non_finite_problems(frame: pd.DataFrame) -> list[str]:
    """Numeric columns holding NaN or ±inf (not allowed as model inputs)."""
    problems = []
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            bad = int((~np.isfinite(series.to_numpy(dtype=float))).sum())
            if bad:
                problems.append(f"column {col!r} has {bad} non-finite value(s)")
        elif series.isna().any():
            problems.append(f"column {col!r} has {int(series.isna().sum())} missing value(s)")
    return problems


class Worker:
    """State of one replica: its models, traffic split, token and log buffer."""

    def __init__(self, deployment: str, revision: int, replica: int,
                 models: dict[int, LoadedModel], traffic: list[dict[str, int]],
                 shadow: int | None, token_hash: str, log_sink: Any,
                 max_body: int = DEFAULT_MAX_BODY, internal_token: str | None = None) -> None:
        self.deployment = deployment
        self.revision = revision
        self.replica = replica
        self.models = models
        self.traffic = traffic
        self.shadow = shadow
        self.token_hash = token_hash
        self.internal_token = internal_token
        self.log_sink = log_sink
        self.max_body = max_body
        self.pending_logs: list[dict[str, Any]] = []
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
        raw = await request.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return _error(400, "bad_json", f"body is not valid JSON: {exc}")
        try:
            frame = parse_inputs(body)
        except ValueError as exc:
            return _error(400, "bad_request", str(exc))
        params = body.get("params") or {}
        version = random.choices(self._versions, self._weights)[0] \
            if len(self._versions) > 1 else self._versions[0]
        model = self.models[version]
        try:
            inputs = enforce_signature(model.signature, frame) if model.signature else frame
        except SchemaMismatch as exc:
            return _error(422, "schema_mismatch", exc.message, problems=exc.problems)
        problems = non_finite_problems(inputs)
        if problems:
            return _error(422, "schema_mismatch", "input has values the model cannot take: "
                          + "; ".join(problems), problems=problems)
        prepared = inputs.to_numpy() if model.signature and \
            model.signature.input_kind == "ndarray" else inputs
        predictions = np.asarray(model.model.predict(prepared))
        out: dict[str, Any] = {"predictions": predictions.tolist(), "model_version": version,
                               "request_id": uuid.uuid4().hex}
        if params.get("proba"):
            if not hasattr(model.model, "predict_proba"):
                return _error(422, "no_proba", "this model has no predict_proba")
            out["probabilities"] = np.asarray(model.model.predict_proba(prepared)).tolist()
        latency = (time.perf_counter() - started) * 1000
        self.served += 1
        self._log(out["request_id"], version, False, frame, out["predictions"], latency)
        if self.shadow is not None:
            self._run_shadow(out["request_id"], frame)
        return _json(out)

    def _run_shadow(self, request_id: str, frame: pd.DataFrame) -> None:
        model = self.models[self.shadow]  # type: ignore[index]

        def shadow() -> None:
            started = time.perf_counter()
            try:
                inputs = enforce_signature(model.signature, frame) if model.signature else frame
                outputs: Any = np.asarray(model.model.predict(inputs)).tolist()
            except Exception as exc:  # the shadow's failure never touches the live answer
                outputs = {"error": f"{type(exc).__name__}: {exc}"}
            self._log(request_id, self.shadow or 0, True, frame, outputs,
                      (time.perf_counter() - started) * 1000)

        asyncio.get_running_loop().call_soon(shadow)

    def _log(self, request_id: str, version: int, shadow: bool, frame: pd.DataFrame,
             outputs: Any, latency_ms: float) -> None:
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        self.pending_logs.append({
            "deployment": self.deployment, "request_id": request_id, "version": version,
            "shadow": 1 if shadow else 0, "inputs": _finite(records), "outputs": outputs,
            "latency_ms": latency_ms, "time": int(time.time() * 1000)})

    # ---------------------------------------------------------------- log flushing
    async def _start_flusher(self, app: web.Application) -> None:
        app["flusher"] = asyncio.create_task(self._flush_loop())

    async def _stop_flusher(self, app: web.Application) -> None:
        app["flusher"].cancel()
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
            await asyncio.get_running_loop().run_in_executor(None, self.log_sink, batch)
        except Exception:
            self.pending_logs[:0] = batch  # keep them; retry on the next tick


def _finite(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in r.items()} for r in records]


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
    worker = Worker(name, revision, replica, models, desired["traffic"], desired.get("shadow"),
                    serving.token_hash_of(name), serving.log_predictions, max_body,
                    serving.internal_token(name))
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
                out.write(orjson.dumps(row) + b"\n")

    max_body = int(os.environ.get("MLOPS_JLAB_MAX_BODY", DEFAULT_MAX_BODY))
    return Worker(spec["name"], spec["revision"], replica, models, desired["traffic"],
                  desired.get("shadow"), spec["token_sha256"], log_sink, max_body)


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
    args = parser.parse_args(argv)
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

    async def serve() -> None:
        runner = web.AppRunner(worker.app(), access_log=None)
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
        parent = os.getppid()

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

    asyncio.run(serve())


if __name__ == "__main__":
    main()
