"""The chart of a federation: global and per-site held-out score by round, with the
centralized reference when one was measured."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from ..widgets.theme import axis, color, figure_layout, fmt

if TYPE_CHECKING:
    import plotly.graph_objects as go


def rounds_figure(history: Any, *, score: str, sites: list[str], subtitle: str = "",
                  centralized: float | None = None) -> go.Figure:
    """``history`` has one row per round: ``round``, ``global_<score>`` and
    ``site.<name>.<score>`` / ``site.<name>.examples`` columns."""
    import plotly.graph_objects as go

    label = "accuracy" if score == "accuracy" else "R²"
    fig = go.Figure(layout=figure_layout(f"Federated {escape(label)} by round", subtitle))
    rounds = history["round"].tolist()
    for i, site in enumerate(sites):
        values = history[f"site.{site}.{score}"].tolist()
        examples = history[f"site.{site}.eval_examples"].tolist()
        fig.add_trace(go.Scatter(
            x=rounds, y=values, mode="lines+markers", name=escape(site),
            line={"color": color(i + 1), "width": 1.5, "dash": "dot"},
            marker={"size": 6}, customdata=examples, legendgroup="sites",
            hovertemplate=(f"<b>{escape(site)}</b><br>round %{{x}}<br>{label} %{{y:.4f}}"
                           "<br>on %{customdata:.0f} held-out rows<extra></extra>")))
    fig.add_trace(go.Scatter(
        x=rounds, y=history[f"global_{score}"].tolist(), mode="lines+markers",
        name=f"global ({label}, all sites)", line={"color": color(0), "width": 3.5},
        marker={"size": 9},
        hovertemplate=f"<b>global</b><br>round %{{x}}<br>{label} %{{y:.4f}}<extra></extra>"))
    if centralized is not None:
        fig.add_hline(y=centralized, line={"color": "#555", "width": 2, "dash": "dash"},
                      annotation_text=f"centralized {fmt(centralized)}",
                      annotation_position="bottom right")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="centralized "
                                 "(pooled data)", line={"color": "#555", "dash": "dash"}))
    fig.update_layout(xaxis=axis("round", dtick=1 if len(rounds) <= 20 else None),
                      yaxis=axis(f"held-out {label}"),
                      legend={"orientation": "h", "y": -0.2, "x": 0},
                      height=440, margin={"l": 60, "r": 30, "t": 80, "b": 90})
    return fig
