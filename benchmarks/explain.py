"""What explanations cost: ``mlops.explain`` on 200 rows, and the serving worker's
latency with and without ``"params": {"explain": true}``.

    .venv/bin/python benchmarks/explain.py [--quick] [--requests N]

For a tree model (RandomForest, 100 trees) and a linear model (LogisticRegression) on
breast_cancer (30 features): registers the model in a temporary store, times
``mlops.explain(..., rows=200)`` (stored), deploys it (1 replica, embedded controller),
then sends N sequential requests of 1 row and of 20 rows over one keep-alive
connection, without and with ``explain``, and prints p50 / p95 / mean per request. The
first explain request of a worker builds its explainer (shap import included); it is
timed separately. Results: ``benchmarks/results/explain[-quick].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def _body(rows, explain: bool) -> bytes:
    body: dict = {"dataframe_split": {"columns": [str(c) for c in rows.columns],
                                      "data": rows.values.tolist()}}
    if explain:
        body["params"] = {"explain": True}
    return json.dumps(body).encode()


def _summary(samples: list[float]) -> dict[str, float]:
    import loadgen

    return {"p50_ms": statistics.median(samples) * 1000,
            "p95_ms": loadgen.percentile(samples, 0.95) * 1000,
            "mean_ms": statistics.fmean(samples) * 1000, "n": len(samples)}


def measure(kind: str, requests: int, warmup: int) -> dict:
    import loadgen
    import workloads as w

    import mlops_jlab as mlops

    model, X = w.serve_model(kind)
    name = f"explain-{kind}"
    with mlops.start_run(name=name) as run:
        run.log_model(model, name="model", input_example=X.head(5))
    mlops.register_model(run, name)
    y = model.predict(X)  # labels are not what is timed: the model's own are fine
    started = time.perf_counter()
    explanation = mlops.explain(f"models:/{name}/1", X, y, rows=200)
    explain_s = time.perf_counter() - started
    dep = mlops.deploy(name, 1, name=f"bench-{name}", replicas=1)
    out: dict = {"model": kind, "explain_200_rows_s": explain_s,
                 "local_method": explanation.record["local_method"], "latency": {}}
    try:
        for nrows in (1, 20):
            rows = w.serve_rows(X, nrows)
            if nrows == 1:  # the first explain request builds the worker's explainer
                t0 = time.perf_counter()
                status, answer = loadgen.post_once(dep.url, _body(rows, True), dep.token)
                out["first_explain_request_ms"] = (time.perf_counter() - t0) * 1000
                assert status == 200, answer[:300]
            for explain in (False, True):
                samples, answer = loadgen.sequential(dep.url, _body(rows, explain), dep.token,
                                                     warmup, requests)
                parsed = json.loads(answer)
                assert ("explanations" in parsed) == explain, parsed.keys()
                if explain:
                    assert len(parsed["explanations"]) == nrows
                out["latency"][f"{nrows} row(s), explain={explain}"] = _summary(samples)
    finally:
        dep.stop()
    return out


def table(results: list[dict]) -> str:
    lines = ["| model | rows/request | explain | p50 ms | p95 ms | mean ms | extra p50 ms |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        for nrows in (1, 20):
            plain = r["latency"][f"{nrows} row(s), explain=False"]
            for explain in (False, True):
                s = r["latency"][f"{nrows} row(s), explain={explain}"]
                extra = f"{s['p50_ms'] - plain['p50_ms']:+.2f}" if explain else ""
                lines.append(f"| {r['model']} ({r['local_method']}) | {nrows} | "
                             f"{'yes' if explain else 'no'} | {s['p50_ms']:.2f} | "
                             f"{s['p95_ms']:.2f} | {s['mean_ms']:.2f} | {extra} |")
    lines += ["", "| model | mlops.explain, 200 rows (s) | first explain request (ms) |",
              "| --- | --- | --- |"]
    lines += [f"| {r['model']} ({r['local_method']}) | {r['explain_200_rows_s']:.2f} | "
              f"{r['first_explain_request_ms']:.0f} |" for r in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few requests (smoke test)")
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args(argv)
    requests = args.requests or (20 if args.quick else 300)
    warmup = 3 if args.quick else 30
    home = tempfile.mkdtemp(prefix="mlops-explain-bench-")
    for key in [k for k in os.environ if k.startswith("MLOPS_JLAB_")]:
        del os.environ[key]
    os.environ["MLOPS_JLAB_HOME"] = home
    try:
        import mlops_jlab as mlops

        mlops.set_experiment("explain-bench")
        results = [measure(kind, requests, warmup) for kind in ("rf", "lr")]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(table(results))
    target = HERE / "results" / ("explain-quick.json" if args.quick else "explain.json")
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps({"requests": requests, "results": results}, indent=2))
    print(f"\nwritten: {target}")


if __name__ == "__main__":
    main()
