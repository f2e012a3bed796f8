"""AutoML benchmark: ``mlops.automl`` against a default RandomForest and FLAML.

    python benchmarks/automl.py [--budget 60] [--quick] [--skip-flaml] [--parallel N]
                                [--splits N] [--datasets breast_cancer,diabetes,digits]

On scikit-learn's bundled datasets, breast_cancer (classification, accuracy) and
diabetes (regression, r2) by default, digits (classification, accuracy) on request,
each split into the same train/test rows (75/25, seeded, stratified for classification)
for every contender; ``--splits N`` repeats that on N different splits and averages
the test scores (small test sets make one split's comparison noisy):

* ours: ``mlops.automl(X_train, y_train, metric=..., time_budget=budget)`` in a
  throw-away store, the wall time of the whole call measured around it;
* a default ``RandomForest{Classifier,Regressor}(random_state=0)``;
* FLAML's ``AutoML().fit(..., time_budget=budget)`` with its defaults, in its own venv
  (``benchmarks/.venv-flaml``, created on first use with ``flaml[automl]``) through
  ``automl_flaml_side.py``, on the same rows written to CSV.

Every model is scored on the held-out test rows. Prints a table and writes
``benchmarks/results/automl.json`` (``automl-quick.json`` with ``--quick``: a 15 s
budget, FLAML skipped). See benchmarks/AUTOML.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # benchmark the working tree's mlops_jlab

FLAML_SPEC = "flaml[automl]"
FLAML_EXTRA = ["scikit-learn", "pandas"]
FLAML_VENV = HERE / ".venv-flaml"
RESULTS = HERE / "results"
SEED = 20240605
TARGET_RATIO = 0.99  # ours at most 1 % below FLAML's test score
DATASETS = {"breast_cancer": ("classification", "accuracy"),
            "diabetes": ("regression", "r2"),
            "digits": ("classification", "accuracy")}
DEFAULT_DATASETS = "breast_cancer,diabetes"


def log(message: str) -> None:
    print(f"[automl-bench] {message}", file=sys.stderr, flush=True)


def load(name: str, split: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The dataset's (train, test) frames of split number ``split``, target ``target``."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    task, _ = DATASETS[name]
    train, test = train_test_split(frame, test_size=0.25, random_state=SEED + split,
                                   stratify=frame["target"] if task == "classification"
                                   else None)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def score(metric: str, y_true: Any, y_pred: Any) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    return float(accuracy_score(y_true, y_pred) if metric == "accuracy"
                 else r2_score(y_true, y_pred))


def run_ours(train: pd.DataFrame, test: pd.DataFrame, task: str, metric: str,
             budget: float, parallel: int | None) -> dict[str, Any]:
    import mlops_jlab as mlops

    with tempfile.TemporaryDirectory(prefix="automl-bench-") as home:
        mlops.configure(home=home)
        started = time.perf_counter()
        result = mlops.automl(train, target="target", task=task, metric=metric,
                              time_budget=budget, experiment="automl-bench",
                              parallel=parallel, seed=0)
        elapsed = time.perf_counter() - started
        predicted = result.best_model.predict(test.drop(columns="target"))
        states = result.leaderboard["state"].value_counts().to_dict()
        mlops.backend().close()
    return {"test_score": score(metric, test["target"], predicted), "elapsed_s": elapsed,
            "elapsed_over_budget": elapsed / budget, "cv_score": result.best_score,
            "best_family": result.best_family, "best_params": result.best_params,
            "trials": result.trials, "states": states}


def run_forest(train: pd.DataFrame, test: pd.DataFrame, task: str,
               metric: str) -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kind = RandomForestClassifier if task == "classification" else RandomForestRegressor
    started = time.perf_counter()
    model = kind(random_state=0).fit(train.drop(columns="target"), train["target"])
    elapsed = time.perf_counter() - started
    return {"test_score": score(metric, test["target"],
                                model.predict(test.drop(columns="target"))),
            "elapsed_s": elapsed}


def ensure_flaml_venv() -> Path:
    """Create benchmarks/.venv-flaml with FLAML if missing; return its python."""
    py = FLAML_VENV / "bin" / "python"
    if py.exists():
        probe = subprocess.run([str(py), "-c", "import flaml.automl, lightgbm"],
                               capture_output=True)
        if probe.returncode == 0:
            return py
    log(f"creating {FLAML_VENV} with pip install {FLAML_SPEC!r} (one-time)")
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(FLAML_VENV)], check=True)
    (FLAML_VENV / ".gitignore").write_text("*\n")  # keep the venv out of git and ruff
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    FLAML_SPEC, *FLAML_EXTRA], check=True)
    return py


def run_flaml(train: pd.DataFrame, test: pd.DataFrame, task: str, metric: str,
              budget: float) -> dict[str, Any]:
    py = ensure_flaml_venv()
    with tempfile.TemporaryDirectory(prefix="automl-bench-") as tmp:
        train_path, test_path = Path(tmp) / "train.csv", Path(tmp) / "test.csv"
        train.to_csv(train_path, index=False)
        test.to_csv(test_path, index=False)
        cmd = [str(py), str(HERE / "automl_flaml_side.py"), "--train", str(train_path),
               "--test", str(test_path), "--target", "target", "--task", task,
               "--metric", metric, "--budget", str(budget), "--seed", "0"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=budget * 4 + 300)
    if done.returncode != 0:
        raise RuntimeError(f"FLAML side failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    facts["elapsed_over_budget"] = facts["elapsed_s"] / budget
    return facts


def _mean(entries: list[dict[str, Any]], side: str, key: str) -> float | None:
    values = [e[side][key] for e in entries if e[side] is not None]
    return sum(values) / len(values) if values else None


def build_table(results: dict[str, dict[str, Any]], budget: float,
                quick: bool) -> list[dict[str, str]]:
    """One row per dataset, test scores averaged over its splits."""
    rows = []
    for name, r in results.items():
        splits = r["splits"]
        ours, forest = _mean(splits, "ours", "test_score"), _mean(splits, "forest",
                                                                   "test_score")
        flaml = _mean(splits, "flaml", "test_score")
        ratio = ours / flaml if ours is not None and flaml else None
        r["summary"] = {"ours": ours, "forest": forest, "flaml": flaml, "ratio": ratio,
                        "ours_elapsed_s": _mean(splits, "ours", "elapsed_s"),
                        "flaml_elapsed_s": _mean(splits, "flaml", "elapsed_s")}
        families = ", ".join(sorted({e["ours"]["best_family"] for e in splits}))
        trials = "/".join(str(e["ours"]["trials"]) for e in splits)
        flaml_best = ", ".join(sorted({e["flaml"]["best_estimator"] for e in splits
                                       if e["flaml"]}))
        flaml_trials = "/".join(str(e["flaml"]["trials"]) for e in splits if e["flaml"])
        elapsed = max(e["ours"]["elapsed_s"] for e in splits)
        rows.append({
            "dataset": f"{name} ({r['metric']}, {len(splits)} split"
                       f"{'s' if len(splits) > 1 else ''})",
            "ours": f"{ours:.4f} ({families}; {trials} trials)",
            "forest": f"{forest:.4f}",
            "flaml": f"{flaml:.4f} ({flaml_best}; {flaml_trials} configs)" if flaml
                     else "skipped",
            "ratio": f"{ratio:.3f}" if ratio else "-",
            "elapsed": f"max {elapsed:.1f} s / {budget:g} s"
                       + (f" (FLAML max {max(e['flaml']['elapsed_s'] for e in splits):.1f} s)"
                          if flaml else ""),
            "met": "n/a (quick)" if quick else ("-" if ratio is None else
                                                "yes" if ratio >= TARGET_RATIO else "NO")})
    return rows


def render(table: list[dict[str, str]]) -> str:
    head = ["dataset", "mlops.automl (test)", "RandomForest", "FLAML (test)",
            "ours / FLAML", "elapsed / budget", f"≥ {TARGET_RATIO}?"]
    keys = ["dataset", "ours", "forest", "flaml", "ratio", "elapsed", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row[k] for k in keys) + " |" for row in table]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds per search, both sides (default 60; 15 with --quick)")
    parser.add_argument("--quick", action="store_true", help="tiny budget, no FLAML")
    parser.add_argument("--skip-flaml", action="store_true")
    parser.add_argument("--parallel", type=int, default=None,
                        help="our trials on a Dask LocalCluster of N workers")
    parser.add_argument("--splits", type=int, default=1,
                        help="train/test splits per dataset (scores averaged)")
    parser.add_argument("--datasets", default=DEFAULT_DATASETS,
                        help=f"comma-separated, of {', '.join(DATASETS)}")
    args = parser.parse_args(argv)
    budget = args.budget or (15.0 if args.quick else 60.0)
    skip_flaml = args.skip_flaml or args.quick
    results: dict[str, dict[str, Any]] = {}
    for name in args.datasets.split(","):
        task, metric = DATASETS[name]
        entry: dict[str, Any] = {"task": task, "metric": metric, "splits": []}
        for split in range(args.splits):
            train, test = load(name, split)
            log(f"{name} split {split}: {len(train)} train / {len(test)} test rows, {task}, "
                f"{metric}; budget {budget:g} s")
            one: dict[str, Any] = {"split_seed": SEED + split, "train_rows": len(train),
                                   "test_rows": len(test)}
            one["ours"] = run_ours(train, test, task, metric, budget, args.parallel)
            log(f"  ours: {one['ours']['test_score']:.4f} in {one['ours']['elapsed_s']:.1f} s")
            one["forest"] = run_forest(train, test, task, metric)
            one["flaml"] = None if skip_flaml else run_flaml(train, test, task, metric,
                                                              budget)
            if one["flaml"]:
                log(f"  FLAML: {one['flaml']['test_score']:.4f} in "
                    f"{one['flaml']['elapsed_s']:.1f} s")
            entry["splits"].append(one)
        results[name] = entry
    table = build_table(results, budget, args.quick)
    print(render(table))
    out = {"generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "machine": {"python": platform.python_version(), "platform": platform.platform(),
                       "cpus": os.cpu_count()},
           "budget_s": budget, "seed": SEED, "parallel": args.parallel,
           "results": results, "table": table}
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / ("automl-quick.json" if args.quick else "automl.json")
    target.write_text(json.dumps(out, indent=2, default=str))
    log(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
