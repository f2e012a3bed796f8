"""A notebook executed by papermill, recorded as a run.

The papermill process (not the kernel) owns the run: it starts it before the kernel,
with the notebook's parameters as params and the input notebook as its source; it gives
the kernel the run's id (``MLOPS_JLAB_RUN_ID``), so module-level ``mlops.log_*`` calls
land on it and ``%%mlops_train`` cells nest under it; and once the kernel is gone it
stores the executed notebook and ends the run, failed with the failing cell and its
traceback when a cell raised.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..tracking import environment as env
from .parameters import declared_experiment, injected_parameters, run_params, uses_mlops

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: where the executed notebook is stored among the run's artifacts
OUTPUT_FOLDER = "output"
#: tag holding a notebook's declared outputs (``mlops.log_output``), one per name
OUTPUT_TAG = "mlops.output."


@dataclass
class RunRequest:
    """How to record one papermill execution, and (filled in by the engine) what
    happened: ``run_id``, ``status`` and ``error``."""

    experiment: str | None = None
    parent_run_id: str | None = None
    name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: record even when the notebook never mentions mlops_jlab (sweeps, pipelines)
    always: bool = False
    run_id: str | None = None
    status: str | None = None
    error: str | None = None

    @classmethod
    def from_environment(cls) -> RunRequest:
        """The request of a plain ``papermill`` call: experiment from
        ``MLOPS_JLAB_EXPERIMENT``; inside a tracked notebook, its run is the parent."""
        return cls(experiment=os.environ.get("MLOPS_JLAB_EXPERIMENT") or None,
                   parent_run_id=os.environ.get("MLOPS_JLAB_RUN_ID") or None)

    def wanted(self, nb: Any) -> bool:
        """Whether this execution is recorded."""
        return self.always or uses_mlops(nb)


def first_line(error: Any, limit: int) -> str:
    """The first line of an error report, at most ``limit`` characters ("" for none)."""
    text = str(error or "").strip()
    return text.splitlines()[0][:limit] if text else ""


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def first_error(nb: Any) -> tuple[int, str] | None:
    """(cell index, report) of the first cell whose output is an error: the cell's
    source, the exception and its traceback without terminal colours."""
    for index, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") != "error":
                continue
            trace = _ANSI.sub("", "\n".join(out.get("traceback") or []))
            report = (f"cell {index} (In [{cell.get('execution_count')}]) raised "
                      f"{out.get('ename')}: {out.get('evalue')}\n\n"
                      f"--- cell source ---\n{_text(cell.get('source'))}\n\n"
                      f"--- traceback ---\n{trace}")
            return index, report
    return None


class NotebookRecorder:
    """The run of one papermill execution, from start to end (see the module doc)."""

    def __init__(self, backend: Any, run_id: str, input_path: str | None,
                 output_path: str | None, request: RunRequest) -> None:
        self.backend = backend
        self.run_id = run_id
        self.input_path = input_path
        self.output_path = output_path
        self.request = request

    @classmethod
    def start(cls, nb: Any, input_path: str | None, output_path: str | None,
              request: RunRequest) -> NotebookRecorder:
        """Start the run: params from the notebook, source facts, the input stored."""
        from ..client import api

        b = api.backend()
        local_input = _local(input_path)
        source: dict[str, Any] = {"kind": "papermill",
                                  "papermill_parameters": _jsonable(injected_parameters(nb))}
        if local_input:
            source.update(notebook_abspath=local_input,
                          notebook_hash=env.file_sha256(local_input))
            git = env.git_commit(Path(local_input).parent)
            if git:
                source.update(git_commit=git["commit"], git_branch=git["branch"],
                              git_repo=git["repo"])
        elif input_path:
            source["notebook_uri"] = str(input_path)
        if output_path:
            source["output_path"] = str(output_path)
        name = request.name or (Path(str(input_path)).stem if input_path else None)
        tags = {**api.preset_tags(), "mlops.runner": "papermill", **request.tags}
        params = run_params(nb)
        info = b.create_run(
            experiment=request.experiment or declared_experiment(nb, params), name=name,
            params=_params(params), tags=tags, source=source,
            environment=env.environment(), parent_run_id=request.parent_run_id)
        request.run_id = info.id
        if local_input:
            b.log_artifact(info.id, local_input, "source")
        return cls(b, info.id, input_path, output_path, request)

    def kernel_env(self) -> dict[str, str]:
        """The kernel's environment: this process's, the store settings, the run id."""
        from ..config import store_env

        out = {**os.environ, **store_env(self.backend.settings, user=True)}
        out["MLOPS_JLAB_RUN_ID"] = self.run_id
        out["MLOPS_JLAB_PAPERMILL"] = "1"
        local_input = _local(self.input_path)
        if local_input:
            out["MLOPS_JLAB_NOTEBOOK"] = local_input
        if self.request.experiment:
            out["MLOPS_JLAB_EXPERIMENT"] = self.request.experiment
        return out

    def finish(self, nb: Any) -> None:
        """Store the executed notebook; end the run, failed if a cell raised."""
        self._store_output(nb)
        failure = first_error(nb)
        if failure is None:
            self._end("finished", None)
        else:
            self.backend.set_tags(self.run_id, {"mlops.failed_cell": failure[0]})
            self._end("failed", failure[1])

    def abort(self, nb: Any, exc: BaseException) -> None:
        """The execution itself broke (kernel died, timeout, interrupt): keep what ran."""
        try:
            self._store_output(nb)
        finally:
            failure = first_error(nb)
            reason = f"{type(exc).__name__}: {exc}".strip()
            detail = f"{reason}\n\n{failure[1]}" if failure else reason
            self._end("killed" if isinstance(exc, KeyboardInterrupt) else "failed", detail)

    def _store_output(self, nb: Any) -> None:
        import nbformat

        name = Path(str(self.output_path or self.input_path or "notebook.ipynb")).name
        if not name.endswith(".ipynb"):
            name += ".ipynb"
        self.backend.log_artifact_bytes(self.run_id, f"{OUTPUT_FOLDER}/{name}",
                                        nbformat.writes(nb).encode())

    def _end(self, status: str, error: str | None) -> None:
        from ..errors import RuleViolation

        self.backend.metrics.flush()
        try:
            self.backend.end_run(self.run_id, status=status, error=error)
        except RuleViolation:  # the notebook ended its run itself through a handle
            status = self.backend.get_run(self.run_id).status
        self.request.status, self.request.error = status, error


def enclosing_run_id() -> str | None:
    """The active run of this process, the parent of the runs a sweep or pipeline
    starts (e.g. the notebook's own run when papermill runs the notebook that starts
    them)."""
    from ..client import api

    run = api.active_run()
    return run.id if run is not None else None


def _local(path: Any) -> str | None:
    if not path or "://" in str(path):
        return None
    full = os.path.abspath(str(path))
    return full if os.path.isfile(full) else None


def _jsonable(value: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(value), default=str))


def _params(values: Mapping[str, Any]) -> dict[str, object]:
    """Param values as the store keeps them: scalars as they are, the rest as JSON."""
    out: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        else:
            out[key] = json.dumps(value, default=str)
    return out


@dataclass(frozen=True)
class NotebookRunResult:
    """What one tracked notebook execution produced."""

    run_id: str | None
    status: str  # finished | failed | killed
    notebook: str
    parameters: dict[str, Any]
    output_path: str | None
    error: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every cell ran."""
        return self.status == "finished"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the CLI and the scheduler's history)."""
        return {"run_id": self.run_id, "status": self.status, "notebook": self.notebook,
                "parameters": _jsonable(self.parameters), "output_path": self.output_path,
                "error": self.error, "metrics": self.metrics,
                "outputs": _jsonable(self.outputs), "seconds": round(self.seconds, 3)}


