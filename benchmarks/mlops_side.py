"""mlops_jlab side of the benchmark. Runs with the project's interpreter.

Usage (run.py does this): ``python mlops_side.py SCENARIO SIZES_JSON`` with
``MLOPS_JLAB_HOME=<tmp>`` and the working directory in <tmp>.
Prints one ``BENCH_RESULT {json}`` line.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads as w

import mlops_jlab as mlops


def bench_log_metric(s: dict[str, int]) -> dict:
    mlops.set_experiment(w.EXPERIMENT)
    with mlops.start_run(name="warmup") as run:
        for i in range(s["warmup"]):
            run.log_metric("loss", 1.0 / (i + 1), step=i)
    samples = []
    n = s["calls"]
    for rep in range(s["reps"]):
        run = mlops.start_run(name=f"log-metric-{rep}")
        t0 = time.perf_counter()
        for i in range(n):
            run.log_metric("loss", 1.0 / (i + 1), step=i)
        run.end()
        samples.append(time.perf_counter() - t0)
    st = w.summarize(samples)
    stored = len(run.metric_history("loss"))
    return {
        "value": n / st["median"],
        "unit": "calls/s",
        "seconds": st,
        "calls": n,
        "check": {"stored": stored, "expected": n},
    }


def bench_log_batch(s: dict[str, int]) -> dict:
    mlops.set_experiment(w.EXPERIMENT)
    keys, steps = s["keys"], s["steps"]
    with mlops.start_run(name="warmup") as run:
        for step in range(s["warmup_steps"]):
            run.log_metrics(w.batch_values(step, keys), step=step)
    samples = []
    for rep in range(s["reps"]):
        run = mlops.start_run(name=f"log-batch-{rep}")
        t0 = time.perf_counter()
        for step in range(steps):
            run.log_metrics(w.batch_values(step, keys), step=step)
        run.end()
        samples.append(time.perf_counter() - t0)
    st = w.summarize(samples)
    points = steps * keys
    stored = sum(len(run.metric_history(f"m{k}")) for k in range(keys))
    return {
        "value": points / st["median"],
        "unit": "points/s",
        "seconds": st,
        "points": points,
        "check": {"stored": stored, "expected": points},
    }


def bench_runs(s: dict[str, int]) -> dict:
    mlops.set_experiment(w.EXPERIMENT)

    def make_runs(start: int, count: int) -> None:
        for i in range(start, start + count):
            with mlops.start_run(
                name=f"run-{i}", params=w.run_params(i), tags=w.run_tags(i)
            ) as run:
                run.log_metrics(w.run_metrics(i))

    make_runs(0, s["warmup"])
    samples = []
    n = s["runs"]
    for rep in range(s["reps"]):
        t0 = time.perf_counter()
        make_runs(1000 * (rep + 1), n)
        samples.append(time.perf_counter() - t0)
    st = w.summarize(samples)
    stored = len(mlops.search_runs(experiment=w.EXPERIMENT, limit=100_000))
    return {
        "value": n / st["median"],
        "unit": "runs/s",
        "seconds": st,
        "runs": n,
        "check": {"stored": stored, "expected": s["warmup"] + s["reps"] * n},
    }


def populate(n: int) -> float:
    mlops.set_experiment(w.EXPERIMENT)
    t0 = time.perf_counter()
    for name, params, metrics, tags in w.search_population(n):
        with mlops.start_run(name=name, params=params, tags=tags) as run:
            run.log_metrics(metrics, step=0)
    return time.perf_counter() - t0


def _run_names(df) -> list[str]:
    for col in ("name", "run_name", "attributes.name", "tags.mlflow.runName"):
        if col in df.columns:
            return [str(x) for x in df[col].head(5)]
    return []


def bench_search(s: dict[str, int]) -> dict:
    populate_s = populate(s["runs"])

    def search():
        return mlops.search_runs(
            experiment=w.EXPERIMENT,
            filter=w.SEARCH_FILTER,
            order_by=w.SEARCH_ORDER_BY,
            limit=w.SEARCH_LIMIT,
        )

    samples, df = w.repeat(search, s["warmup"], s["reps"])
    st = w.summarize(samples)
    return {
        "value": st["median"],
        "unit": "s",
        "seconds": st,
        "rows": len(df),
        "top5": _run_names(df),
        "populate_seconds": populate_s,
        "runs_in_store": s["runs"],
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_rest_runs(s: dict[str, int]) -> dict:
    """GET /mlops/api/runs first page (with the total count, as the panel asks) against a
    real jupyter server over n runs."""
    populate_s = populate(s["runs"])
    home = os.environ["MLOPS_JLAB_HOME"]
    root = os.path.join(home, "server-root")
    os.makedirs(root, exist_ok=True)
    config = os.path.join(home, "bench_server_config.json")
    with open(config, "w") as f:
        json.dump({"ServerApp": {"jpserver_extensions": {"mlops_jlab": True}}}, f)
    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=os.path.join(home, "runtime"))
    log = open(os.path.join(home, "server.log"), "wb")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--config={config}",
            "--allow-root",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    headers = {"Authorization": f"token {token}"}
    try:
        conn = None
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                log.flush()
                with open(log.name, errors="replace") as f:
                    tail = "".join(f.readlines()[-15:])
                raise RuntimeError(f"jupyter server exited with {proc.returncode}:\n{tail}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/api/status", headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("jupyter server did not answer /api/status within 120 s")
            time.sleep(0.2)
        startup_s = time.monotonic() - (deadline - 120)

        # What the panel's runs table asks for its first page (plus the total count).
        query = urllib.parse.urlencode({"experiment": w.EXPERIMENT, "limit": 100,
                                        "count": "true"})
        path = f"/mlops/api/runs?{query}"

        def get() -> bytes:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {path} -> {resp.status}: {body[:300]!r}")
            return body

        for _ in range(s["warmup"]):
            get()
        samples = []
        body = b""
        for _ in range(s["requests"]):
            dt, body = w.timed(get)
            samples.append(dt)
        page = json.loads(body)
        st = w.summarize(samples)
        return {
            "value": st["median"] * 1000,
            "unit": "ms",
            "seconds": st,
            "p95_ms": st["p95"] * 1000,
            "rows": len(page.get("runs", [])),
            "has_next_page": bool(page.get("next_page_token")),
            "total": page.get("total"),
            "bytes": len(body),
            "runs_in_store": s["runs"],
            "populate_seconds": populate_s,
            "server_startup_seconds": startup_s,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def bench_magic(s: dict[str, int]) -> dict:
    """Overhead that ``%%mlops_train`` adds to a cell that trains nothing."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    res = shell.run_cell("%load_ext mlops_jlab\n")
    res.raise_error()
    magic_cell = f"%%mlops_train --experiment {w.EXPERIMENT}\nx = 1\n"
    plain_cell = "x = 1\n"

    def run(cell: str) -> float:
        dt, res = w.timed(lambda: shell.run_cell(cell))
        res.raise_error()
        return dt

    for _ in range(s["warmup"]):
        run(plain_cell)
        run(magic_cell)
    plain, magic = [], []
    for _ in range(s["reps"]):  # interleave so drift hits both alike
        plain.append(run(plain_cell))
        magic.append(run(magic_cell))
    sp, sm = w.summarize(plain), w.summarize(magic)
    overhead = sm["median"] - sp["median"]
    return {
        "value": overhead * 1000,
        "unit": "ms",
        "plain_seconds": sp,
        "magic_seconds": sm,
        "magic_p95_ms": sm["p95"] * 1000,
        "check": {
            "stored": len(mlops.search_runs(experiment=w.EXPERIMENT, limit=100_000)),
            "expected": s["warmup"] + s["reps"],
        },
    }


