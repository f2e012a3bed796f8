"""The result card of a ``%%mlops_train`` cell: the run, its metrics and params, and
(when the cell stored a model that is not registered yet) a Register button."""

from __future__ import annotations

import logging
import re
from html import escape
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, MlopsError
from .display import View
from .theme import BORDER, BUSY_BLUE, ERROR_RED, FONT, MUTED, OK_GREEN, fmt

if TYPE_CHECKING:
    import ipywidgets

    from ..registry import ModelVersion
    from ..tracking.records import Run, RunDetail

log = logging.getLogger(__name__)
_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]+")
STATUS_COLORS = {"finished": OK_GREEN, "failed": ERROR_RED, "running": BUSY_BLUE,
                 "killed": "#6d4c41"}


def run_card_html(run: Run, model: str | None = None, max_params: int = 8,
                  registered: Any = None) -> str:
    """HTML summary of a run for notebook output (works without a widget manager):
    name, status, experiment, duration, metrics, params, model; everything escaped."""
    color = STATUS_COLORS.get(run.status, "#555")
    duration = f"{run.duration:.2f} s" if run.duration is not None else "running"
    metrics = "".join(
        f"<tr><td style='padding:1px 10px 1px 0;color:{MUTED}'>{escape(k)}</td>"
        f"<td style='text-align:right;font-variant-numeric:tabular-nums'>{fmt(v)}</td></tr>"
        for k, v in sorted(run.metrics.items()))
    params = sorted(run.params.items())
    shown = ", ".join(f"{escape(k)}={fmt(v)}" for k, v in params[:max_params])
    more = f" … (+{len(params) - max_params})" if len(params) > max_params else ""
    reg = (f" · registered as <b>{escape(registered.name)} v{registered.version}</b>"
           if registered is not None else "")
    model_line = (f"<div style='margin-top:4px'><b>model</b> {escape(model)}{reg}</div>"
                  if model else "")
    return (
        f"<div class='mlops-run-card' style='border:1px solid {BORDER};border-left:4px "
        f"solid {color};border-radius:4px;padding:6px 10px;{FONT};max-width:640px'>"
        f"<div><b>{escape(run.name)}</b> "
        f"<span style='color:{color};font-weight:600'>{escape(run.status)}</span> "
        f"<span style='color:{MUTED}'>· {escape(run.experiment_name)} · {duration}</span>"
        "</div>"
        f"<div style='color:{MUTED};font-size:11px'>run id <code>{escape(run.id)}</code></div>"
        + (f"<table style='margin-top:4px;border-collapse:collapse'>{metrics}</table>"
           if metrics else "")
        + (f"<div style='margin-top:4px'><b>params</b> {shown}{more}</div>"
           if params else "")
        + model_line + "</div>"
    )


def suggest_model_name(run: RunDetail, model: str | None = None) -> str:
    """A registry name for the run's model: its experiment's name (or, for the default
    experiment, the model class), reduced to the characters a model name allows."""
    base = run.experiment_name
    if not base or base.lower() == "default":
        base = model or run.name
    name = _NOT_NAME.sub("-", base).strip("-._")
    while ".." in name:
        name = name.replace("..", ".")
    return name[:128] or "model"


def _message(text: str, color: str) -> str:
    return f"<div style='{FONT};color:{color}'>{text}</div>"


class RunCard(View):
    """A run's card; ``register(name)`` (or the button) registers its stored model.

    ``model`` is the model class shown on the card; ``model_path`` the artifact folder
    of the model (``model`` as ``%%mlops_train`` stores it); ``registered`` the version
    already registered (then no button).
    """

    def __init__(self, run: RunDetail, model: str | None = None, *,
                 registered: ModelVersion | None = None, model_path: str = "model") -> None:
        super().__init__()
        self.run = run
        self.model = model
        self.model_path = model_path
        self.registered = registered
        self.error: str | None = None
        self.default_name = suggest_model_name(run, model)

    @property
    def registrable(self) -> bool:
        """The run stored a model (``<model_path>/manifest.json``) not registered yet."""
        manifest = f"{self.model_path}/manifest.json"
        return self.registered is None and any(
            a.get("path") == manifest for a in self.run.artifacts)

    # ------------------------------------------------------------ renderings
    def html(self) -> str:
        out = run_card_html(self.run, self.model, registered=self.registered)
        if self.error:
            out += _message(escape(self.error), ERROR_RED)
        return out

    def text(self) -> str:
        run = self.run
        duration = f"{run.duration:.2f} s" if run.duration is not None else "running"
        metrics = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in sorted(run.metrics.items())[:6])
        reg = (f" · registered as {self.registered.name} v{self.registered.version}"
               if self.registered is not None else "")
        return (f"run {run.name} {run.status} · {run.experiment_name} · {duration}"
                + (f" · {metrics}" if metrics else "") + reg)

    def build_widget(self) -> ipywidgets.Widget:
        import ipywidgets as w

        self.card = w.HTML(run_card_html(self.run, self.model, registered=self.registered))
        self.name_box = w.Text(value=self.default_name, description="Model name",
                               placeholder="e.g. churn-classifier",
                               layout=w.Layout(width="320px"),
                               style={"description_width": "initial"})
        self.register_button = w.Button(description="Register", icon="archive",
                                        button_style="primary",
                                        tooltip="Register the run's model as the next "
                                                "version of this name")
        self.register_button.on_click(lambda _button: self.register(self.name_box.value))
        self.register_row = w.HBox([self.name_box, self.register_button])
        if not self.registrable:
            self.register_row.layout.display = "none"
        self.message = w.HTML("")
        return w.VBox([self.card, self.register_row, self.message],
                      _dom_classes=["mlops-run-card-widget"])

    # ------------------------------------------------------------ action
    def register(self, name: str | None = None) -> ModelVersion | None:
        """Register the run's stored model as the next version of ``name`` (default:
        the suggested name); the card then shows the version. An error is shown on the
        card (and kept in :attr:`error`) and ``None`` returned: nothing is registered."""
        from ..client import registry as api_registry

        name = (name or "").strip() or self.default_name
        button = self.register_button if self.has_widget else None
        if button is not None:
            button.disabled = True
            self.message.value = _message(f"registering as {escape(name)}…", BUSY_BLUE)
        try:
            if self.registered is not None:
                raise Conflict(f"already registered as {self.registered.name} "
                               f"v{self.registered.version}")
            version = api_registry.register_model(self.run.id, name, self.model_path)
        except MlopsError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a button callback has nowhere else to report
            log.exception("registering the model of run %s failed", self.run.id)
            self.error = f"unexpected error ({type(exc).__name__}): {exc}"
        else:
            self.registered, self.error = version, None
        if self.has_widget:
            self._update_widget()
        self.refresh()
        return self.registered if self.error is None else None

    def _update_widget(self) -> None:
        self.card.value = run_card_html(self.run, self.model, registered=self.registered)
        if self.error:
            self.message.value = _message(escape(self.error), ERROR_RED)
            self.register_button.disabled = False
            return
        version = self.registered
        assert version is not None
        self.message.value = _message(
            f"✓ registered as <b>{escape(version.name)} v{version.version}</b>", OK_GREEN)
        self.register_row.layout.display = "none"

