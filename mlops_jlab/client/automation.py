"""Notebooks as jobs from Python: ``mlops.run_notebook``, ``mlops.sweep``,
``mlops.run_pipeline``. Thin front doors: papermill and Dask are imported on first use,
so ``import mlops_jlab`` stays fast in every kernel."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..automation.notebook_run import NotebookRunResult
    from ..automation.pipeline_run import PipelineResult
    from ..automation.sweep import SweepResult


def run_notebook(notebook: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None,
                 **options: Any) -> NotebookRunResult:
    """Execute a notebook with papermill as a tracked run (params, executed notebook,
    failing cell); see :func:`mlops_jlab.automation.notebook_run.run_notebook`."""
    from ..automation.notebook_run import run_notebook as run

    return run(notebook, parameters, **options)


def sweep(notebook: str | os.PathLike[str], grid: Mapping[str, Sequence[Any]],
          **options: Any) -> SweepResult:
    """Run a notebook once per combination of ``grid`` on Dask (``parallel=2`` local
    workers, or ``scheduler="tcp://host:8786"``): a parent run and one child run each;
    see :func:`mlops_jlab.automation.sweep.sweep`."""
    from ..automation.sweep import sweep as run

    return run(notebook, grid, **options)


def run_pipeline(path: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None,
                 **options: Any) -> PipelineResult:
    """Run a pipeline file (notebooks, parameters, dependencies), resuming at the failed
    step of its last run; see :func:`mlops_jlab.automation.pipeline_run.run_pipeline`."""
    from ..automation.pipeline_run import run_pipeline as run

    return run(path, parameters, **options)
