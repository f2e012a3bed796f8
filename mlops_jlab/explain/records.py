"""The explanation record: its shape, checked before it is stored, and its summary.

An explanation is computed where the data is (the kernel) and stored on a registered
model version as one JSON document::

    {"id", "model", "version", "created_at", "created_by",       # set by the store
     "task", "scoring", "rows", "data_fingerprint", "local_method", "target",
     "importance": [{"feature", "mean", "std"}, ...],            # descending by mean
     "partial_dependence": [{"feature", "kind", "grid", "average"}, ...],
     "local": {"features", "base_value", "rows": [{"index", "prediction", "values",
                                                   "contributions"}, ...]},
     "background": {"features", "values"},                        # per-feature reference
     "figures": {"importance", "partial_dependence", "local"}}    # plotly figure dicts

``check_payload`` validates what a client sends (the record without the five keys the
store sets); ``summary`` is what listings return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypedDict

from ..errors import InvalidInput

TASKS = ("classification", "regression")
PD_KINDS = ("numeric", "categorical")
FIGURES = ("importance", "partial_dependence", "local")
STORE_KEYS = ("id", "model", "version", "created_at", "created_by")
#: keys a listing leaves out (the heavy parts)
DETAIL_KEYS = ("figures", "local", "partial_dependence")
MAX_FEATURES = 10_000
MAX_ROWS = 100_000


class ImportanceRow(TypedDict):
    feature: str
    mean: float
    std: float


class Background(TypedDict):
    features: list[str]
    values: list[Any]


class ExplanationPayload(TypedDict, total=False):
    """What a client computes and sends (the stored record minus :data:`STORE_KEYS`)."""

    task: str
    scoring: str
    rows: int
    data_fingerprint: str
    local_method: str
    target: str
    importance: list[ImportanceRow]
    partial_dependence: list[dict[str, Any]]
    local: dict[str, Any]
    background: Background
    figures: dict[str, dict[str, Any]]


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"explanation {field}: {message}", field=field)


def _text(body: Mapping[str, Any], key: str, limit: int = 1000) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _fail(key, f"must be a non-empty string of at most {limit} characters")
    return value


def _number(value: Any, field: str, *, nullable: bool = False) -> float | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(field, f"must be a number, got {type(value).__name__}")
    return None if not math.isfinite(value) else float(value)


def _list(value: Any, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(field, "must be a list")
    if len(value) > limit:
        raise _fail(field, f"has more than {limit} items")
    return value


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(field, "must be an object")
    return value


def _scalar(value: Any, field: str) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise _fail(field, "values must be numbers, strings, booleans or null")


def _names(value: Any, field: str) -> list[str]:
    names = _list(value, field, MAX_FEATURES)
    if not all(isinstance(n, str) and n for n in names):
        raise _fail(field, "must be a list of non-empty strings")
    return list(names)


def check_payload(body: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as it will be stored, or :class:`InvalidInput` naming the first
    problem (unknown keys are refused, so a typo does not pass silently)."""
    body = _object(body, "body")
    unknown = sorted(set(body) - set(ExplanationPayload.__annotations__) - set(STORE_KEYS))
    if unknown:
        raise InvalidInput(f"explanation has unknown keys: {', '.join(unknown)}",
                           field=unknown[0])
    task = _text(body, "task")
    if task not in TASKS:
        raise _fail("task", f"must be one of {', '.join(TASKS)}, got {task!r}")
    rows = body.get("rows")
    if isinstance(rows, bool) or not isinstance(rows, int) or not 0 < rows <= 10**9:
        raise _fail("rows", "must be a positive integer")
    fingerprint = _text(body, "data_fingerprint", 128)
    importance = []
    for i, item in enumerate(_list(body.get("importance"), "importance", MAX_FEATURES)):
        item = _object(item, f"importance[{i}]")
        importance.append({"feature": _text(item, "feature"),
                           "mean": _number(item.get("mean"), f"importance[{i}].mean"),
                           "std": _number(item.get("std"), f"importance[{i}].std")})
    dependence = []
    for i, item in enumerate(_list(body.get("partial_dependence"), "partial_dependence",
                                   MAX_FEATURES)):
        field = f"partial_dependence[{i}]"
        item = _object(item, field)
        kind = _text(item, "kind")
        if kind not in PD_KINDS:
            raise _fail(f"{field}.kind", f"must be one of {', '.join(PD_KINDS)}")
        grid = [_scalar(v, f"{field}.grid") for v in _list(item.get("grid"), f"{field}.grid",
                                                           MAX_ROWS)]
        average = [_number(v, f"{field}.average", nullable=True)
                   for v in _list(item.get("average"), f"{field}.average", MAX_ROWS)]
        if len(grid) != len(average):
            raise _fail(field, "grid and average must have the same length")
        entry: dict[str, Any] = {"feature": _text(item, "feature"), "kind": kind,
                                 "grid": grid, "average": average}
        if "target" in item:
            entry["target"] = _text(item, "target")
        dependence.append(entry)
    local = _check_local(_object(body.get("local"), "local"))
    background = _object(body.get("background"), "background")
    bg_features = _names(background.get("features"), "background.features")
    bg_values = [_scalar(v, "background.values")
                 for v in _list(background.get("values"), "background.values", MAX_FEATURES)]
    if len(bg_features) != len(bg_values):
        raise _fail("background", "features and values must have the same length")
    figures = _object(body.get("figures", {}), "figures")
    for key, figure in figures.items():
        if key not in FIGURES:
            raise _fail("figures", f"unknown figure {key!r} (expected {', '.join(FIGURES)})")
        _object(figure, f"figures.{key}")
    return {"task": task, "scoring": _text(body, "scoring"), "rows": rows,
            "data_fingerprint": fingerprint, "local_method": _text(body, "local_method"),
            "target": _text(body, "target"), "importance": importance,
            "partial_dependence": dependence, "local": local,
            "background": {"features": bg_features, "values": bg_values},
            "figures": {k: dict(v) for k, v in figures.items()}}


def _check_local(local: Mapping[str, Any]) -> dict[str, Any]:
    features = _names(local.get("features"), "local.features")
    rows = []
    for i, row in enumerate(_list(local.get("rows"), "local.rows", MAX_ROWS)):
        field = f"local.rows[{i}]"
        row = _object(row, field)
        index = row.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            raise _fail(f"{field}.index", "must be an integer")
        values = [_scalar(v, f"{field}.values") for v in _list(row.get("values"),
                                                                f"{field}.values",
                                                                MAX_FEATURES)]
        contributions = [_number(v, f"{field}.contributions", nullable=True)
                         for v in _list(row.get("contributions"), f"{field}.contributions",
                                        MAX_FEATURES)]
        if len(values) != len(features) or len(contributions) != len(features):
            raise _fail(field, "values and contributions need one entry per feature")
        entry: dict[str, Any] = {
            "index": index,
            "prediction": _number(row.get("prediction"), f"{field}.prediction",
                                  nullable=True),
            "values": values, "contributions": contributions}
        if "base_value" in row:
            entry["base_value"] = _number(row.get("base_value"), f"{field}.base_value",
                                          nullable=True)
        if "class" in row:
            entry["class"] = _scalar(row.get("class"), f"{field}.class")
        rows.append(entry)
    return {"features": features,
            "base_value": _number(local.get("base_value"), "local.base_value", nullable=True),
            "rows": rows}


def summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without its heavy parts (what listings return)."""
    return {k: v for k, v in record.items() if k not in DETAIL_KEYS}
