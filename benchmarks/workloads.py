"""Workloads shared by both sides of the benchmark (stdlib only at import; the registry
scenarios import scikit-learn inside ``iris_model``).

``mlflow_side.py`` runs in ``benchmarks/.venv-mlflow`` and ``mlops_side.py`` in the
project's interpreter; both import this module so they log exactly the same data,
in the same amounts, with the same warm-up and the same number of repetitions.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

EXPERIMENT = "bench"
SEARCH_FILTER = "metrics.acc > 0.5 and params.model = 'rf'"
SEARCH_ORDER_BY = ["metrics.acc DESC"]
SEARCH_LIMIT = 100
RESULT_MARKER = "BENCH_RESULT "

# Sizes per scenario. "full" is what the targets are judged on; "quick" is a smoke run.
SIZES: dict[str, dict[str, dict[str, int]]] = {
    "full": {
        "log_metric": {"calls": 3000, "warmup": 100, "reps": 5},
        "log_batch": {"steps": 10_000, "keys": 10, "batch": 1000, "warmup_steps": 100, "reps": 5},
        "runs": {"runs": 200, "warmup": 10, "reps": 5},
        "search": {"runs": 5000, "warmup": 2, "reps": 7},
        "rest_runs": {"runs": 10_000, "warmup": 5, "requests": 50},
        "magic": {"warmup": 5, "reps": 40},
        "register": {"versions": 50, "warmup": 2, "reps": 3},
        "load_alias": {"warmup": 2, "reps": 30},
        "serve_lr": {"warmup": 100, "requests": 1000, "conns": 8, "seconds": 10,
                     "warmup_seconds": 2, "inproc_reps": 300},
        "serve_lr_2": {"conns": 8, "seconds": 10, "warmup_seconds": 2},
        "serve_rf": {"warmup": 30, "requests": 300, "conns": 8, "seconds": 10,
                     "warmup_seconds": 2, "inproc_reps": 200},
        "serve_batch": {"rows": 1000, "warmup": 5, "requests": 60, "inproc_reps": 60},
        "cold_start": {"warmup": 1, "reps": 3},
        "rolling_update": {"conns": 4, "settle": 1.5},
        "crash": {"conns": 4, "settle": 2.0, "after_kill": 4.0},
    },
    "quick": {
        "log_metric": {"calls": 100, "warmup": 10, "reps": 1},
        "log_batch": {"steps": 200, "keys": 10, "batch": 1000, "warmup_steps": 10, "reps": 1},
        "runs": {"runs": 10, "warmup": 2, "reps": 1},
        "search": {"runs": 200, "warmup": 1, "reps": 2},
        "rest_runs": {"runs": 200, "warmup": 1, "requests": 5},
        "magic": {"warmup": 1, "reps": 3},
        "register": {"versions": 5, "warmup": 1, "reps": 1},
        "load_alias": {"warmup": 1, "reps": 3},
        "serve_lr": {"warmup": 3, "requests": 10, "conns": 2, "seconds": 1,
                     "warmup_seconds": 0, "inproc_reps": 5},
        "serve_lr_2": {"conns": 2, "seconds": 1, "warmup_seconds": 0},
        "serve_rf": {"warmup": 2, "requests": 5, "conns": 2, "seconds": 1,
                     "warmup_seconds": 0, "inproc_reps": 5},
        "serve_batch": {"rows": 1000, "warmup": 1, "requests": 3, "inproc_reps": 3},
        "cold_start": {"warmup": 0, "reps": 1},
        "rolling_update": {"conns": 2, "settle": 0.3},
        "crash": {"conns": 2, "settle": 0.3, "after_kill": 0.5},
    },
}

# Model registry scenarios: the registered model, its aliases, and the rows predicted.
MODEL_NAME = "bench-model"
REGISTER_ALIAS = "staging"
LOAD_ALIAS = "champion"  # not "production": on our side that one requires a validation
PREDICT_ROWS = [0, 50, 100, 25, 75]  # iris rows of all three classes


def iris_model() -> tuple[Any, Any, Any]:
    """(model, X, X5): LogisticRegression fitted on iris (a DataFrame with feature names)
    and the 5 rows both sides predict. Needs scikit-learn (both venvs have it)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    return model, X, X.iloc[PREDICT_ROWS].reset_index(drop=True)


