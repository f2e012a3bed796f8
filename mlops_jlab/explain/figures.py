"""The three figures of an explanation (plotly, the views' shared look).

- importance: horizontal bars of the mean score drop with ± std error bars, the most
  important feature on top;
- partial dependence: small multiples, one panel per top feature, with the data's
  deciles as a rug under numeric curves;
- local: a waterfall of one row, from the reference output (base value) through the
  largest contributions to the row's output.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd

from ..widgets.theme import ERROR_RED, OK_GREEN, axis, color, figure_layout, fmt

MAX_BARS = 20
MAX_STEPS = 12


def importance_figure(importance: list[dict[str, Any]], scoring: str, rows: int,
                      repeats: int) -> Any:
    """Mean drop of the score per feature (top :data:`MAX_BARS`), with ± std."""
    import plotly.graph_objects as go

    shown = importance[:MAX_BARS][::-1]  # plotly draws the first bar at the bottom
    more = len(importance) - len(shown)
    subtitle = (f"drop in {escape(scoring)} when the feature's values are shuffled · "
                f"{repeats} repeats on {rows} rows"
                + (f" · {more} more feature(s) not shown" if more else ""))
    fig = go.Figure(layout=figure_layout("Permutation importance", subtitle,
                                         height=max(260, 70 + 24 * len(shown))))
    fig.add_trace(go.Bar(
        x=[r["mean"] for r in shown], y=[escape(r["feature"]) for r in shown],
        orientation="h", marker_color=[color(0) if r["mean"] >= 0 else "#9e9e9e"
                                       for r in shown],
        error_x={"type": "data", "array": [r["std"] for r in shown], "thickness": 1.2,
                 "color": "#555"},
        customdata=[[r["std"]] for r in shown],
        hovertemplate="<b>%{y}</b><br>mean drop %{x:.4g} ± %{customdata[0]:.2g}"
                      "<extra></extra>"))
    fig.update_layout(xaxis=axis(f"mean drop in {escape(scoring)}"),
                      yaxis=axis("", automargin=True), showlegend=False,
                      margin={"l": 160, "r": 30, "t": 80, "b": 50})
    return fig


def dependence_figure(dependence: list[dict[str, Any]], frame: pd.DataFrame) -> Any:
    """One panel per feature: the average output along the feature's grid."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    count = max(1, len(dependence))
    cols = min(2, count)
    nrows = math.ceil(count / cols)
    target = dependence[0].get("target", "output") if dependence else "output"
    fig = make_subplots(rows=nrows, cols=cols, horizontal_spacing=0.12,
                        vertical_spacing=0.22 if nrows > 1 else 0.1,
                        subplot_titles=[escape(d["feature"]) for d in dependence] or [""])
    for i, entry in enumerate(dependence):
        row, col = i // cols + 1, i % cols + 1
        name = escape(entry["feature"])
        if entry["kind"] == "categorical":
            fig.add_trace(go.Bar(
                x=[str(g) for g in entry["grid"]], y=entry["average"], marker_color=color(i),
                name=name, hovertemplate=f"{name} = %{{x}}<br>average %{{y:.4g}}"
                                         "<extra></extra>"), row=row, col=col)
        else:
            fig.add_trace(go.Scatter(
                x=entry["grid"], y=entry["average"], mode="lines+markers", name=name,
                line={"color": color(i), "width": 2}, marker={"size": 5},
                hovertemplate=f"{name} = %{{x:.4g}}<br>average %{{y:.4g}}<extra></extra>"),
                row=row, col=col)
            _rug(fig, frame, entry, row, col)
        fig.update_xaxes(axis(name), row=row, col=col)
        fig.update_yaxes(axis("average " + escape(str(target)) if col == 1 else ""),
                         row=row, col=col)
    fig.update_layout(**figure_layout(
        "Partial dependence", f"average {escape(str(target))} as one feature varies, the "
        "others as in the data" + (" · ticks: deciles of the data" if any(
            d["kind"] == "numeric" for d in dependence) else ""),
        height=120 + 260 * nrows), showlegend=False)
    return fig


