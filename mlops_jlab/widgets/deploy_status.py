"""The live status of a deployment while ``%mlops_deploy`` waits for it, then its card.

The magic's waiting loop feeds :meth:`DeployStatus.update` (the ``progress`` callback
of :meth:`~mlops_jlab.client.serving.DeploymentHandle.wait_ready`); no thread of its
own. While waiting, the view shows the status, replicas ready of desired, traffic,
endpoint and the latest event; once ready, the endpoint card with a curl command and
the token (shown once).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from .display import View, in_kernel, widgets_enabled
from .theme import BORDER, BUSY_BLUE, ERROR_RED, FONT, MUTED, OK_GREEN

if TYPE_CHECKING:
    import ipywidgets

    from ..client.serving import DeploymentHandle
    from ..serving.records import Deployment, DeploymentEvent

REFRESH_SECONDS = 0.25  # HTML-only displays are re-published at most this often


def traffic_text(info: Deployment) -> str:
    """``v3 90% · v4 10%`` (plus ``· shadow v5``)."""
    traffic = " · ".join(f"v{t['version']} {t['weight']}%"
                         for t in info.desired.get("traffic") or [])
    shadow = info.desired.get("shadow")
    return traffic + (f" · shadow v{shadow}" if shadow else "")


def ready_replicas(revision: int, events: Sequence[DeploymentEvent]) -> int:
    """Replicas of ``revision`` whose latest event says ready (``events`` newest first)."""
    state: dict[Any, bool] = {}
    for event in reversed(events):
        index = event.data.get("replica")
        if index is None or event.data.get("revision") != revision:
            continue
        if event.kind == "ready":
            state[index] = True
        elif event.kind in ("crashed", "started", "restarted"):
            state[index] = False
    return sum(state.values())


def deployment_card_html(info: Deployment, token: str | None, curl: str,
                         title: str = "ready") -> str:
    """The card of a deployment that serves: endpoint, curl command, token (once)."""
    token_line = (f"<div><b>token</b> <code>{escape(token)}</code> "
                  f"<span style='color:{MUTED}'>(shown once; store it)</span></div>"
                  if token else "")
    return (
        f"<div class='mlops-deploy-card' style='border:1px solid {BORDER};border-left:4px "
        f"solid {OK_GREEN};border-radius:4px;padding:6px 10px;{FONT};max-width:760px'>"
        f"<div><b>{escape(info.name)}</b> {escape(title)} · {escape(info.environment)} · "
        f"{escape(info.model)} {escape(traffic_text(info))} · "
        f"{info.desired.get('replicas', 1)} replica(s) · revision {info.revision}</div>"
        f"<div><b>endpoint</b> <code>{escape(info.url)}</code></div>{token_line}"
        f"<pre style='margin:4px 0'>{escape(curl)}</pre></div>")


class DeployStatus(View):
    """A deployment coming up: ``start()``, ``update(info, events)`` on every poll,
    then ``finish()`` or ``fail(message)``."""

    def __init__(self, handle: DeploymentHandle, info: Deployment | None = None,
                 title: str = "ready") -> None:
        super().__init__()
        self.handle = handle
        self.title = title
        self.info: Deployment = info if info is not None else handle.info
        self.phase = "starting"
        self.ready = 0
        self.last_event = ""
        self.error: str | None = None
        self.curl = ""
        self._started = time.monotonic()
        self._published = 0.0
        self._live = False

    # ------------------------------------------------------------ renderings
    @property
    def desired_replicas(self) -> int:
        return int(self.info.desired.get("replicas", 1))

    def html(self) -> str:
        if self.phase == "ready":
            return deployment_card_html(self.info, self.handle.token, self.curl, self.title)
        info = self.info
        color = ERROR_RED if self.phase == "failed" else BUSY_BLUE
        desired = max(self.desired_replicas, 1)
        share = min(self.ready / desired, 1.0)
        elapsed = int(time.monotonic() - self._started)
        bar = (f"<div style='display:inline-block;vertical-align:middle;width:120px;"
               f"height:6px;border-radius:3px;background:{BORDER};margin:0 6px'>"
               f"<div style='width:{share:.0%};height:6px;border-radius:3px;"
               f"background:{color}'></div></div>")
        detail = (f"<pre style='margin:4px 0;white-space:pre-wrap;color:{ERROR_RED}'>"
                  f"{escape(self.error)}</pre>" if self.error else
                  f"<div style='color:{MUTED}'>{escape(self.last_event)}</div>"
                  if self.last_event else "")
        return (
            f"<div class='mlops-deploy-status' style='border:1px solid {BORDER};"
            f"border-left:4px solid {color};border-radius:4px;padding:6px 10px;{FONT};"
            "max-width:760px'>"
            f"<div><b>{escape(info.name)}</b> <span style='color:{color};font-weight:600'>"
            f"{escape(self.phase)}</span> · {escape(info.environment)} · "
            f"{escape(info.model)} {escape(traffic_text(info))} · revision {info.revision}"
            f" · {elapsed} s</div>"
            f"<div>replicas ready {bar}{self.ready}/{self.desired_replicas}</div>"
            f"<div><b>endpoint</b> <code>{escape(info.url)}</code></div>{detail}</div>")

    def text(self) -> str:
        return (f"deployment {self.info.name} {self.phase} · {self.ready}/"
                f"{self.desired_replicas} replica(s) ready · {self.info.url}")

    def build_widget(self) -> ipywidgets.Widget:
        import ipywidgets as w

        return w.HTML(self.html(), _dom_classes=["mlops-deploy-status-widget"])

    # ------------------------------------------------------------ progress
    def start(self) -> DeployStatus:
        """Show the live status where a frontend can update it (a widget, or a display
        that takes updates inside a kernel); elsewhere only the final card is shown."""
        if widgets_enabled() or in_kernel():
            self._live = True
            self.show()
        return self

    def update(self, info: Deployment, events: Sequence[DeploymentEvent]) -> None:
        """Take a poll of the waiting loop: the deployment and its newest events."""
        self.info = info
        self.ready = ready_replicas(info.revision, events)
        if events:
            self.last_event = events[0].message
        self._render(final=False)

    def finish(self) -> None:
        """The deployment serves: show its card."""
        self.info = self.handle.info
        self.curl = self.handle.curl()
        self.phase = "ready"
        self.ready = max(self.ready, 1)
        self._render(final=True)

    def fail(self, message: str) -> None:
        """Waiting failed (timeout, crashed workers): show why."""
        self.phase, self.error = "failed", message
        self._render(final=True)

    def _render(self, final: bool) -> None:
        if self.has_widget:
            html = self.html()
            widget: Any = self.widget
            if widget.value != html:
                widget.value = html
        if not self._live:
            if final:
                self.show()
            return
        now = time.monotonic()
        if final or (not self.has_widget and now - self._published >= REFRESH_SECONDS):
            self._published = now
            self.refresh()
