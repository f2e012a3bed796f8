"""A loaded model: predict-ready, with its signature enforced on every call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .signature import Signature, enforce_signature


class LoadedModel:
    """A model read from a verified model folder; ``predict`` checks inputs first."""

    def __init__(self, model: Any, manifest: dict[str, Any], uri: str | None = None) -> None:
        self.model = model
        self.manifest = manifest
        self.uri = uri
        sig = manifest.get("signature")
        self.signature = Signature(**sig) if sig else None

    def __repr__(self) -> str:
        return f"<LoadedModel {self.manifest.get('model_class')} from {self.uri}>"

    def _inputs(self, data: Any) -> Any:
        if self.signature is None:
            return data
        frame = enforce_signature(self.signature, data)
        if self.signature.input_kind == "ndarray":
            return frame.to_numpy()
        return frame

    def predict(self, data: Any) -> np.ndarray:
        """Predictions for ``data`` (DataFrame, records, or 2-D array matching the signature)."""
        return np.asarray(self.model.predict(self._inputs(data)))

    def predict_proba(self, data: Any) -> np.ndarray:
        """Class probabilities, when the model has them."""
        if not hasattr(self.model, "predict_proba"):
            from ..errors import InvalidInput

            raise InvalidInput(f"{type(self.model).__name__} has no predict_proba")
        return np.asarray(self.model.predict_proba(self._inputs(data)))

    @property
    def input_example(self) -> pd.DataFrame | None:
        """The stored input example as a DataFrame."""
        ex = self.manifest.get("input_example")
        if not ex:
            return None
        return pd.DataFrame(ex["data"], columns=ex["columns"])
