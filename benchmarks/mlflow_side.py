"""MLflow side of the benchmark. Runs inside ``benchmarks/.venv-mlflow``.

Usage (run.py does this): ``python mlflow_side.py SCENARIO SIZES_JSON`` with
``MLFLOW_TRACKING_URI=sqlite:///<tmp>/mlflow.db`` and the working directory in <tmp>.
Prints one ``BENCH_RESULT {json}`` line.
"""

from __future__ import annotations

import os
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

    for _ in range(s["warmup"]):
        search()
    samples = []
    df = None
    for _ in range(s["reps"]):
        dt, df = w.timed(search)
        samples.append(dt)
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


SCENARIOS = {
    "log_metric": bench_log_metric,
    "log_batch": bench_log_batch,
    "runs": bench_runs,
    "search": bench_search,
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
