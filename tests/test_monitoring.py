"""Monitoring service: drift of a deployment's traffic, history, feedback, performance."""

from __future__ import annotations

import json
import time
import uuid

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlops_jlab as mlops
from mlops_jlab.errors import InvalidInput, NotFound, RuleViolation
from mlops_jlab.monitoring.service import parse_duration


@pytest.fixture
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


def _register(X, y, with_dataset=True, name="cancer"):
    mlops.set_experiment("monitoring")
    with mlops.start_run(name="train") as run:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
        if with_dataset:
            run.log_dataset(X, "cancer-train", role="train")
        run.log_model(model, input_example=X.head(5))
    mlops.register_model(run, name)
    return model


def _log(serving, deployment, frame, predictions, version=1, shadow=False, at=None):
    """What a worker's flusher writes (the serving service's log sink)."""
    rid = uuid.uuid4().hex
    serving.log_predictions([{
        "deployment": deployment, "request_id": rid, "version": version,
        "shadow": int(shadow), "inputs": {"columns": list(frame.columns),
                                          "data": frame.to_numpy()},
        "outputs": np.asarray(predictions), "latency_ms": 1.0,
        "time": at if at is not None else int(time.time() * 1000)}])
    return rid


@pytest.fixture
def deployed(mlops_home, cancer):
    """A registered model and a deployment record (no worker needed for the log)."""
    X, y = cancer
    model = _register(X, y)
    b = mlops.backend()
    b.serving.deploy("cancer", 1, b.user, name="cancer-mon")
    return b, model, X, y


def test_durations():
    assert parse_duration("90s") == 90_000 and parse_duration("1h") == 3_600_000
    assert parse_duration("1.5d") == 129_600_000
    for bad in ("", "1", "h", "-1h", "0m", "1y"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)


def test_drift_of_logged_traffic_against_the_training_data(deployed):
    b, model, X, _y = deployed
    rng = np.random.default_rng(0)
    same = X.sample(400, replace=True, random_state=1).reset_index(drop=True)
    for i in range(0, 400, 50):  # 8 requests of 50 rows, like a worker logs them
        _log(b.serving, "cancer-mon", same.iloc[i:i + 50], model.predict(same.iloc[i:i + 50]))
    calm = mlops.drift_report("cancer-mon", window="1h")
    assert not calm.summary["dataset_drift"] and calm.summary["current_rows"] == 400
    assert calm.context["version"] == 1 and calm.context["model"] == "cancer"

    shifted = same.copy()
    for col in X.columns[:20]:  # two thirds of the columns move by a standard deviation
        shifted[col] = shifted[col] + X[col].std() * (1 + rng.random())
    _log(b.serving, "cancer-mon", shifted, model.predict(shifted))
    newest = mlops.drift_report("cancer-mon", rows=400)
    assert newest.summary["dataset_drift"]
    assert set(newest.drifted_columns) >= set(X.columns[:15])
    history = mlops.drift_history("cancer-mon")
    assert list(history["dataset_drift"]) == [True, False]  # newest first
    assert history.loc[0, "rows"] == 400 and "mean radius" in history.loc[0, "drifted"]

    # a DataFrame against a model version's training data; two DataFrames
    direct = mlops.drift_report("cancer@latest", current=shifted)
    assert direct.summary["dataset_drift"]
    assert not mlops.drift_report(X, X.sample(300, random_state=2)).summary["dataset_drift"]


@pytest.mark.both_backends
def test_only_a_stored_report_joins_the_history_and_the_audit_trail(deployed):
    b = deployed[0]
    for _ in range(2):  # over REST: GETs, which record nothing
        mlops.drift_report("cancer-mon", window="1h", store=False)
    assert len(mlops.drift_history("cancer-mon")) == 0
    assert len(mlops.audit(action="drift.record")) == 0
    mlops.drift_report("cancer-mon", window="1h")  # over REST: a POST
    assert len(mlops.drift_history("cancer-mon")) == 1
    (event,) = mlops.audit(action="drift.record").to_dict(orient="records")
    assert event["actor"] == b.user and event["target"] == "cancer-mon"