def _log_iris_model():
    """Untimed setup: one run that logged the iris LogisticRegression.
    Returns (run, model, X5)."""
    mlops.set_experiment(w.EXPERIMENT)
    model, _X, X5 = w.iris_model()
    with mlops.start_run(name="m") as run:
        run.log_model(model, name="model", input_example=X5)
    return run, model, X5


def bench_register(s: dict[str, int]) -> dict:
    run, _model, _X5 = _log_iris_model()

    def register(count: int) -> None:
        for _ in range(count):
            v = mlops.register_model(run, w.MODEL_NAME)
            mlops.set_alias(w.MODEL_NAME, w.REGISTER_ALIAS, v.version)

    register(s["warmup"])  # also creates the registered model
    samples = []
    n = s["versions"]
    for _ in range(s["reps"]):
        dt, _ = w.timed(lambda: register(n))
        samples.append(dt)
    st = w.summarize(samples)
    expected = s["warmup"] + s["reps"] * n
    versions = mlops.list_model_versions(w.MODEL_NAME, include_archived=True)
    alias = mlops.get_model_version(w.MODEL_NAME, w.REGISTER_ALIAS)
    aliases = mlops.get_registered_model(w.MODEL_NAME).aliases
    return {
        "value": n / st["median"],
        "unit": "versions/s",
        "seconds": st,
        "versions": n,
        "check": {
            "stored": {
                "versions": len(versions),
                "numbers": sorted(v.version for v in versions),
                "from_run": sum(v.run_id == run.id and v.status == "ready" for v in versions),
                "alias_version": int(alias.version),
                "aliases": dict(aliases),
            },
            "expected": {
                "versions": expected,
                "numbers": list(range(1, expected + 1)),
                "from_run": expected,
                "alias_version": expected,
                "aliases": {w.REGISTER_ALIAS: expected},
            },
        },
    }


