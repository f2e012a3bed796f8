"""Validation rules: their shape (checked when declared) and their evaluation."""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput, MlopsError
from ..models.evaluation import evaluate
from ..models.loaded import LoadedModel
from ..models.signature import enforce_signature

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
KINDS = ("metric", "relative", "schema", "no_nulls", "predicts_example", "latency",
         "deterministic")
DEFAULT_RULES: list[dict[str, Any]] = [
    {"kind": "schema"}, {"kind": "no_nulls", "columns": None}, {"kind": "predicts_example"},
    {"kind": "deterministic"}]


def _number(rule: Mapping[str, Any], key: str) -> float:
    value = rule.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"rule {dict(rule)}: {key!r} must be a number")
    return float(value)


_SHORTHAND = re.compile(
    r"^\s*([A-Za-z_][\w.-]*)\s*(>=|>|<=|<)\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$")


def parse_metric_rule(text: str) -> dict[str, Any]:
    """``"accuracy >= 0.9"`` → ``{"kind": "metric", "metric": "accuracy", ...}``."""
    match = _SHORTHAND.match(text)
    if not match:
        raise InvalidInput(f"cannot read rule {text!r}: write e.g. 'accuracy >= 0.9' or give "
                           "a dict such as {'kind': 'relative', 'metric': 'f1', 'max_drop': 0.01}")
    return {"kind": "metric", "metric": match.group(1), "op": match.group(2),
            "threshold": float(match.group(3))}


