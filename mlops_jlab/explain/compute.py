"""One explanation of a model on some data: importance, partial dependence of the top
features, per-row contributions, the reference row and the figures, as the record
payload of :mod:`.records`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from ..tracking.datasets import fingerprint
from .dependence import dependence_table
from .figures import as_dict, dependence_figure, importance_figure, local_figure
from .importance import permutation_table, scoring_of
from .local import LocalExplainer
from .subject import ExplainedModel, plain, reference_row

REPEATS = 5
#: rows explained one by one by shap's model-agnostic explainer (its cost is per row)
PERMUTATION_ROWS = 50


def sample_rows(frame: pd.DataFrame, y: Any, rows: int, seed: int
                ) -> tuple[pd.DataFrame, Any, np.ndarray]:
    """At most ``rows`` rows (a seeded sample, in their original order), the matching
    labels, and their positions in ``frame``."""
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise InvalidInput(f"rows must be a positive integer, got {rows!r}", field="rows")
    positions = np.arange(len(frame))
    if len(frame) > rows:
        positions = np.sort(np.random.default_rng(seed).choice(len(frame), rows,
                                                                replace=False))
    sample = frame.iloc[positions].reset_index(drop=True)
    labels = None if y is None else np.asarray(y)[positions]
    return sample, labels, positions


def compute_payload(subject: ExplainedModel, frame: pd.DataFrame, y: Any = None, *,
                    top: int = 4, rows: int = 200, seed: int = 0,
                    local_rows: int | None = None) -> dict[str, Any]:
    """The explanation payload of ``subject`` on ``frame`` (columns = the model's
    features, in order) with labels ``y`` (None: agreement with the model's own
    predictions)."""
    if frame.empty:
        raise InvalidInput("there are no rows to explain")
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise InvalidInput(f"top must be a non-negative integer, got {top!r}", field="top")
    if y is not None and len(y) != len(frame):
        raise InvalidInput(f"data has {len(frame)} rows but y has {len(y)}")
    sample, labels, positions = sample_rows(frame, y, rows, seed)
    if labels is not None and pd.isna(pd.Series(labels)).any():
        raise InvalidInput("y has missing values")
    _, scoring = scoring_of(subject, labels is not None)
    importance = permutation_table(subject, sample, labels, n_repeats=REPEATS, seed=seed)
    top_features = [r["feature"] for r in importance[:top]]
    dependence = dependence_table(subject, sample, top_features)
    reference = reference_row(sample)
    explainer = LocalExplainer(subject, reference, mode="full")
    if local_rows is None:
        local_rows = PERMUTATION_ROWS if explainer.method == "shap.PermutationExplainer" \
            else len(sample)
    explained = sample.head(max(1, local_rows))
    result = explainer.explain(explained)
    local_rows_out = []
    for i in range(len(explained)):
        row: dict[str, Any] = {
            "index": int(positions[i]), "prediction": plain(float(result.predictions[i])),
            "base_value": plain(float(result.base_values[i])),
            "values": [plain(v) for v in explained.iloc[i].tolist()],
            "contributions": [plain(float(c)) for c in result.contributions[i]]}
        if result.classes is not None:
            row["class"] = plain(result.classes[i])
        local_rows_out.append(row)
    local = {"features": list(subject.features),
             "base_value": plain(float(result.base_values[0])), "rows": local_rows_out}
    background = {"features": list(subject.features),
                  "values": [plain(v) for v in reference.iloc[0].tolist()]}
    figures = {"importance": as_dict(importance_figure(importance, scoring, len(sample),
                                                       REPEATS)),
               "partial_dependence": as_dict(dependence_figure(dependence, sample)),
               "local": as_dict(local_figure(local, result.target, result.method))}
    return {"task": subject.task, "scoring": scoring, "rows": len(sample),
            "data_fingerprint": fingerprint(sample), "local_method": result.method,
            "target": result.target, "importance": importance,
            "partial_dependence": dependence, "local": local, "background": background,
            "figures": figures}
