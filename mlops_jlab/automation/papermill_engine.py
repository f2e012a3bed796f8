"""The papermill engine that records notebook executions as runs.

Installed as a ``papermill.engine`` entry point, this module is imported whenever
papermill loads its engines. It then registers :class:`TrackedEngine` as papermill's
default engine, so plain ``papermill in.ipynb out.ipynb -p alpha 0.1`` is tracked.
The engine is papermill's own nbclient engine plus a run around the execution. Notebooks
that never mention mlops_jlab run exactly as before, and so does every run when
``MLOPS_JLAB_PAPERMILL=off``. ``--engine mlops`` names the engine explicitly.

Import order: this module imports ``papermill.engines``, which may still be initialising
(it is what loads us); the names used here are defined before it loads entry points.
"""

from __future__ import annotations

import os
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args


def tracking_enabled() -> bool:
    """False when ``MLOPS_JLAB_PAPERMILL`` is ``off``/``0``/``false``."""
    return os.environ.get("MLOPS_JLAB_PAPERMILL", "on").lower() not in ("off", "0", "false")


class TrackedEngine(NBClientEngine):
    """nbclient execution inside a tracked run (see the module docstring)."""

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, output_path: str | None = None,
                         progress_bar: bool = True, log_output: bool = False,
                         autosave_cell_every: int = 30, **kwargs: Any) -> Any:
        """Execute ``nb`` as papermill does, recorded as a run when it uses mlops_jlab.

        ``mlops`` (a :class:`~.notebook_run.RunRequest`) may carry the experiment,
        parent run, name and tags; the engine writes the run's id and outcome into it.
        """
        from .notebook_run import NotebookRecorder, RunRequest

        request = kwargs.pop("mlops", None) or RunRequest.from_environment()
        if not tracking_enabled() or not request.wanted(nb):
            return super().execute_notebook(
                nb, kernel_name, output_path=output_path, progress_bar=progress_bar,
                log_output=log_output, autosave_cell_every=autosave_cell_every, **kwargs)
        recorder = NotebookRecorder.start(nb, kwargs.get("input_path"), output_path, request)
        try:
            result = super().execute_notebook(
                nb, kernel_name, output_path=output_path, progress_bar=progress_bar,
                log_output=log_output, autosave_cell_every=autosave_cell_every,
                kernel_env=recorder.kernel_env(), **kwargs)
        except BaseException as exc:
            recorder.abort(nb, exc)
            raise
        recorder.finish(result)
        return result

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                 stdout_file: Any = None, stderr_file: Any = None,
                                 start_timeout: int = 60, execution_timeout: Any = None,
                                 kernel_env: dict[str, str] | None = None,
                                 **kwargs: Any) -> Any:
        """nbclient execution as in papermill, with the kernel started in ``kernel_env``."""
        if kernel_env is None:
            return super().execute_managed_notebook(
                nb_man, kernel_name, log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file, start_timeout=start_timeout,
                execution_timeout=execution_timeout, **kwargs)
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs, timeout=execution_timeout or kwargs.get("timeout"),
            startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
            log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
        # ``env`` reaches the kernel manager's start_kernel, so each kernel gets its own
        # run id even when several notebooks execute in one process (sweeps, pipelines)
        return PapermillNotebookClient(nb_man, **final_kwargs).execute(env=kernel_env)


papermill_engines.register(None, TrackedEngine)  # papermill's default from now on
