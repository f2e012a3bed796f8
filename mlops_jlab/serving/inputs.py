"""Request bodies to model inputs, checked against the model's signature.

Two paths give the same answers:

- the **numeric fast path**, for signatures whose columns are all numbers (the common
  tabular case): the JSON rows go straight into one float matrix in signature order,
  checked with one ``isfinite`` over the whole matrix. No DataFrame is built unless the
  model needs column names (found out once, at load, by :func:`accepts_array`).
- the **checked path**, for everything else and for any body the fast path does not
  take as-is (a missing or extra column, a string, a null, a non-integer in an integer
  column): a DataFrame enforced by the signature, which names every problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..models.loaded import LoadedModel
from ..models.signature import check_unique_columns, column_kind, enforce_signature

_NUMBER_KINDS = ("float", "int")


@dataclass
class Inputs:
    """Checked rows, ready for the model, and their form for the prediction log."""

    columns: list[str]
    model_input: Any  # what ``model.predict`` gets: a float matrix or a DataFrame
    values: Any  # rows in column order (2-D ndarray) for the log

    def __len__(self) -> int:
        return len(self.values)

    def log_form(self) -> dict[str, Any]:
        """Column-split form of the rows (serialized later, off the request path)."""
        return {"columns": self.columns, "data": self.values}


ARROW_STREAM = "application/vnd.apache.arrow.stream"


def arrow_stream(frame: pd.DataFrame) -> bytes:
    """``frame`` as an Arrow IPC stream: the binary body :meth:`InputPlan.prepare_arrow`
    reads (no index)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def body_rows(body: Any) -> tuple[list[str] | None, list[Any]]:
    """The request's rows: ``(None, [{col: v}, ...])`` for the records forms, or
    ``(columns, [[v, ...], ...])`` for ``dataframe_split``. ValueError names what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    if "inputs" in body or "dataframe_records" in body:
        rows = body.get("inputs", body.get("dataframe_records"))
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise ValueError("'inputs' must be a non-empty list of objects {column: value}")
        return None, rows
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("columns"), list) or \
                not isinstance(split.get("data"), list) or not split["data"]:
            raise ValueError("'dataframe_split' needs 'columns' (list) and 'data' "
                             "(non-empty list of rows)")
        names = [c for c in split["columns"] if not isinstance(c, str)]
        if names:
            raise ValueError("'dataframe_split.columns' must hold column names (strings), "
                             f"not {', '.join(repr(n) for n in names[:5])}")
        width = len(split["columns"])
        if any(not isinstance(r, list) or len(r) != width for r in split["data"]):
            raise ValueError("every row of 'dataframe_split.data' must have one value per "
                             "column")
        return list(split["columns"]), split["data"]
    raise ValueError("expected 'inputs', 'dataframe_split' or 'dataframe_records'")


def non_finite_problems(frame: pd.DataFrame) -> list[str]:
    """Numeric columns holding NaN or ±inf, other columns holding nulls (not model inputs)."""
    problems = []
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            bad = int((~np.isfinite(series.to_numpy(dtype=float))).sum())
            if bad:
                problems.append(f"column {col!r} has {bad} non-finite value(s)")
        elif series.isna().any():
            problems.append(f"column {col!r} has {int(series.isna().sum())} missing value(s)")
    return problems


class InputPlan:
    """How one model takes request rows; built once per model when a worker loads it."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        sig = model.signature
        self.columns: list[str] = [c["name"] for c in sig.inputs] if sig else []
        kinds = [column_kind(c["dtype"]) for c in sig.inputs] if sig else []
        self.numeric = bool(kinds) and all(k in _NUMBER_KINDS for k in kinds)
        self.int_columns = [i for i, k in enumerate(kinds) if k == "int"]
        self.dtypes = {c["name"]: c["dtype"] for c in sig.inputs} if sig else {}
        self.wants_array = bool(sig) and sig.input_kind == "ndarray"  # type: ignore[union-attr]
        self.takes_array = self.numeric and (self.wants_array or accepts_array(model))

    # ---------------------------------------------------------------- both paths
    def prepare(self, body: Any) -> Inputs:
        """Checked inputs for ``body``; ValueError (400) for a malformed body,
        :class:`~mlops_jlab.errors.SchemaMismatch` (422) listing every problem."""
        columns, rows = body_rows(body)
        if self.numeric:
            matrix = self._numeric(columns, rows)
            if matrix is not None:
                return Inputs(self.columns, self._model_input(matrix), matrix)
        return self._checked(columns, rows)

    # ---------------------------------------------------------------- fast path
    def _numeric(self, columns: list[str] | None, rows: list[Any]) -> np.ndarray | None:
        """The rows as a finite float matrix in signature order, or None when the
        checked path must look at them (to accept them after conversion or to name
        what is wrong)."""
        cols, width = self.columns, len(self.columns)
        try:
            if columns is None:
                if any(len(r) != width for r in rows):
                    return None  # a missing or unexpected column
                table = [[r[c] for c in cols] for r in rows]
            elif columns == cols:
                table = rows
            else:
                return None  # other order or other columns: the checked path sorts it out
            matrix = np.array(table, dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            return None
        if matrix.ndim != 2 or matrix.shape[1] != width or not np.isfinite(matrix).all():
            return None
        if not self._ints_ok(matrix):
            return None
        # booleans and numeric strings pass np.array as they pass the checked path
        return matrix

    def _model_input(self, matrix: np.ndarray) -> Any:
        if self.takes_array:
            return matrix
        frame = pd.DataFrame(matrix, columns=self.columns)
        if self.int_columns:
            frame = frame.astype({self.columns[i]: self.dtypes[self.columns[i]]
                                  for i in self.int_columns})
        return frame

    # ---------------------------------------------------------------- Arrow bodies
    def prepare_arrow(self, raw: bytes) -> Inputs:
        """Checked inputs from an Arrow IPC stream (``application/vnd.apache.arrow.stream``):
        numeric columns go to the float matrix column by column, without parsing text."""
        import pyarrow as pa
        import pyarrow.ipc

        try:
            table = pyarrow.ipc.open_stream(raw).read_all()
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"body is not an Arrow IPC stream: {exc}") from None
        if table.num_rows == 0:
            raise ValueError("the Arrow stream has no rows")
        if self.numeric and sorted(table.column_names) == sorted(self.columns) and all(
                pa.types.is_integer(t) or pa.types.is_floating(t) for t in table.schema.types):
            matrix = np.column_stack([
                table.column(c).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
                for c in self.columns])
            if np.isfinite(matrix).all() and self._ints_ok(matrix):
                return Inputs(self.columns, self._model_input(matrix), matrix)
        return self._checked_frame(table.to_pandas())

    def _ints_ok(self, matrix: np.ndarray) -> bool:
        if not self.int_columns:
            return True
        ints = matrix[:, self.int_columns]
        return bool(np.array_equal(ints, np.trunc(ints)))

    # ---------------------------------------------------------------- checked path
    def _checked(self, columns: list[str] | None, rows: list[Any]) -> Inputs:
        frame = pd.DataFrame.from_records(rows) if columns is None else \
            pd.DataFrame(rows, columns=columns)
        return self._checked_frame(frame)

    def _checked_frame(self, frame: pd.DataFrame) -> Inputs:
        from ..errors import SchemaMismatch

        check_unique_columns(frame)  # SchemaMismatch naming them, as every other problem
        sig = self.model.signature
        inputs = enforce_signature(sig, frame) if sig else frame
        problems = non_finite_problems(inputs)
        if problems:
            raise SchemaMismatch("input has values the model cannot take: "
                                 + "; ".join(problems), problems=problems)
        model_input = inputs.to_numpy() if self.wants_array else inputs
        return Inputs([str(c) for c in inputs.columns], model_input,
                      inputs.astype(object).to_numpy())


