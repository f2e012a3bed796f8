"""The drift report's plotly figure.

Top: one bar per column, the drift score (statistic relative to its threshold, so
every test shares one axis where 1 is the threshold), most severe first, red when the
column drifted. Below: the reference and current distributions of the worst columns,
as step areas over the reference-derived bins (numeric) or grouped bars of shares
per category. Reference is always blue and current always orange.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .report import DRIFT_RED, STEADY_GREY, ColumnDrift

if TYPE_CHECKING:
    from .report import DriftReport

REFERENCE_BLUE = "#4c72b0"
CURRENT_ORANGE = "#dd8452"
MIN_SCORE = 1e-2  # scores are drawn on a log axis; lower ones are drawn at this floor
_SYMBOL = {"ks": "p", "chisquare": "p", "wasserstein": "W", "jensenshannon": "JS", "psi": "PSI"}


def _statistic_text(col: ColumnDrift) -> str:
    if col.statistic is None:
        return "not tested"
    symbol = _SYMBOL.get(col.test, col.test)
    if col.test in ("ks", "chisquare"):
        value = f"{col.statistic:.2g}" if col.statistic >= 1e-3 else f"{col.statistic:.1e}"
        relation = "<" if col.drifted else "≥"
    else:
        value = f"{col.statistic:.3f}"
        relation = "≥" if col.drifted else "<"
    return f"{symbol}={value} {relation} {col.threshold:g}"


def drift_figure(report: DriftReport, worst: int = 4) -> go.Figure:
    """Drift score bars for every column plus distributions of the ``worst`` columns."""
    ranked = sorted(report.columns, key=lambda c: (-c.score, c.column))
    shown = [c for c in ranked if c.tested and c.distribution][:max(worst, 0)]
    dist_rows = math.ceil(len(shown) / 2)
    bar_height = max(160, 26 * len(report.columns) + 70)
    dist_height = 270
    total = bar_height + dist_rows * dist_height + 120
    titles = ["Drift score by column, most severe first (log scale)"]
    titles += [f"{c.column} · {c.test} · {_statistic_text(c)}" for c in shown]
    specs: list[list[dict[str, int] | None]] = [[{"colspan": 2}, None]]
    specs += [[{}, {}] for _ in range(dist_rows)]
    heights = [bar_height / total] + [dist_height / total] * dist_rows
    fig = make_subplots(rows=1 + dist_rows, cols=2, specs=specs, subplot_titles=titles,
                        row_heights=heights, vertical_spacing=min(0.5 / (1 + dist_rows),
                                                                  90 / total),
                        horizontal_spacing=0.08)
    _score_bars(fig, ranked)
    for i, col in enumerate(shown):
        _distribution(fig, col, row=2 + i // 2, col=1 + i % 2, legend=i == 0)
    summary = report.summary
    verdict = "dataset drift" if summary["dataset_drift"] else "no dataset drift"
    fig.update_layout(
        title={"text": (f"<b>Data drift</b>: {summary['drifted']} of {summary['tested']} "
                        f"columns drifted ({summary['share']:.0%}) · {verdict}"
                        f"<br><sup>dataset drift at ≥ {report.drift_share:.0%} of columns · "
                        f"reference {report.reference_rows:,} rows · current "
                        f"{report.current_rows:,} rows · {report.mode}</sup>"),
               "x": 0.01, "xanchor": "left"},
        template="plotly_white", height=int(total), barmode="group", bargap=0.15,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right",
                "x": 1.0},
        margin={"l": 10, "r": 20, "t": 100, "b": 40}, font={"size": 12},
        hoverlabel={"namelength": -1},
    )
    for annotation in fig.layout.annotations:  # subplot titles: left-aligned, smaller
        annotation.update(font={"size": 13})
    return fig


def _score_bars(fig: go.Figure, ranked: list[ColumnDrift]) -> None:
    names = [c.column for c in ranked]
    scores = [max(c.score, MIN_SCORE) if c.tested else MIN_SCORE for c in ranked]
    colors = [DRIFT_RED if c.drifted else STEADY_GREY for c in ranked]
    hover = [
        f"<b>{c.column}</b> ({c.kind})<br>{c.test}: {_statistic_text(c)}<br>"
        f"drifted: {'yes' if c.drifted else 'no'}<br>PSI: "
        f"{'-' if c.psi is None else f'{c.psi:.3f}'}"
        + (f"<br>{c.note}" if c.notes else "") for c in ranked]
    fig.add_trace(go.Bar(
        x=scores, y=names, orientation="h", marker={"color": colors}, showlegend=False,
        text=[_statistic_text(c) for c in ranked], textposition="outside", cliponaxis=False,
        hovertext=hover, hoverinfo="text", name="drift score"), row=1, col=1)
    top = max([*scores, 1.0]) * 4
    ticks = [t for t in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000)
             if t <= top]
    fig.update_xaxes(type="log", range=[math.log10(MIN_SCORE), math.log10(top)],
                     tickvals=ticks, ticktext=[f"{t:g}" for t in ticks],
                     title_text="drift score: statistic relative to its threshold "
                                "(dashed line = threshold; red = drifted)", row=1, col=1)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.add_vline(x=1, line={"dash": "dash", "color": DRIFT_RED, "width": 1.5}, row=1, col=1)


def _distribution(fig: go.Figure, drift: ColumnDrift, *, row: int, col: int,
                  legend: bool) -> None:
    position = {"row": row, "col": col}
    dist = drift.distribution
    if dist.get("type") == "histogram":
        edges = dist["edges"]
        centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        for name, color, shares in (("reference", REFERENCE_BLUE, dist["reference"]),
                                    ("current", CURRENT_ORANGE, dist["current"])):
            fig.add_trace(go.Scatter(
                x=centers, y=shares, name=name, legendgroup=name, showlegend=legend,
                mode="lines", line={"shape": "hvh", "color": color, "width": 2},
                fill="tozeroy", opacity=0.5,
                hovertemplate=f"{name}<br>%{{x:.4g}}: %{{y:.2%}}<extra></extra>"), **position)
        fig.update_xaxes(title_text=drift.column, **position)
    else:
        for name, color, shares in (("reference", REFERENCE_BLUE, dist["reference"]),
                                    ("current", CURRENT_ORANGE, dist["current"])):
            fig.add_trace(go.Bar(
                x=dist["labels"], y=shares, name=name, legendgroup=name, showlegend=legend,
                marker={"color": color},
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.2%}}<extra></extra>"), **position)
        fig.update_xaxes(title_text=drift.column, type="category", **position)
    fig.update_yaxes(title_text="share of values", tickformat=".0%", rangemode="tozero",
                     **position)
