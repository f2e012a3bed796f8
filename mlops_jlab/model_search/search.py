"""The hyperparameter search: an Optuna study driven by ask-and-tell under a deadline.

Trials are sampled by TPE (seeded; multivariate over the conditional space of the
families), the first ones being the families' default configurations. A trial is
cross-validated one fold at a time; the running mean of its folds is its intermediate
value, so the median pruner stops trials that trail the others at the same fold.

The time budget is kept from three sides. The search ends early enough to leave time
for refitting the best pipeline on all rows and recording it (:meth:`Search.reserve`,
re-estimated from the best trial's fit times). A trial is started only when its
folds are expected to finish before that (estimated from the fold times of its family),
and between folds a trial that can no longer finish is stopped. Folds still running
at the deadline are cancelled (on Dask) and their trials recorded as pruned by the
deadline.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .evaluate import TrialSpec
from .metrics import Metric
from .parallel import Executor
from .schema import Schema
from .space import suggest
from .trials import COMPLETE, FAILED, PRUNED, TrialRecord, TrialRecorder

#: consecutive sampled trials too slow for the time left before the search gives up
MAX_SKIPS = 20
#: the refit and the saving of the model, in units of the estimated refit time
REFIT_AND_SAVE = 1.8


@dataclass
class Deadline:
    """The time budget of a whole AutoML call, started at ``started`` (perf_counter)."""

    started: float
    seconds: float
    #: seconds kept for recording the result whatever the model (figures, artifacts)
    fixed_reserve: float

    @property
    def end(self) -> float:
        return self.started + self.seconds


def create_study(metric: Metric, seed: int, parallel: bool) -> Any:
    """A seeded TPE study with a median pruner, quiet."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True,
                                             constant_liar=parallel)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    direction = (optuna.study.StudyDirection.MAXIMIZE if metric.greater_is_better
                 else optuna.study.StudyDirection.MINIMIZE)
    return optuna.create_study(direction=direction, sampler=sampler, pruner=pruner)


