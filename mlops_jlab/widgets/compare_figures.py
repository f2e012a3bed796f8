"""Figures of a run comparison: params against a metric (parallel coordinates) and
metric histories overlaid (one line per run). A run has the same color in both."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from .theme import axis, color, figure_layout

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..tracking.records import Run

MAX_PARAM_DIMS = 12
MAX_TICK_TEXT = 18


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip().lower() not in ("nan", "inf", "-inf",
                                                                 "infinity", "-infinity"):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _short(text: str) -> str:
    text = str(text)
    return escape(text if len(text) <= MAX_TICK_TEXT else text[: MAX_TICK_TEXT - 1] + "…")


def _padded(low: float, high: float) -> list[float]:
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return [low - pad, high + pad]
    return [low, high]


def param_dimension(key: str, values: Sequence[Any]) -> dict[str, Any]:
    """A parcoords dimension: numeric when every run has a number, else categorical
    (values mapped to 0..n-1, in numeric order when they are numbers, with tick labels;
    a missing value is the category ``—``)."""
    numbers = [_number(v) for v in values]
    label = escape(key)
    if all(n is not None for n in numbers):
        present = [n for n in numbers if n is not None]
        return {"label": label, "values": present, "range": _padded(min(present),
                                                                    max(present))}
    texts = ["—" if v is None else str(v) for v in values]
    uniques = sorted(set(texts), key=lambda t: (t == "—", _number(t) is None,
                                                _number(t) or 0.0, t))
    code = {t: i for i, t in enumerate(uniques)}
    return {"label": label, "values": [code[t] for t in texts],
            "tickvals": list(range(len(uniques))), "ticktext": [_short(t) for t in uniques],
            "range": _padded(0, len(uniques) - 1)}


def metric_dimension(metric: str, values: Sequence[float | None]
                     ) -> tuple[dict[str, Any] | None, int]:
    """The metric's axis (bold label; a run without the metric sits just below the
    lowest value) and how many runs lack it; no axis when no run has it."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    if not present:
        return None, len(values)
    low, high = min(present), max(present)
    floor = low - (abs(high - low) * 0.1 or abs(low) * 0.1 or 1.0)
    filled = [floor if v is None or math.isnan(v) else v for v in values]
    without = len(values) - len(present)
    return ({"label": f"<b>{escape(metric)}</b>", "values": filled,
             "range": _padded(floor if without else low, high)}, without)


def chosen_params(runs: Sequence[Run], limit: int = MAX_PARAM_DIMS) -> list[str]:
    """Params worth an axis: those whose values differ between runs (all params when
    none differ), at most ``limit``, in key order."""
    keys = sorted({k for r in runs for k in r.params})
    varying = [k for k in keys if len({r.params.get(k) for r in runs}) > 1]
    return (varying or keys)[:limit]


def _run_colorscale(n: int) -> list[list[Any]]:
    """A stepwise colorscale: run i (color value i) gets palette color i."""
    if n == 1:
        return [[0.0, color(0)], [1.0, color(0)]]
    scale: list[list[Any]] = []
    for i in range(n):
        scale.append([i / n, color(i)])
        scale.append([(i + 1) / n, color(i)])
    return scale


def parallel_coordinates(runs: Sequence[Run], labels: Sequence[str],
                         metric: str | None) -> go.Figure:
    """Params (numeric or categorical axes) and ``metric`` as the last axis; one line
    per run, colored like the run everywhere else."""
    import plotly.graph_objects as go

    keys = chosen_params(runs)
    dims = [param_dimension(k, [r.params.get(k) for r in runs]) for k in keys]
    notes = [f"{len(runs)} run(s) · one line per run"]
    if keys and len(keys) < len({k for r in runs for k in r.params}):
        notes.append(f"the {len(keys)} param(s) that differ")
    if metric is not None:
        dim, without = metric_dimension(metric, [r.metrics.get(metric) for r in runs])
        if dim is not None:
            dims.append(dim)
        if without:
            notes.append(f"{without} run(s) without {escape(metric)}: at the bottom")
    n = len(runs)
    title = f"Params vs {escape(metric)}" if metric else "Params"
    fig = go.Figure(layout=figure_layout(
        title, " · ".join(notes), height=420,
        margin={"l": 70, "r": 110, "t": 120, "b": 40}))
    if not dims:
        fig.add_annotation(text="no params or metric to compare", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    fig.add_trace(go.Parcoords(
        dimensions=dims,
        line={"color": list(range(n)), "colorscale": _run_colorscale(n), "cmin": -0.5,
              "cmax": n - 0.5, "showscale": True,
              "colorbar": {"title": {"text": "run"}, "tickvals": list(range(n)),
                           "ticktext": [_short(lbl) for lbl in labels], "thickness": 12,
                           "len": 0.9}},
        labelangle=-20 if len(dims) > 6 else 0, labelside="top",
        unselected={"line": {"opacity": 0.15}},
        name="runs"))
    return fig


def metric_history_figure(histories: Mapping[int, pd.DataFrame], labels: Sequence[str],
                          metric: str | None) -> go.Figure:
    """``metric`` by step, one line per run (``histories``: run index → history with
    ``step`` and ``value``); runs that did not log it are named in the subtitle."""
    import plotly.graph_objects as go

    shown = escape(metric) if metric else "metric"
    missing = [labels[i] for i in range(len(labels)) if i not in histories]
    subtitle = (f"{len(histories)} of {len(labels)} run(s)"
                + (f" · not logged by {', '.join(escape(m) for m in missing[:5])}"
                   + (" …" if len(missing) > 5 else "") if missing else ""))
    fig = go.Figure(layout=figure_layout(
        f"{shown} by step", subtitle, xaxis=axis("step"), yaxis=axis(shown),
        legend={"title": {"text": "run"}}, hovermode="closest"))
    for i, history in sorted(histories.items()):
        single = len(history) == 1
        fig.add_trace(go.Scatter(
            x=list(history["step"]), y=list(history["value"]), name=escape(labels[i]),
            mode="markers" if single else "lines",
            line={"color": color(i), "width": 2}, marker={"color": color(i), "size": 8},
            hovertemplate=(f"<b>%{{fullData.name}}</b><br>step %{{x}}<br>{shown} "
                           "%{y:.4g}<extra></extra>")))
    if not histories:
        fig.add_annotation(text=f"no run logged {shown}", showarrow=False, xref="paper",
                           yref="paper", x=0.5, y=0.5)
    return fig