def test_drift_errors_name_the_problem(deployed, cancer):
    b, _model, X, y = deployed
    with pytest.raises(NotFound):
        mlops.drift_report("nope", window="1h")
    with pytest.raises(InvalidInput):
        mlops.drift_report("cancer-mon", window="soon")
    empty = mlops.drift_report("cancer-mon", window="1h", store=False)
    assert empty.summary["current_rows"] == 0 and not empty.summary["dataset_drift"]
    _register(X, y, with_dataset=False, name="bare")
    b.serving.deploy("bare", 1, b.user, name="bare-mon")
    with pytest.raises(RuleViolation, match="training dataset"):
        mlops.drift_report("bare-mon")
    with pytest.raises(InvalidInput):
        mlops.drift_report(X)  # a reference without current data


def test_feedback_joins_labels_and_compares_versions_on_live_traffic(deployed):
    b, model, X, y = deployed
    rows = X.head(40)
    truth = y.head(40).tolist()
    ids = []
    for i in range(0, 40, 4):
        part = rows.iloc[i:i + 4]
        ids.append(_log(b.serving, "cancer-mon", part, model.predict(part)))
        # a shadow version that always answers 0, on the same requests
        b.serving.log_predictions([{
            "deployment": "cancer-mon", "request_id": ids[-1], "version": 2, "shadow": 1,
            "inputs": {"columns": list(part.columns), "data": part.to_numpy()},
            "outputs": [0, 0, 0, 0], "latency_ms": 1.0, "time": int(time.time() * 1000)}])
    labels = [truth[i:i + 4] for i in range(0, 40, 4)]
    stored = mlops.log_feedback("cancer-mon", [*ids, "unknown-id"], [*labels, [1]])
    assert stored == {"stored": 11, "matched": 10}
    perf = mlops.performance("cancer-mon").set_index("version")
    live_accuracy = float(np.mean(model.predict(rows) == np.array(truth)))
    assert perf.loc[1, "accuracy"] == pytest.approx(live_accuracy)
    assert perf.loc[2, "accuracy"] == pytest.approx(truth.count(0) / 40)
    assert bool(perf.loc[2, "shadow"]) and perf.loc[1, "rows"] == 40
    assert {"f1", "bucket_start"} <= set(perf.reset_index().columns)
    # a corrected label replaces the first one
    mlops.log_feedback("cancer-mon", ids[0], [1 - v for v in labels[0]])
    again = mlops.performance("cancer-mon", bucket="1h").set_index("version")
    assert again.loc[1, "rows"] == 40 and again.loc[1, "accuracy"] != perf.loc[1, "accuracy"]
    for bad_ids, bad_labels in (([], []), (["a", "a"], [1, 2]), (["a"], [1, 2]),
                                (["a"], [float("nan")]), (["a"], [{"x": 1}])):
        with pytest.raises(InvalidInput):
            mlops.log_feedback("cancer-mon", bad_ids, bad_labels)


def test_regression_metrics(mlops_home, cancer):
    X, y = cancer
    _register(X, y)
    b = mlops.backend()
    b.serving.deploy("cancer", 1, b.user, name="reg-mon")
    rid = _log(b.serving, "reg-mon", X.head(2), [1.5, 2.5])
    mlops.log_feedback("reg-mon", [rid], [[1.0, 3.5]])
    perf = mlops.performance("reg-mon")
    assert perf.loc[0, "rmse"] == pytest.approx(np.sqrt((0.25 + 1.0) / 2))
    assert perf.loc[0, "mae"] == pytest.approx(0.75)


