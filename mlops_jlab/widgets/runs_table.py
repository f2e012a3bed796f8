"""``mlops.runs_widget()``: search, sort and pick runs in a notebook, then compare them.

As a widget: a filter box (the :func:`~mlops_jlab.search_runs` syntax), a sort choice,
the runs table, a multi-select of runs and a Compare button that opens the compare view
below. As HTML: the table of the runs found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import MlopsError
from .compare import PREFERRED_METRICS, CompareView
from .display import View
from .run_card import STATUS_COLORS
from .theme import BORDER, ERROR_RED, FONT, MUTED, fmt

if TYPE_CHECKING:
    import ipywidgets

NEWEST_FIRST = "attributes.start_time DESC"
BASE_ORDERS = [("newest first", NEWEST_FIRST), ("oldest first", "attributes.start_time ASC"),
               ("name", "attributes.name ASC"),
               ("longest first", "attributes.duration DESC")]
MAX_METRIC_COLUMNS = 6
MAX_PARAM_COLUMNS = 4
FILTER_EXAMPLE = "metrics.accuracy > 0.9 and params.estimator = 'SVC'"


def _prefix_keys(frame: pd.DataFrame, prefix: str) -> list[str]:
    return [c.split(".", 1)[1] for c in frame.columns if c.startswith(f"{prefix}.")]


def metric_columns(frame: pd.DataFrame, limit: int = MAX_METRIC_COLUMNS) -> list[str]:
    """The metrics worth a column: usual scores first, then in key order."""
    keys = _prefix_keys(frame, "metrics")
    ranked = [k for k in PREFERRED_METRICS if k in keys] + \
        sorted(k for k in keys if k not in PREFERRED_METRICS)
    return ranked[:limit]


def param_columns(frame: pd.DataFrame, limit: int = MAX_PARAM_COLUMNS) -> list[str]:
    """The params whose values differ between the runs found."""
    keys = _prefix_keys(frame, "params")
    return [k for k in keys if frame[f"params.{k}"].astype(str).nunique() > 1][:limit]


def _when(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return str(pd.Timestamp(value).strftime("%Y-%m-%d %H:%M"))


def runs_table_html(frame: pd.DataFrame) -> str:
    """The runs as an HTML table: name, status, experiment, start, duration, the main
    metrics and the params that differ; everything escaped."""
    if frame.empty:
        return f"<div style='{FONT};color:{MUTED}'>no runs match</div>"
    metrics, params = metric_columns(frame), param_columns(frame)
    several = frame["experiment"].nunique() > 1
    cell = f"padding:2px 8px;border-bottom:1px solid {BORDER};white-space:nowrap;"
    num = f"{cell}text-align:right;font-variant-numeric:tabular-nums"
    heads = ["#", "run", "status"] + (["experiment"] if several else []) + \
        ["started", "duration"] + metrics + [f"{p}" for p in params]
    head = "".join(f"<th style='{cell}text-align:left'>{escape(h)}</th>" for h in heads)
    rows = []
    for i, values in enumerate(frame.to_dict("records"), start=1):
        status = str(values["status"])
        duration = values["duration"]
        cells = [f"<td style='{cell}color:{MUTED}'>{i}</td>",
                 f"<td style='{cell}' title='{escape(str(values['run_id']))}'>"
                 f"<b>{escape(str(values['name']))}</b></td>",
                 f"<td style='{cell}color:{STATUS_COLORS.get(status, MUTED)}'>"
                 f"{escape(status)}</td>"]
        if several:
            cells.append(f"<td style='{cell}'>{escape(str(values['experiment']))}</td>")
        cells.append(f"<td style='{cell}'>{_when(values['start_time'])}</td>")
        cells.append(f"<td style='{num}'>"
                     f"{'—' if duration is None or pd.isna(duration) else f'{duration:.1f} s'}"
                     "</td>")
        cells += [f"<td style='{num}'>{fmt(values[f'metrics.{m}'])}</td>" for m in metrics]
        cells += [f"<td style='{cell}'>{fmt(values[f'params.{p}'])}</td>" for p in params]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<div class='mlops-runs-table' style='{FONT};overflow-x:auto;max-height:420px;"
            "overflow-y:auto'><table style='border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _order_text(order_by: str | Sequence[str] | None) -> str:
    if order_by is None:
        return NEWEST_FIRST
    return order_by if isinstance(order_by, str) else ", ".join(order_by)


class RunsTable(View):
    """Runs found by a search, as an interactive table; pick runs and compare them.

    :attr:`frame` holds the runs shown (the :func:`~mlops_jlab.search_runs` layout);
    :meth:`search` runs a new search; :meth:`compare` opens the compare view of the
    picked runs (:attr:`compare_view`).
    """

    def __init__(self, experiment: str | Sequence[str] | None = None,
                 filter: str | None = None, order_by: str | Sequence[str] | None = None,
                 max_results: int = 100) -> None:
        super().__init__()
        self.experiment = experiment
        self.filter = filter or ""
        self.order_by = _order_text(order_by)
        self.max_results = max_results
        self.compare_view: CompareView | None = None
        self.error: str | None = None
        self._syncing = False
        self.frame = self._search(self.filter, self.order_by)

    def _search(self, filter: str, order_by: str) -> pd.DataFrame:
        from ..client import api

        return api.search_runs(self.experiment, filter or None, order_by,
                               limit=self.max_results)

    # ------------------------------------------------------------ renderings
    def _heading(self) -> str:
        scope = (escape(self.experiment) if isinstance(self.experiment, str) else
                 escape(", ".join(self.experiment)) if self.experiment else "all experiments")
        where = f" · where <code>{escape(self.filter)}</code>" if self.filter else ""
        capped = f" (first {self.max_results})" if len(self.frame) >= self.max_results else ""
        return (f"<div style='{FONT};margin:2px 0 4px'><b>{len(self.frame)} run(s)</b>"
                f"{capped} <span style='color:{MUTED}'>· {scope}{where} · "
                f"{escape(self.order_by)}</span></div>")

    def html(self) -> str:
        return f"<div class='mlops-runs'>{self._heading()}{runs_table_html(self.frame)}</div>"

    def text(self) -> str:
        return f"runs table: {len(self.frame)} run(s)"

    def _options(self) -> list[tuple[str, str]]:
        options = list(BASE_ORDERS)
        for key in metric_columns(self.frame, limit=50):
            options += [(f"{key} ↓ (highest first)", f"metrics.{key} DESC"),
                        (f"{key} ↑ (lowest first)", f"metrics.{key} ASC")]
        if self.order_by not in {v for _, v in options}:
            options.insert(0, (self.order_by, self.order_by))
        return options

    def _picks(self) -> list[tuple[str, str]]:
        metric = next(iter(metric_columns(self.frame, limit=1)), None)
        picks = []
        for _, row in self.frame.iterrows():
            score = f" · {metric} {fmt(row[f'metrics.{metric}'])}" if metric else ""
            picks.append((f"{row['name']} · {row['status']}{score} · {row['run_id'][:6]}",
                          str(row["run_id"])))
        return picks

    def build_widget(self) -> ipywidgets.Widget:
        import ipywidgets as w

        self.filter_box = w.Text(value=self.filter, description="Filter",
                                 placeholder=FILTER_EXAMPLE, continuous_update=False,
                                 layout=w.Layout(width="520px"))
        self.sort_box = w.Dropdown(options=self._options(), value=self.order_by,
                                   description="Sort", layout=w.Layout(width="300px"))
        self.search_button = w.Button(description="Search", icon="search")
        self.message = w.HTML("")
        self.heading = w.HTML(self._heading())
        self.table = w.HTML(runs_table_html(self.frame))
        self.picker = w.SelectMultiple(options=self._picks(), description="Pick runs",
                                       rows=min(8, max(len(self.frame), 2)),
                                       layout=w.Layout(width="520px"))
        self.compare_button = w.Button(description="Compare", icon="columns",
                                       button_style="primary", disabled=True,
                                       tooltip="Compare the runs picked above")
        self.compare_area = w.VBox([])

        self.filter_box.observe(self._on_control, names="value")
        self.sort_box.observe(self._on_control, names="value")
        self.search_button.on_click(lambda _b: self.search())
        self.picker.observe(
            lambda c: setattr(self.compare_button, "disabled", not c["new"]), names="value")
        self.compare_button.on_click(lambda _b: self.compare(list(self.picker.value)))
        return w.VBox([w.HBox([self.filter_box, self.sort_box, self.search_button]),
                       self.message, self.heading, self.table,
                       w.HBox([self.picker, self.compare_button]), self.compare_area],
                      _dom_classes=["mlops-runs-widget"])

    # ------------------------------------------------------------ actions
    def _on_control(self, _change: dict[str, Any]) -> None:
        if not self._syncing:
            self.search()

    def search(self, filter: str | None = None, order_by: str | None = None) -> pd.DataFrame:
        """Search again (default: the widget's filter and sort). A bad filter is shown
        inline (and kept in :attr:`error`); the previous runs stay."""
        if self.has_widget:
            filter = self.filter_box.value if filter is None else filter
            order_by = self.sort_box.value if order_by is None else order_by
        filter = self.filter if filter is None else filter
        order_by = self.order_by if order_by is None else order_by
        try:
            frame = self._search(filter, order_by)
        except MlopsError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        else:
            self.frame, self.filter, self.order_by, self.error = frame, filter, order_by, None
        if self.has_widget:
            self._update_widget()
        return self.frame

    def compare(self, run_ids: Sequence[str]) -> CompareView | None:
        """Open the compare view of ``run_ids`` below the table (errors shown inline)."""
        try:
            view = CompareView(list(run_ids))
        except MlopsError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            if self.has_widget:
                self._show_error()
            return None
        self.compare_view, self.error = view, None
        if self.has_widget:
            self._show_error()
            self.compare_area.children = (view.widget,)
        return view

    def _show_error(self) -> None:
        self.message.value = (f"<pre style='{FONT};color:{ERROR_RED};white-space:pre-wrap;"
                              f"margin:2px 0'>{escape(self.error)}</pre>" if self.error
                              else "")

    def _update_widget(self) -> None:
        self._show_error()
        self.heading.value = self._heading()
        self.table.value = runs_table_html(self.frame)
        picked = set(self.picker.value)
        picks = self._picks()
        self.picker.options = picks
        self.picker.value = tuple(v for _, v in picks if v in picked)
        options = self._options()
        self._syncing = True
        try:
            if list(self.sort_box.options) != options:
                self.sort_box.options = options
            if self.error is None:  # a refused filter stays in the box, to be fixed
                self.sort_box.value = self.order_by
                self.filter_box.value = self.filter
        finally:
            self._syncing = False

