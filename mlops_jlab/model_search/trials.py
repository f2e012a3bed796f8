"""Trials as child runs of the AutoML run.

Each trial is a run started under the parent with its family and hyperparameters as
params, the tags ``mlops.automl_trial`` (its number) and ``mlops.trial_state``
(``running``, then ``complete``, ``pruned`` or ``failed``); every fold's score is a
point of the metric ``fold_<metric>`` (step = fold), and at the end ``cv_<metric>`` (the
mean of the folds scored) and ``cv_<metric>_std``. A failed trial's run is marked failed
with its error; pruned and complete trials end as finished.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

COMPLETE, PRUNED, FAILED = "complete", "pruned", "failed"


@dataclass
class TrialRecord:
    """One trial as the search saw it."""

    number: int
    family: str
    params: dict[str, Any]
    study_trial: Any = None
    run_id: str | None = None
    state: str = "running"
    fold_scores: list[float] = field(default_factory=list)
    fold_seconds: list[float] = field(default_factory=list)
    fold_fit_seconds: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None
    error: str | None = None
    #: why a pruned trial stopped: ``pruner`` or ``deadline``
    stopped_by: str | None = None

    @property
    def score(self) -> float | None:
        """Mean of the folds scored so far."""
        return statistics.fmean(self.fold_scores) if self.fold_scores else None

    @property
    def score_std(self) -> float | None:
        return statistics.pstdev(self.fold_scores) if self.fold_scores else None


def plain_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as run params (``None`` spelled out)."""
    return {k: ("None" if v is None else v) for k, v in params.items()}


class TrialRecorder:
    """Writes trials to the store as child runs of ``parent_id``."""

    def __init__(self, backend: Any, parent_id: str, experiment_id: str, metric: str,
                 source: dict[str, Any], environment: dict[str, Any]) -> None:
        self._b = backend
        self._parent = parent_id
        self._experiment = experiment_id
        self._metric = metric
        self._source = source
        self._environment = environment

    def start(self, trial: TrialRecord) -> None:
        """Create the trial's run."""
        run = self._b.create_run(
            experiment=self._experiment, name=f"trial {trial.number}: {trial.family}",
            params={"family": trial.family, **plain_params(trial.params)},
            tags={"mlops.runner": "automl-trial", "mlops.automl_trial": str(trial.number),
                  "mlops.automl_parent": self._parent, "mlops.trial_state": "running"},
            source=self._source, environment=self._environment,
            parent_run_id=self._parent)
        trial.run_id = run.id

    def fold(self, trial: TrialRecord, fold: int, score: float) -> None:
        """One fold's score (buffered)."""
        self._b.metrics.append((trial.run_id, f"fold_{self._metric}", score, fold,
                                time.time_ns() // 1_000_000))

    def finish(self, trial: TrialRecord) -> None:
        """The trial's cross-validated score, state and end."""
        now = time.time_ns() // 1_000_000
        if trial.score is not None:
            self._b.metrics.extend([
                (trial.run_id, f"cv_{self._metric}", trial.score, 0, now),
                (trial.run_id, f"cv_{self._metric}_std", trial.score_std, 0, now)])
        tags = {"mlops.trial_state": trial.state, "mlops.trial_folds": str(
            len(trial.fold_scores))}
        if trial.stopped_by:
            tags["mlops.trial_stopped_by"] = trial.stopped_by
        self._b.set_tags(trial.run_id, tags)
        self._b.end_run(trial.run_id, status="failed" if trial.state == FAILED else "finished",
                        error=trial.error)