def _rug(fig: Any, frame: pd.DataFrame, entry: dict[str, Any], row: int, col: int) -> None:
    """The feature's deciles as ticks at the bottom of its panel."""
    import plotly.graph_objects as go

    values = pd.to_numeric(frame[entry["feature"]], errors="coerce").dropna()
    averages = [a for a in entry["average"] if a is not None]
    if values.empty or not averages:
        return
    deciles = values.quantile([i / 10 for i in range(1, 10)]).tolist()
    low, high = min(averages), max(averages)
    floor = low - 0.04 * ((high - low) or abs(low) or 1.0)
    fig.add_trace(go.Scatter(
        x=deciles, y=[floor] * len(deciles), mode="markers", name="deciles",
        marker={"symbol": "line-ns-open", "size": 12, "color": "#9e9e9e"},
        hovertemplate=f"decile of {escape(entry['feature'])}: %{{x:.4g}}<extra></extra>"),
        row=row, col=col)


def local_figure(local: dict[str, Any], target: str, method: str, row: int = 0) -> Any:
    """A waterfall of one row: base value, its largest contributions (the rest summed),
    what the method leaves unattributed (occlusion), the row's output."""
    import plotly.graph_objects as go

    rows = local.get("rows") or []
    if not rows:
        fig = go.Figure(layout=figure_layout("Per-row explanation", "no rows explained"))
        return fig
    entry = rows[min(row, len(rows) - 1)]
    features = local["features"]
    base = entry.get("base_value", local.get("base_value")) or 0.0
    items = sorted(zip(features, entry["values"], entry["contributions"], strict=True),
                   key=lambda t: abs(t[2] or 0.0), reverse=True)
    shown, rest = items[:MAX_STEPS], items[MAX_STEPS:]
    labels = ["reference"] + [f"{escape(str(f))} = {fmt(v)}" for f, v, _ in shown]
    steps = [base] + [c or 0.0 for _, _, c in shown]
    hover = [f"output at the reference row: {base:.4g}"] + \
        [f"{escape(str(f))} = {fmt(v)}<br>contribution {c or 0.0:+.4g}" for f, v, c in shown]
    measures = ["absolute"] + ["relative"] * len(shown)
    if rest:
        total = sum(c or 0.0 for _, _, c in rest)
        labels.append(f"{len(rest)} other features")
        steps.append(total)
        hover.append(f"{len(rest)} other features together: {total:+.4g}")
        measures.append("relative")
    prediction = entry.get("prediction")
    attributed = base + sum(c or 0.0 for c in entry["contributions"])
    if prediction is not None and abs(prediction - attributed) > 1e-6 * max(1.0, abs(base)):
        labels.append("not attributed")
        steps.append(prediction - attributed)
        hover.append("interactions the method does not split between features: "
                     f"{prediction - attributed:+.4g}")
        measures.append("relative")
    labels.append("this row")
    steps.append(prediction if prediction is not None else attributed)
    hover.append(f"output for row {entry['index']}: {steps[-1]:.4g}")
    measures.append("total")
    klass = f" (class '{entry['class']}')" if entry.get("class") is not None else ""
    fig = go.Figure(layout=figure_layout(
        f"Why row {entry['index']} gets {steps[-1]:.3g}",
        f"{escape(target)}{escape(klass)} · {escape(method)} · contributions against the "
        "reference row (median / most frequent value)",
        height=max(320, 110 + 26 * len(labels))))
    fig.add_trace(go.Waterfall(
        orientation="h", y=labels[::-1], x=steps[::-1], measure=measures[::-1],
        hovertext=hover[::-1], hoverinfo="text",
        text=[f"{s:+.3g}" if m == "relative" else f"{s:.3g}"
              for s, m in zip(steps[::-1], measures[::-1], strict=True)],
        textposition="outside",
        increasing={"marker": {"color": OK_GREEN}},
        decreasing={"marker": {"color": ERROR_RED}},
        totals={"marker": {"color": color(0)}},
        connector={"line": {"color": "rgba(128,128,128,0.4)", "width": 1}}))
    fig.update_layout(xaxis=axis(escape(target)), yaxis=axis("", automargin=True),
                      showlegend=False, margin={"l": 200, "r": 40, "t": 80, "b": 50})
    return fig


def as_dict(figure: Any) -> dict[str, Any]:
    """A figure as plain JSON (what the record stores)."""
    import json

    return dict(json.loads(figure.to_json()))
