"""Batch scoring in chunks from DataFrames, CSV and Parquet files."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mlops_jlab as mlops


@pytest.fixture
def iris_model(mlops_home):
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    with mlops.start_run() as run:
        run.log_model(model, input_example=X)
    mlops.register_model(run, "iris")
    return X, model


def test_dataframe_in_chunks_with_probabilities(iris_model):
    X, model = iris_model
    out = mlops.batch_predict("models:/iris/1", X.assign(id=range(len(X))), chunk_size=40,
                              proba=True, keep_columns=["id"], progress=False)
    assert list(out.columns) == ["id", "prediction", "proba_0", "proba_1", "proba_2"]
    assert (out["prediction"].to_numpy() == model.predict(X)).all()
    assert out["id"].tolist() == list(range(len(X)))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_stream_to_files(iris_model, tmp_path, suffix):
    X, model = iris_model
    big = pd.concat([X] * 20, ignore_index=True)  # 3,000 rows, 100-row chunks
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        big.to_csv(source, index=False)
    else:
        big.to_parquet(source, index=False)
    target = tmp_path / f"out{suffix}"
    summary = mlops.batch_predict("models:/iris/1", str(source), str(target), chunk_size=100,
                                  progress=False)
    assert summary["rows"] == 3000
    scored = pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)
    assert (scored["prediction"].to_numpy() == model.predict(big)).all()


def test_bad_batch_inputs(iris_model, tmp_path):
    X, _ = iris_model
    with pytest.raises(mlops.InvalidInput, match="no such file"):
        mlops.batch_predict("models:/iris/1", str(tmp_path / "missing.csv"), progress=False)
    with pytest.raises(mlops.InvalidInput, match="output must end"):
        mlops.batch_predict("models:/iris/1", X, str(tmp_path / "out.txt"), progress=False)
    with pytest.raises(mlops.SchemaMismatch):
        mlops.batch_predict("models:/iris/1", X.drop(columns=[X.columns[0]]), progress=False)
