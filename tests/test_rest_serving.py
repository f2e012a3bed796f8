"""Deployment REST routes through a real Jupyter server, whose controller runs workers."""

from __future__ import annotations

import asyncio
import json

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops


async def call(jp_fetch, *parts, method="GET", body=None):
    kwargs = {"method": method}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    response = await jp_fetch("mlops", "api", "deployments", *parts, **kwargs)
    return response.code, json.loads(response.body)


async def fails(jp_fetch, *parts, **kw):
    with pytest.raises(HTTPClientError) as info:
        await call(jp_fetch, *parts, **kw)
    return info.value.code, json.loads(info.value.response.body)


async def test_deploy_predict_update_events_and_stop(jp_fetch, mlops_home):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with mlops.start_run(name="lr") as run:
        run.log_model(LogisticRegression(max_iter=3000).fit(X, y), input_example=X)
    mlops.register_model(run, "cancer")
    code, created = await call(jp_fetch, method="POST",
                               body={"model": "cancer", "version": 1, "name": "cancer-rest"})
    assert code == 201 and created["token"] and created["revision"] == 1
    for _ in range(300):  # the server's own controller starts the worker
        _, events = await call(jp_fetch, "cancer-rest", "events")
        if any(e["kind"] == "ready" for e in events["events"]):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"never ready: {events}")
    rows = X.head(2).to_dict(orient="records")
    code, answer = await call(jp_fetch, "cancer-rest", "predict", method="POST",
                              body={"inputs": rows})
    assert code == 200 and len(answer["predictions"]) == 2 and answer["model_version"] == 1
    code, body = await fails(jp_fetch, "cancer-rest", "predict", method="POST",
                             body={"inputs": [{"nope": 1}]})
    assert code == 422 and body["problems"]
    columns = list(X.columns)  # a column named twice: 422 naming it, not a worker 500
    code, body = await fails(jp_fetch, "cancer-rest", "predict", method="POST", body={
        "dataframe_split": {"columns": [*columns, columns[0]],
                            "data": [[*X.iloc[0].tolist(), 1.0]]}})
    assert code == 422 and body["problems"] == [f"duplicate column {columns[0]!r}"]
    _, listed = await call(jp_fetch)
    (item,) = listed["deployments"]
    assert item["name"] == "cancer-rest" and "token" not in item
    assert item["observed"]["replicas"][0]["ready"] is True
    code, body = await fails(jp_fetch, "cancer-rest", method="PATCH", body={"rollback": True})
    assert code == 422 and "no earlier revision" in body["message"]
    code, body = await fails(jp_fetch, "cancer-rest", method="PATCH",
                             body={"traffic": [{"version": 1, "weight": 50}]})
    assert code == 400 and "add up to 100" in body["message"]
    _, updated = await call(jp_fetch, "cancer-rest", method="PATCH", body={"replicas": 2})
    assert updated["revision"] == 2 and updated["desired"]["replicas"] == 2
    _, stopped = await call(jp_fetch, "cancer-rest", method="DELETE")
    assert stopped["status"] == "stopped"
    code, body = await fails(jp_fetch, "cancer-rest", "predict", method="POST",
                             body={"inputs": rows})
    assert code == 422 and "stopped" in body["message"]
    code, body = await fails(jp_fetch, method="POST", body={"model": "cancer",
                                                            "environment": "production"})
    assert code == 422 and "@production" in body["message"]
    code, body = await fails(jp_fetch, "missing")
    assert code == 404
