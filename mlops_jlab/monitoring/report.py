"""The drift report: per-column results, a dataset verdict, and their views.

Views: ``summary`` (dict), ``to_frame()`` (one row per column), ``to_dict()`` (JSON for
REST and storage), ``figure()`` (plotly), ``_repr_html_()`` (notebooks) and
``save_html(path)`` (a self-contained file that opens offline).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

FRAME_COLUMNS = ["column", "kind", "test", "statistic", "threshold", "drifted", "psi",
                 "psi_significant", "note"]


@dataclass
class ColumnDrift:
    """The drift result of one column.

    ``statistic`` is the p-value for ``ks`` and ``chisquare`` (drift when below
    ``threshold``) and the distance for ``wasserstein``, ``jensenshannon`` and ``psi``
    (drift when at or above it); ``None`` when the column could not be tested (see
    ``notes``). ``score`` puts every test on one scale where 1 is the threshold (see
    :func:`~.stattests.severity`). ``bounds`` is set when the statistic was computed
    from streamed summaries and is not exact: the exact value lies within it.
    """

    column: str
    kind: str
    test: str
    threshold: float
    statistic: float | None = None
    drifted: bool = False
    psi: float | None = None
    psi_significant: bool = False
    score: float = 0.0
    notes: list[str] = field(default_factory=list)
    reference_values: int = 0
    current_values: int = 0
    reference_missing_share: float = 0.0
    current_missing_share: float | None = None
    new_categories: list[str] = field(default_factory=list)
    bounds: tuple[float, float] | None = None
    details: dict[str, float] = field(default_factory=dict)
    distribution: dict[str, Any] = field(default_factory=dict)

    @property
    def tested(self) -> bool:
        """Whether a statistic could be computed."""
        return self.statistic is not None

    @property
    def note(self) -> str:
        """The notes as one line."""
        return "; ".join(self.notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers become ``None``)."""
        return _jsonable({
            "column": self.column, "kind": self.kind, "test": self.test,
            "statistic": self.statistic, "threshold": self.threshold, "drifted": self.drifted,
            "psi": self.psi, "psi_significant": self.psi_significant, "score": self.score,
            "notes": list(self.notes), "reference_values": self.reference_values,
            "current_values": self.current_values,
            "reference_missing_share": self.reference_missing_share,
            "current_missing_share": self.current_missing_share,
            "new_categories": list(self.new_categories),
            "bounds": list(self.bounds) if self.bounds is not None else None,
            "details": dict(self.details), "distribution": self.distribution,
        })


