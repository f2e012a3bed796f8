"""Module-level Python API: ``import mlops_jlab as mlops``.

One process-wide state: the backend (opened lazily from the configuration), the
current experiment and a stack of active runs. Module-level ``log_*`` calls go to the
innermost active run, starting one when there is none (it ends at interpreter exit).
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .. import config
from ..errors import InvalidInput, NotFound
from ..tracking import Experiment
from ..tracking import environment as env
from .backend import Backend, open_backend
from .run import Run


class _State:
    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.experiment: str | None = None
        self.runs: list[Run] = []
        self.auto_runs: set[str] = set()
        #: the run of the papermill execution this kernel serves (see _notebook_run)
        self.notebook_run: Run | None = None
        self.notebook_run_checked = False
        self.lock = threading.RLock()


_state = _State()


def configure(**settings: Any) -> Backend:
    """(Re)open the store, e.g. ``configure(home="/tmp/x")``; returns the backend.

    Accepts the keys of :func:`mlops_jlab.config.resolve` (home, db_url, artifacts, uri,
    token, user). Active runs of the previous backend are flushed first.
    """
    with _state.lock:
        if _state.backend is not None:
            _state.backend.metrics.flush()
            _state.backend.close()
        _state.backend = open_backend(config.resolve(**settings))
        _state.runs.clear()
        _state.auto_runs.clear()
        _state.notebook_run, _state.notebook_run_checked = None, False
        return _state.backend


def backend() -> Backend:
    """The backend in use, opened from the configuration on first use."""
    if _state.backend is None:
        with _state.lock:
            if _state.backend is None:
                _state.backend = open_backend(config.resolve())
    return _state.backend


def set_experiment(name: str) -> Experiment:
    """Make ``name`` the experiment of new runs (created when missing)."""
    exp = backend().get_or_create_experiment(name)
    _state.experiment = exp.name
    return exp


def get_experiment(ref: str) -> Experiment:
    """An experiment by id or name."""
    return backend().get_experiment(ref)


def list_experiments() -> list[Experiment]:
    """Every experiment, most recently active first."""
    return backend().list_experiments()


def create_experiment(name: str, tags: Mapping[str, str] | None = None) -> Experiment:
    """Create an experiment (:class:`~mlops_jlab.errors.Conflict` if it exists)."""
    return backend().create_experiment(name, tags)


def start_run(
    name: str | None = None,
    experiment: str | None = None,
    params: Mapping[str, object] | None = None,
    tags: Mapping[str, object] | None = None,
    *,
    parent: Run | str | None = None,
    source: Mapping[str, Any] | None = None,
) -> Run:
    """Start a run and make it the active one; use it as a context manager.

    A run started while another is active becomes its child (``parent_run_id``).
    The run records where it comes from (notebook, script, git commit) and the
    Python environment (versions of the imported packages).
    """
    b = backend()
    _notebook_run()
    parent_id = parent.id if isinstance(parent, Run) else parent
    if parent_id is None and _state.runs:
        parent_id = _state.runs[-1].id
    src = dict(env.source())
    if source:
        src.update(source)
    preset = preset_tags()
    if preset:  # e.g. the runs of a retraining started for an alert
        tags = {**preset, **(tags or {})}
    info = b.create_run(experiment=experiment or _state.experiment, name=name, params=params,
                        tags=tags, source=src, environment=env.environment(),
                        parent_run_id=parent_id)
    run = Run(b, info.id, info.name, info.experiment_id, on_end=_forget)
    _state.runs.append(run)
    notebook = src.get("notebook_abspath")
    if notebook and os.path.isfile(notebook):
        # a copy of the notebook as it is now, for lineage (content-addressed: stored once)
        b.log_artifact(run.id, notebook, "source")
    return run


def preset_tags() -> dict[str, str]:
    """Tags every run of this process gets, from ``MLOPS_JLAB_RUN_TAGS`` (a JSON object;
    the monitor and the scheduler set it for the notebooks they run)."""
    raw = os.environ.get("MLOPS_JLAB_RUN_TAGS")
    if not raw:
        return {}
    import json

    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _notebook_run() -> Run | None:
    """The run of the papermill execution this kernel serves, once adopted.

    A tracked papermill execution (see :mod:`mlops_jlab.automation.notebook_run`) starts
    the notebook's run itself and names it in ``MLOPS_JLAB_RUN_ID``. The kernel adopts it
    as the outermost active run: module-level ``log_*`` calls go to it, runs started here
    nest under it, and the papermill process (not this kernel) ends it: ``end_run()``
    on it only flushes metrics (a habit carried over from MLflow breaks nothing).
    """
    if _state.notebook_run_checked:
        return _state.notebook_run
    with _state.lock:
        if _state.notebook_run_checked:
            return _state.notebook_run
        run_id = os.environ.get("MLOPS_JLAB_RUN_ID")
        if run_id and os.environ.get("MLOPS_JLAB_PAPERMILL"):
            b = backend()
            info = b.get_run(run_id)
            run = Run(b, info.id, info.name, info.experiment_id, owned=False)
            _state.runs.insert(0, run)
            _state.notebook_run = run
            experiment = os.environ.get("MLOPS_JLAB_EXPERIMENT")
            if experiment and _state.experiment is None:
                _state.experiment = experiment
            _flush_after_cells(b)
        _state.notebook_run_checked = True
        return _state.notebook_run


def _flush_after_cells(b: Backend) -> None:
    """Write buffered metrics after every cell, so the papermill process that ends the
    run finds them all even if the kernel is killed at shutdown."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_execute", b.metrics.flush)