def check_rules(rules: Iterable[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """Validate the shape of each rule; returns normalized copies."""
    out = []
    for rule in rules:
        if isinstance(rule, str):
            rule = parse_metric_rule(rule)
        if not isinstance(rule, Mapping):
            raise InvalidInput(f"a rule must be an object, got {rule!r}")
        kind = rule.get("kind")
        if kind not in KINDS:
            raise InvalidInput(f"rule kind must be one of {', '.join(KINDS)}, got {kind!r}")
        r: dict[str, Any] = {"kind": kind}
        if kind == "metric":
            if not isinstance(rule.get("metric"), str) or rule.get("op") not in OPS:
                raise InvalidInput(f"metric rule needs 'metric' and 'op' in "
                                   f"{', '.join(OPS)}: {dict(rule)}")
            r.update(metric=rule["metric"], op=rule["op"],
                     threshold=_number(rule, "threshold"))
        elif kind == "relative":
            if not isinstance(rule.get("metric"), str):
                raise InvalidInput(f"relative rule needs 'metric': {dict(rule)}")
            r.update(metric=rule["metric"], max_drop=_number(rule, "max_drop"),
                     lower_is_better=bool(rule.get("lower_is_better", False)))
        elif kind == "no_nulls":
            cols = rule.get("columns")
            if cols is not None and (not isinstance(cols, list) or
                                     not all(isinstance(c, str) for c in cols)):
                raise InvalidInput("no_nulls 'columns' must be a list of names or null")
            r["columns"] = cols
        elif kind == "latency":
            r["max_ms_per_row"] = _number(rule, "max_ms_per_row")
        out.append(r)
    return out


def describe(rule: Mapping[str, Any]) -> str:
    """Human text of a rule, e.g. ``accuracy >= 0.9``."""
    kind = rule["kind"]
    if kind == "metric":
        return f"{rule['metric']} {rule['op']} {rule['threshold']:g}"
    if kind == "relative":
        word = "rise" if rule.get("lower_is_better") else "drop"
        return f"{rule['metric']} must not {word} by more than {rule['max_drop']:g} vs @production"
    if kind == "no_nulls":
        cols = rule.get("columns")
        return f"no nulls in {', '.join(cols)}" if cols else "no nulls in the model's inputs"
    if kind == "latency":
        return f"prediction latency <= {rule['max_ms_per_row']:g} ms/row"
    return {"schema": "data matches the signature", "predicts_example":
            "predicts on its input example", "deterministic": "same input, same output"}[kind]


def _result(rule: Mapping[str, Any], passed: bool, value: Any = None, threshold: Any = None,
            message: str = "") -> dict[str, Any]:
    return {"rule": describe(rule), "kind": rule["kind"], "value": value,
            "threshold": threshold, "passed": bool(passed), "message": message}


def run_rules(rules: list[dict[str, Any]], model: LoadedModel, X: pd.DataFrame, y: Any,
              production: Callable[[], LoadedModel | None]) -> list[dict[str, Any]]:
    """Evaluate every rule; a rule that cannot run fails with its reason (never raises)."""
    results = []
    metrics: dict[str, float] | None = None
    prod_metrics: dict[str, float] | None = None
    prod_loaded = False
    prod_model: LoadedModel | None = None
    checked: pd.DataFrame | None = None

    def model_inputs() -> pd.DataFrame:
        nonlocal checked
        if checked is None:
            checked = enforce_signature(model.signature, X) if model.signature else X
        return checked

    for rule in rules:
        kind = rule["kind"]
        try:
            if kind == "schema":
                if model.signature is None:
                    results.append(_result(rule, True, message="model has no signature"))
                    continue
                enforce_signature(model.signature, X)
                results.append(_result(rule, True, message="all columns present with "
                                                           "compatible dtypes"))
            elif kind == "no_nulls":
                cols = rule.get("columns") or (
                    [c["name"] for c in model.signature.inputs] if model.signature
                    else list(X.columns))
                present = [c for c in cols if c in X.columns]
                nulls = {c: int(X[c].isna().sum()) for c in present}
                bad = {c: n for c, n in nulls.items() if n}
                results.append(_result(rule, not bad, sum(nulls.values()), 0,
                                       "; ".join(f"{c}: {n} nulls" for c, n in bad.items())))
            elif kind == "predicts_example":
                example = model.input_example
                if example is None:
                    results.append(_result(rule, False, message="no input example stored"))
                    continue
                pred = model.predict(example)
                results.append(_result(rule, len(pred) == len(example), len(pred),
                                       len(example), "predicted the stored example"))
            elif kind == "metric":
                if metrics is None:
                    metrics = evaluate(model.model, model_inputs(), y)
                value = metrics.get(rule["metric"])
                if value is None:
                    results.append(_result(rule, False, message=f"metric {rule['metric']!r} "
                                           f"is not computed for this model; have "
                                           f"{', '.join(sorted(metrics))}"))
                    continue
                results.append(_result(rule, OPS[rule["op"]](value, rule["threshold"]), value,
                                       rule["threshold"]))
            elif kind == "relative":
                if metrics is None:
                    metrics = evaluate(model.model, model_inputs(), y)
                if not prod_loaded:
                    prod_model, prod_loaded = production(), True
                    if prod_model is not None:
                        prod_inputs = enforce_signature(prod_model.signature, X) \
                            if prod_model.signature else X
                        prod_metrics = evaluate(prod_model.model, prod_inputs, y)
                if prod_metrics is None:
                    results.append(_result(rule, True, metrics.get(rule["metric"]),
                                           message="no @production version to compare with"))
                    continue
                value, base = metrics.get(rule["metric"]), prod_metrics.get(rule["metric"])
                if value is None or base is None:
                    results.append(_result(rule, False, message=f"metric {rule['metric']!r} "
                                           "is not available for both versions"))
                    continue
                change = (value - base) if rule.get("lower_is_better") else (base - value)
                results.append(_result(rule, change <= rule["max_drop"] + 1e-12,
                                       value, base - rule["max_drop"] if not
                                       rule.get("lower_is_better") else base + rule["max_drop"],
                                       f"@production has {base:.4g}"))
            elif kind == "latency":
                sample = model_inputs().head(1000)
                start = time.perf_counter()
                model.model.predict(sample)
                per_row = (time.perf_counter() - start) * 1000 / max(len(sample), 1)
                results.append(_result(rule, per_row <= rule["max_ms_per_row"],
                                       round(per_row, 6), rule["max_ms_per_row"],
                                       f"{len(sample)} rows"))
            elif kind == "deterministic":
                sample = model_inputs().head(1000)
                first, second = model.model.predict(sample), model.model.predict(sample)
                same = bool(np.array_equal(np.asarray(first), np.asarray(second)))
                results.append(_result(rule, same, message="" if same else
                                       "two predictions on the same rows differ"))
        except MlopsError as exc:
            results.append(_result(rule, False, message=exc.message))
        except Exception as exc:  # a model that crashes fails the rule, with the reason
            results.append(_result(rule, False, message=f"{type(exc).__name__}: {exc}"))
    return results
