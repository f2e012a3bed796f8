"""MLflow side of the benchmark. Runs inside ``benchmarks/.venv-mlflow``.

Usage (run.py does this): ``python mlflow_side.py SCENARIO SIZES_JSON`` with
``MLFLOW_TRACKING_URI=sqlite:///<tmp>/mlflow.db`` and the working directory in <tmp>.
Prints one ``BENCH_RESULT {json}`` line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mlflow
import workloads as w
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient


def _experiment_id() -> str:
    exp = mlflow.set_experiment(w.EXPERIMENT)
    return exp.experiment_id


def bench_log_metric(s: dict[str, int]) -> dict:
    _experiment_id()
    # warm-up: one run with a few calls (creates tables, caches, connections)
    with mlflow.start_run(run_name="warmup"):
        for i in range(s["warmup"]):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    samples = []
    n = s["calls"]
    for rep in range(s["reps"]):
        mlflow.start_run(run_name=f"log-metric-{rep}")
        t0 = time.perf_counter()
        for i in range(n):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        run_id = mlflow.last_active_run().info.run_id
        mlflow.end_run()
        samples.append(time.perf_counter() - t0)
    st = w.summarize(samples)
    stored = len(MlflowClient().get_metric_history(run_id, "loss"))
    return {
        "value": n / st["median"],
        "unit": "calls/s",
        "seconds": st,
        "calls": n,
        "check": {"stored": stored, "expected": n},
    }


def bench_log_batch(s: dict[str, int]) -> dict:
    _experiment_id()
    client = MlflowClient()
    keys, steps, batch = s["keys"], s["steps"], s["batch"]

    def log_points(run_id: str, nsteps: int) -> None:
        pending: list[Metric] = []
        for step in range(nsteps):
            ts = int(time.time() * 1000)
            for key, value in w.batch_values(step, keys).items():
                pending.append(Metric(key, value, ts, step))
            if len(pending) >= batch:
                client.log_batch(run_id, metrics=pending)
                pending = []
        if pending:
            client.log_batch(run_id, metrics=pending)

    with mlflow.start_run(run_name="warmup") as run:
        log_points(run.info.run_id, s["warmup_steps"])
    samples = []
    for rep in range(s["reps"]):
        run = mlflow.start_run(run_name=f"log-batch-{rep}")
        t0 = time.perf_counter()
        log_points(run.info.run_id, steps)
        mlflow.end_run()
        samples.append(time.perf_counter() - t0)
    st = w.summarize(samples)
    points = steps * keys
    stored = sum(len(client.get_metric_history(run.info.run_id, f"m{k}")) for k in range(keys))
    return {
        "value": points / st["median"],
        "unit": "points/s",
        "seconds": st,
        "points": points,
        "check": {"stored": stored, "expected": points},
    }


def bench_runs(s: dict[str, int]) -> dict:
    _experiment_id()

    def make_runs(start: int, count: int) -> None:
        for i in range(start, start + count):
            with mlflow.start_run(run_name=f"run-{i}", tags=w.run_tags(i)):
                mlflow.log_params(w.run_params(i))
                mlflow.log_metrics(w.run_metrics(i))

    make_runs(0, s["warmup"])
    samples = []
    n = s["runs"]
    for rep in range(s["reps"]):
        t0 = time.perf_counter()
        make_runs(1000 * (rep + 1), n)
        samples.append(time.perf_counter() - t0)
    st = w.summarize(samples)
    stored = len(MlflowClient().search_runs([_experiment_id()], max_results=50_000))
    return {
        "value": n / st["median"],
        "unit": "runs/s",
        "seconds": st,
        "runs": n,
        "check": {"stored": stored, "expected": s["warmup"] + s["reps"] * n},
    }


def populate_search(n: int) -> float:
    exp_id = _experiment_id()
    client = MlflowClient()
    t0 = time.perf_counter()
    for name, params, metrics, tags in w.search_population(n):
        run = client.create_run(exp_id, run_name=name, tags=tags)
        ts = int(time.time() * 1000)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(run.info.run_id)
    return time.perf_counter() - t0


def bench_search(s: dict[str, int]) -> dict:
    populate_s = populate_search(s["runs"])

    def search():
        return mlflow.search_runs(
            experiment_names=[w.EXPERIMENT],
            filter_string=w.SEARCH_FILTER,
            order_by=w.SEARCH_ORDER_BY,
            max_results=w.SEARCH_LIMIT,
        )

    samples, df = w.repeat(search, s["warmup"], s["reps"])
    st = w.summarize(samples)
    top = [str(x) for x in df["tags.mlflow.runName"].head(5)] if len(df) else []
    return {
        "value": st["median"],
        "unit": "s",
        "seconds": st,
        "rows": len(df),
        "top5": top,
        "populate_seconds": populate_s,
        "runs_in_store": s["runs"],
    }


def _log_iris_model():
    """Untimed setup: one run that logged the iris LogisticRegression.
    Returns (run_id, ModelInfo, model, X5)."""
    import mlflow.sklearn

    _experiment_id()
    model, _X, X5 = w.iris_model()
    with mlflow.start_run(run_name="m") as run:
        info = mlflow.sklearn.log_model(model, name="model", input_example=X5)
    return run.info.run_id, info, model, X5


def _register_versions(uri: str, name: str, s: dict[str, int]) -> dict:
    """warm-up, then reps x (N x register + set alias); seconds per rep."""
    client = MlflowClient()

    def register(count: int) -> None:
        for _ in range(count):
            v = mlflow.register_model(uri, name)
            client.set_registered_model_alias(name, w.REGISTER_ALIAS, v.version)

    register(s["warmup"])  # also creates the registered model
    samples = []
    for _ in range(s["reps"]):
        dt, _ = w.timed(lambda: register(s["versions"]))
        samples.append(dt)
    return w.summarize(samples)


def _registry_check(name: str, expected: int) -> dict:
    client = MlflowClient()
    versions = client.search_model_versions(f"name='{name}'", max_results=10_000)
    alias = client.get_model_version_by_alias(name, w.REGISTER_ALIAS)
    return {
        "stored": {"versions": len(versions), "alias_version": int(alias.version)},
        "expected": {"versions": expected, "alias_version": expected},
    }


def bench_register(s: dict[str, int]) -> dict:
    # runs:/<run id>/model, as the issue measured it; in MLflow 3 that URI is resolved
    # to the run's logged model (models:/m-...) after an artifact look-up, with a warning
    run_id, info, _model, _X5 = _log_iris_model()
    n = s["versions"]
    st = _register_versions(f"runs:/{run_id}/model", w.MODEL_NAME, s)
    expected = s["warmup"] + s["reps"] * n
    check = _registry_check(w.MODEL_NAME, expected)
    # MLflow 3's own path: register the logged model's URI directly (faster); reported
    # beside the main figure so the target can be judged against it too
    st_alt = _register_versions(info.model_uri, w.MODEL_NAME + "-alt", s)
    return {
        "value": n / st["median"],
        "unit": "versions/s",
        "seconds": st,
        "versions": n,
        "source_uri": "runs:/<run_id>/model",
        "alt_value": n / st_alt["median"],
        "alt_seconds": st_alt,
        "alt_source_uri": "model_info.model_uri (models:/m-...)",
        "check": check,
    }


def bench_load_alias(s: dict[str, int]) -> dict:
    import mlflow.pyfunc

    _run_id, info, model, X5 = _log_iris_model()
    client = MlflowClient()
    v = mlflow.register_model(info.model_uri, w.MODEL_NAME)
    client.set_registered_model_alias(w.MODEL_NAME, w.LOAD_ALIAS, v.version)
    uri = f"models:/{w.MODEL_NAME}@{w.LOAD_ALIAS}"

    samples, loads, predicts, pred = w.time_load_predict(
        lambda: mlflow.pyfunc.load_model(uri), X5, s["warmup"], s["reps"])
    st = w.summarize(samples)
    alias = client.get_model_version_by_alias(w.MODEL_NAME, w.LOAD_ALIAS)
    expected_pred = w.as_labels(model.predict(X5))
    return {
        "value": st["median"],
        "unit": "s",
        "seconds": st,
        "load_seconds": w.summarize(loads),
        "predict_seconds": w.summarize(predicts),
        "loader": "mlflow.pyfunc.load_model",
        "predictions": w.as_labels(pred),
        "check": {
            "stored": {"predictions": w.as_labels(pred), "alias_version": int(alias.version)},
            "expected": {"predictions": expected_pred, "alias_version": int(v.version)},
        },
    }


# ---------------------------------------------------------------- serving


def _register_serve_model(kind: str):
    """Untimed setup: log the breast_cancer model and register it as version 1 of
    ``bench-serve``; returns (model, X)."""
    import mlflow.sklearn

    _experiment_id()
    model, X = w.serve_model(kind)
    # MLflow 3.17 saves with skops and refuses tree models unless their node storage
    # type is trusted explicitly (ours trusts it for models it stored itself)
    trusted = {"skops_trusted_types": ["sklearn.tree._tree.Tree"]} if kind == "rf" else {}
    with mlflow.start_run(run_name="m"):
        info = mlflow.sklearn.log_model(model, name="model", input_example=X.head(5),
                                        **trusted)
    mlflow.register_model(info.model_uri, w.SERVE_MODEL)
    return model, X


def _serve_cmd(port: int, workers: int) -> list[str]:
    cmd = [os.path.join(os.path.dirname(sys.executable), "mlflow"), "models", "serve",
           "-m", f"models:/{w.SERVE_MODEL}/1", "--env-manager", "local",
           "--host", "127.0.0.1", "-p", str(port)]
    return cmd + (["--workers", str(workers)] if workers > 1 else [])


def _start_server(workers: int, log_name: str = "serve.log"):
    """``mlflow models serve`` in its own session; (process, port, seconds to /ping)."""
    import loadgen

    port = loadgen.free_port()
    log = open(log_name, "ab")  # noqa: SIM115 (the child keeps it)
    t0 = time.perf_counter()
    # MLflow execs `uvicorn` by name: the venv's bin must be on PATH (as when activated)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ.get("PATH", ""))
    proc = subprocess.Popen(_serve_cmd(port, workers), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)
    try:
        loadgen.wait_http(f"http://127.0.0.1:{port}/ping", timeout=180, proc=proc)
    except Exception:
        _stop_server(proc)
        with open(log_name, errors="replace") as f:
            raise RuntimeError("mlflow models serve did not start:\n"
                               + "".join(f.readlines()[-15:])) from None
    return proc, port, time.perf_counter() - t0


def _stop_server(proc) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue


def _bench_serving(scenario: str, s: dict) -> dict:
    model, X = _register_serve_model(w.SERVE_KIND[scenario])
    workers = 2 if scenario == "serve_lr_2" else 1
    proc, port, startup = _start_server(workers)
    try:
        out = w.measure_serving(scenario, s, f"http://127.0.0.1:{port}/invocations", None,
                                w.body_mlflow, model, X)
    finally:
        _stop_server(proc)
    out.update(server=" ".join(_serve_cmd(port, workers)[1:]), workers=workers,
               startup_seconds=startup, body_format="dataframe_split")
    return out


def bench_cold_start(s: dict) -> dict:
    """``mlflow models serve`` started → first 200 on /ping (then one /invocations)."""
    import loadgen

    _model, X = _register_serve_model("lr")
    body = w.body_mlflow(w.serve_rows(X, 1))
    samples, first_predict = [], []
    for i in range(s["warmup"] + s["reps"]):
        proc, port, ready = _start_server(1, f"serve-{i}.log")
        try:
            t0 = time.perf_counter()
            status, _ = loadgen.post_once(f"http://127.0.0.1:{port}/invocations", body, None)
            if status != 200:
                raise RuntimeError(f"first /invocations -> {status}")
            predict_s = time.perf_counter() - t0
        finally:
            _stop_server(proc)
        if i >= s["warmup"]:
            samples.append(ready)
            first_predict.append(ready + predict_s)
        time.sleep(0.5)
    st = w.summarize(samples)
    return {"value": st["median"], "unit": "s", "seconds": st,
            "to_first_predict": w.summarize(first_predict),
            "what": "Popen(mlflow models serve) -> first 200 on /ping", "loadavg": w.loadavg()}


SCENARIOS = {
    "serve_lr": lambda s: _bench_serving("serve_lr", s),
    "serve_lr_2": lambda s: _bench_serving("serve_lr_2", s),
    "serve_rf": lambda s: _bench_serving("serve_rf", s),
    "serve_batch": lambda s: _bench_serving("serve_batch", s),
    "cold_start": bench_cold_start,
    "log_metric": bench_log_metric,
    "log_batch": bench_log_batch,
    "runs": bench_runs,
    "search": bench_search,
    "register": bench_register,
    "load_alias": bench_load_alias,
}


def main() -> None:
    scenario, sizes = w.parse_args(sys.argv)
    if scenario not in SCENARIOS:
        raise SystemExit(f"mlflow side has no scenario {scenario!r}")
    result = SCENARIOS[scenario](sizes)
    result["version"] = mlflow.__version__
    w.emit(result)


if __name__ == "__main__":
    main()