def log_output(name: str, value: Any) -> None:
    """Declare an output of this notebook (JSON-serialisable), for the steps of a
    pipeline that depend on it: ``${steps.<step>.outputs.<name>}``. Stored on the
    notebook's run as the tag ``mlops.output.<name>``."""
    import json
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
        raise InvalidInput(f"output name {name!r} must be an identifier (letters, digits, "
                           "'_'; up to 64)")
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"output {name!r} must be JSON-serialisable, got "
                           f"{type(value).__name__}") from None
    run = _notebook_run() or _current_run()
    run.set_tag(f"mlops.output.{name}", text)


def _forget(run: Run) -> None:
    if run in _state.runs:
        _state.runs.remove(run)
    _state.auto_runs.discard(run.id)


def active_run() -> Run | None:
    """The innermost active run, if any."""
    _notebook_run()
    return _state.runs[-1] if _state.runs else None


def end_run(status: str = "finished") -> None:
    """End the innermost active run."""
    run = active_run()
    if run is None:
        raise InvalidInput("there is no active run to end")
    run.end(status)


def _current_run() -> Run:
    run = active_run()  # adopts the notebook's run under papermill
    if run is None:
        run = start_run()
        _state.auto_runs.add(run.id)
    return run


def log_param(key: str, value: object) -> None:
    """Record a param on the active run (one is started if needed)."""
    _current_run().log_param(key, value)


def log_params(params: Mapping[str, object]) -> None:
    """Record params on the active run."""
    _current_run().log_params(params)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Append a metric point to the active run (buffered)."""
    _current_run().log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Append several metric points to the active run."""
    _current_run().log_metrics(metrics, step)


def set_tag(key: str, value: object) -> None:
    """Set a tag on the active run."""
    _current_run().set_tag(key, value)


def set_tags(tags: Mapping[str, object]) -> None:
    """Set tags on the active run."""
    _current_run().set_tags(tags)


def log_artifact(local_path: str, artifact_path: str | None = None) -> list[dict[str, Any]]:
    """Store a file or folder with the active run."""
    return _current_run().log_artifact(local_path, artifact_path)


def log_dataset(data: Any, name: str, role: str = "train") -> dict[str, Any]:
    """Record a dataset version used by the active run."""
    return _current_run().log_dataset(data, name, role)


def get_run(run_id: str) -> Run:
    """A handle on an existing run (read its params, metrics, history; log more)."""
    b = backend()
    info = b.get_run(run_id)
    return Run(b, info.id, info.name, info.experiment_id, next_steps={
        k: v + 1 for k, v in b.last_steps(run_id).items()})


def search_runs(
    experiment: str | Iterable[str] | None = None,
    filter: str | None = None,
    order_by: str | Sequence[str] | None = None,
    limit: int = 100,
) -> pd.DataFrame:
    """Runs as a DataFrame: ``run_id``, attributes, ``params.*``, ``metrics.*``, ``tags.*``.

    ``experiment`` is a name or id (or several); by default the experiment chosen with
    :func:`set_experiment`, else every experiment. ``filter`` uses the search syntax
    (``"metrics.acc > 0.9 and params.model = 'rf'"``); ``order_by`` e.g.
    ``["metrics.acc DESC"]``. ``limit`` may exceed one page: pages are followed.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive integer, got {limit!r}")
    b = backend()
    scope = experiment if experiment is not None else _state.experiment
    rows: list[Any] = []
    token: str | None = None
    while len(rows) < limit:
        page = b.search_runs(scope, filter, order_by, min(1000, limit - len(rows)), token)
        rows.extend(page.runs)
        token = page.next_page_token
        if not token:
            break
    return runs_frame(rows)


def runs_frame(runs: Sequence[Any]) -> pd.DataFrame:
    """Flatten run records into the ``search_runs`` DataFrame layout."""
    base = ["run_id", "name", "experiment_id", "experiment", "status", "user", "start_time",
            "end_time", "duration", "parent_run_id"]
    columns: dict[str, list[Any]] = {
        "run_id": [r.id for r in runs], "name": [r.name for r in runs],
        "experiment_id": [r.experiment_id for r in runs],
        "experiment": [r.experiment_name for r in runs],
        "status": [r.status for r in runs], "user": [r.user for r in runs],
        "start_time": pd.to_datetime([r.start_time for r in runs], unit="ms", utc=True),
        "end_time": pd.to_datetime([r.end_time for r in runs], unit="ms", utc=True),
        "duration": [r.duration for r in runs],
        "parent_run_id": [r.parent_run_id for r in runs],
    }
    for prefix, attr in (("params", "params"), ("metrics", "metrics"), ("tags", "tags")):
        keys = sorted({k for r in runs for k in getattr(r, attr)})
        for key in keys:
            columns[f"{prefix}.{key}"] = [getattr(r, attr).get(key) for r in runs]
    frame = pd.DataFrame(columns)
    return frame if runs else frame[base]


@atexit.register
def _end_runs_at_exit() -> None:
    b = _state.backend
    if b is None:
        return
    for run in reversed(list(_state.runs)):
        try:
            run.end("finished")
        except NotFound:
            pass
        except Exception:
            continue
