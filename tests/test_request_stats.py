"""Request statistics of a deployment (issue 7's live sparklines): per-bucket request
counts, errors, rates and p50/p95 latency, through the service, REST and the Python API.

Most tests write prediction-log rows through the serving service's logging path (what a
worker's flusher calls) at fixed times, so buckets and percentiles are exact; one test
serves a real model and checks what its worker logged, with both backends.
"""

from __future__ import annotations

import json
import time
import uuid

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.client import serving as api_serving
from mlops_jlab.errors import InvalidInput, NotFound, PermissionDenied
from mlops_jlab.serving import service as serving_service
from mlops_jlab.serving.records import RequestStats

END = 1_800_000_000_000  # the window's end in these tests (ms since the epoch)
MINUTE = 60_000


def _register() -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    with mlops.start_run(name="fit") as run:
        run.log_model(LogisticRegression(max_iter=500).fit(X, y), input_example=X.head(3))
    mlops.register_model(run, "iris")


def _row(deployment: str, at: int, latency: float, status: int = 200,
         shadow: bool = False) -> dict:
    """One prediction-log row as a worker's flusher writes it."""
    return {"deployment": deployment, "request_id": uuid.uuid4().hex, "version": 1,
            "shadow": int(shadow), "inputs": {} if status != 200 else
            {"columns": ["a"], "data": [[1.0]]},
            "outputs": {"error": "bad_request"} if status != 200 else [0],
            "latency_ms": latency, "time": at, "status": status}


@pytest.fixture
def deployed(mlops_home):
    """A deployment record of a registered model (stopped: no worker is needed), and
    logged traffic in a 10-minute window ending at END, in 10 one-minute buckets."""
    _register()
    b = mlops.backend()
    b.serving.deploy("iris", 1, b.user, name="iris-stats")
    b.serving.stop("iris-stats", b.user)
    start = END - 10 * MINUTE
    rows = [
        # bucket 0: three answered requests
        _row("iris-stats", start, 10.0), _row("iris-stats", start + 1_000, 20.0),
        _row("iris-stats", start + MINUTE - 1, 30.0),
        # bucket 9 (the last minute): two answered, two refused (422, 400)
        _row("iris-stats", END - 50_000, 5.0), _row("iris-stats", END - 40_000, 15.0),
        _row("iris-stats", END - 30_000, 1.0, status=422),
        _row("iris-stats", END - 1, 2.0, status=400),
        # not counted: a shadow copy, outside the window, another deployment
        _row("iris-stats", END - 20_000, 99.0, shadow=True),
        _row("iris-stats", start - 1, 500.0), _row("iris-stats", END, 500.0),
        _row("other", END - 10_000, 500.0),
    ]
    b.serving.log_predictions(rows)
    return b


def test_buckets_counts_errors_and_percentiles(deployed):
    stats = deployed.serving.request_stats("iris-stats", window_seconds=600, buckets=10,
                                           end=END)
    assert isinstance(stats, RequestStats)
    assert (stats.deployment, stats.window_seconds, stats.bucket_ms) == \
        ("iris-stats", 600, MINUTE)
    assert (stats.start, stats.end) == (END - 10 * MINUTE, END)
    assert [b.start for b in stats.buckets] == [END - (10 - i) * MINUTE for i in range(10)]
    assert [b.requests for b in stats.buckets] == [3, 0, 0, 0, 0, 0, 0, 0, 0, 4]
    assert [b.errors for b in stats.buckets] == [0] * 9 + [2]
    first, last = stats.buckets[0], stats.buckets[-1]
    assert first.rate == pytest.approx(3 / 60, abs=1e-6)
    assert (first.p50_ms, first.p95_ms) == (20.0, pytest.approx(29.0))
    assert (last.p50_ms, last.p95_ms) == (10.0, pytest.approx(14.5))
    assert all(b.p50_ms is None and b.p95_ms is None and b.rate == 0
               for b in stats.buckets[1:9])
    answered = [10.0, 20.0, 30.0, 5.0, 15.0]
    assert (stats.requests, stats.errors) == (7, 2)
    assert stats.error_rate == pytest.approx(2 / 7, abs=1e-6)
    assert stats.rate == pytest.approx(7 / 600, abs=1e-6)
    assert stats.recent_rate == pytest.approx(4 / 60, abs=1e-6)
    assert stats.p50_ms == pytest.approx(float(np.percentile(answered, 50)))
    assert stats.p95_ms == pytest.approx(float(np.percentile(answered, 95)))
    assert (stats.latency_rows, stats.sampled) == (5, False)
    body = stats.to_dict()
    assert json.loads(json.dumps(body)) == body  # plain JSON
    assert RequestStats.from_dict(body) == stats
    frame = stats.to_frame()
    assert list(frame["requests"]) == [3, 0, 0, 0, 0, 0, 0, 0, 0, 4]
    assert str(frame["start"].dt.tz) == "UTC"


