"""Batch scoring: ``mlops.batch_predict(model_uri, data, output=...)`` in chunks.

Files larger than memory are read chunk by chunk (CSV with pandas, Parquet with
pyarrow) and predictions are written chunk by chunk, so memory stays bounded by
``chunk_size`` rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from ..models.loaded import LoadedModel
from .registry import load_model


def _chunks(data: Any, chunk_size: int) -> tuple[Iterator[pd.DataFrame], int | None]:
    if isinstance(data, pd.DataFrame):
        return (data.iloc[i:i + chunk_size] for i in range(0, len(data), chunk_size)), len(data)
    path = Path(str(data))
    if not path.exists():
        raise InvalidInput(f"no such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return iter(pd.read_csv(path, chunksize=chunk_size)), None
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        batches = (b.to_pandas() for b in parquet.iter_batches(batch_size=chunk_size))
        return batches, parquet.metadata.num_rows
    raise InvalidInput(f"batch_predict reads DataFrames, .csv and .parquet, not {suffix!r}")


class _Writer:
    def __init__(self, output: str | None) -> None:
        self.path = Path(output) if output else None
        self.parts: list[pd.DataFrame] = []
        self._parquet: Any = None
        self._csv_started = False
        if self.path is not None and self.path.suffix.lower() not in (".csv", ".parquet",
                                                                      ".pq"):
            raise InvalidInput("output must end in .csv or .parquet")

    def write(self, frame: pd.DataFrame) -> None:
        if self.path is None:
            self.parts.append(frame)
        elif self.path.suffix.lower() == ".csv":
            frame.to_csv(self.path, mode="a" if self._csv_started else "w",
                         header=not self._csv_started, index=False)
            self._csv_started = True
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)

    def close(self) -> pd.DataFrame | None:
        if self._parquet is not None:
            self._parquet.close()
        if self.path is None:
            return pd.concat(self.parts, ignore_index=True) if self.parts else pd.DataFrame()
        return None


def batch_predict(model: str | LoadedModel, data: Any, output: str | None = None, *,
                  chunk_size: int = 10_000, proba: bool = False,
                  keep_columns: Sequence[str] = (), progress: bool = True,
                  trusted_types: Iterable[str] = ()) -> pd.DataFrame | dict[str, Any]:
    """Score ``data`` (DataFrame, .csv or .parquet path) with a model URI or loaded model.

    Each chunk is checked against the signature. With ``output`` (a .csv or .parquet
    path) predictions are streamed to the file and a summary is returned; without it
    the predictions come back as a DataFrame (``prediction``, ``proba_<class>`` when
    ``proba``, plus ``keep_columns`` copied from the input).
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidInput("chunk_size must be a positive integer")
    loaded = model if isinstance(model, LoadedModel) else load_model(
        model, trusted_types=trusted_types)
    chunks, total = _chunks(data, chunk_size)
    writer = _Writer(output)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="rows", desc="batch_predict")
    rows = 0
    classes = getattr(loaded.model, "classes_", None)
    try:
        for chunk in chunks:
            missing = [c for c in keep_columns if c not in chunk.columns]
            if missing:
                raise InvalidInput(f"keep_columns not in the data: {', '.join(missing)}")
            features = chunk.drop(columns=list(keep_columns)) if keep_columns else chunk
            out = pd.DataFrame({c: chunk[c].to_numpy() for c in keep_columns})
            out["prediction"] = loaded.predict(features)
            if proba:
                probabilities = loaded.predict_proba(features)
                names = classes if classes is not None else np.arange(probabilities.shape[1])
                for i, name in enumerate(names):
                    out[f"proba_{name}"] = probabilities[:, i]
            writer.write(out)
            rows += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
        result = writer.close()
    if result is not None:
        return result
    return {"rows": rows, "output": str(output), "model": loaded.uri}
