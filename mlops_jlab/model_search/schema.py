"""What the columns are, and the preprocessing that follows from it.

Column kinds come from the DataFrame's dtypes: numbers are imputed (median, with a
missing-value indicator when the column has gaps) and standardised; categories with at
most :data:`MAX_ONE_HOT` levels are one-hot encoded (missing is a level of its own);
categories with more levels are ordinal-encoded; datetimes and text that is unique per
row (identifiers) are left out. Everything is made of scikit-learn parts, so the fitted
pipeline is saved and loaded with skops like any model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from .metrics import CLASSIFICATION, REGRESSION

#: categorical columns with at most this many levels are one-hot encoded
MAX_ONE_HOT = 20
#: an integer target with at most this many distinct values is taken as classes
MAX_CLASSES_INFERRED = 20


@dataclass(frozen=True)
class Schema:
    """The columns of the training data by kind."""

    numeric: tuple[str, ...]
    one_hot: tuple[str, ...]
    ordinal: tuple[str, ...]
    #: numeric columns with missing values (they get a missing indicator)
    with_missing: tuple[str, ...] = ()
    #: columns left out, with the reason
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The columns the pipeline reads, in frame order of the kinds."""
        return [*self.numeric, *self.one_hot, *self.ordinal]

    def preprocessor(self) -> Any:
        """A ColumnTransformer for these columns (dense output)."""
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

        parts: list[tuple[str, Any, list[str]]] = []
        complete = [c for c in self.numeric if c not in self.with_missing]
        if complete:
            parts.append(("numeric", StandardScaler(), complete))
        if self.with_missing:
            parts.append(("numeric_missing", Pipeline([
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("scale", StandardScaler())]), list(self.with_missing)))
        if self.one_hot:
            parts.append(("one_hot", OneHotEncoder(handle_unknown="ignore",
                                                   sparse_output=False), list(self.one_hot)))
        if self.ordinal:
            parts.append(("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value",
                                                    unknown_value=-1,
                                                    encoded_missing_value=-2),
                          list(self.ordinal)))
        return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0,
                                 verbose_feature_names_out=False)

    def describe(self) -> dict[str, Any]:
        """The schema as JSON-ready data (stored with the parent run)."""
        return {"numeric": list(self.numeric), "one_hot": list(self.one_hot),
                "ordinal": list(self.ordinal), "with_missing": list(self.with_missing),
                "dropped": dict(self.dropped)}


def normalise_frame(X: pd.DataFrame) -> pd.DataFrame:
    """Pandas' nullable dtypes as plain numpy ones (``pd.NA`` becomes NaN), which every
    scikit-learn encoder accepts; other columns are kept as they are."""
    out = {}
    for name in X.columns:
        column = X[name]
        dtype = column.dtype
        plain = column
        if isinstance(dtype, pd.CategoricalDtype):
            plain = column.astype(object).where(column.notna(), np.nan)
        elif pd.api.types.is_extension_array_dtype(dtype):
            if pd.api.types.is_bool_dtype(dtype):
                plain = column.astype(object).where(column.notna(), np.nan)
            elif pd.api.types.is_numeric_dtype(dtype):
                plain = column.astype("float64")
            elif not (isinstance(dtype, pd.StringDtype) and dtype.na_value is not pd.NA):
                plain = column.astype(object).where(column.notna(), np.nan)
        out[name] = plain
    return pd.DataFrame(out, index=X.index)


def infer_schema(X: pd.DataFrame) -> Schema:
    """Sort the columns of ``X`` into kinds (see the module doc)."""
    numeric, one_hot, ordinal, missing = [], [], [], []
    dropped: dict[str, str] = {}
    rows = len(X)
    for name in X.columns:
        column = X[name]
        dtype = column.dtype
        if column.isna().all():
            dropped[str(name)] = "every value is missing"
        elif pd.api.types.is_bool_dtype(dtype):
            one_hot.append(name)
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
            numeric.append(name)
            if column.isna().any():
                missing.append(name)
        elif pd.api.types.is_datetime64_any_dtype(dtype) or \
                pd.api.types.is_timedelta64_dtype(dtype):
            dropped[str(name)] = "date/time column (derive numeric features from it first)"
        else:
            levels = column.nunique(dropna=True)
            if levels <= MAX_ONE_HOT:
                one_hot.append(name)
            elif rows >= 50 and levels >= 0.95 * column.notna().sum():
                dropped[str(name)] = f"{levels} distinct values: an identifier, not a feature"
            else:
                ordinal.append(name)
    if not (numeric or one_hot or ordinal):
        raise InvalidInput("no usable feature column: " + "; ".join(
            f"{k}: {v}" for k, v in dropped.items()) if dropped else "no feature column")
    return Schema(numeric=tuple(numeric), one_hot=tuple(one_hot), ordinal=tuple(ordinal),
                  with_missing=tuple(missing), dropped=dropped)


def infer_task(y: pd.Series) -> str:
    """``classification`` for text, boolean, categorical and small-integer targets (at
    most :data:`MAX_CLASSES_INFERRED` distinct values), else ``regression``."""
    dtype = y.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return CLASSIFICATION
    values = y.dropna().to_numpy()
    integral = bool(np.all(np.mod(values.astype(float), 1) == 0)) if len(values) else True
    if integral and len(np.unique(values)) <= MAX_CLASSES_INFERRED:
        return CLASSIFICATION
    return REGRESSION


def class_labels(y: pd.Series) -> list[Any]:
    """The sorted labels of a classification target, as plain Python values."""
    labels = sorted(pd.unique(y.dropna()), key=lambda v: (str(type(v)), v))
    return [v.item() if hasattr(v, "item") else v for v in labels]


def check_target(y: pd.Series, task: str, cv: int) -> Sequence[Any]:
    """Refuse a target the task cannot learn from; returns the class labels (empty for
    regression)."""
    if y.isna().any():
        raise InvalidInput(f"the target has {int(y.isna().sum())} missing value(s): drop "
                           "those rows first")
    if task == REGRESSION:
        if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
            raise InvalidInput(f"regression needs a numeric target, got dtype {y.dtype}")
        if y.nunique() < 2:
            raise InvalidInput("the target is constant: nothing to learn")
        return []
    labels = class_labels(y)
    if len(labels) < 2:
        raise InvalidInput(f"the target has a single class ({labels[0]!r}): classification "
                           "needs at least two")
    counts = y.value_counts()
    rare = counts[counts < cv]
    if len(rare):
        raise InvalidInput(f"class {rare.index[0]!r} has {int(rare.iloc[0])} row(s), fewer "
                           f"than the {cv} cross-validation folds: lower cv or gather more "
                           "rows of it")
    return labels
