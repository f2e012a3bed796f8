"""What ``mlops.automl`` returns: the refit best pipeline, its score, the leaderboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

import pandas as pd

from .space import FAMILIES
from .trials import COMPLETE, FAILED, PRUNED, TrialRecord


@dataclass
class AutoMLResult:
    """The outcome of an AutoML search.

    ``best_model`` is the winning pipeline (preprocessing + estimator) refit on every
    row; ``best_score`` its mean cross-validated ``metric``; ``leaderboard`` one row per
    trial, best first; ``run_id`` the parent run (trials are its children);
    ``model_version`` the registered version when ``register=`` was given.
    """

    best_model: Any
    best_score: float
    metric: str
    task: str
    best_family: str
    best_params: dict[str, Any]
    leaderboard: pd.DataFrame
    run_id: str
    trials: int
    elapsed: float
    time_budget: float
    cv: int
    schema: dict[str, Any] = field(default_factory=dict)
    model_version: Any = None
    figures: dict[str, Any] = field(default_factory=dict)

    def predict(self, X: Any) -> Any:
        """Predictions of the best pipeline."""
        return self.best_model.predict(X)

    def summary(self) -> str:
        """One line: trials, time, winner."""
        states = self.leaderboard["state"].value_counts() if len(self.leaderboard) else {}
        family = FAMILIES[self.best_family].label if self.best_family in FAMILIES \
            else self.best_family
        text = (f"AutoML {self.task}: {self.trials} trials in {self.elapsed:.1f} s "
                f"(budget {self.time_budget:g} s; {states.get(COMPLETE, 0)} complete, "
                f"{states.get(PRUNED, 0)} pruned, {states.get(FAILED, 0)} failed); best "
                f"{family} with cv {self.metric} = {self.best_score:.4g}")
        if self.model_version is not None:
            text += f"; registered as {self.model_version.name} v{self.model_version.version}"
        return text

    def _repr_html_(self) -> str:
        from ..widgets.theme import figure_html

        table = self.leaderboard.head(15).drop(columns=["run_id"], errors="ignore")
        parts = [f"<p><b>{escape(self.summary())}</b><br><small>parent run "
                 f"<code>{escape(self.run_id)}</code></small></p>",
                 table.to_html(index=False, na_rep="—", float_format="{:.4g}".format)]
        if len(self.leaderboard) > 15:
            parts.append(f"<p><small>… {len(self.leaderboard) - 15} more trials in "
                         "<code>.leaderboard</code></small></p>")
        parts += [figure_html(fig) for fig in self.figures.values()]
        return "".join(parts)

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        from ..widgets.theme import figure_bundle

        table = self.leaderboard.head(15).drop(columns=["run_id"], errors="ignore")
        display(HTML(f"<p><b>{escape(self.summary())}</b><br><small>parent run "
                     f"<code>{escape(self.run_id)}</code></small></p>"
                     + table.to_html(index=False, na_rep="—",
                                     float_format="{:.4g}".format)))
        for fig in self.figures.values():
            display(figure_bundle(fig), raw=True)


_STATE_ORDER = {COMPLETE: 0, PRUNED: 1, FAILED: 2}


def leaderboard(trials: list[TrialRecord], metric: str, greater_is_better: bool
                ) -> pd.DataFrame:
    """One row per trial: complete trials best first, then pruned, then failed."""
    rows = []
    for t in trials:
        rows.append({"trial": t.number, "family": t.family, f"cv_{metric}": t.score,
                     f"cv_{metric}_std": t.score_std, "state": t.state,
                     "folds": len(t.fold_scores), "seconds": t.seconds,
                     "params": ", ".join(f"{k}={v}" for k, v in t.params.items()),
                     "run_id": t.run_id, "error": t.error})
    columns = ["rank", "trial", "family", f"cv_{metric}", f"cv_{metric}_std", "state",
               "folds", "seconds", "params", "run_id", "error"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    sign = -1.0 if greater_is_better else 1.0
    frame["_state"] = frame["state"].map(_STATE_ORDER)
    frame["_key"] = frame[f"cv_{metric}"].astype(float) * sign
    frame = frame.sort_values(["_state", "_key", "trial"], na_position="last",
                              kind="stable").drop(columns=["_state", "_key"])
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)[columns]
