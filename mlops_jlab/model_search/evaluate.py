"""One trial's pipeline, and one cross-validation fold of it.

:func:`fit_fold` is the unit of work the search schedules, in this process or as a Dask
task on a worker: it builds the pipeline from a :class:`TrialSpec`, fits it on the
fold's training rows and scores it on the held-out rows. Nothing here touches the store:
the parent process records the trials.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .metrics import Metric
from .schema import Schema
from .space import build_estimator


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs to build a trial's pipeline."""

    task: str
    family: str
    params: dict[str, Any]
    schema: Schema
    metric: Metric
    n_jobs: int = 1
    seed: int = 0


def build_pipeline(spec: TrialSpec) -> Any:
    """Preprocessing (from the schema) followed by the family's estimator."""
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("preprocess", spec.schema.preprocessor()),
        ("model", build_estimator(spec.task, spec.family, spec.params, n_jobs=spec.n_jobs,
                                  needs_proba=spec.metric.needs_proba, seed=spec.seed))])


def fit_quietly(pipeline: Any, X: pd.DataFrame, y: pd.Series) -> Any:
    """Fit without scikit-learn's convergence chatter (a trial's score tells the story)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*[Ff]ound unknown categories.*")
        return pipeline.fit(X, y)


def fit_fold(spec: TrialSpec, X: pd.DataFrame, y: pd.Series, train: np.ndarray,
             test: np.ndarray) -> dict[str, float]:
    """Fit on ``train`` rows, score on ``test`` rows: ``score``, ``fit_seconds``,
    ``seconds``. A non-finite score raises (the trial is then failed)."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    # one thread per fit with n_jobs=1 (Dask workers, small data), else the default
    with threadpool_limits(limits=1 if spec.n_jobs == 1 else None):
        pipeline = fit_quietly(build_pipeline(spec), X.iloc[train], y.iloc[train])
        fitted = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ff]ound unknown categories.*")
            score = spec.metric.score(pipeline, X.iloc[test], y.iloc[test])
    if not math.isfinite(score):
        raise ValueError(f"{spec.metric.name} is {score} on this fold")
    return {"score": score, "fit_seconds": fitted - started,
            "seconds": time.perf_counter() - started}


def refit(spec: TrialSpec, X: pd.DataFrame, y: pd.Series) -> Any:
    """The trial's pipeline fitted on every row (threads as :func:`fit_fold` uses them)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1 if spec.n_jobs == 1 else None):
        return fit_quietly(build_pipeline(spec), X, y)
