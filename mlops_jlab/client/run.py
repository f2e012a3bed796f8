"""The run handle returned by ``start_run`` and ``get_run``: log to it and read it back."""

from __future__ import annotations

import math
import os
import time
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidInput
from ..tracking.datasets import profile_dataframe
from ..tracking.records import RunDetail
from ..tracking.service import MAX_KEY, check_key, check_metric_value

if TYPE_CHECKING:
    from .backend import Backend


class Run:
    """A tracked run. Use as a context manager: an exception inside marks it failed."""

    def __init__(self, backend: Backend, run_id: str, name: str, experiment_id: str,
                 *, next_steps: dict[str, int] | None = None,
                 on_end: Any = None, owned: bool = True) -> None:
        self._backend = backend
        self.id = run_id
        self.name = name
        self.experiment_id = experiment_id
        self._next_step: dict[str, int] = dict(next_steps or {})
        self._ended = False
        self._on_end = on_end
        #: False for a run another process ends (a papermill notebook's run, seen from
        #: its kernel): ``end()`` then only flushes the buffered metrics
        self._owned = owned

    def __repr__(self) -> str:
        return f"<Run {self.name!r} id={self.id}>"

    # ------------------------------------------------------------------ logging
    def log_param(self, key: str, value: object) -> None:
        """Record one param (params are immutable once logged)."""
        self._backend.log_params(self.id, {key: value})

    def log_params(self, params: Mapping[str, object]) -> None:
        """Record several params in one call."""
        self._backend.log_params(self.id, dict(params))

    def set_tag(self, key: str, value: object) -> None:
        """Set one tag (tags can be overwritten)."""
        self._backend.set_tags(self.id, {key: value})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Set several tags."""
        self._backend.set_tags(self.id, dict(tags))

    def log_metric(self, key: str, value: float, step: int | None = None,
                   timestamp: int | None = None) -> None:
        """Append a metric point; buffered, so it costs no database round trip.

        ``step`` defaults to one more than the key's previous step (0 first).
        """
        if type(key) is not str or not key or len(key) > MAX_KEY:
            check_key(key, "metric key")
        if type(value) is float:
            number: float | None = None if math.isnan(value) else value
        else:
            number = check_metric_value(key, value)
        if step is None:
            step = self._next_step.get(key, 0)
        elif type(step) is not int:
            try:
                step = int(step)  # numpy integers
            except (TypeError, ValueError):
                raise InvalidInput(f"step of metric {key!r} must be an integer") from None
        nxt = self._next_step.get(key, 0)
        if step >= nxt:
            self._next_step[key] = step + 1
        self._backend.metrics.append(
            (self.id, key, number, step, timestamp or time.time_ns() // 1_000_000))

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None,
                    timestamp: int | None = None) -> None:
        """Append one point per key, all at the same step and time (one buffer append)."""
        ts = timestamp or time.time_ns() // 1_000_000
        if step is not None and type(step) is not int:
            try:
                step = int(step)
            except (TypeError, ValueError):
                raise InvalidInput("step must be an integer") from None
        next_step = self._next_step
        points = []
        for key, value in metrics.items():
            if type(key) is not str or not key or len(key) > MAX_KEY:
                check_key(key, "metric key")
            if type(value) is float:
                number: float | None = None if value != value else value
            else:
                number = check_metric_value(key, value)
            at = next_step.get(key, 0) if step is None else step
            if at >= next_step.get(key, 0):
                next_step[key] = at + 1
            points.append((self.id, key, number, at, ts))
        self._backend.metrics.extend(points)

    def log_artifact(self, local_path: str | os.PathLike[str],
                     artifact_path: str | None = None) -> list[dict[str, Any]]:
        """Store a file or a whole folder (content-addressed) with the run."""
        return self._backend.log_artifact(self.id, local_path, artifact_path)

    def log_text(self, text: str, path: str) -> dict[str, Any]:
        """Store a string as a text artifact."""
        return self._backend.log_artifact_bytes(self.id, path, text.encode())

    def log_dict(self, data: Mapping[str, Any], path: str) -> dict[str, Any]:
        """Store a dict as a JSON artifact."""
        import orjson

        return self._backend.log_artifact_bytes(
            self.id, path, orjson.dumps(data, option=orjson.OPT_INDENT_2 |
                                        orjson.OPT_SERIALIZE_NUMPY))

    def log_figure(self, figure: Any, path: str) -> dict[str, Any]:
        """Store a plotly figure as JSON (``.json``) or HTML (``.html``)."""
        if path.endswith(".html"):
            data = figure.to_html(include_plotlyjs="cdn", full_html=True).encode()
        else:
            data = figure.to_json().encode()
        return self._backend.log_artifact_bytes(self.id, path, data)

    def log_dataset(self, data: Any, name: str, role: str = "train") -> dict[str, Any]:
        """Record a dataset version (fingerprint, rows, schema, profile) used by the run."""
        return self._backend.log_dataset(self.id, profile_dataframe(data, name), role)

    def log_model(self, model: Any, name: str = "model", input_example: Any = None, *,
                  serializer: str = "skops", allow_pickle: bool = False) -> dict[str, Any]:
        """Save a scikit-learn model under ``name/``: the model file (skops by default;
        ``serializer="pickle"`` only with ``allow_pickle=True``) and ``manifest.json``
        with the signature inferred from ``input_example``."""
        import tempfile

        from ..models import save_model_folder
        from ..registry.names import relative_path

        name = relative_path(name, "name")
        with tempfile.TemporaryDirectory(prefix="mlops-model-") as tmp:
            manifest = save_model_folder(model, tmp, input_example, serializer=serializer,
                                         allow_pickle=allow_pickle)
            self.log_artifact(tmp, name)
        return manifest

    def artifact_bytes(self, path: str) -> bytes:
        """Content of one artifact of the run."""
        return self._backend.artifact_bytes(self.id, path)

    def end(self, status: str = "finished", error: str | None = None) -> None:
        """Flush buffered metrics and mark the run finished, failed or killed."""
        if self._ended:
            return
        if not self._owned:
            self._backend.metrics.flush()  # its owner ends it, with the real outcome
            return
        self._backend.end_run(self.id, status=status, error=error)
        self._ended = True
        if self._on_end is not None:
            self._on_end(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.end("finished")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("killed", error="KeyboardInterrupt")
        else:
            self.end("failed", error="".join(traceback.format_exception(exc_type, exc, tb)))

    # ------------------------------------------------------------------ reading
    @property
    def info(self) -> RunDetail:
        """Everything recorded about the run (flushes buffered metrics first)."""
        return self._backend.get_run(self.id)

    @property
    def status(self) -> str:
        return self.info.status

    @property
    def params(self) -> dict[str, str]:
        return self.info.params

    @property
    def metrics(self) -> dict[str, float | None]:
        """Latest value of each metric."""
        return self.info.metrics

    @property
    def tags(self) -> dict[str, str]:
        return self.info.tags

    def metric_history(self, key: str) -> pd.DataFrame:
        """Every point of a metric: columns ``step``, ``value``, ``timestamp`` (UTC)."""
        points = self._backend.metric_history(self.id, key)
        frame = pd.DataFrame({"step": [p.step for p in points],
                              "value": [p.value for p in points],
                              "timestamp": [p.timestamp for p in points]})
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms", utc=True)
        return frame

    def _repr_html_(self) -> str:
        from ..widgets.run_card import run_card_html

        return run_card_html(self.info)