def as_labels(pred: Any) -> list[int]:
    """Predictions as a plain list of ints (numpy array, Series or DataFrame)."""
    values = getattr(pred, "values", pred)
    return [int(x) for x in list(getattr(values, "ravel", lambda: values)())]


def run_params(i: int) -> dict[str, str]:
    """10 params of the runs/s scenario."""
    return {f"p{k}": f"value-{i}-{k}" for k in range(10)}


def run_tags(i: int) -> dict[str, str]:
    """5 tags of the runs/s scenario."""
    return {f"t{k}": f"tag-{i % 7}-{k}" for k in range(5)}


def run_metrics(i: int) -> dict[str, float]:
    """5 metrics of the runs/s scenario."""
    rng = random.Random(i)
    return {f"m{k}": rng.random() for k in range(5)}


def batch_values(step: int, keys: int) -> dict[str, float]:
    """One step of the batched scenario: ``keys`` metrics named m0..m{keys-1}."""
    return {f"m{k}": (step * keys + k) * 1e-3 for k in range(keys)}


def search_population(
    n: int, seed: int = 42
) -> Iterator[tuple[str, dict[str, str], dict[str, float], dict[str, str]]]:
    """Runs that populate the search store: (name, params, metrics, tags).

    About a quarter are ``model='rf'``, ``acc`` is uniform in [0, 1), so the filter
    matches ~12% of the runs (600 of 5,000) and the first page holds 100 of them.
    """
    rng = random.Random(seed)
    models = ["rf", "lr", "gb", "svm"]
    for i in range(n):
        model = models[rng.randrange(len(models))]
        params = {
            "model": model,
            "n_estimators": str(rng.randrange(10, 500)),
            "max_depth": str(rng.randrange(2, 20)),
        }
        metrics = {"acc": rng.random(), "loss": rng.random() * 2, "f1": rng.random()}
        tags = {"team": rng.choice(["fraud", "search", "ads"])}
        yield f"run-{i}", params, metrics, tags


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call, timed with ``time.perf_counter``."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def summarize(samples: list[float]) -> dict[str, float]:
    """Median, p95, min and max of a list of durations (seconds)."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]
    return {
        "median": statistics.median(ordered),
        "p95": p95,
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
    }


def emit(result: dict[str, Any]) -> None:
    """Print the side's result as one marked JSON line (run.py looks for the marker)."""
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def parse_args(argv: list[str]) -> tuple[str, dict[str, int]]:
    """``side.py SCENARIO SIZES_JSON`` -> (scenario, sizes)."""
    if len(argv) != 3:
        raise SystemExit(f"usage: {argv[0]} SCENARIO SIZES_JSON")
    return argv[1], json.loads(argv[2])


def time_load_predict(load: Callable[[], Any], rows: Any, warmup: int,
                      reps: int) -> tuple[list[float], list[float], list[float], Any]:
    """Time ``load()`` then ``.predict(rows)`` ``reps`` times after ``warmup`` untimed
    rounds; returns (total, load, predict) seconds per round and the last prediction."""
    def once() -> tuple[float, float, Any]:
        t0 = time.perf_counter()
        loaded = load()
        t1 = time.perf_counter()
        pred = loaded.predict(rows)
        return t1 - t0, time.perf_counter() - t1, pred

    for _ in range(warmup):
        once()
    samples: list[float] = []
    loads: list[float] = []
    predicts: list[float] = []
    pred = None
    for _ in range(reps):
        t_load, t_pred, pred = once()
        samples.append(t_load + t_pred)
        loads.append(t_load)
        predicts.append(t_pred)
    return samples, loads, predicts, pred


