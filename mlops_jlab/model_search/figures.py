"""The charts of an AutoML run (plotly, the views' ``plotly_white`` look).

* optimization history: every trial's cross-validated score in the order the trials
  started, one color per model family (pruned trials hollow, at the mean of the folds
  they got through), with the best-so-far line and the winner starred;
* parameter importance: how much each hyperparameter of the winning family explains
  the scores of that family's trials (Optuna's fANOVA evaluator, seeded);
* scores by family: the spread of each family's complete trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from ..widgets.theme import BEST_GOLD, axis, color, figure_layout, fmt
from .space import FAMILIES
from .trials import COMPLETE, FAILED, PRUNED, TrialRecord

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from .metrics import Metric


def _family_color(families: Sequence[str], family: str) -> str:
    return color(list(FAMILIES).index(family)) if family in FAMILIES else color(
        len(families))


def _label(family: str) -> str:
    return FAMILIES[family].label if family in FAMILIES else family


def _hover_params(params: dict[str, Any]) -> str:
    return "<br>".join(f"{escape(k)} = {fmt(v)}" for k, v in params.items())


def history_figure(trials: Sequence[TrialRecord], metric: Metric, best: TrialRecord | None,
                   seconds: float) -> go.Figure:
    """Scores in trial order with the best-so-far line (see the module doc)."""
    import plotly.graph_objects as go

    counts = {s: sum(t.state == s for t in trials) for s in (COMPLETE, PRUNED, FAILED)}
    subtitle = (f"{len(trials)} trials in {seconds:.0f} s: {counts[COMPLETE]} complete, "
                f"{counts[PRUNED]} pruned, {counts[FAILED]} failed")
    if best is not None:
        subtitle += (f" · best {escape(metric.name)} = {fmt(best.score)} "
                     f"({escape(_label(best.family))}, trial {best.number})")
    fig = go.Figure(layout=figure_layout(f"Optimization history: cross-validated "
                                         f"{escape(metric.name)}", subtitle))
    families = list(dict.fromkeys(t.family for t in trials))
    for family in families:
        for state, symbol in ((COMPLETE, "circle"), (PRUNED, "circle-open")):
            points = [t for t in trials if t.family == family and t.state == state
                      and t.score is not None]
            if not points:
                continue
            fig.add_trace(go.Scatter(
                x=[t.number for t in points], y=[t.score for t in points], mode="markers",
                name=_label(family) + (" (pruned)" if state == PRUNED else ""),
                legendgroup=family, showlegend=True,
                marker={"color": _family_color(families, family), "symbol": symbol,
                        "size": 9 if state == COMPLETE else 8,
                        "line": {"width": 1.5, "color": _family_color(families, family)}},
                customdata=[[_label(t.family), t.state, len(t.fold_scores),
                             fmt(t.score_std), f"{t.seconds or 0:.2f}",
                             _hover_params(t.params)] for t in points],
                hovertemplate=(f"trial %{{x}} · %{{customdata[0]}}<br>{escape(metric.name)}"
                               " = %{y:.4g} ± %{customdata[3]} (%{customdata[2]} folds, "
                               "%{customdata[1]})<br>%{customdata[4]} s<br>"
                               "%{customdata[5]}<extra></extra>")))
    steps_x, steps_y, current = [], [], None
    for t in trials:
        if t.state == COMPLETE and t.score is not None and (
                current is None or metric.better(t.score, current)):
            current = t.score
        if current is not None:
            steps_x.append(t.number)
            steps_y.append(current)
    if steps_x:
        fig.add_trace(go.Scatter(x=steps_x, y=steps_y, mode="lines", name="best so far",
                                 line={"color": "#444", "width": 2, "shape": "hv"},
                                 hovertemplate="best so far after trial %{x}: %{y:.4g}"
                                               "<extra></extra>"))
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[best.number], y=[best.score], mode="markers", name="best",
            marker={"symbol": "star", "size": 18, "color": BEST_GOLD,
                    "line": {"width": 1, "color": "#7a5c00"}},
            hovertemplate=f"best: trial %{{x}}, {escape(metric.name)} = %{{y:.4g}}"
                          "<extra></extra>"))
    if not trials:
        fig.add_annotation(text="no trial ran within the time budget", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    direction = "higher is better" if metric.greater_is_better else "lower is better"
    fig.update_layout(xaxis=axis("trial"),
                      yaxis=axis(f"cv {escape(metric.name)} ({direction})"),
                      legend={"title": {"text": "family"}}, height=440)
    return fig


def importance_figure(study: Any, best: TrialRecord | None, seed: int = 0) -> go.Figure:
    """fANOVA importance of the winning family's hyperparameters (see the module doc)."""
    import plotly.graph_objects as go

    family = best.family if best is not None else None
    title = "Hyperparameter importance" + (f": {escape(_label(family))}" if family else "")
    importances, note = _importances(study, family, seed)
    subtitle = note or (f"share of the variance of the cv score over the "
                        f"{_count(study, family)} complete trials of this family (fANOVA)")
    fig = go.Figure(layout=figure_layout(title, subtitle))
    if importances:
        names = list(importances)[::-1]  # largest on top
        values = [importances[n] for n in names]
        fig.add_trace(go.Bar(
            x=values, y=names, orientation="h",
            marker_color=_family_color([], family or ""),
            text=[f"{v:.0%}" for v in values], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%} of the variance<extra></extra>"))
        fig.update_layout(xaxis=axis("importance", tickformat=".0%",
                                     range=[0, max(values) * 1.18 or 1]),
                          yaxis=axis("hyperparameter"), showlegend=False,
                          height=max(260, 90 + 42 * len(names)))
    else:
        fig.add_annotation(text=escape(note or "no importance to show"), showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.update_layout(height=260)
    return fig


def _count(study: Any, family: str | None) -> int:
    import optuna

    return sum(1 for t in study.get_trials(deepcopy=False,
                                           states=(optuna.trial.TrialState.COMPLETE,))
               if t.params.get("family") == family)


def _importances(study: Any, family: str | None, seed: int) -> tuple[dict[str, float], str]:
    """(importance by hyperparameter, or {} with the reason)."""
    import optuna

    if family is None:
        return {}, "no complete trial"
    done = [t for t in study.get_trials(deepcopy=False,
                                        states=(optuna.trial.TrialState.COMPLETE,))
            if t.params.get("family") == family]
    if len(done) < 3:
        return {}, f"{len(done)} complete trial(s) of this family: too few to tell"
    prefix = f"{family}."
    sub = optuna.create_study(direction=study.direction)
    sub.add_trials([optuna.trial.create_trial(
        params={k[len(prefix):]: v for k, v in t.params.items() if k.startswith(prefix)},
        distributions={k[len(prefix):]: d for k, d in t.distributions.items()
                       if k.startswith(prefix)},
        value=t.value) for t in done])
    if len({t.value for t in done}) < 2:
        return {}, "every trial of this family scored the same"
    try:
        scores = optuna.importance.get_param_importances(
            sub, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed))
    except (RuntimeError, ValueError) as exc:
        return {}, f"importance not available: {exc}"
    return {k: float(v) for k, v in scores.items()}, ""


def family_figure(trials: Sequence[TrialRecord], metric: Metric) -> go.Figure:
    """Each family's complete trials as a strip with its best marked."""
    import plotly.graph_objects as go

    done = [t for t in trials if t.state == COMPLETE and t.score is not None]
    fig = go.Figure(layout=figure_layout(f"Cross-validated {escape(metric.name)} by model "
                                         "family", f"{len(done)} complete trials"))
    families = list(dict.fromkeys(t.family for t in done))
    best_of = {}
    for f in families:
        scores = [t for t in done if t.family == f]
        best_of[f] = max(scores, key=lambda t: (t.score or 0.0) if metric.greater_is_better
                         else -(t.score or 0.0))
    order = sorted(families, key=lambda f: best_of[f].score or 0.0,
                   reverse=metric.greater_is_better)
    for f in order:
        points = [t for t in done if t.family == f]
        fig.add_trace(go.Box(
            y=[t.score for t in points], x=[_label(f)] * len(points), name=_label(f),
            boxpoints="all", jitter=0.4, pointpos=0, fillcolor="rgba(0,0,0,0)",
            line={"color": _family_color(families, f)},
            marker={"color": _family_color(families, f), "size": 7, "opacity": 0.8},
            customdata=[[t.number] for t in points],
            hovertemplate=f"{escape(_label(f))}<br>trial %{{customdata[0]}}: "
                          f"{escape(metric.name)} = %{{y:.4g}}<extra></extra>"))
    if order:
        fig.add_trace(go.Scatter(
            x=[_label(f) for f in order], y=[best_of[f].score for f in order],
            mode="markers", name="family best", hoverinfo="skip",
            marker={"symbol": "star", "size": 14, "color": BEST_GOLD,
                    "line": {"width": 1, "color": "#7a5c00"}}))
    else:
        fig.add_annotation(text="no complete trial", showarrow=False, xref="paper",
                           yref="paper", x=0.5, y=0.5)
    fig.update_layout(xaxis=axis("family"), yaxis=axis(f"cv {escape(metric.name)}"),
                      showlegend=False)
    return fig


