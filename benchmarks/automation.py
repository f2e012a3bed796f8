"""Notebook automation figures: the cost of tracking a papermill run, and sweep wall time.

    python benchmarks/automation.py [--quick] [--reps N] [--combos N]

1. **Tracking overhead.** One trivial notebook (a parameters cell and two tiny cells),
   executed in this process by papermill's own engine (``nbclient``: the baseline) and
   by ``mlops.run_notebook`` (the tracked engine: a run with params, the input notebook
   and the executed notebook stored, the kernel given the run). Alternating
   repetitions, median of each; overhead = (tracked - papermill) / papermill.
   Target: under 5 %.
2. **Sweep wall time.** A notebook that does ~1 s of CPU work (a random forest on
   scikit-learn's digits), swept over N combinations: one after the other with
   ``run_notebook`` (serial), then ``mlops.sweep(parallel=1)`` and
   ``mlops.sweep(parallel=2)`` on a Dask LocalCluster. Speed-up = serial / parallel.

Every measurement uses a fresh store in a temporary folder. Prints a table; writes
``benchmarks/results/automation.json`` and ``.md``. No target fails the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results"

from tests.helpers.notebooks import write_notebook  # noqa: E402  (after the path)


def _fresh_store(folder: Path) -> None:
    import mlops_jlab as mlops

    for var in [k for k in os.environ if k.startswith("MLOPS_JLAB_")]:
        del os.environ[var]
    os.environ["MLOPS_JLAB_HOME"] = str(folder)
    mlops.configure(home=str(folder))


def overhead(tmp: Path, reps: int) -> dict[str, object]:
    """Median seconds of papermill alone and of a tracked run of the same notebook."""
    import papermill

    import mlops_jlab as mlops

    _fresh_store(tmp / "store-overhead")
    nb = write_notebook(tmp / "trivial.ipynb", "alpha = 1", "x = alpha + 1", "x * 2")
    plain, tracked = [], []
    # one of each first, untimed: kernel spec lookup, imports, the store's first write
    papermill.execute_notebook(str(nb), str(tmp / "warm.ipynb"), engine_name="nbclient",
                               progress_bar=False, parameters={"alpha": 2})
    mlops.run_notebook(nb, {"alpha": 2}, output=tmp / "warm2.ipynb")
    for i in range(reps):
        for kind in (("plain", "tracked") if i % 2 == 0 else ("tracked", "plain")):
            started = time.perf_counter()
            if kind == "plain":
                papermill.execute_notebook(str(nb), str(tmp / f"p{i}.ipynb"),
                                           engine_name="nbclient", progress_bar=False,
                                           parameters={"alpha": i})
                plain.append(time.perf_counter() - started)
            else:
                result = mlops.run_notebook(nb, {"alpha": i}, output=tmp / f"t{i}.ipynb")
                tracked.append(time.perf_counter() - started)
                assert result.ok, result.error
    runs = mlops.search_runs(limit=1000)
    assert len(runs) == reps + 1 and set(runs.status) == {"finished"}
    p, t = statistics.median(plain), statistics.median(tracked)
    return {"papermill_s": round(p, 4), "tracked_s": round(t, 4),
            "overhead_ms": round((t - p) * 1000, 1), "overhead_pct": round((t - p) / p * 100, 2),
            "reps": reps, "plain_samples": [round(x, 4) for x in plain],
            "tracked_samples": [round(x, 4) for x in tracked]}


WORK = ("from sklearn.datasets import load_digits\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "import mlops_jlab as mlops\n"
        "X, y = load_digits(return_X_y=True)\n"
        "model = RandomForestClassifier(n_estimators=n_estimators, max_depth=depth,\n"
        "                               random_state=0, n_jobs=1).fit(X, y)\n"
        "mlops.log_metric('train_accuracy', model.score(X, y))")


def sweep_times(tmp: Path, combos: int) -> dict[str, object]:
    """Wall time of ``combos`` executions: serial, sweep on 1 and on 2 workers."""
    import mlops_jlab as mlops

    nb = write_notebook(tmp / "work.ipynb", "n_estimators = 100\ndepth = 8", WORK)
    depths = list(range(4, 4 + combos))
    grid = {"depth": depths, "n_estimators": [150]}
    out: dict[str, object] = {"combinations": combos}
    _fresh_store(tmp / "store-serial")
    mlops.run_notebook(nb, {"depth": 3})  # warm: imports and the dataset cache
    started = time.perf_counter()
    for depth in depths:
        assert mlops.run_notebook(nb, {"depth": depth, "n_estimators": 150}).ok
    out["serial_s"] = round(time.perf_counter() - started, 2)
    for workers in (1, 2):
        _fresh_store(tmp / f"store-sweep-{workers}")
        started = time.perf_counter()
        result = mlops.sweep(nb, grid, parallel=workers, progress=False)
        out[f"sweep_{workers}_s"] = round(time.perf_counter() - started, 2)
        assert result.failed.empty, result.failed
    out["speedup_2_vs_serial"] = round(out["serial_s"] / out["sweep_2_s"], 2)  # type: ignore[operator]
    out["speedup_2_vs_1"] = round(out["sweep_1_s"] / out["sweep_2_s"], 2)  # type: ignore[operator]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--reps", type=int, default=None, help="overhead repetitions (9)")
    parser.add_argument("--combos", type=int, default=None, help="sweep size (8)")
    args = parser.parse_args()
    reps = args.reps or (2 if args.quick else 9)
    combos = args.combos or (2 if args.quick else 8)
    with tempfile.TemporaryDirectory(prefix="mlops-bench-auto-") as folder:
        tmp = Path(folder)
        over = overhead(tmp, reps)
        sweep = sweep_times(tmp, combos)
    rows = [
        ("papermill run of a trivial notebook (nbclient engine)",
         f"{over['papermill_s']:.3f} s", ""),
        ("same, tracked (mlops.run_notebook)", f"{over['tracked_s']:.3f} s", ""),
        ("tracking overhead", f"{over['overhead_ms']:+.0f} ms ({over['overhead_pct']:+.1f} %)",
         "< 5 %: " + ("met" if float(over["overhead_pct"]) < 5 else "MISSED")),
        (f"{combos} notebook runs one after the other", f"{sweep['serial_s']:.1f} s", ""),
        (f"sweep of {combos}, 1 Dask worker", f"{sweep['sweep_1_s']:.1f} s", ""),
        (f"sweep of {combos}, 2 Dask workers", f"{sweep['sweep_2_s']:.1f} s",
         f"{sweep['speedup_2_vs_serial']}x vs serial, {sweep['speedup_2_vs_1']}x vs 1 worker"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'measure'.ljust(width)} | value | note |", f"|{'-' * (width + 2)}|---|---|"]
    lines += [f"| {a.ljust(width)} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    stem = "automation-quick" if args.quick else "automation"
    facts = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "python": platform.python_version(), "platform": platform.platform(),
             "cpus": os.cpu_count(), "load": os.getloadavg(), "overhead": over,
             "sweep": sweep}
    (RESULTS / f"{stem}.json").write_text(json.dumps(facts, indent=2))
    (RESULTS / f"{stem}.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