def repeat(fn: Callable[[], Any], warmup: int, reps: int) -> tuple[list[float], Any]:
    """Call ``fn`` ``warmup`` times untimed, then ``reps`` times timed; returns the
    seconds of each timed call and the last result."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    result = None
    for _ in range(reps):
        dt, result = timed(fn)
        samples.append(dt)
    return samples, result


# ---------------------------------------------------------------- serving scenarios

SERVE_MODEL = "bench-serve"
SERVE_KIND = {"serve_lr": "lr", "serve_lr_2": "lr", "serve_rf": "rf", "serve_batch": "lr",
              "cold_start": "lr", "rolling_update": "lr", "crash": "lr"}


def serve_model(kind: str) -> tuple[Any, Any]:
    """(model, X): breast_cancer (569 rows, 30 named float features) as a DataFrame and
    LogisticRegression(max_iter=10000) (``lr``) or RandomForest(100, random_state=0)
    (``rf``) fitted on it. Same scikit-learn 1.9.1 on both sides."""
    import warnings

    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "rf":
            from sklearn.ensemble import RandomForestClassifier

            model = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
        else:
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(max_iter=10000).fit(X, y)
    return model, X


def serve_rows(X: Any, n: int) -> Any:
    """The first ``n`` rows of X, cycling through it (1,000 rows > 569)."""
    import pandas as pd

    reps = -(-n // len(X))
    return pd.concat([X] * reps, ignore_index=True).iloc[:n].reset_index(drop=True)


def body_ours(rows: Any) -> bytes:
    """mlops_jlab's documented body: ``{"inputs": [{col: v}, ...]}``."""
    return json.dumps({"inputs": rows.to_dict(orient="records")}).encode()


def body_mlflow(rows: Any) -> bytes:
    """MLflow's documented body for a DataFrame model: ``{"dataframe_split": ...}``."""
    return json.dumps({"dataframe_split": {"columns": [str(c) for c in rows.columns],
                                           "data": rows.values.tolist()}}).encode()


def body_arrow(rows: Any) -> bytes:
    """mlops_jlab's binary body: the rows as an Arrow IPC stream (ours only)."""
    from mlops_jlab.serving.inputs import arrow_stream

    return arrow_stream(rows)


def answer_labels(body: bytes) -> list[int]:
    """Predicted labels of a JSON answer (ours and MLflow both use ``predictions``)."""
    return [int(x) for x in json.loads(body)["predictions"]]


def inproc_predict(model: Any, rows: Any, reps: int) -> dict[str, float]:
    """Median/p95 (ms) of ``model.predict(rows)`` in this process, after 3 warm-ups."""
    for _ in range(3):
        model.predict(rows)
    samples = [timed(lambda: model.predict(rows))[0] for _ in range(max(reps, 1))]
    st = summarize(samples)
    return {"median_ms": st["median"] * 1000, "p95_ms": st["p95"] * 1000}


def loadavg() -> list[float] | None:
    import os

    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def measure_serving(scenario: str, s: dict[str, Any], url: str, token: str | None,
                    make_body: Callable[[Any], bytes], model: Any, X: Any) -> dict[str, Any]:
    """The measurement of serve_lr / serve_lr_2 / serve_rf / serve_batch against a
    running server, identical on both sides (only the body format differs)."""
    import loadgen

    rows = serve_rows(X, s.get("rows", 1))
    body = make_body(rows)
    result: dict[str, Any] = {"loadavg_before": loadavg(), "body_bytes": len(body),
                              "rows_per_request": len(rows)}
    expected = [int(x) for x in model.predict(rows)]
    if scenario != "serve_lr_2":
        result["inproc"] = inproc_predict(model, rows, s["inproc_reps"])
        samples, answer = loadgen.sequential(url, body, token, s["warmup"], s["requests"])
        lat = loadgen.latency_summary(samples)
        result.update(latency=lat, value=lat["p50_ms"], unit="ms",
                      predictions_ok=answer_labels(answer) == expected)
    else:
        status, answer = loadgen.post_once(url, body, token)
        result["predictions_ok"] = status == 200 and answer_labels(answer) == expected
    if "seconds" in s:
        tp = loadgen.throughput(url, body, token, s["conns"], s["seconds"],
                                s.get("warmup_seconds", 0))
        result["throughput"] = tp
        if scenario == "serve_lr_2":
            result.update(value=tp["rps"], unit="req/s")
    result["loadavg_after"] = loadavg()
    return result
