"""Where the folds of the trials run: in this process, or as Dask tasks.

Both executors take fold tasks (:func:`~.evaluate.fit_fold`) keyed by the caller and hand
back finished ones. :class:`InlineExecutor` runs each fold at once, in this process.
:class:`DaskExecutor` runs them on a LocalCluster of ``parallel`` single-threaded worker
processes, or on an existing scheduler (``tcp://host:8786``, whose workers must have
mlops_jlab and scikit-learn installed); the data are scattered to the workers once, and
folds still running when the search's deadline comes are cancelled. The Optuna study
and the tracking stay in the calling process (ask-and-tell), so workers need no access
to the store.
"""

from __future__ import annotations

import traceback
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .evaluate import TrialSpec, fit_fold

#: what a finished fold hands back: (key, result or None, error text or None)
Outcome = tuple[str, dict[str, float] | None, str | None]


class Executor(Protocol):
    """Runs fold tasks; ``slots`` of them at a time."""

    slots: int
    workers: int

    def submit(self, key: str, spec: TrialSpec, fold: int) -> None: ...
    def wait(self, timeout: float) -> list[Outcome]: ...
    def cancel(self, key: str) -> None: ...
    def close(self) -> None: ...


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


class InlineExecutor:
    """Each fold runs when submitted, in this process (one trial at a time)."""

    slots = 1
    workers = 1

    def __init__(self, X: pd.DataFrame, y: pd.Series,
                 folds: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self._X, self._y, self._folds = X, y, folds
        self._done: list[Outcome] = []

    def submit(self, key: str, spec: TrialSpec, fold: int) -> None:
        train, test = self._folds[fold]
        try:
            self._done.append((key, fit_fold(spec, self._X, self._y, train, test), None))
        except Exception as exc:  # a trial's failure is recorded, never stops the search
            self._done.append((key, None, _error_text(exc)))

    def wait(self, timeout: float) -> list[Outcome]:
        done, self._done = self._done, []
        return done

    def cancel(self, key: str) -> None:
        self._done = [d for d in self._done if d[0] != key]

    def close(self) -> None:
        self._done = []


class DaskExecutor:
    """Folds as Dask tasks; one trial per worker at a time."""

    def __init__(self, X: pd.DataFrame, y: pd.Series,
                 folds: list[tuple[np.ndarray, np.ndarray]], parallel: int,
                 scheduler: str | None) -> None:
        from ..automation.sweep import _cluster

        self._client, self._cluster, self.workers = _cluster(parallel, scheduler)
        self.slots = self.workers
        try:
            self._X, self._y = self._client.scatter([X, y], broadcast=True)
            self._folds = folds
        except BaseException:
            self.close()
            raise
        self._futures: dict[Any, str] = {}

    def submit(self, key: str, spec: TrialSpec, fold: int) -> None:
        train, test = self._folds[fold]
        future = self._client.submit(fit_fold, spec, self._X, self._y, train, test,
                                     pure=False, key=f"automl-{key}-{fold}")
        self._futures[future] = key

    def wait(self, timeout: float) -> list[Outcome]:
        from distributed import wait

        if not self._futures:
            return []
        try:
            finished = wait(list(self._futures), timeout=max(timeout, 0.01),
                            return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return []
        out: list[Outcome] = []
        for future in finished:
            key = self._futures.pop(future)
            try:
                out.append((key, future.result(), None))
            except Exception as exc:
                out.append((key, None, _error_text(exc)))
        return out

    def cancel(self, key: str) -> None:
        for future in [f for f, k in self._futures.items() if k == key]:
            future.cancel()
            del self._futures[future]

    def close(self) -> None:
        futures = list(getattr(self, "_futures", {}))
        if futures:
            self._client.cancel(futures)
        self._futures = {}
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