class Search:
    """Runs trials until the deadline (or ``max_trials``); see the module doc."""

    def __init__(self, *, study: Any, families: Sequence[str], task: str, schema: Schema,
                 metric: Metric, executor: Executor, n_folds: int, recorder: TrialRecorder,
                 deadline: Deadline, seed: int, n_jobs: int,
                 max_trials: int | None = None) -> None:
        self.study = study
        self.families = list(families)
        self.task = task
        self.schema = schema
        self.metric = metric
        self.executor = executor
        self.n_folds = n_folds
        self.recorder = recorder
        self.deadline = deadline
        self.seed = seed
        self.n_jobs = n_jobs
        self.max_trials = max_trials
        self.trials: list[TrialRecord] = []
        self.skipped = 0
        self._skips_in_row = 0
        self._active: dict[str, TrialRecord] = {}

    # ------------------------------------------------------------------ estimates
    def best(self) -> TrialRecord | None:
        """The complete trial with the best cross-validated score (earliest on ties)."""
        best: TrialRecord | None = None
        for trial in self.trials:
            if trial.state == COMPLETE and trial.score is not None and (
                    best is None or self.metric.better(trial.score, best.score or 0.0)):
                best = trial
        return best

    def refit_estimate(self) -> float:
        """Expected seconds to refit the best pipeline on every row."""
        best = self.best()
        if best is None or not best.fold_fit_seconds:
            return 0.0
        share = self.n_folds / max(self.n_folds - 1, 1)  # all rows vs a fold's training rows
        return statistics.fmean(best.fold_fit_seconds) * share

    def reserve(self) -> float:
        """Seconds kept after the search: the refit, saving the model (measured at up
        to 80 % of the fit for forests), and the fixed cost of recording the result."""
        return self.deadline.fixed_reserve + REFIT_AND_SAVE * self.refit_estimate()

    def search_end(self) -> float:
        return self.deadline.end - self.reserve()

    def _fold_estimate(self, family: str) -> float | None:
        """Typical seconds of one fold of ``family`` so far; for a family that has not
        run yet the fastest family's (optimistic: if it is slower, the check between
        folds stops it after one fold); None before any fold finished."""
        by_family: dict[str, list[float]] = {}
        for trial in self.trials:
            by_family.setdefault(trial.family, []).extend(trial.fold_seconds)
        if by_family.get(family):
            return statistics.median(by_family[family])
        medians = [statistics.median(v) for v in by_family.values() if v]
        return min(medians) if medians else None

    def _cheapest_trial(self) -> float | None:
        estimates = [e for f in self.families if (e := self._fold_estimate(f)) is not None]
        return min(estimates) * self.n_folds if estimates else None

    # ------------------------------------------------------------------ the loop
    def run(self) -> list[TrialRecord]:
        """Search until the deadline; every trial ends complete, pruned or failed."""
        try:
            self._loop()
        except BaseException:
            for trial in list(self._active.values()):
                self.executor.cancel(str(trial.number))
                trial.state, trial.error = FAILED, "the search was interrupted"
                self._finish(trial)
            raise
        return self.trials

    def _loop(self) -> None:
        stopping = False
        while True:
            while not stopping and len(self._active) < self.executor.slots:
                started = self._start_trial()
                if started is None:
                    stopping = True
            if not self._active:
                return
            outcomes = self.executor.wait(max(self.search_end() - time.perf_counter(), 0.0))
            if not outcomes and time.perf_counter() >= self.search_end():
                for trial in list(self._active.values()):  # the deadline: stop them all
                    self.executor.cancel(str(trial.number))
                    self._stop(trial, "deadline")
                return
            for key, result, error in outcomes:
                running = self._active.get(key)
                if running is not None:
                    self._fold_done(running, result, error)

    def _start_trial(self) -> bool | None:
        """Start one trial: True when started, False when this sample was skipped, None
        when no trial should start any more."""
        import optuna

        if self.max_trials is not None and len(self.trials) >= self.max_trials:
            return None
        now, end = time.perf_counter(), self.search_end()
        cheapest = self._cheapest_trial()
        if now >= end or (cheapest is not None and now + cheapest > end):
            return None
        study_trial = self.study.ask()
        family, params = suggest(study_trial, self.families, self.task)
        fold = self._fold_estimate(family)
        if fold is not None and now + fold * self.n_folds > end:
            study_trial.set_user_attr("skipped", "would not finish before the deadline")
            self.study.tell(study_trial, state=optuna.trial.TrialState.FAIL)
            self.skipped += 1
            self._skips_in_row += 1
            return None if self._skips_in_row >= MAX_SKIPS else False
        self._skips_in_row = 0
        trial = TrialRecord(number=len(self.trials), family=family, params=params,
                            study_trial=study_trial)
        self.trials.append(trial)
        self.recorder.start(trial)
        self._active[str(trial.number)] = trial
        self._submit(trial, 0)
        return True

    def _spec(self, trial: TrialRecord) -> TrialSpec:
        return TrialSpec(task=self.task, family=trial.family, params=trial.params,
                         schema=self.schema, metric=self.metric, n_jobs=self.n_jobs,
                         seed=self.seed)

    def _submit(self, trial: TrialRecord, fold: int) -> None:
        self.executor.submit(str(trial.number), self._spec(trial), fold)

    def _fold_done(self, trial: TrialRecord, result: dict[str, float] | None,
                   error: str | None) -> None:
        import optuna

        if result is None:
            trial.state, trial.error = FAILED, error or "the fold failed"
            self.study.tell(trial.study_trial, state=optuna.trial.TrialState.FAIL)
            self._finish(trial)
            return
        fold = len(trial.fold_scores)
        trial.fold_scores.append(result["score"])
        trial.fold_seconds.append(result["seconds"])
        trial.fold_fit_seconds.append(result["fit_seconds"])
        self.recorder.fold(trial, fold, result["score"])
        assert trial.score is not None
        trial.study_trial.report(trial.score, fold)
        if fold + 1 == self.n_folds:
            trial.state = COMPLETE
            self.study.tell(trial.study_trial, trial.score)
            self._finish(trial)
        elif trial.study_trial.should_prune():
            self._stop(trial, "pruner")
        elif time.perf_counter() + (self.n_folds - fold - 1) * statistics.fmean(
                trial.fold_seconds) > self.search_end():
            self._stop(trial, "deadline")
        else:
            self._submit(trial, fold + 1)

    def _stop(self, trial: TrialRecord, by: str) -> None:
        """Prune a trial (by the pruner, or because the deadline comes first)."""
        import optuna

        trial.state, trial.stopped_by = PRUNED, by
        self.study.tell(trial.study_trial, state=optuna.trial.TrialState.PRUNED)
        self._finish(trial)

    def _finish(self, trial: TrialRecord) -> None:
        trial.seconds = time.perf_counter() - trial.started
        self._active.pop(str(trial.number), None)
        self.recorder.finish(trial)
