"""``mlops.compare(runs)``: runs side by side in a notebook.

A params/metrics diff table (differing rows highlighted, optionally the only ones
shown), params against a metric as parallel coordinates, and a metric's history per
run. As a widget the metric choices and the filter are live; as HTML (saved notebooks,
nbconvert) the table and both figures are rendered as they were chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidInput, NotFound
from .compare_figures import metric_history_figure, parallel_coordinates
from .diff_table import diff_frame, diff_table_html
from .display import View
from .theme import FONT, MUTED, color, figure_bundle, figure_html

if TYPE_CHECKING:
    from typing import TypeAlias

    import ipywidgets
    import plotly.graph_objects as go

    from ..client.run import Run as RunHandle
    from ..tracking.records import Run, RunDetail

    RunRef: TypeAlias = str | RunHandle | Run

MAX_RUNS = 100
PREFERRED_METRICS = ("accuracy", "roc_auc", "f1", "r2", "rmse", "mae", "loss", "val_loss")
HOUSEKEEPING_METRICS = ("training_duration_s",)


def run_ids(runs: Any) -> list[str]:
    """Run ids from ids, :class:`~mlops_jlab.Run` handles, run records, or a DataFrame of
    :func:`~mlops_jlab.search_runs` (its ``run_id`` column); in order, duplicates dropped."""
    if isinstance(runs, pd.DataFrame):
        if "run_id" not in runs.columns:
            raise InvalidInput("compare: the DataFrame has no run_id column (use one from "
                               "mlops.search_runs or mlops.runs_frame)")
        items: Iterable[Any] = runs["run_id"].tolist()
    elif isinstance(runs, str) or hasattr(runs, "id"):
        items = [runs]
    elif isinstance(runs, Iterable):
        items = runs
    else:
        raise InvalidInput(f"compare: cannot read runs from {type(runs).__name__}: give run "
                           "ids, Run objects or a DataFrame from mlops.search_runs")
    ids: list[str] = []
    for item in items:
        run_id = item if isinstance(item, str) else getattr(item, "id", None)
        if not isinstance(run_id, str) or not run_id.strip():
            raise InvalidInput(f"compare: {item!r} is not a run: give run ids, Run objects "
                               "or a DataFrame from mlops.search_runs")
        if run_id not in ids:
            ids.append(run_id.strip())
    if not ids:
        raise InvalidInput("compare needs at least one run")
    if len(ids) > MAX_RUNS:
        raise InvalidInput(f"compare takes at most {MAX_RUNS} runs, got {len(ids)}: "
                           "narrow the search (filter, limit)")
    return ids


def run_labels(runs: Sequence[Run]) -> list[str]:
    """Run names, with a short id where two runs share a name."""
    names = [r.name for r in runs]
    return [f"{r.name} ({r.id[:6]})" if names.count(r.name) > 1 else r.name for r in runs]


def default_metric(runs: Sequence[Run]) -> str | None:
    """The metric to plot params against: a usual score when the runs have one, else
    the first metric in key order (the training duration last)."""
    keys = sorted({k for r in runs for k in r.metrics})
    for key in PREFERRED_METRICS:
        if key in keys:
            return key
    useful = [k for k in keys if k not in HOUSEKEEPING_METRICS]
    chosen = useful or keys
    return chosen[0] if chosen else None


class CompareView(View):
    """A comparison of runs: :meth:`diff_table`, :meth:`figures`, and the notebook view.

    ``metric`` is the metric of the parallel-coordinates axis (default: a usual score
    such as accuracy); ``history_metric`` the metric whose history is drawn (default:
    the one logged at the most steps); ``only_differences`` keeps the table to rows
    that differ between runs.
    """

    def __init__(self, runs: Any, *, metric: str | None = None,
                 history_metric: str | None = None, only_differences: bool = False) -> None:
        super().__init__()
        from ..client.api import backend

        self._backend = backend()
        self.runs: list[RunDetail] = [self._backend.get_run(i) for i in run_ids(runs)]
        self.labels = run_labels(self.runs)
        self.colors = [color(i) for i in range(len(self.runs))]
        self.metric_keys = sorted({k for r in self.runs for k in r.metrics}
                                  | {k for r in self.runs for k in r.metric_keys})
        self.metric = self._check_metric(metric) if metric is not None else \
            default_metric(self.runs)
        self.history_metric = (self._check_metric(history_metric)
                               if history_metric is not None else self._longest_metric())
        self.only_differences = only_differences
        self._histories: dict[tuple[str, str], pd.DataFrame | None] = {}

    def _check_metric(self, metric: str) -> str:
        if metric not in self.metric_keys:
            raise InvalidInput(f"compare: no run has metric {metric!r}; metrics: "
                               f"{', '.join(self.metric_keys) or 'none'}")
        return metric

    def _longest_metric(self) -> str | None:
        """The metric logged at the most steps (ties: the parallel-coordinates one)."""
        steps: dict[str, int] = {}
        for run in self.runs:
            for key, last in self._backend.last_steps(run.id).items():
                steps[key] = max(steps.get(key, 0), last)
        if not steps or max(steps.values()) == 0:
            return self.metric
        top = max(steps.values())
        longest = sorted(k for k, v in steps.items() if v == top)
        return self.metric if self.metric in longest else longest[0]

    # ------------------------------------------------------------ data
    def diff_table(self, only_differences: bool | None = None) -> pd.DataFrame:
        """Params then metrics (rows ``params.<key>``/``metrics.<key>``) by run (columns:
        run names); ``only_differences`` keeps the rows whose values differ."""
        from .diff_table import differing

        frame = diff_frame(self.runs, self.labels)
        only = self.only_differences if only_differences is None else only_differences
        return frame[differing(frame)] if only else frame

    def history(self, metric: str | None = None) -> pd.DataFrame:
        """The metric's points of every run: ``run_id``, ``run``, ``step``, ``value``,
        ``timestamp`` (runs that did not log it have no rows)."""
        metric = self.history_metric if metric is None else self._check_metric(metric)
        frames = [h.assign(run_id=self.runs[i].id, run=self.labels[i])
                  for i, h in self._histories_of(metric).items()]
        columns = ["run_id", "run", "step", "value", "timestamp"]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def _histories_of(self, metric: str | None) -> dict[int, pd.DataFrame]:
        out: dict[int, pd.DataFrame] = {}
        if metric is None:
            return out
        for i, run in enumerate(self.runs):
            key = (run.id, metric)
            if key not in self._histories:
                try:
                    points = self._backend.metric_history(run.id, metric)
                except NotFound:
                    self._histories[key] = None
                else:
                    frame = pd.DataFrame({"step": [p.step for p in points],
                                          "value": [p.value for p in points],
                                          "timestamp": [p.timestamp for p in points]})
                    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms",
                                                        utc=True)
                    self._histories[key] = frame
            found = self._histories[key]
            if found is not None:
                out[i] = found
        return out

    # ------------------------------------------------------------ figures
    def parallel_figure(self, metric: str | None = None) -> go.Figure:
        """Params against ``metric`` (default :attr:`metric`), one line per run."""
        metric = self.metric if metric is None else self._check_metric(metric)
        return parallel_coordinates(self.runs, self.labels, metric)

    def history_figure(self, metric: str | None = None) -> go.Figure:
        """``metric`` (default :attr:`history_metric`) by step, one line per run."""
        metric = self.history_metric if metric is None else self._check_metric(metric)
        return metric_history_figure(self._histories_of(metric), self.labels, metric)

    def figures(self) -> dict[str, go.Figure]:
        """``{"parallel_coordinates": ..., "metric_history": ...}`` as plotly figures."""
        return {"parallel_coordinates": self.parallel_figure(),
                "metric_history": self.history_figure()}

    # ------------------------------------------------------------ renderings
    def _heading(self) -> str:
        names = ", ".join(escape(lbl) for lbl in self.labels[:6])
        more = f" and {len(self.labels) - 6} more" if len(self.labels) > 6 else ""
        return (f"<div style='{FONT};margin:2px 0 6px'><b>Comparing {len(self.runs)} "
                f"run(s)</b> <span style='color:{MUTED}'>{names}{more}</span></div>")

    def _table_html(self) -> str:
        return diff_table_html(diff_frame(self.runs, self.labels), self.colors,
                               self.only_differences)

    def html(self) -> str:
        figures = self.figures()
        return (f"<div class='mlops-compare'>{self._heading()}{self._table_html()}"
                f"{figure_html(figures['parallel_coordinates'], 'cdn')}"
                f"{figure_html(figures['metric_history'], False)}</div>")

    def text(self) -> str:
        return f"compare {len(self.runs)} run(s): {', '.join(self.labels)}"

    def build_widget(self) -> ipywidgets.Widget:
        import ipywidgets as w

        options: list[tuple[str, str | None]] = [(k, k) for k in self.metric_keys] \
            or [("(none)", None)]
        self.only_box = w.Checkbox(value=self.only_differences,
                                   description="only rows that differ", indent=False)
        self.table = w.HTML(self._table_html())
        self.metric_box = w.Dropdown(options=options, value=self.metric,
                                     description="Metric axis",
                                     style={"description_width": "initial"})
        self.history_box = w.Dropdown(options=options, value=self.history_metric,
                                      description="History of",
                                      style={"description_width": "initial"})
        self.parallel_out = w.Output()
        self.history_out = w.Output()
        self._show_figure(self.parallel_out, self.parallel_figure())
        self._show_figure(self.history_out, self.history_figure())

        def on_only(change: dict[str, Any]) -> None:
            self.only_differences = bool(change["new"])
            self.table.value = self._table_html()

        def on_metric(change: dict[str, Any]) -> None:
            self.metric = change["new"]
            self._show_figure(self.parallel_out, self.parallel_figure())

        def on_history(change: dict[str, Any]) -> None:
            self.history_metric = change["new"]
            self._show_figure(self.history_out, self.history_figure())

        self.only_box.observe(on_only, names="value")
        self.metric_box.observe(on_metric, names="value")
        self.history_box.observe(on_history, names="value")
        return w.VBox([w.HTML(self._heading()), self.only_box, self.table,
                       self.metric_box, self.parallel_out, self.history_box,
                       self.history_out], _dom_classes=["mlops-compare-widget"])

    @staticmethod
    def _show_figure(out: Any, figure: go.Figure) -> None:
        out.outputs = ({"output_type": "display_data", "data": figure_bundle(figure),
                        "metadata": {}},)

