"""FLAML's side of the AutoML benchmark; runs in benchmarks/.venv-flaml.

    python automl_flaml_side.py --train train.csv --test test.csv --target y \
        --task classification --metric accuracy --budget 60 [--seed 0]

Reads both CSV files (not timed), then times ``AutoML().fit(X, y, task=..., metric=...,
time_budget=...)`` with FLAML's defaults otherwise, and scores the chosen model on the
test rows with scikit-learn. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
from flaml import AutoML
from flaml import __version__ as flaml_version
from sklearn import metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--task", required=True, choices=["classification", "regression"])
    parser.add_argument("--metric", required=True, choices=["accuracy", "r2"])
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train, test = pd.read_csv(args.train), pd.read_csv(args.test)
    X, y = train.drop(columns=args.target), train[args.target]
    X_test, y_test = test.drop(columns=args.target), test[args.target]

    automl = AutoML()
    started = time.perf_counter()
    automl.fit(X, y, task=args.task, metric=args.metric, time_budget=args.budget,
               seed=args.seed, verbose=0)
    elapsed = time.perf_counter() - started
    predicted = automl.predict(X_test)
    score = (metrics.accuracy_score(y_test, predicted) if args.metric == "accuracy"
             else metrics.r2_score(y_test, predicted))
    print(json.dumps({
        "flaml": flaml_version, "test_score": float(score), "elapsed_s": elapsed,
        "best_estimator": automl.best_estimator, "best_config": automl.best_config,
        "best_cv_loss": automl.best_loss, "trials": len(automl.config_history)}, default=str))


if __name__ == "__main__":
    main()
