"""``mlops.automl``: the Python front door of AutoML (Optuna and scikit-learn are
imported on first use, so ``import mlops_jlab`` stays fast)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model_search.result import AutoMLResult


def automl(X: Any, y: Any = None, *, target: str | None = None, task: str | None = None,
           metric: str | None = None, time_budget: float = 60, cv: int = 5,
           families: Sequence[str] | str | None = None, register: str | None = None,
           experiment: str | None = None, parallel: int | None = None,
           scheduler: str | None = None, seed: int = 0, max_trials: int | None = None,
           name: str | None = None) -> AutoMLResult:
    """Search scikit-learn model families and their hyperparameters with Optuna within
    ``time_budget`` seconds; every trial is a child run, the best pipeline is refit on
    every row and logged (and registered as ``register``). Returns an
    :class:`~mlops_jlab.model_search.result.AutoMLResult` (``best_model``, ``best_score``,
    ``leaderboard``, ``run_id``, ``model_version``); see
    :func:`mlops_jlab.model_search.service.automl` for every option."""
    from ..model_search.service import automl as run

    return run(X, y, target=target, task=task, metric=metric, time_budget=time_budget,
               cv=cv, families=families, register=register, experiment=experiment,
               parallel=parallel, scheduler=scheduler, seed=seed, max_trials=max_trials,
               name=name)