def bench_load_alias(s: dict[str, int]) -> dict:
    run, model, X5 = _log_iris_model()
    v = mlops.register_model(run, w.MODEL_NAME)
    mlops.set_alias(w.MODEL_NAME, w.LOAD_ALIAS, v.version)
    uri = f"models:/{w.MODEL_NAME}@{w.LOAD_ALIAS}"

    samples, loads, predicts, pred = w.time_load_predict(
        lambda: mlops.load_model(uri), X5, s["warmup"], s["reps"])
    st = w.summarize(samples)
    alias = mlops.get_model_version(w.MODEL_NAME, w.LOAD_ALIAS)
    return {
        "value": st["median"],
        "unit": "s",
        "seconds": st,
        "load_seconds": w.summarize(loads),
        "predict_seconds": w.summarize(predicts),
        "loader": "mlops_jlab.load_model",
        "predictions": w.as_labels(pred),
        "check": {
            "stored": {"predictions": w.as_labels(pred), "alias_version": int(alias.version)},
            "expected": {
                "predictions": w.as_labels(model.predict(X5)),
                "alias_version": int(v.version),
            },
        },
    }


# ---------------------------------------------------------------- serving


def _register_serve_model(kind: str):
    """Untimed setup: log the breast_cancer model and register it as version 1 of
    ``bench-serve``; returns (run, model, X)."""
    mlops.set_experiment(w.EXPERIMENT)
    model, X = w.serve_model(kind)
    with mlops.start_run(name="m") as run:
        run.log_model(model, name="model", input_example=X.head(5))
    mlops.register_model(run, w.SERVE_MODEL)
    return run, model, X


def _ready_seconds(dep) -> list[float]:
    """Cold start of each replica of the current revision (its ``ready`` events)."""
    from mlops_jlab.client.api import backend

    serving = backend().serving
    revision = serving.get(dep.name).revision
    return [e.data["seconds"] for e in serving.events(dep.name, 500)
            if e.kind == "ready" and e.data.get("revision") == revision]