@dataclass
class DriftReport:
    """Data drift of a current window against a reference, column by column.

    ``mode`` is ``"exact"`` (the current window was in memory: every statistic is the
    exact one) or ``"streamed"`` (computed from bounded summaries of chunks; see
    :mod:`.window` for what is approximate and how far).
    """

    columns: list[ColumnDrift]
    drift_share: float
    psi_threshold: float
    mode: str
    reference_rows: int
    current_rows: int
    chunks: int = 1
    reference_source: str = "dataframe"
    thresholds: dict[str, float] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    """Where the data came from (deployment, model, version, window) when the monitoring
    service made the report."""
    plotlyjs: bool | str = True
    """How :meth:`_repr_html_` embeds plotly.js (plotly's ``include_plotlyjs``): ``True``
    inline, the default, which renders offline in JupyterLab (about 4.8 MB per displayed
    report); ``False`` when the page already has plotly.js; ``"cdn"`` needs a network."""

    # ------------------------------------------------------------------ verdict
    @property
    def tested(self) -> list[ColumnDrift]:
        """Columns for which a statistic could be computed."""
        return [c for c in self.columns if c.tested]

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted columns, most severe first."""
        return [c.column for c in sorted(self.columns, key=lambda c: -c.score) if c.drifted]

    @property
    def share(self) -> float:
        """Share of drifted columns among the tested ones (0 when none could be tested)."""
        tested = len(self.tested)
        return sum(c.drifted for c in self.columns) / tested if tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        """Dataset drift: at least ``drift_share`` of the tested columns drifted."""
        return bool(self.tested) and self.share >= self.drift_share

    @property
    def summary(self) -> dict[str, Any]:
        """Dataset verdict, counts and the thresholds in force."""
        return {
            "dataset_drift": self.dataset_drift,
            "share": self.share,
            "drifted": sum(c.drifted for c in self.columns),
            "columns": len(self.columns),
            "tested": len(self.tested),
            "drifted_columns": self.drifted_columns,
            "psi_significant": sum(c.psi_significant for c in self.columns),
            "thresholds": {"drift_share": self.drift_share, "psi": self.psi_threshold,
                           **self.thresholds},
            "mode": self.mode,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
        }

    def __getitem__(self, column: str) -> ColumnDrift:
        for col in self.columns:
            if col.column == column:
                return col
        raise KeyError(column)

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        """One row per column: column, kind, test, statistic, threshold, drifted, psi, note."""
        rows = [{"column": c.column, "kind": c.kind, "test": c.test, "statistic": c.statistic,
                 "threshold": c.threshold, "drifted": c.drifted, "psi": c.psi,
                 "psi_significant": c.psi_significant, "note": c.note} for c in self.columns]
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        for col in ("statistic", "psi"):
            frame[col] = frame[col].astype(float)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form: the summary plus every column's result and distributions."""
        return _jsonable({
            "summary": self.summary,
            "chunks": self.chunks,
            "reference_source": self.reference_source,
            "extra_columns": list(self.extra_columns),
            "context": dict(self.context),
            "columns": [c.to_dict() for c in self.columns],
        })

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict())

    def figure(self, worst: int = 4) -> go.Figure:
        """Plotly figure: drift score bars by severity and the ``worst`` columns' distributions."""
        from .figure import drift_figure

        return drift_figure(self, worst=worst)

    def html(self, *, plotlyjs: bool | str = True, full_html: bool = False) -> str:
        """Summary, table and figure as HTML (``plotlyjs`` as in plotly's ``to_html``)."""
        figure = self.figure().to_html(full_html=False, include_plotlyjs=plotlyjs,
                                       config={"displaylogo": False, "responsive": True})
        body = _summary_html(self) + _table_html(self) + figure
        if not full_html:
            return f'<div class="mlops-drift-report">{body}</div>'
        title = "Data drift report"
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                f"<title>{title}</title></head><body style=\"font-family: system-ui, "
                f"sans-serif; margin: 24px\">{body}</body></html>\n")

    def _repr_html_(self) -> str:
        return self.html(plotlyjs=self.plotlyjs)

    def save_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML page (plotly.js inline: opens offline)."""
        target = Path(path)
        target.write_text(self.html(plotlyjs=True, full_html=True), encoding="utf-8")
        return target

    def __repr__(self) -> str:
        s = self.summary
        return (f"<DriftReport dataset_drift={s['dataset_drift']} drifted={s['drifted']}/"
                f"{s['tested']} share={s['share']:.2f} mode={self.mode}>")


DRIFT_RED = "#d64541"
STEADY_GREY = "#8c9bb0"


def _fmt(value: float | None, test: str | None = None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if test in ("ks", "chisquare"):
        return f"{value:.3g}" if value >= 1e-4 else f"{value:.1e}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.3g}"


def _summary_html(report: DriftReport) -> str:
    s = report.summary
    verdict = "Dataset drift detected" if s["dataset_drift"] else "No dataset drift"
    color = DRIFT_RED if s["dataset_drift"] else "#2e8b57"
    drifted = ", ".join(html.escape(c) for c in s["drifted_columns"][:12]) or "none"
    if len(s["drifted_columns"]) > 12:
        drifted += f", … (+{len(s['drifted_columns']) - 12})"
    return (
        f'<div style="border-left: 4px solid {color}; padding: 4px 12px; margin: 4px 0 10px">'
        f'<div style="font-size: 1.15em; font-weight: 600; color: {color}">{verdict}</div>'
        f"<div>{s['drifted']} of {s['tested']} tested columns drifted "
        f"(share {s['share']:.0%}; dataset drift at ≥ {report.drift_share:.0%}) · "
        f"{s['psi_significant']} with PSI ≥ {report.psi_threshold:g} · "
        f"reference {report.reference_rows:,} rows · current {report.current_rows:,} rows"
        f" · {report.mode}</div>"
        f"<div>Drifted: {drifted}</div></div>")


def _table_html(report: DriftReport) -> str:
    head = "".join(f"<th style=\"text-align:left; padding: 2px 8px\">{h}</th>" for h in
                   ("column", "kind", "test", "statistic", "threshold", "drifted", "PSI", "note"))
    rows = []
    for c in sorted(report.columns, key=lambda c: -c.score):
        style = f"color: {DRIFT_RED}; font-weight: 600" if c.drifted else ""
        cells = (html.escape(c.column), c.kind, c.test, _fmt(c.statistic, c.test),
                 f"{c.threshold:g}", "yes" if c.drifted else "no",
                 _fmt(c.psi) + (" ⚠" if c.psi_significant else ""), html.escape(c.note))
        tds = "".join(f'<td style="padding: 2px 8px">{v}</td>' for v in cells)
        rows.append(f'<tr style="{style}">{tds}</tr>')
    return ('<details open><summary style="cursor: pointer">Columns</summary>'
            '<table style="border-collapse: collapse; font-size: 0.9em; margin: 6px 0">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>")


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, non-finite floats as ``None``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