async def test_rest_drift_history_feedback_and_performance(jp_fetch, mlops_home, cancer):
    X, y = cancer
    model = _register(X, y)
    b = mlops.backend()
    b.serving.deploy("cancer", 1, b.user, name="rest-mon")
    rid = _log(b.serving, "rest-mon", X.head(300), model.predict(X.head(300)))

    async def call(*parts, **kw):
        response = await jp_fetch("mlops", "api", *parts, **kw)
        return json.loads(response.body)

    report = await call("monitoring", "rest-mon", "drift", params={"window": "1h"})
    assert report["summary"]["current_rows"] == 300 and len(report["columns"]) == 30
    again = await call("monitoring", "rest-mon", "drift", params={"window": "1h"})
    assert again["summary"] == report["summary"]
    # GETs have no side effects: nothing recorded, nothing audited
    assert (await call("monitoring", "rest-mon", "drift", "history"))["history"] == []
    assert len(mlops.audit(action="drift.record")) == 0
    posted = await jp_fetch("mlops", "api", "monitoring", "rest-mon", "drift", method="POST",
                            body=b"", params={"window": "1h"})
    assert posted.code == 201
    assert json.loads(posted.body)["summary"] == report["summary"]  # same answer shape
    history = await call("monitoring", "rest-mon", "drift", "history")
    assert len(history["history"]) == 1 and history["history"][0]["rows"] == 300
    (event,) = mlops.audit(action="drift.record").to_dict(orient="records")
    assert event["target"] == "rest-mon"
    column = report["columns"][0]["column"]
    custom = await call("monitoring", "rest-mon", "drift", params={
        "window": "1h", "store": "false", "drift_share": "0.2",
        "tests": json.dumps({column: ["psi", 0.05]})})
    first = next(c for c in custom["columns"] if c["column"] == column)
    assert (first["test"], first["threshold"]) == ("psi", 0.05)
    assert custom["summary"]["thresholds"]["drift_share"] == 0.2
    assert len((await call("monitoring", "rest-mon", "drift", "history"))["history"]) == 1
    fed = await call("deployments", "rest-mon", "feedback", method="POST", body=json.dumps(
        {"request_ids": [rid], "labels": [y.head(300).tolist()]}))
    assert fed == {"stored": 1, "matched": 1}
    perf = await call("monitoring", "rest-mon", "performance", params={"bucket": "1h"})
    assert perf["performance"][0]["rows"] == 300 and perf["performance"][0]["accuracy"] > 0.9
    from tornado.httpclient import HTTPClientError

    for parts, kw in ((("monitoring", "rest-mon", "drift"), {"params": {"window": "x"}}),
                      (("monitoring", "rest-mon", "drift"), {"params": {"tests": "{bad"}}),
                      (("monitoring", "rest-mon", "drift"),
                       {"params": {"tests": json.dumps({"nope": "ks"})}}),
                      (("monitoring", "rest-mon", "drift"), {"params": {"drift_share": "2"}}),
                      # a GET that asks to record is told to POST
                      (("monitoring", "rest-mon", "drift"), {"params": {"store": "true"}}),
                      (("monitoring", "rest-mon", "drift"),
                       {"method": "POST", "body": b"", "params": {"window": "x"}}),
                      (("monitoring", "nope", "drift"), {}),
                      (("deployments", "rest-mon", "feedback"),
                       {"method": "POST", "body": json.dumps({"request_ids": "a"})})):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("mlops", "api", *parts, **kw)
        assert info.value.code in (400, 404)
        assert "message" in json.loads(info.value.response.body)
    assert len((await call("monitoring", "rest-mon", "drift", "history"))["history"]) == 1


def test_roc_auc_when_the_requests_asked_for_probabilities(deployed):
    b, model, X, y = deployed
    rows = X.sample(60, random_state=5)
    truth = y.loc[rows.index].tolist()
    rid = uuid.uuid4().hex
    b.serving.log_predictions([{  # what a worker logs for a request with "proba": true
        "deployment": "cancer-mon", "request_id": rid, "version": 1, "shadow": 0,
        "inputs": {"columns": list(rows.columns), "data": rows.to_numpy()},
        "outputs": {"predictions": model.predict(rows),
                    "probabilities": model.predict_proba(rows)},
        "latency_ms": 1.0, "time": int(time.time() * 1000)}])
    mlops.log_feedback("cancer-mon", [rid], [truth])
    from sklearn.metrics import roc_auc_score

    perf = mlops.performance("cancer-mon")
    assert perf.loc[0, "roc_auc"] == pytest.approx(
        roc_auc_score(truth, model.predict_proba(rows)[:, 1]))
    assert perf.loc[0, "accuracy"] == pytest.approx(np.mean(model.predict(rows) == truth))
