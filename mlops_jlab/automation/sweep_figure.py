"""The chart of a sweep: its metric against the swept parameters.

One parameter: the metric along the parameter's values (a line over numbers, bars over
categories). Two: a heatmap of the grid with the values written in the cells. More:
parallel coordinates with the metric as the last, colored axis. The best child is
marked; failed children are counted in the subtitle and drawn as gaps.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from ..widgets.compare_figures import metric_dimension, param_dimension
from ..widgets.theme import BEST_GOLD, ERROR_RED, axis, color, figure_layout, fmt

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from .sweep import SweepResult


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _subtitle(result: SweepResult) -> str:
    n, bad = len(result.children), len(result.failed)
    parts = [f"{n} combination(s) of {escape(result.notebook.rsplit('/', 1)[-1])}",
             f"{result.seconds:.0f} s on {result.workers} worker(s)"]
    if bad:
        parts.append(f"<span style='color:{ERROR_RED}'>{bad} failed</span>")
    best = result.best
    if best is not None and result.metric:
        parts.append(f"best {escape(result.metric)} = "
                     f"{fmt(best[f'metrics.{result.metric}'])} ({goal_word(result.goal)})")
    return " · ".join(parts)


def goal_word(goal: str) -> str:
    """How the best child was chosen."""
    return "highest" if goal == "max" else "lowest"


def sweep_figure(result: SweepResult) -> go.Figure:
    """The figure described in the module docstring."""
    import plotly.graph_objects as go

    metric = result.metric
    keys = list(result.grid)
    title = f"{escape(metric)} across the sweep" if metric else "Sweep"
    fig = go.Figure(layout=figure_layout(title, _subtitle(result)))
    column = f"metrics.{metric}" if metric else None
    frame = result.children
    if column is None or column not in frame:
        fig.add_annotation(text="the children logged no metric", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    values = [None if v != v else v for v in frame[column].tolist()]  # NaN → None
    if len(keys) == 1:
        _one_param(fig, keys[0], frame[f"params.{keys[0]}"].tolist(), values, metric or "",
                   result)
    elif len(keys) == 2:
        _heatmap(fig, keys, frame, values, metric or "", result)
    else:
        dims = [param_dimension(k, frame[f"params.{k}"].tolist()) for k in keys]
        dim, _ = metric_dimension(metric or "", values)
        if dim is not None:
            dims.append(dim)
        present = [v for v in values if v is not None]
        fig.add_trace(go.Parcoords(
            dimensions=dims,
            line={"color": [v if v is not None else min(present) for v in values],
                  "colorscale": "Viridis", "showscale": True,
                  "reversescale": result.goal == "min",
                  "colorbar": {"title": {"text": escape(metric or "")}, "thickness": 12}},
            labelside="top"))
        fig.update_layout(margin={"l": 70, "r": 90, "t": 120, "b": 40}, height=440)
    return fig


def _one_param(fig: go.Figure, key: str, xs: list[Any], ys: list[float | None],
               metric: str, result: SweepResult) -> None:
    import plotly.graph_objects as go

    numeric = all(_number(x) is not None for x in xs)
    best = result.best
    best_x = best[f"params.{key}"] if best is not None else None
    if numeric:
        order = sorted(range(len(xs)), key=lambda i: float(xs[i]))
        fig.add_trace(go.Scatter(
            x=[xs[i] for i in order], y=[ys[i] for i in order], mode="lines+markers",
            line={"color": color(0), "width": 2}, marker={"size": 9},
            connectgaps=False, name=metric,
            hovertemplate=f"{escape(key)}=%{{x}}<br>{escape(metric)}=%{{y:.4g}}<extra></extra>"))
        spread = [float(x) for x in xs if float(x) > 0]
        if len(spread) == len(xs) and max(spread) / min(spread) >= 100:
            fig.update_xaxes(type="log")
        if len(set(xs)) <= 12:  # label the swept values themselves, not plotly's ticks
            ticks = sorted({float(x) for x in xs})
            fig.update_xaxes(tickvals=ticks, ticktext=[fmt(t) for t in ticks])
    else:
        fig.add_trace(go.Bar(x=[str(x) for x in xs], y=ys, marker_color=color(0),
                             name=metric))
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[best_x if numeric else str(best_x)], y=[best[f"metrics.{metric}"]],
            mode="markers", name="best",
            marker={"symbol": "star", "size": 18, "color": BEST_GOLD,
                    "line": {"width": 1, "color": "#7a5c00"}}))
    fig.update_layout(xaxis=axis(escape(key)), yaxis=axis(escape(metric)), showlegend=False)


def _heatmap(fig: go.Figure, keys: list[str], frame: Any, values: list[float | None],
             metric: str, result: SweepResult) -> None:
    import plotly.graph_objects as go

    def ordered(column: list[Any]) -> list[Any]:
        unique = list(dict.fromkeys(column))
        if all(_number(v) is not None for v in unique):
            return sorted(unique, key=float)
        return unique

    xs_all = frame[f"params.{keys[1]}"].tolist()
    ys_all = frame[f"params.{keys[0]}"].tolist()
    xs, ys = ordered(xs_all), ordered(ys_all)
    grid: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    text: list[list[str]] = [["failed"] * len(xs) for _ in ys]
    statuses = frame["status"].tolist()
    for x, y, v, status in zip(xs_all, ys_all, values, statuses, strict=True):
        row, col = ys.index(y), xs.index(x)
        grid[row][col] = v
        text[row][col] = fmt(v) if status == "finished" and v is not None else (
            "no value" if status == "finished" else "failed")
    fig.add_trace(go.Heatmap(
        x=[str(x) for x in xs], y=[str(y) for y in ys], z=grid, text=text,
        texttemplate="%{text}", colorscale="Viridis", reversescale=result.goal == "min",
        hoverongaps=True, colorbar={"title": {"text": escape(metric)}, "thickness": 12},
        hovertemplate=(f"{escape(keys[0])}=%{{y}}<br>{escape(keys[1])}=%{{x}}<br>"
                       f"{escape(metric)}=%{{z:.4g}}<extra></extra>")))
    best = result.best
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[str(best[f"params.{keys[1]}"])], y=[str(best[f"params.{keys[0]}"])],
            mode="markers", name="best", hoverinfo="skip",
            marker={"symbol": "star-open", "size": 26, "color": BEST_GOLD,
                    "line": {"width": 3}}))
    fig.update_layout(xaxis=axis(escape(keys[1]), type="category"),
                      yaxis=axis(escape(keys[0]), type="category"), showlegend=False)
