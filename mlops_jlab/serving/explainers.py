"""Per-prediction explanations in a serving worker (``"params": {"explain": true}``).

One :class:`~mlops_jlab.explain.local.LocalExplainer` per model version, built at the
version's first explain request (shap's import and the explainer's set-up are paid once
per worker, not per request) in its ``fast`` mode: ``shap.TreeExplainer`` /
``shap.LinearExplainer`` when shap is installed and the model is a tree or linear model
(bare, or behind per-feature scalers), else occlusion (one batched predict call of
rows x (features + 1) rows).

Contributions are against a reference row: the ``background`` of the version's latest
stored explanation (``mlops.explain``), else the median / most frequent value of the
model's stored input example, else zeros (numbers) and empty strings (text).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd

from ..models.loaded import LoadedModel
from .inputs import InputPlan, Inputs


class WorkerExplainers:
    """The explainers of a worker's model versions, built lazily."""

    def __init__(self, models: dict[int, LoadedModel], plans: dict[int, InputPlan],
                 backgrounds: dict[int, dict[str, Any] | None]) -> None:
        self.models = models
        self.plans = plans
        self.backgrounds = backgrounds
        self._built: dict[int, Any] = {}
        self._lock = threading.Lock()

    def explainer(self, version: int) -> Any:
        """The version's explainer (built on first use)."""
        built = self._built.get(version)
        if built is None:
            with self._lock:
                built = self._built.get(version)
                if built is None:
                    built = self._build(version)
                    self._built[version] = built
        return built

    def _build(self, version: int) -> Any:
        from ..explain.local import LocalExplainer
        from ..explain.subject import ExplainedModel, reference_from_background, reference_row

        model, plan = self.models[version], self.plans[version]
        columns = plan.columns or []
        subject = ExplainedModel.of(model.model, columns, to_model=self._to_model(plan))
        background = self.backgrounds.get(version)
        if background:
            reference = reference_from_background(background, columns, plan.dtypes)
        else:
            example = model.input_example
            if example is not None and list(example.columns) == columns and len(example):
                reference = reference_row(example.astype(plan.dtypes))
            else:
                reference = pd.DataFrame(
                    [[0 if kind != "text" else "" for kind in self._kinds(plan)]],
                    columns=columns).astype(plan.dtypes)
        return LocalExplainer(subject, reference, mode="fast")

    @staticmethod
    def _kinds(plan: InputPlan) -> list[str]:
        from ..models.signature import column_kind

        return [column_kind(plan.dtypes[c]) for c in plan.columns]

    @staticmethod
    def _to_model(plan: InputPlan) -> Any:
        def to_model(frame: pd.DataFrame) -> Any:
            if plan.takes_array:
                return frame.to_numpy(dtype=float)
            if plan.wants_array:
                return frame.to_numpy()
            return frame
        return to_model

    def explain(self, version: int, inputs: Inputs) -> list[dict[str, Any]]:
        """``[{"base_value", "contributions": {feature: value}, "target", "method"}]``,
        one per row of ``inputs``."""
        explainer = self.explainer(version)
        plan = self.plans[version]
        if plan.numeric:  # a float matrix already: only integer columns change dtype
            frame = pd.DataFrame(np.asarray(inputs.values, dtype=float), columns=inputs.columns)
            if plan.int_columns:
                frame = frame.astype({plan.columns[i]: plan.dtypes[plan.columns[i]]
                                      for i in plan.int_columns})
        else:
            frame = pd.DataFrame(inputs.values, columns=inputs.columns).astype(plan.dtypes)
        result = explainer.explain(frame)
        features = explainer.subject.features
        out = []
        for i in range(len(frame)):
            row: dict[str, Any] = {
                "base_value": float(result.base_values[i]),
                "contributions": dict(zip(features, map(float, result.contributions[i]),
                                          strict=True)),
                "target": result.target, "method": result.method}
            if result.classes is not None:
                row["class"] = result.classes[i]
            out.append(row)
        return out
