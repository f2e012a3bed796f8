"""Python API of model explanations (re-exported by ``mlops_jlab``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..errors import InvalidInput
from ..explain import Explanation
from ..models.loaded import LoadedModel
from ..models.signature import enforce_signature
from ..tracking.datasets import as_frame
from .api import backend
from .registry import _MODELS_URI, load_model


def explain(model_uri: str, data: Any, y: Any = None, *, target: str | None = None,
            top: int = 4, rows: int = 200, seed: int = 0, store: bool = True,
            local_rows: int | None = None,
            trusted_types: Iterable[str] = ()) -> Explanation:
    """Explain a model on ``data``: permutation importance (drop of accuracy / R² when a
    feature is shuffled; with ``y``, or ``target`` = the label column of ``data``; without
    labels, agreement with the model's own predictions), partial dependence of the
    ``top`` features, and per-row contributions (shap when installed, else occlusion).

    ``model_uri``: ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or
    ``runs:/RUN_ID/PATH``. At most ``rows`` rows are used (a sample seeded by ``seed``).
    The explanation of a registered version is stored on it (``store=True``: the model
    card, the panel and serving workers use it); one of a run's model is returned only.
    """
    b = backend()
    if not isinstance(model_uri, str):
        raise InvalidInput(f"model URI must be a string, got {type(model_uri).__name__}")
    match = _MODELS_URI.match(model_uri)
    name, version = None, None
    if match:
        name = match.group("name")
        version = b.registry.get_version(name, match.group("alias") or
                                         match.group("version"), user=b.user).version
        model = load_model(f"models:/{name}/{version}", trusted_types)
    else:
        model = load_model(model_uri, trusted_types)
    frame, labels, array_input = _inputs(model, data, y, target)
    from ..explain.compute import compute_payload
    from ..explain.subject import ExplainedModel

    subject = ExplainedModel.of(model.model, [str(c) for c in frame.columns],
                                array_input=array_input)
    payload = compute_payload(subject, frame, labels, top=top, rows=rows, seed=seed,
                              local_rows=local_rows)
    if name is not None and store:
        return Explanation(b.explanations.record(name, version, payload, b.user))
    return Explanation({"id": None, "model": name, "version": version, "created_at": None,
                        "created_by": None, "model_uri": model_uri, **payload})


def _inputs(model: LoadedModel, data: Any, y: Any, target: str | None
            ) -> tuple[pd.DataFrame, Any, bool]:
    """(frame of the model's columns, labels, whether the model takes arrays)."""
    if target is not None:
        if y is not None:
            raise InvalidInput("give y or target (the label column of data), not both")
        if not isinstance(data, pd.DataFrame) or target not in data.columns:
            raise InvalidInput(f"data has no column {target!r} (target names the label "
                               "column of a DataFrame)", field="target")
        y, data = data[target], data.drop(columns=[target])
    if model.signature is not None:
        frame = enforce_signature(model.signature, data)
        array_input = model.signature.input_kind == "ndarray"
    else:
        frame = as_frame(data)
        array_input = not isinstance(data, pd.DataFrame)
    if y is not None:
        y = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y
        if len(y) != len(frame):
            raise InvalidInput(f"data has {len(frame)} rows but y has {len(y)}")
    return frame.reset_index(drop=True), y, array_input


def get_explanation(name: str, version: int | str = "latest",
                    id: str = "latest") -> Explanation:
    """A stored explanation of a version (number, alias or ``latest``), by id or the
    latest one."""
    b = backend()
    return Explanation(b.explanations.get(name, version, id, user=b.user))


def list_explanations(name: str, version: int | str = "latest") -> pd.DataFrame:
    """The explanations stored on a version, newest first: id, created_at, created_by,
    rows, scoring, local_method, target, top features."""
    b = backend()
    rows = b.explanations.list(name, version, user=b.user)
    frame = pd.DataFrame([{
        "id": r["id"], "version": r["version"], "created_at": r["created_at"],
        "created_by": r["created_by"], "rows": r["rows"], "scoring": r["scoring"],
        "local_method": r["local_method"], "target": r["target"],
        "top_features": ", ".join(i["feature"] for i in r.get("importance", [])[:3])}
        for r in rows], columns=["id", "version", "created_at", "created_by", "rows",
                                 "scoring", "local_method", "target", "top_features"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], unit="ms", utc=True)
    return frame