def accepts_array(model: LoadedModel) -> bool:
    """Whether the model gives the same answers for a float matrix as for the
    signature-ordered DataFrame (true for estimators that use no column names, or whose
    fitted ``feature_names_in_`` are the signature's columns in order). Probed once on the
    stored input example, or on a row of zeros."""
    sig = model.signature
    if sig is None:
        return False
    columns = [c["name"] for c in sig.inputs]
    names = getattr(model.model, "feature_names_in_", None)
    if names is not None and [str(n) for n in names] != columns:
        return False
    example = model.input_example
    if example is None or list(example.columns) != columns:
        example = pd.DataFrame([[0.0] * len(columns)], columns=columns)
    try:
        frame = enforce_signature(sig, example)
        with _quiet_feature_names():
            by_frame = np.asarray(model.model.predict(frame))
            by_array = np.asarray(model.model.predict(frame.to_numpy(dtype=np.float64)))
    except Exception:
        return False
    return by_frame.shape == by_array.shape and bool(np.all(by_frame == by_array))


class _quiet_feature_names:
    """Silence scikit-learn's "X does not have valid feature names" for a matrix
    whose columns were checked against the fitted names."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.filterwarnings("ignore", message="X does not have valid feature names")

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


def silence_feature_name_warnings() -> None:
    """Process-wide (worker processes): checked matrices go to models fitted on frames."""
    import warnings

    warnings.filterwarnings("ignore", message="X does not have valid feature names")
