"""The compact HTML card a training cell shows: run, status, duration, metrics, model."""

from __future__ import annotations

from html import escape
from typing import Any

from ..tracking.records import Run

_COLORS = {"finished": "#2e7d32", "failed": "#c62828", "running": "#1565c0",
           "killed": "#6d4c41"}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def run_card_html(run: Run, model: str | None = None, max_params: int = 8,
                  registered: Any = None) -> str:
    """HTML summary of a run for notebook output (works without a widget manager)."""
    color = _COLORS.get(run.status, "#555")
    duration = f"{run.duration:.2f} s" if run.duration is not None else "running"
    metrics = "".join(
        f"<tr><td style='padding:1px 10px 1px 0;color:#666'>{escape(k)}</td>"
        f"<td style='text-align:right;font-variant-numeric:tabular-nums'>{_fmt(v)}</td></tr>"
        for k, v in sorted(run.metrics.items()))
    params = sorted(run.params.items())
    shown = ", ".join(f"{escape(k)}={_fmt(v)}" for k, v in params[:max_params])
    more = f" … (+{len(params) - max_params})" if len(params) > max_params else ""
    reg = (f" · registered as <b>{escape(registered.name)} v{registered.version}</b>"
           if registered is not None else "")
    model_line = (f"<div style='margin-top:4px'><b>model</b> {escape(model)}{reg}</div>"
                  if model else "")
    return (
        "<div class='mlops-run-card' style='border:1px solid #ddd;border-left:4px solid "
        f"{color};border-radius:4px;padding:6px 10px;font-size:12px;max-width:640px;"
        "font-family:var(--jp-ui-font-family, sans-serif)'>"
        f"<div><b>{escape(run.name)}</b> "
        f"<span style='color:{color};font-weight:600'>{escape(run.status)}</span> "
        f"<span style='color:#666'>· {escape(run.experiment_name)} · {duration}</span></div>"
        f"<div style='color:#888;font-size:11px'>run id <code>{escape(run.id)}</code></div>"
        + (f"<table style='margin-top:4px;border-collapse:collapse'>{metrics}</table>"
           if metrics else "")
        + (f"<div style='margin-top:4px;color:#444'><b>params</b> {shown}{more}</div>"
           if params else "")
        + model_line + "</div>"
    )
