"""Registry REST routes through a real Jupyter server."""

from __future__ import annotations

import json

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops


async def call(jp_fetch, *parts, method="GET", body=None, params=None):
    kwargs = {"method": method, "params": params or {}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    response = await jp_fetch("mlops", "api", "models", *parts, **kwargs)
    return response.code, json.loads(response.body) if response.body else None


async def fails(jp_fetch, *parts, **kw):
    with pytest.raises(HTTPClientError) as info:
        await call(jp_fetch, *parts, **kw)
    return info.value.code, json.loads(info.value.response.body)


@pytest.fixture
def trained(mlops_home):
    X, y = load_iris(return_X_y=True, as_frame=True)
    with mlops.start_run(name="rest-train") as run:
        run.log_dataset(X.assign(species=y), "iris-eval", role="test")
        run.log_model(LogisticRegression(max_iter=500).fit(X, y), input_example=X)
    return run


async def test_register_list_get_patch_and_aliases(jp_fetch, trained):
    code, created = await call(jp_fetch, method="POST", body={"name": "iris",
                                                              "description": "flowers"})
    assert code == 201 and created["name"] == "iris"
    code, version = await call(jp_fetch, "iris", "versions", method="POST",
                               body={"run_id": trained.id})
    assert code == 201 and version["version"] == 1 and version["status"] == "ready"
    assert version["files"]["model.skops"] and version["validation"] is None
    _, listed = await call(jp_fetch)
    assert listed["models"][0]["version_count"] == 1
    code, body = await fails(jp_fetch, "iris", "aliases", "production", method="PUT",
                             body={"version": 1})
    assert code == 422 and body["error"] == "approval_required"
    assert "mlops.request_promotion('iris', 1" in body["message"]
    _, alias = await call(jp_fetch, "iris", "aliases", "staging", method="PUT",
                          body={"version": 1})
    assert alias == {"alias": "staging", "version": 1}
    _, by_alias = await call(jp_fetch, "iris", "versions", "staging")
    assert by_alias["version"] == 1 and by_alias["aliases"] == ["staging"]
    _, patched = await call(jp_fetch, "iris", "versions", "1", method="PATCH",
                            body={"description": "first", "tags": {"k": "v"}})
    assert patched["description"] == "first" and patched["tags"] == {"k": "v"}
    code, _ = await call(jp_fetch, "iris", "aliases", "staging", method="DELETE")
    assert code == 204
    _, archived = await call(jp_fetch, "iris", "versions", "1", method="PATCH",
                             body={"archived": True})
    assert archived["archived"] is True
    _, versions = await call(jp_fetch, "iris", "versions")
    assert versions["versions"] == []
    _, versions = await call(jp_fetch, "iris", "versions", params={"include_archived": "true"})
    assert [v["version"] for v in versions["versions"]] == [1]


async def test_rules_validation_with_a_registered_dataset_and_the_gate(jp_fetch, trained):
    mlops.register_model(trained, "iris")
    _, rules = await call(jp_fetch, "iris", "rules", method="PUT",
                          body={"rules": [{"kind": "metric", "metric": "accuracy", "op": ">=",
                                           "threshold": 0.9}, {"kind": "schema"}]})
    assert len(rules["rules"]) == 2
    code, report = await call(jp_fetch, "iris", "versions", "1", "validations", method="POST",
                              body={"dataset": "iris-eval", "target": "species"})
    assert code == 201 and report["passed"] is True
    assert report["data"]["dataset"] == "iris-eval" and report["data"]["rows"] == 150
    _, reports = await call(jp_fetch, "iris", "versions", "1", "validations")
    assert [r["id"] for r in reports["validations"]] == [report["id"]]
    mlops.set_policy("iris", required_approvals=0)  # an approver may move it directly
    _, alias = await call(jp_fetch, "iris", "aliases", "production", method="PUT",
                          body={"version": 1})
    assert alias["version"] == 1
    code, body = await fails(jp_fetch, "iris", "versions", "1", "validations", method="POST",
                             body={"dataset": "iris-eval", "target": "nope"})
    assert code == 400 and "no column 'nope'" in body["message"]
    code, body = await fails(jp_fetch, "iris", "rules", method="PUT",
                             body={"rules": [{"kind": "vibes"}]})
    assert code == 400 and "rule kind" in body["message"]


async def test_lineage_json(jp_fetch, trained):
    mlops.register_model(trained, "iris")
    _, graph = await call(jp_fetch, "iris", "versions", "1", "lineage")
    kinds = {n["kind"] for n in graph["nodes"]}
    assert {"model_version", "run", "dataset"} <= kinds
    assert {"source": "model_version:iris/1", "target": f"run:{trained.id}",
            "kind": "produced_by"} in graph["edges"]


@pytest.mark.parametrize("parts,method,body,status", [
    (("bad%20name",), "GET", None, 400),
    (("missing",), "GET", None, 404),
    (("missing", "versions", "1"), "GET", None, 404),
    (("x", "versions"), "POST", {"run_id": "0" * 32}, 404),
    (("x", "versions"), "POST", {}, 400),
    (("x", "versions"), "POST", {"run_id": "0" * 32, "model_path": "../../etc"}, 400),
    (("x", "aliases", "staging"), "PUT", {"version": True}, 400),
    ((), "POST", {"name": "../up"}, 400),
])
async def test_bad_registry_requests_are_4xx_json(jp_fetch, mlops_home, parts, method, body,
                                                  status):
    code, answer = await fails(jp_fetch, *parts, method=method, body=body)
    assert code == status and answer["message"]
