"""REST API through a real Jupyter server (pytest-jupyter), authentication required."""

from __future__ import annotations

import json
import re

import pytest
from tornado import web
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.server.routes import ROUTES as _ROUTES

ROUTES = [(pattern, handler) for pattern, handler, _ in _ROUTES]

SAMPLE_RUN = "0" * 32


async def get(jp_fetch, *parts, params=None, **kw):
    response = await jp_fetch("mlops", "api", *parts, params=params or {}, **kw)
    return json.loads(response.body)


async def error_of(jp_fetch, *parts, **kw):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", *parts, **kw)
    return info.value.code, json.loads(info.value.response.body)


def _seed(n=5):
    mlops.set_experiment("rest")
    ids = []
    for i in range(n):
        with mlops.start_run(name=f"r{i}", params={"model": "rf" if i % 2 else "lr"}) as run:
            run.log_metric("acc", i / 10)
            run.log_metric("acc", i / 10 + 0.01)
            ids.append(run.id)
    return ids


def _concrete(pattern: str) -> list[str]:
    path = pattern.replace(r"\.", ".")
    path = re.sub(r"\(\?P<run_id>[^)]*\)", SAMPLE_RUN, path)
    path = re.sub(r"\(\?P<ref>[^)]*\)", "rest", path)
    path = re.sub(r"\(\?P<name>[^)]*\)", "churn", path)
    path = re.sub(r"\(\?P<alias>[^)]*\)", "staging", path)
    path = re.sub(r"\(\?P<alert_id>[^)]*\)", "0abc", path)
    path = re.sub(r"\(\?P<key>[^)]*\)", "acc", path)
    path = re.sub(r"\(\?P<path>[^)]*\)", "model/manifest.json", path)
    path = re.sub(r"\(\?P<request_id>[^)]*\)", "0abc", path)
    path = re.sub(r"\(\?P<decision>[^)]*\)", "approve", path)
    path = re.sub(r"\(\?P<kind>[^)]*\)", "models", path)
    return path.strip("/").split("/")


@pytest.mark.parametrize("pattern,handler", ROUTES, ids=[r[0] for r in ROUTES])
async def test_every_route_refuses_requests_without_a_token(jp_fetch, pattern, handler):
    verbs = [v for v in ("get", "post", "patch", "put", "delete")  # inherited ones too
             if getattr(handler, v) is not getattr(web.RequestHandler, v)]
    assert verbs, f"{handler.__name__} has no verbs"
    for verb in verbs:
        kwargs = {"method": verb.upper(), "headers": {"Authorization": ""}}
        if verb in ("post", "patch", "put"):
            kwargs["body"] = "{}"
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*_concrete(pattern), **kwargs)
        assert info.value.code == 403, f"{verb.upper()} {pattern}"


def test_every_route_is_in_the_openapi_document():
    from mlops_jlab.server.openapi import PATHS

    documented = set(PATHS)
    for pattern, handler in ROUTES:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern.replace(r"\.", "."))
        assert path in documented, path
        for verb in ("get", "post", "patch", "put", "delete"):
            if verb in handler.__dict__:
                assert verb in PATHS[path], f"{verb} {path} undocumented"


async def test_version_and_openapi(jp_fetch):
    facts = await get(jp_fetch, "version")
    assert (facts["version"], facts["api"]) == (mlops.__version__, 1) and facts["user"]
    doc = await get(jp_fetch, "openapi.json")
    assert doc["openapi"].startswith("3.") and "/mlops/api/runs" in doc["paths"]


async def test_experiments_list_and_create(jp_fetch):
    _seed(2)
    created = await jp_fetch("mlops", "api", "experiments", method="POST",
                             body=json.dumps({"name": "new", "tags": {"team": "a"}}))
    assert created.code == 201
    body = json.loads(created.body)
    assert body["name"] == "new" and body["created_by"] and body["tags"] == {"team": "a"}
    listed = await get(jp_fetch, "experiments")
    counts = {e["name"]: e["run_count"] for e in listed["experiments"]}
    assert counts == {"rest": 2, "new": 0}
    one = await get(jp_fetch, "experiments", "rest")
    assert one["run_count"] == 2
    code, err = await error_of(jp_fetch, "experiments", method="POST",
                               body=json.dumps({"name": "new"}))
    assert code == 409 and err["error"] == "conflict" and "new" in err["message"]
    code, err = await error_of(jp_fetch, "experiments", method="POST", body="{not json")
    assert code == 400 and "JSON" in err["message"]
    code, err = await error_of(jp_fetch, "experiments", method="POST", body="{}")
    assert code == 400 and "name" in err["message"]
    code, err = await error_of(jp_fetch, "experiments", "missing")
    assert code == 404