def outputs_of(tags: Mapping[str, str]) -> dict[str, Any]:
    """A run's declared outputs, from its ``mlops.output.<name>`` tags (JSON values)."""
    out: dict[str, Any] = {}
    for key, raw in tags.items():
        if key.startswith(OUTPUT_TAG):
            try:
                out[key[len(OUTPUT_TAG):]] = json.loads(raw)
            except ValueError:
                out[key[len(OUTPUT_TAG):]] = raw
    return out


def run_notebook(notebook: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None,
                 *, output: str | os.PathLike[str] | None = None,
                 experiment: str | None = None, parent_run_id: str | None = None,
                 name: str | None = None, tags: Mapping[str, str] | None = None,
                 cwd: str | os.PathLike[str] | None = None, kernel_name: str | None = None,
                 timeout: float | None = None, progress: bool = False) -> NotebookRunResult:
    """Execute ``notebook`` with papermill as a tracked run and say how it went.

    Never raises for a failing cell: the result's ``status`` is ``failed`` and ``error``
    holds the cell and traceback (the run records the same). ``output`` defaults to a
    file under ``$MLOPS_JLAB_HOME/notebook-runs/``; the executed notebook is stored with
    the run either way. :class:`InvalidInput` when the notebook does not exist.
    """
    import papermill
    from papermill.exceptions import PapermillException

    from ..client import api

    path = Path(notebook)
    if not path.is_file() or path.suffix != ".ipynb":
        raise InvalidInput(f"no such notebook: {str(path)!r}")
    params = dict(parameters or {})
    if output is None:
        folder = Path(api.backend().settings.home) / "notebook-runs"
        folder.mkdir(parents=True, exist_ok=True)
        output = folder / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-" \
                          f"{time.monotonic_ns() % 1_000_000}.ipynb"
    request = RunRequest(experiment=experiment, parent_run_id=parent_run_id, name=name,
                         tags={k: str(v) for k, v in (tags or {}).items()}, always=True)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path), str(output), parameters=params, engine_name="mlops",
            kernel_name=kernel_name, cwd=str(cwd) if cwd else str(path.parent.resolve()),
            progress_bar=progress, execution_timeout=timeout, mlops=request)
    except PapermillException:
        pass  # a cell failed: recorded on the run and in the request
    except Exception as exc:  # the kernel could not start, died, timed out
        if request.run_id is None:
            raise
        request.status = request.status or "failed"
        request.error = request.error or f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    metrics: dict[str, float | None] = {}
    outputs: dict[str, Any] = {}
    if request.run_id:
        detail = api.backend().get_run(request.run_id)
        metrics, outputs = dict(detail.metrics), outputs_of(detail.tags)
    return NotebookRunResult(run_id=request.run_id, status=request.status or "failed",
                             notebook=str(path), parameters=params, output_path=str(output),
                             error=request.error, metrics=metrics, outputs=outputs,
                             seconds=seconds)