def _wait_replicas(dep, count: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while len(_ready_seconds(dep)) < count:
        if time.monotonic() > end:
            raise RuntimeError(f"{dep.name}: {count} replicas not ready after {timeout} s")
        time.sleep(0.05)


def _replica_pids(dep) -> dict[int, int]:
    """replica index -> pid of the current revision's newest worker (from events)."""
    from mlops_jlab.client.api import backend

    serving = backend().serving
    revision = serving.get(dep.name).revision
    pids: dict[int, int] = {}
    for e in serving.events(dep.name, 500):  # newest first
        if e.kind in ("started", "restarted") and e.data.get("revision") == revision:
            pids.setdefault(e.data["replica"], e.data["pid"])
    return pids


def _bench_serving(scenario: str, s: dict[str, int]) -> dict:
    _run, model, X = _register_serve_model(w.SERVE_KIND[scenario])
    replicas = 2 if scenario == "serve_lr_2" else 1
    t0 = time.perf_counter()
    dep = mlops.deploy(w.SERVE_MODEL, 1, name="bench-lr", replicas=replicas)
    _wait_replicas(dep, replicas)
    startup = time.perf_counter() - t0
    try:
        # many rows: the compact column-split form (what MLflow's side sends too);
        # one row: our documented records form
        split = scenario == "serve_batch"
        out = w.measure_serving(scenario, s, dep.url, dep.token,
                                w.body_mlflow if split else w.body_ours, model, X)
        if split:  # the same rows as an Arrow IPC stream: no text to parse
            import loadgen

            rows = w.serve_rows(X, s["rows"])
            samples, answer = loadgen.sequential(
                dep.url, w.body_arrow(rows), dep.token, s["warmup"], s["requests"],
                content_type="application/vnd.apache.arrow.stream")
            out["arrow"] = {"latency": loadgen.latency_summary(samples),
                            "predictions_ok": w.answer_labels(answer) == [
                                int(x) for x in model.predict(rows)]}
    finally:
        dep.stop()
    out.update(replicas=replicas, startup_seconds=startup,
               body_format="dataframe_split" if split else "inputs (records)")
    return out


def bench_cold_start(s: dict[str, int]) -> dict:
    """``mlops.deploy`` called → returned (a replica reported ready), then first 200."""
    _run, _model, X = _register_serve_model("lr")
    body = w.body_ours(w.serve_rows(X, 1))
    import loadgen

    samples, first_predict, replica, first_call = [], [], [], None
    for i in range(s["warmup"] + s["reps"]):
        t0 = time.perf_counter()
        dep = mlops.deploy(w.SERVE_MODEL, 1, name=f"bench-cold-{i}", replicas=1)
        ready = time.perf_counter() - t0
        status, _ = loadgen.post_once(dep.url, body, dep.token)
        predict = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError(f"first predict -> {status}")
        if first_call is None:
            first_call = ready  # includes starting the in-process controller
        if i >= s["warmup"]:
            samples.append(ready)
            first_predict.append(predict)
            replica.extend(_ready_seconds(dep))
        dep.stop()
        time.sleep(1.5)  # let the stopped worker drain (1 s) before the next start
    st = w.summarize(samples)
    return {"value": st["median"], "unit": "s", "seconds": st,
            "to_first_predict": w.summarize(first_predict),
            "replica_ready_seconds": replica, "first_deploy_in_process_seconds": first_call,
            "what": "mlops.deploy() -> returned ready (controller already running after the "
                    "warm-up deploy)", "loadavg": w.loadavg()}


def _failure_result(stats: dict, extra: dict) -> dict:
    return {"value": stats["ok"], "unit": "ok requests", "failed": stats["failed"],
            "load": stats, "loadavg": w.loadavg(), **extra}


def bench_rolling_update(s: dict) -> dict:
    """Steady keep-alive load while the deployment goes 1 -> 2 replicas, then to
    version 2, then back to 1 replica (three rolling revisions)."""
    import loadgen

    run, _model, X = _register_serve_model("lr")
    mlops.register_model(run, w.SERVE_MODEL)  # version 2, same model
    dep = mlops.deploy(w.SERVE_MODEL, 1, name="bench-lr", replicas=1)
    body = w.body_ours(w.serve_rows(X, 1))
    load = loadgen.SteadyLoad(dep.url, body, dep.token, s["conns"], versions=[1, 2])
    steps = []
    try:
        time.sleep(s["settle"])
        for label, kwargs in (("replicas 1 -> 2", {"replicas": 2}),
                              ("traffic v1 -> v2", {"traffic": [{"version": 2, "weight": 100}]}),
                              ("replicas 2 -> 1", {"replicas": 1})):
            t0 = time.perf_counter()
            dep.update(**kwargs)
            steps.append({"step": label, "update_seconds": time.perf_counter() - t0,
                          "revision": dep.info.revision})
            time.sleep(s["settle"])
        time.sleep(1.5)  # the last retired worker drains for 1 s
    finally:
        stats = load.finish()
        dep.stop()
    return _failure_result(stats, {"steps": steps})


def bench_crash(s: dict) -> dict:
    """Steady keep-alive load on 2 replicas; ``kill -9`` one; keep loading while the
    other serves and the controller restarts the killed one."""
    import loadgen

    _run, _model, X = _register_serve_model("lr")
    dep = mlops.deploy(w.SERVE_MODEL, 1, name="bench-lr", replicas=2)
    _wait_replicas(dep, 2)
    body = w.body_ours(w.serve_rows(X, 1))
    # retrying once on a connection error, as mlops_jlab's clients do; the result also
    # says how many requests met one (what a client that never retries would lose)
    load = loadgen.SteadyLoad(dep.url, body, dep.token, s["conns"], retry=True)
    try:
        time.sleep(s["settle"])
        pids = _replica_pids(dep)
        victim = pids[0]
        os.kill(victim, 9)
        killed_at = time.time()
        time.sleep(s["after_kill"])
    finally:
        stats = load.finish()
    restarted = _replica_pids(dep).get(0) != victim
    dep.stop()
    return _failure_result(stats, {"killed_pid": victim, "replica_restarted": restarted,
                                   "killed_at": killed_at})


SCENARIOS = {
    "serve_lr": lambda s: _bench_serving("serve_lr", s),
    "serve_lr_2": lambda s: _bench_serving("serve_lr_2", s),
    "serve_rf": lambda s: _bench_serving("serve_rf", s),
    "serve_batch": lambda s: _bench_serving("serve_batch", s),
    "cold_start": bench_cold_start,
    "rolling_update": bench_rolling_update,
    "crash": bench_crash,
    "log_metric": bench_log_metric,
    "log_batch": bench_log_batch,
    "runs": bench_runs,
    "search": bench_search,
    "rest_runs": bench_rest_runs,
    "magic": bench_magic,
    "register": bench_register,
    "load_alias": bench_load_alias,
}


def main() -> None:
    scenario, sizes = w.parse_args(sys.argv)
    if scenario not in SCENARIOS:
        raise SystemExit(f"mlops_jlab side has no scenario {scenario!r}")
    result = SCENARIOS[scenario](sizes)
    result["version"] = getattr(mlops, "__version__", "dev")
    w.emit(result)


if __name__ == "__main__":
    main()