async def test_runs_search_filter_order_and_cursor(jp_fetch):
    ids = _seed(5)
    body = await get(jp_fetch, "runs", params={"experiment": "rest"})
    assert [r["id"] for r in body["runs"]] == ids[::-1]
    first = body["runs"][0]
    assert first["status"] == "finished" and first["user"] == "alice"
    assert first["metrics"] == {"acc": pytest.approx(0.41)}
    assert first["duration"] >= 0 and "notebook_path" in first["source"]
    body = await get(jp_fetch, "runs", params={
        "experiment": "rest", "filter": "params.model = 'rf'", "order_by": "metrics.acc DESC"})
    assert [r["name"] for r in body["runs"]] == ["r3", "r1"]
    seen, token = [], None
    while True:
        params = {"experiment": "rest", "limit": "2", "order_by": "metrics.acc"}
        if token:
            params["page_token"] = token
        page = await get(jp_fetch, "runs", params=params)
        seen += [r["name"] for r in page["runs"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == ["r0", "r1", "r2", "r3", "r4"]


async def test_runs_search_counts_matching_runs_when_asked(jp_fetch):
    _seed(5)
    page = await get(jp_fetch, "runs", params={"experiment": "rest", "limit": "2"})
    assert "total" not in page
    page = await get(jp_fetch, "runs", params={"experiment": "rest", "limit": "2",
                                               "count": "true"})
    assert page["total"] == 5 and len(page["runs"]) == 2
    # the count honours the filter, including metric comparisons joined for the order
    page = await get(jp_fetch, "runs", params={
        "experiment": "rest", "count": "1", "filter": "metrics.acc > 0.15",
        "order_by": "metrics.acc DESC", "limit": "1"})
    assert page["total"] == 3 and [r["name"] for r in page["runs"]] == ["r4"]
    code, body = await error_of(jp_fetch, "runs", params={"count": "maybe"})
    assert code == 400 and body["field"] == "count"


async def test_experiment_keys_list_what_filters_and_columns_can_name(jp_fetch):
    _seed(2)
    with mlops.start_run(name="tagged", tags={"team": "fraud"}) as run:
        run.log_metric("val loss", 0.3)
    keys = await get(jp_fetch, "experiments", "rest", "keys")
    assert keys["params"] == ["model"]
    assert keys["metrics"] == ["acc", "val loss"]
    assert "team" in keys["tags"]
    mlops.set_experiment("other")
    with mlops.start_run(params={"elsewhere": 1}):
        pass
    assert (await get(jp_fetch, "experiments", "rest", "keys"))["params"] == ["model"]
    code, body = await error_of(jp_fetch, "experiments", "missing", "keys")
    assert code == 404 and "missing" in body["message"]


@pytest.mark.parametrize("params,error,fragment", [
    ({"filter": "metrics.acc >"}, "bad_filter", "position 13"),
    ({"filter": "nope.x = 1"}, "bad_filter", "unknown field"),
    ({"filter": "(" * 400 + "metrics.acc > 0" + ")" * 400}, "bad_filter", "deep"),
    ({"filter": "not " * 300 + "metrics.acc > 0"}, "bad_filter", "deep"),
    # each was a 500 from SQLite or Python found by attacking from outside
    ({"filter": "not " * 64 + "metrics.acc > 0"}, "bad_filter", "deep"),
    ({"filter": " or ".join(["metrics.a > 1"] * 1500)}, "bad_filter", "comparisons"),
    ({"filter": "attributes.start_time > 1e400"}, "bad_filter", "out of range"),
    ({"filter": "attributes.start_time > 99999999999999999999999999"}, "bad_filter",
     "out of range"),
    ({"order_by": ",".join(f"metrics.m{i}" for i in range(300))}, "bad_order_by",
     "at most 10"),
    ({"order_by": "metrics.acc sideways"}, "bad_order_by", "order_by"),
    ({"limit": "ten"}, "bad_request", "limit must be an integer"),
    ({"limit": "0"}, "bad_request", "between 1 and 1000"),
    ({"page_token": "garbage"}, "bad_page_token", "page_token"),
])
async def test_bad_search_input_is_400_json(jp_fetch, params, error, fragment):
    _seed(1)
    code, body = await error_of(jp_fetch, "runs", params={"experiment": "rest", **params})
    assert code == 400
    assert body["error"] == error and fragment in body["message"]
    if error == "bad_filter":
        assert isinstance(body["position"], int)


async def test_run_detail_history_and_artifact(jp_fetch, tmp_path):
    mlops.set_experiment("rest")
    with mlops.start_run(name="detail") as run:
        for step in range(5):
            run.log_metric("loss", 1 / (step + 1))
        (tmp_path / "notes.txt").write_text("hello")
        run.log_artifact(tmp_path / "notes.txt", "docs")
    detail = await get(jp_fetch, "runs", run.id)
    assert detail["name"] == "detail" and detail["metric_keys"] == ["loss"]
    assert detail["artifacts"][0]["path"] == "docs/notes.txt"
    assert detail["environment"]["python"]
    history = await get(jp_fetch, "runs", run.id, "metrics", "loss")
    assert [p["step"] for p in history["history"]] == [0, 1, 2, 3, 4]
    assert history["history"][-1]["value"] == pytest.approx(0.2)
    raw = await jp_fetch("mlops", "api", "runs", run.id, "artifacts", "docs", "notes.txt")
    assert raw.body == b"hello" and raw.headers["X-Content-SHA256"]
    code, body = await error_of(jp_fetch, "runs", SAMPLE_RUN)
    assert code == 404 and body["error"] == "not_found" and SAMPLE_RUN in body["message"]
    code, body = await error_of(jp_fetch, "runs", run.id, "metrics", "nope")
    assert code == 404
    code, body = await error_of(jp_fetch, "runs", run.id, "artifacts", "nope.txt")
    assert code == 404


async def test_notebook_path_is_relative_to_the_server_root(jp_fetch, jp_root_dir, monkeypatch):
    nb = jp_root_dir / "sub" / "train.ipynb"
    nb.parent.mkdir()
    nb.write_text("{}")
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    with mlops.start_run(name="nb") as run:
        pass
    detail = await get(jp_fetch, "runs", run.id)
    assert detail["source"]["notebook_path"] == "sub/train.ipynb"
    assert detail["source"]["kind"] == "notebook" and detail["source"]["notebook_hash"]
    listed = await get(jp_fetch, "runs")
    assert listed["runs"][0]["source"]["notebook_path"] == "sub/train.ipynb"


