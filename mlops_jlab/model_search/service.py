"""``automl(X, y, ...)``: search model families and hyperparameters within a time budget,
as a tracked run with one child run per trial, and record the winner as a model.

The whole call (checks, search, refit on every row, recording, registration) is meant
to end within about 10 % of ``time_budget`` seconds for budgets from about ten seconds
up; see :mod:`.search` for how the deadline is kept. ``max_trials`` ends the search
earlier.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from ..tracking import environment as env
from .evaluate import TrialSpec, refit
from .figures import family_figure, history_figure, importance_figure
from .metrics import CLASSIFICATION, TASKS, Metric, resolve_metric
from .parallel import DaskExecutor, Executor, InlineExecutor
from .result import AutoMLResult, leaderboard
from .schema import check_target, infer_schema, infer_task, normalise_frame
from .search import Deadline, Search, create_study
from .space import choose_families, warm_start_points
from .trials import PRUNED, TrialRecord, TrialRecorder, plain_params

#: seconds always kept for recording the result, plus this share of the budget
FIXED_RESERVE_S = 0.4
RESERVE_SHARE = 0.01
#: below this many rows a fit runs on one thread: OpenMP start-up and spinning cost more
#: than they bring on small data (a trial of histogram gradient boosting on 500 rows is
#: several times faster single-threaded)
THREADED_MIN_ROWS = 20_000
#: seconds kept for shutting a Dask client (and its LocalCluster) down
CLUSTER_CLOSE_S = 0.6


def automl(X: Any, y: Any = None, *, target: str | None = None, task: str | None = None,
           metric: str | None = None, time_budget: float = 60, cv: int = 5,
           families: Sequence[str] | str | None = None, register: str | None = None,
           experiment: str | None = None, parallel: int | None = None,
           scheduler: str | None = None, seed: int = 0, max_trials: int | None = None,
           name: str | None = None, dataset_name: str = "train") -> AutoMLResult:
    """Find a good scikit-learn pipeline for ``X`` → ``y`` within ``time_budget`` seconds.

    ``y`` is the target, or ``target`` names a column of the DataFrame ``X``. ``task``
    is ``"classification"`` or ``"regression"`` (inferred from the target when None);
    ``metric`` one of :func:`~.metrics.metric_names` (default accuracy / r2). Every trial
    is a child run of one parent run (``experiment``), scored by ``cv``-fold
    cross-validation; the best pipeline, refit on every row, is logged as the parent's
    model (and registered as ``register`` when given). ``parallel=N`` runs trials on a
    Dask LocalCluster of N workers, ``scheduler="tcp://..."`` on an existing cluster.
    """
    started = time.perf_counter()
    X, y = _frame_and_target(X, y, target)
    _check_options(time_budget, cv, parallel, scheduler, seed, max_trials, register)
    if task is None:
        task = infer_task(y)
    elif task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}: use 'classification' or 'regression'")
    X = normalise_frame(X)
    labels = check_target(y, task, cv)
    scoring = resolve_metric(task, metric, labels)
    schema = infer_schema(X)
    chosen = choose_families(families, len(X))
    folds = _folds(task, X, y, cv, seed)
    deadline = Deadline(started, float(time_budget),
                        FIXED_RESERVE_S + RESERVE_SHARE * float(time_budget))
    _import_recording_libraries()
    with _quiet_optuna():
        return _run(X, y, task=task, metric=scoring, schema=schema, families=chosen,
                    folds=folds, deadline=deadline, register=register, experiment=experiment,
                    parallel=parallel, scheduler=scheduler, seed=seed, max_trials=max_trials,
                    name=name, dataset_name=dataset_name)


def _run(X: pd.DataFrame, y: pd.Series, *, task: str, metric: Metric, schema: Any,
         families: list[str], folds: list[tuple[np.ndarray, np.ndarray]], deadline: Deadline,
         register: str | None, experiment: str | None, parallel: int | None,
         scheduler: str | None, seed: int, max_trials: int | None, name: str | None,
         dataset_name: str) -> AutoMLResult:
    from ..client import api
    from ..client.registry import register_model

    distributed = parallel is not None or scheduler is not None
    n_jobs = -1 if len(X) >= THREADED_MIN_ROWS else 1
    if distributed:
        deadline.fixed_reserve += CLUSTER_CLOSE_S
    params = {"task": task, "metric": metric.name, "time_budget": deadline.seconds,
              "cv": len(folds), "families": ",".join(families), "rows": len(X),
              "columns": X.shape[1], "seed": seed, "target": str(y.name)}
    if max_trials is not None:
        params["max_trials"] = max_trials
    run = api.start_run(name=name or f"automl-{task}", experiment=experiment, params=params,
                        tags={"mlops.runner": "automl", "mlops.automl_metric": metric.name},
                        source={"kind": "automl"})
    with run:
        run.log_dataset(X.assign(**{str(y.name): y.to_numpy()}), name=dataset_name,
                        role="train")
        b = api.backend()
        recorder = TrialRecorder(b, run.id, run.experiment_id, metric.name,
                                 source={**env.source(), "kind": "automl-trial"},
                                 environment=env.environment())
        study = create_study(metric, seed, parallel=distributed)
        for point in warm_start_points(families, task):
            study.enqueue_trial(point, skip_if_exists=True)
        executor: Executor = (DaskExecutor(X, y, folds, parallel or 1, scheduler)
                              if distributed else InlineExecutor(X, y, folds))
        try:
            search = Search(study=study, families=families, task=task, schema=schema,
                            metric=metric, executor=executor, n_folds=len(folds),
                            recorder=recorder, deadline=deadline, seed=seed,
                            n_jobs=n_jobs if not distributed else 1,
                            max_trials=max_trials)
            trials = search.run()
        finally:
            executor.close()
        b.metrics.flush()
        best = search.best() or _best_partial(trials, metric)
        spec = TrialSpec(task=task, family=best.family, params=best.params, schema=schema,
                         metric=metric, n_jobs=n_jobs, seed=seed)
        model = refit(spec, X, y)
        board = leaderboard(trials, metric.name, metric.greater_is_better)
        searched = time.perf_counter() - deadline.started
        figures = {"optimization_history": history_figure(trials, metric, best, searched),
                   "param_importance": importance_figure(study, best, seed),
                   "family_scores": family_figure(trials, metric)}
        assert best.score is not None
        run.log_metrics({f"best_cv_{metric.name}": best.score, "trials": len(trials),
                         "trials_pruned": sum(t.state == PRUNED for t in trials),
                         "trials_skipped": search.skipped}, step=0)
        run.log_params({"best_family": best.family,
                        **{f"best.{k}": v for k, v in plain_params(best.params).items()}})
        run.set_tags({"mlops.automl_best_trial": str(best.number),
                      "mlops.automl_best_run": str(best.run_id),
                      "mlops.automl_best_complete": str(best.state != PRUNED).lower()})
        run.log_model(model, "model", input_example=X.head(5))
        run.log_text(board.to_csv(index=False), "automl/leaderboard.csv")
        run.log_dict(schema.describe(), "automl/schema.json")
        for key, fig in figures.items():
            run.log_figure(fig, f"charts/{key}.json")
    version = register_model(run, register) if register else None
    return AutoMLResult(
        best_model=model, best_score=float(best.score), metric=metric.name, task=task,
        best_family=best.family, best_params=dict(best.params), leaderboard=board,
        run_id=run.id, trials=len(trials), elapsed=time.perf_counter() - deadline.started,
        time_budget=deadline.seconds, cv=len(folds), schema=schema.describe(),
        model_version=version, figures=figures)


def _best_partial(trials: list[TrialRecord], metric: Metric) -> TrialRecord:
    """No trial got through every fold: the best of those that scored some folds."""
    scored = [t for t in trials if t.score is not None]
    if not scored:
        raise InvalidInput(f"no trial scored a single fold within the time budget "
                           f"({len(trials)} started): raise time_budget")
    best = scored[0]
    for t in scored[1:]:
        if metric.better(t.score or 0.0, best.score or 0.0):
            best = t
    return best


def _frame_and_target(X: Any, y: Any, target: str | None) -> tuple[pd.DataFrame, pd.Series]:
    """The features as a DataFrame and the target as a Series, checked."""
    if X is None:
        raise InvalidInput("X is required: a DataFrame (or array) of features")
    if not isinstance(X, pd.DataFrame):
        array = np.asarray(X)
        if array.ndim != 2:
            raise InvalidInput(f"X must be a DataFrame or a 2-d array, got shape {array.shape}")
        X = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if target is not None:
        if y is not None:
            raise InvalidInput("give either y or target (a column of X), not both")
        if target not in X.columns:
            raise InvalidInput(f"no column {target!r} in the data: columns are "
                               f"{', '.join(map(str, X.columns[:20]))}"
                               + (" …" if X.shape[1] > 20 else ""))
        y = X[target]
        X = X.drop(columns=[target])
    elif y is None:
        raise InvalidInput("the target is missing: pass y, or target='column'")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise InvalidInput(f"y must be one column, got {y.shape[1]}")
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        values = np.asarray(y)
        if values.ndim != 1:
            raise InvalidInput(f"y must be one-dimensional, got shape {values.shape}")
        y = pd.Series(values, name="target")
    if len(X) == 0:
        raise InvalidInput("the data is empty: no rows to learn from")
    if X.shape[1] == 0:
        raise InvalidInput("the data has no feature column")
    if len(y) != len(X):
        raise InvalidInput(f"X has {len(X)} rows but y has {len(y)}")
    X = X.reset_index(drop=True)
    y = y.reset_index(drop=True).rename(y.name if y.name is not None else "target")
    X.columns = [str(c) for c in X.columns]
    return X, y


def _check_options(time_budget: Any, cv: Any, parallel: Any, scheduler: Any, seed: Any,
                   max_trials: Any, register: str | None) -> None:
    if isinstance(time_budget, bool) or not isinstance(time_budget, (int, float)) \
            or not time_budget > 0 or time_budget == float("inf"):
        raise InvalidInput(f"time_budget must be a positive number of seconds, got "
                           f"{time_budget!r}")
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise InvalidInput(f"cv must be an integer of at least 2 folds, got {cv!r}")
    if parallel is not None and (isinstance(parallel, bool) or not isinstance(parallel, int)
                                 or parallel < 1):
        raise InvalidInput(f"parallel must be a positive integer, got {parallel!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler):
        raise InvalidInput(f"scheduler must be an address like 'tcp://host:8786', got "
                           f"{scheduler!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput(f"seed must be an integer, got {seed!r}")
    if max_trials is not None and (isinstance(max_trials, bool) or
                                   not isinstance(max_trials, int) or max_trials < 1):
        raise InvalidInput(f"max_trials must be a positive integer, got {max_trials!r}")
    if register is not None:
        from ..registry.names import model_name

        model_name(register)


def _folds(task: str, X: pd.DataFrame, y: pd.Series, cv: int,
           seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    if len(X) < cv * 2:
        raise InvalidInput(f"{len(X)} rows are too few for {cv}-fold cross-validation")
    splitter = (StratifiedKFold(cv, shuffle=True, random_state=seed)
                if task == CLASSIFICATION else KFold(cv, shuffle=True, random_state=seed))
    return list(splitter.split(X, y))


def _import_recording_libraries() -> None:
    """Import what recording the result needs now, not after the search: the first
    import of skops (it walks every scikit-learn estimator) takes seconds, which the
    reserve kept at the end of the budget must not have to cover."""
    import optuna.importance  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import skops.io  # noqa: F401


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO; the leaderboard says it better."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)
