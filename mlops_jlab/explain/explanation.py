"""``Explanation``: a record as tables and figures in a notebook."""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd


@dataclass
class Explanation:
    """An explanation record (``.record``) with its parts as DataFrames and figures.

    ``.importance``: feature, mean, std (descending); ``.partial_dependence``: feature →
    DataFrame(grid, average); ``.local``: rows x features of contributions (index = the
    row's position in the data, plus ``prediction`` and ``base_value`` columns);
    ``.figures``: importance, partial_dependence, local (plotly figures).
    """

    record: dict[str, Any]

    @property
    def id(self) -> str | None:
        return self.record.get("id")

    @property
    def stored(self) -> bool:
        """Whether the record is stored on a model version."""
        return bool(self.record.get("id"))

    @property
    def importance(self) -> pd.DataFrame:
        return pd.DataFrame(self.record.get("importance") or [],
                            columns=["feature", "mean", "std"])

    @property
    def partial_dependence(self) -> dict[str, pd.DataFrame]:
        return {d["feature"]: pd.DataFrame({"grid": d["grid"], "average": d["average"]})
                for d in self.record.get("partial_dependence") or []}

    @property
    def local(self) -> pd.DataFrame:
        local = self.record.get("local") or {}
        rows = local.get("rows") or []
        frame = pd.DataFrame([r["contributions"] for r in rows],
                             columns=local.get("features") or [],
                             index=pd.Index([r["index"] for r in rows], name="row"))
        frame["prediction"] = [r.get("prediction") for r in rows]
        frame["base_value"] = [r.get("base_value", local.get("base_value")) for r in rows]
        return frame

    @property
    def figures(self) -> dict[str, Any]:
        import plotly.graph_objects as go

        return {k: go.Figure(v) for k, v in (self.record.get("figures") or {}).items()}

    def summary(self) -> str:
        """One line: what was explained, on how many rows, the top features."""
        r = self.record
        where = f"{r['model']} v{r['version']}" if r.get("model") else \
            str(r.get("model_uri") or "model")
        top = ", ".join(i["feature"] for i in (r.get("importance") or [])[:3])
        when = ""
        if r.get("created_at"):
            when = time.strftime(" · %Y-%m-%d %H:%M UTC", time.gmtime(r["created_at"] / 1000))
            when += f" by {r.get('created_by')}"
        stored = "stored" if self.stored else "not stored"
        return (f"explanation of {where} on {r.get('rows')} rows ({r.get('task')}, "
                f"{r.get('local_method')}, {stored}{when}); top features: {top or '—'}")

    def _repr_html_(self) -> str:
        from ..widgets.theme import figure_html

        head = (f"<p><b>{escape(self.summary())}</b><br>per-row values explain the "
                f"{escape(str(self.record.get('target')))}; importance measures the drop in "
                f"{escape(str(self.record.get('scoring')))}</p>")
        table = self.importance.head(10).to_html(index=False, float_format="{:.4g}".format)
        figures = self.figures
        parts = [figure_html(figures[k], include_plotlyjs="cdn" if i == 0 else False)
                 for i, k in enumerate(("importance", "partial_dependence", "local"))
                 if k in figures]
        return head + table + "".join(parts)

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        from ..widgets.theme import figure_bundle

        display(HTML(f"<p><b>{escape(self.summary())}</b></p>"
                     + self.importance.head(10).to_html(index=False,
                                                        float_format="{:.4g}".format)))
        for figure in self.figures.values():
            display(figure_bundle(figure), raw=True)
