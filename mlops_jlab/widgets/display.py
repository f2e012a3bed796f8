"""Outputs that are an ipywidget where a widget frontend exists and readable HTML elsewhere.

A :class:`View` displays one MIME bundle holding both the widget view
(``application/vnd.jupyter.widget-view+json``) and a ``text/html`` rendering. JupyterLab
shows the live widget; a notebook saved by papermill or converted by nbconvert (no widget
state) shows the HTML. ``MLOPS_JLAB_WIDGETS=0`` forces plain HTML, ``=1`` forces widgets
even outside a kernel; unset, widgets are used inside an IPython kernel only.

A view shown with :meth:`View.show` keeps its display id: :meth:`View.refresh`
re-publishes the bundle so the saved HTML follows what the widget shows now.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ipywidgets

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ENV_SWITCH = "MLOPS_JLAB_WIDGETS"
_OFF = {"0", "false", "no", "off", "html"}
_ON = {"1", "true", "yes", "on"}


def in_kernel() -> bool:
    """True inside an IPython kernel (a frontend that can show widgets and take display
    updates may be listening); False in a terminal shell or a plain interpreter."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widgets_enabled() -> bool:
    """Whether views render as ipywidgets: ``MLOPS_JLAB_WIDGETS`` decides when set
    (``0``/``false``/``off``/``html`` or ``1``/``true``/``on``), else only in a kernel."""
    switch = os.environ.get(ENV_SWITCH, "").strip().lower()
    if switch in _OFF:
        return False
    if switch in _ON:
        return True
    return in_kernel()


class View:
    """Base of the notebook outputs of mlops_jlab: subclasses give :meth:`html` (the
    static rendering, everything escaped) and :meth:`build_widget` (the live one)."""

    def __init__(self) -> None:
        self._widget: ipywidgets.Widget | None = None
        self._handle: Any = None

    # ------------------------------------------------------------ to implement
    def html(self) -> str:
        """The static HTML rendering (saved notebooks, nbconvert, widgets off)."""
        raise NotImplementedError

    def build_widget(self) -> ipywidgets.Widget:
        """Create the live widget (called once, on first use of :attr:`widget`)."""
        raise NotImplementedError

    def text(self) -> str:
        """A one-line plain-text summary (terminals, logs)."""
        return f"<{type(self).__name__}>"

    # ------------------------------------------------------------ mechanics
    @property
    def widget(self) -> ipywidgets.Widget:
        """The live ipywidget, built on first access."""
        if self._widget is None:
            self._widget = self.build_widget()
        return self._widget

    @property
    def has_widget(self) -> bool:
        """Whether the widget was built (so updates must reach it)."""
        return self._widget is not None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"text/plain": self.text(), "text/html": self.html()}
        if widgets_enabled():
            view = self.widget._repr_mimebundle_() or {}
            if WIDGET_VIEW in view:
                data[WIDGET_VIEW] = view[WIDGET_VIEW]
        return data

    def __repr__(self) -> str:
        return self.text()

    def show(self) -> View:
        """Display the view in the current output area, keeping a display id."""
        from IPython.display import display

        self._handle = display(self, display_id=True)
        return self

    @property
    def shown(self) -> bool:
        """Whether :meth:`show` displayed this view."""
        return self._handle is not None

    def refresh(self) -> None:
        """Re-publish the bundle of a shown view (inside a kernel), so the HTML that a
        saved notebook keeps is the current state."""
        if self._handle is not None and in_kernel():
            self._handle.update(self)
