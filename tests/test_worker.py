"""The worker's HTTP answers, in-process (aiohttp test server, no controller)."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pandas as pd
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mlops_jlab.models.loaded import LoadedModel
from mlops_jlab.models.signature import infer_signature
from mlops_jlab.serving.inputs import arrow_stream
from mlops_jlab.serving.worker import Worker

TOKEN = "t0ken"
# the worker process silences it (prepare_process); here the models get matrices in-process
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def _worker(model, X, logged):
    manifest = {"signature": infer_signature(X).to_dict(), "model_class": "x"}
    return Worker("w", 1, 0, {1: LoadedModel(model, manifest)},
                  [{"version": 1, "weight": 100}], None,
                  hashlib.sha256(TOKEN.encode()).hexdigest(), logged.extend)


def _post_raw_all(worker, requests):
    """POST (path, bytes, content type) requests to the worker's app; (status, content
    type, JSON answer) each, after the prediction log was flushed."""
    async def go():
        client = TestClient(TestServer(worker.app()))
        await client.start_server()
        try:
            out = []
            for path, data, content_type in requests:
                resp = await client.post(path, data=data, headers={
                    "Authorization": f"Bearer {TOKEN}", "Content-Type": content_type})
                out.append((resp.status, resp.content_type, await resp.json()))
            await worker.flush()
            return out
        finally:
            await client.close()
    return asyncio.run(go())


def _post_all(worker, bodies):
    return _post_raw_all(worker, [("/v1/predict", json.dumps(b).encode(), "application/json")
                                  for b in bodies])


def test_a_model_that_raises_gives_a_json_422_naming_the_error():
    X = pd.DataFrame({"city": ["a", "b"] * 5, "x": [float(i) for i in range(10)]})
    model = make_pipeline(ColumnTransformer([("c", OneHotEncoder(), ["city"])],
                                            remainder="passthrough"),
                          LogisticRegression()).fit(X, [0, 1] * 5)
    logged: list = []
    (ok, bad) = _post_all(_worker(model, X, logged), [
        {"inputs": [{"city": "a", "x": 1.0}]},
        {"inputs": [{"city": "zzz", "x": 1.0}]},  # passes the signature, unknown category
    ])
    assert ok[0] == 200 and ok[2]["predictions"] == [int(model.predict(X.head(1))[0])]
    status, content_type, body = bad
    assert status == 422 and content_type == "application/json"
    assert body["error"] == "model_error" and "ValueError" in body["message"]
    ok_row, refused_row = logged  # refused requests are logged too, for the error rate
    assert ok_row["status"] == 200 and ok_row["inputs"]["columns"] == ["city", "x"]
    assert refused_row["status"] == 422 and refused_row["outputs"] == {"error": "model_error"}
    assert refused_row["inputs"] == {}


def test_proba_on_a_regressor_is_refused_and_predictions_are_logged_column_split():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 2.0]})
    model = LinearRegression().fit(X, [0.0, 1.0, 2.0, 3.5])
    logged: list = []
    (refused, ok) = _post_all(_worker(model, X, logged), [
        {"inputs": [{"a": 1.0, "b": 2.0}], "params": {"proba": True}},
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [3.0, 4.0]]}},
    ])
    assert refused[0] == 422 and refused[2]["error"] == "no_proba"
    assert ok[0] == 200 and len(ok[2]["predictions"]) == 2
    refused_row, row = logged
    assert refused_row["status"] == 422 and row["status"] == 200
    assert row["inputs"]["columns"] == ["a", "b"]
    assert row["inputs"]["data"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert row["outputs"].tolist() == ok[2]["predictions"] and row["version"] == 1


def test_duplicate_column_names_are_a_json_422_naming_them():
    import pyarrow as pa

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 2.0]})
    model = LinearRegression().fit(X, [0.0, 1.0, 2.0, 3.5])
    twins = pa.table([pa.array([1.0]), pa.array([2.0]), pa.array([3.0])],
                     names=["a", "b", "a"])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, twins.schema) as writer:
        writer.write_table(twins)
    answers = _post_raw_all(_worker(model, X, []), [
        ("/v1/predict", json.dumps({"dataframe_split": {
            "columns": ["a", "b", "a"], "data": [[1.0, 2.0, 3.0]]}}).encode(),
         "application/json"),
        ("/v1/predict", sink.getvalue().to_pybytes(), "application/vnd.apache.arrow.stream"),
    ])
    for status, content_type, body in answers:
        assert (status, content_type) == (422, "application/json")
        assert body["error"] == "schema_mismatch"
        assert body["problems"] == ["duplicate column 'a'"]


def test_arrow_bodies_answer_like_json_ones():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 3, "b": [1.0, 0.0, 1.0, 2.0] * 3})
    model = LogisticRegression().fit(X, [0, 1, 1, 0] * 3)
    arrow = "application/vnd.apache.arrow.stream"
    (plain, reordered, proba, missing, nan, garbage) = _post_raw_all(
        _worker(model, X, []), [
            ("/v1/predict", arrow_stream(X), arrow),
            ("/v1/predict", arrow_stream(X[["b", "a"]]), arrow),
            ("/v1/predict?proba=true", arrow_stream(X.head(2)), arrow),
            ("/v1/predict", arrow_stream(X[["a"]]), arrow),
            ("/v1/predict", arrow_stream(X.head(1).assign(a=float("nan"))), arrow),
            ("/v1/predict", b"not arrow", arrow),
        ])
    expected = model.predict(X).tolist()
    assert plain[0] == 200 and plain[2]["predictions"] == expected
    assert reordered[0] == 200 and reordered[2]["predictions"] == expected
    assert proba[0] == 200 and len(proba[2]["probabilities"]) == 2
    assert missing[0] == 422 and missing[2]["problems"] == ["missing column 'b'"]
    assert nan[0] == 422 and "non-finite" in nan[2]["message"]
    assert garbage[0] == 400 and "Arrow" in garbage[2]["message"]
