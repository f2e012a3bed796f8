"""Colors, HTML helpers and the plotly layout shared by the notebook views.

Figures use ``plotly_white`` with transparent backgrounds and a mid-grey font, so they
read on JupyterLab's light and dark themes alike; runs keep one color across every
figure of a view (the i-th run always takes the i-th palette color).
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import Any

PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
           "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]
FONT_COLOR = "#737373"
GRID_COLOR = "rgba(128, 128, 128, 0.25)"
OK_GREEN = "#2e7d32"
ERROR_RED = "#c62828"
BUSY_BLUE = "#1565c0"
BEST_GOLD = "#f2b701"  # the star on the best point of a sweep or search
DIFF_BACKGROUND = "rgba(255, 193, 7, 0.18)"  # amber, translucent: light and dark themes
BORDER = "var(--jp-border-color2, #ddd)"
MUTED = "var(--jp-ui-font-color2, #777)"
FONT = "font-family:var(--jp-ui-font-family, sans-serif);font-size:12px"


def color(index: int) -> str:
    """The palette color of the ``index``-th run."""
    return PALETTE[index % len(PALETTE)]


def fmt(value: Any) -> str:
    """A compact, escaped rendering of a param or metric value (``—`` when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def figure_layout(title: str, subtitle: str = "", **extra: Any) -> dict[str, Any]:
    """The layout every figure of the views starts from."""
    text = f"<b>{title}</b>" + (f"<br><sup>{subtitle}</sup>" if subtitle else "")
    layout: dict[str, Any] = {
        "title": {"text": text, "x": 0.01, "xanchor": "left"},
        "template": "plotly_white",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": FONT_COLOR, "size": 12},
        "hoverlabel": {"namelength": -1},
        "margin": {"l": 60, "r": 30, "t": 80, "b": 50},
        "height": 400,
    }
    layout.update(extra)
    return layout


def axis(title: str, **extra: Any) -> dict[str, Any]:
    """An axis with a title and translucent grid lines."""
    return {"title": {"text": title}, "gridcolor": GRID_COLOR, "zerolinecolor": GRID_COLOR,
            **extra}


def figure_bundle(figure: Any) -> dict[str, Any]:
    """The MIME bundle of a plotly figure: the plotly JSON (JupyterLab renders it) and
    standalone HTML (plotly.js from its CDN) for anything else."""
    import json

    return {"application/vnd.plotly.v1+json": {**json.loads(figure.to_json()),
                                               "config": {"displaylogo": False,
                                                          "responsive": True}},
            "text/html": figure_html(figure, include_plotlyjs="cdn"),
            "text/plain": f"<plotly figure: {plain_title(figure)}>"}


def plain_title(figure: Any) -> str:
    """A figure's title without its markup (first line only)."""
    text = str(figure.layout.title.text or "untitled").split("<br>")[0]
    return re.sub(r"<[^>]+>", "", text)


def figure_html(figure: Any, include_plotlyjs: bool | str = "cdn") -> str:
    """A figure as an HTML fragment (plotly escapes ``</`` in the embedded JSON)."""
    return str(figure.to_html(full_html=False, include_plotlyjs=include_plotlyjs,
                              config={"displaylogo": False, "responsive": True}))