def test_bucket_width_is_rounded_up_and_an_empty_window_has_no_percentiles(deployed):
    stats = deployed.serving.request_stats("iris-stats", window_seconds=100, buckets=3,
                                           end=END - 20 * MINUTE)
    assert stats.bucket_ms == 33_334 and stats.start == stats.end - 3 * 33_334
    assert stats.requests == 0 and stats.error_rate is None and stats.rate == 0
    assert stats.p50_ms is None and stats.p95_ms is None and stats.latency_rows == 0
    assert [b.requests for b in stats.buckets] == [0, 0, 0]
    one = deployed.serving.request_stats("iris-stats", window_seconds=600, buckets=1,
                                         end=END)
    assert [b.requests for b in one.buckets] == [7] and one.buckets[0].errors == 2


def test_the_default_window_ends_now(deployed):
    now = int(time.time() * 1000)
    deployed.serving.log_predictions([_row("iris-stats", now - 2_000, 7.0)])
    stats = deployed.serving.request_stats("iris-stats")
    assert stats.window_seconds == 3600 and len(stats.buckets) == 30
    assert stats.bucket_ms == 120_000 and now <= stats.end <= now + 60_000
    assert stats.buckets[-1].requests == 1 and stats.buckets[-1].p50_ms == 7.0
    assert stats.requests == 1 and stats.recent_rate == pytest.approx(1 / 60, abs=1e-6)


def test_latencies_read_are_capped(deployed, monkeypatch):
    monkeypatch.setattr(serving_service, "STATS_LATENCY_ROWS", 3)
    stats = deployed.serving.request_stats("iris-stats", window_seconds=600, buckets=10,
                                           end=END)
    assert stats.requests == 7 and stats.errors == 2  # counts stay exact
    assert stats.latency_rows == 3 and stats.sampled
    # the newest three answered requests: 15 and 5 (last minute), 30 (bucket 0)
    assert stats.buckets[-1].p50_ms == 10.0 and stats.buckets[0].p50_ms == 30.0
    assert stats.p50_ms == 15.0


@pytest.mark.parametrize("kwargs,field", [
    ({"window_seconds": 59}, "window"), ({"window_seconds": 7 * 86400 + 1}, "window"),
    ({"window_seconds": "3600"}, "window"), ({"window_seconds": 600.0}, "window"),
    ({"buckets": 0}, "buckets"), ({"buckets": 241}, "buckets"),
    ({"buckets": True}, "buckets"), ({"end": -1}, "end")])
def test_arguments_are_validated(deployed, kwargs, field):
    with pytest.raises(InvalidInput) as info:
        deployed.serving.request_stats("iris-stats", **kwargs)
    assert info.value.details["field"] == field


def test_unknown_deployment_and_bad_names(deployed):
    with pytest.raises(NotFound, match="does not exist"):
        deployed.serving.request_stats("nope")
    with pytest.raises(InvalidInput, match="not allowed"):
        deployed.serving.request_stats("../etc")
    with pytest.raises(NotFound):
        mlops.deployment_stats("nope")


