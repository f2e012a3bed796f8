"""Notebook outputs: ipywidgets where a widget frontend exists, readable HTML elsewhere.

``mlops.compare(runs)`` and ``mlops.runs_widget()`` come from here, as do the result
card of ``%%mlops_train`` (:mod:`.run_card`) and the live status of ``%mlops_deploy``
(:mod:`.deploy_status`). ipywidgets and plotly are imported on first use only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import pandas as pd

    from .compare import CompareView, RunRef
    from .runs_table import RunsTable


def compare(runs: RunRef | Iterable[RunRef] | pd.DataFrame, *, metric: str | None = None,
            history_metric: str | None = None,
            only_differences: bool = False) -> CompareView:
    """Compare runs in the notebook: a params/metrics diff table (rows that differ
    highlighted), params against a metric (parallel coordinates) and overlaid metric
    histories.

    ``runs``: run ids, :class:`~mlops_jlab.Run` objects, or a DataFrame from
    :func:`~mlops_jlab.search_runs`. ``metric`` is the parallel-coordinates metric
    (default: a usual score such as accuracy), ``history_metric`` the metric drawn by
    step (default: the one logged at the most steps), ``only_differences`` keeps the
    table to rows that differ. Display the result for the interactive view (HTML in
    saved notebooks); ``.diff_table()`` and ``.figures()`` give the DataFrame and the
    plotly figures.

    Raises :class:`~mlops_jlab.InvalidInput` for no runs or a metric no run has, and
    :class:`~mlops_jlab.NotFound` for an unknown run id.
    """
    from .compare import CompareView

    return CompareView(runs, metric=metric, history_metric=history_metric,
                       only_differences=only_differences)


def runs_widget(experiment: str | Sequence[str] | None = None, filter: str | None = None,
                order_by: str | Sequence[str] | None = None,
                max_results: int = 100) -> RunsTable:
    """An interactive runs table: filter (the :func:`~mlops_jlab.search_runs` syntax,
    e.g. ``"metrics.accuracy > 0.9"``), sort, pick runs and compare them (the
    :func:`compare` view opens below). Saved notebooks show the table as HTML.

    ``experiment`` defaults to the current experiment, else every experiment. A
    malformed ``filter`` raises :class:`~mlops_jlab.FilterError`.
    """
    from .runs_table import RunsTable

    return RunsTable(experiment, filter, order_by, max_results)


__all__ = ["compare", "runs_widget"]