def test_readers_of_the_model_may_read_its_deployment_stats(deployed):
    mlops.set_permissions("model", "iris", readers=["dave"])
    with pytest.raises(PermissionDenied, match="readable only"):
        deployed.serving.request_stats("iris-stats", user="zed")
    assert deployed.serving.request_stats("iris-stats", user="dave").requests == 0
    assert deployed.serving.request_stats("iris-stats", user=None).requests == 0


def test_python_api_takes_durations_and_handles(deployed):
    stats = mlops.deployment_stats("iris-stats", window="10m", buckets=10)
    assert stats.window_seconds == 600 and len(stats.buckets) == 10
    handle = mlops.get_deployment("iris-stats")
    assert mlops.deployment_stats(handle, window=120, buckets=4).window_seconds == 120
    assert handle.stats("1h").bucket_ms == 120_000
    with pytest.raises(InvalidInput):
        mlops.deployment_stats("iris-stats", window="30s")
    with pytest.raises(InvalidInput):
        mlops.deployment_stats("iris-stats", window="soon")


# ---------------------------------------------------------------- REST
async def _get(jp_fetch, name, **query):
    params = {k: str(v) for k, v in query.items()}
    response = await jp_fetch("mlops", "api", "deployments", name, "stats", params=params)
    return response.code, json.loads(response.body)


async def _fails(jp_fetch, name, **query):
    with pytest.raises(HTTPClientError) as info:
        await _get(jp_fetch, name, **query)
    return info.value.code, json.loads(info.value.response.body)


async def test_rest_answers_what_the_service_computes(deployed, jp_fetch):
    code, body = await _get(jp_fetch, "iris-stats", window=600, buckets=10, end=END)
    expected = deployed.serving.request_stats("iris-stats", window_seconds=600, buckets=10,
                                              end=END)
    assert code == 200 and body == expected.to_dict()
    _, default = await _get(jp_fetch, "iris-stats")
    assert default["window_seconds"] == 3600 and len(default["buckets"]) == 30
    for query, field in (({"window": 59}, "window"), ({"window": "1h"}, "window"),
                         ({"buckets": 241}, "buckets"), ({"buckets": 0}, "buckets"),
                         ({"end": -5}, "end")):
        code, error = await _fails(jp_fetch, "iris-stats", **query)
        assert code == 400 and error["error"] == "bad_request", (query, error)
        assert error["field"] == field
    code, error = await _fails(jp_fetch, "nope")
    assert code == 404 and error["error"] == "not_found"


# ---------------------------------------------------------------- a real deployment
@pytest.mark.both_backends
def test_a_served_deployments_requests_and_refusals(mlops_home, backend_kind):
    """A worker logs each answered and refused request; the stats count them (through
    the services in local mode, over REST in team mode)."""
    X, _ = load_iris(return_X_y=True, as_frame=True)
    _register()
    try:
        dep = mlops.deploy("iris", name="iris-live")
        for i in range(3):
            assert len(dep.predict(X.iloc[i:i + 2])["predictions"]) == 2
        with pytest.raises(InvalidInput, match="422"):
            dep.predict([{"nope": 1}])
        deadline = time.monotonic() + 20
        while True:  # the worker flushes its log every half second
            stats = mlops.deployment_stats("iris-live", window=300, buckets=5)
            if stats.requests >= 4 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (stats.requests, stats.errors) == (4, 1), stats
        assert stats.latency_rows == 3 and stats.p50_ms is not None
        assert stats.p95_ms is not None and stats.p95_ms >= stats.p50_ms > 0
        assert stats.buckets[-1].requests == 4 and stats.buckets[-1].errors == 1
        assert stats.recent_rate == pytest.approx(4 / 60, abs=1e-6)
        dep.stop()
    finally:
        if api_serving._embedded is not None:
            api_serving._embedded.stop()
            api_serving._embedded = None
