"""Explanations: importance, partial dependence, per-row contributions (shap and the
occlusion fallback), stored on versions (both backends, REST), the model card section,
and per-prediction explanations of the serving worker."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys

import numpy as np
import pandas as pd
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.errors import InvalidInput, NotFound, PermissionDenied
from mlops_jlab.explain.compute import compute_payload
from mlops_jlab.explain.local import LocalExplainer
from mlops_jlab.explain.records import check_payload
from mlops_jlab.explain.subject import ExplainedModel, reference_row
from mlops_jlab.models.loaded import LoadedModel
from mlops_jlab.models.signature import infer_signature
from mlops_jlab.serving.worker import Worker

pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def _signal_and_noise(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n),
                      "weak": rng.normal(size=n)})
    y = 3.0 * X["signal"] + 0.3 * X["weak"] + rng.normal(scale=0.1, size=n)
    return X, y.to_numpy()


def _cities(n: int = 240, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"city": rng.choice(["paris", "lyon", "nice"], n),
                      "income": rng.normal(50, 10, n), "age": rng.integers(18, 80, n)})
    y = ((X["city"] == "paris") | (X["income"] > 55)).astype(int).to_numpy()
    return X, y


def _city_model(X, y):
    return make_pipeline(ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore"),
                                             ["city"])], remainder="passthrough"),
                         LogisticRegression(max_iter=2000)).fit(X, y)


# ------------------------------------------------------------------ the computations
def test_an_informative_feature_ranks_above_noise_and_pd_is_monotone_on_a_linear_model():
    X, y = _signal_and_noise()
    subject = ExplainedModel.of(LinearRegression().fit(X, y), list(X.columns))
    payload = compute_payload(subject, X, y, top=3, rows=200)
    ranks = [r["feature"] for r in payload["importance"]]
    assert ranks[0] == "signal" and ranks.index("weak") < ranks.index("noise")
    assert payload["scoring"] == "r2" and payload["rows"] == 200
    by_feature = {d["feature"]: d for d in payload["partial_dependence"]}
    signal = by_feature["signal"]
    assert signal["kind"] == "numeric" and len(signal["grid"]) == len(signal["average"]) == 20
    assert np.all(np.diff(signal["average"]) > 0)  # y grows with signal
    assert np.all(np.diff(signal["grid"]) > 0)
    assert len(payload["local"]["rows"]) == 200 and payload["local"]["features"] == \
        list(X.columns)
    assert set(payload["figures"]) == {"importance", "partial_dependence", "local"}
    assert check_payload(payload)["importance"] == payload["importance"]


def test_without_labels_importance_is_agreement_with_the_model():
    X, y = _signal_and_noise()
    subject = ExplainedModel.of(LinearRegression().fit(X, y), list(X.columns))
    payload = compute_payload(subject, X, None, top=1, rows=100)
    assert "own predictions" in payload["scoring"]
    assert payload["importance"][0]["feature"] == "signal"


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_tree_shap_contributions_add_up_to_the_model_output(kind):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(30, random_state=0).fit(X, y) if kind == "classifier" \
        else RandomForestRegressor(30, random_state=0).fit(X, y.astype(float))
    subject = ExplainedModel.of(model, list(X.columns))
    explainer = LocalExplainer(subject, reference_row(X))
    result = explainer.explain(X.head(25))
    assert result.method == "shap.TreeExplainer"
    expected = model.predict_proba(X.head(25))[:, 1] if kind == "classifier" else \
        model.predict(X.head(25))
    total = result.base_values + result.contributions.sum(axis=1)
    np.testing.assert_allclose(total, expected, atol=1e-6)
    np.testing.assert_allclose(result.predictions, expected, atol=1e-6)
    assert result.target == ("probability of class '1'" if kind == "classifier"
                             else "prediction")


def test_linear_shap_behind_a_scaler_explains_the_log_odds():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(X, y)
    result = LocalExplainer(ExplainedModel.of(model, list(X.columns)),
                            reference_row(X)).explain(X.head(10))
    assert result.method == "shap.LinearExplainer" and result.target == "log-odds of class '1'"
    np.testing.assert_allclose(result.base_values + result.contributions.sum(axis=1),
                               model.decision_function(X.head(10)), atol=1e-6)


def test_without_shap_the_fallback_is_occlusion(monkeypatch):
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap now raises ImportError
    X, y = _signal_and_noise()
    model = LinearRegression().fit(X, y)
    subject = ExplainedModel.of(model, list(X.columns))
    payload = compute_payload(subject, X, y, top=2, rows=50)
    assert payload["local_method"] == "occlusion"
    row = payload["local"]["rows"][0]
    reference = reference_row(X.iloc[np.sort(np.random.default_rng(0).choice(300, 50,
                                                                              False))])
    # for a linear model occlusion is exact: coef * (value - reference)
    expected = model.coef_ * (np.asarray(row["values"]) - reference.iloc[0].to_numpy())
    np.testing.assert_allclose(row["contributions"], expected, atol=1e-9)
    assert row["base_value"] == pytest.approx(float(model.predict(reference)[0]))


def test_a_pipeline_with_categorical_columns():
    X, y = _cities()
    subject = ExplainedModel.of(_city_model(X, y), list(X.columns))
    payload = compute_payload(subject, X, y, top=3, rows=120)
    by_feature = {d["feature"]: d for d in payload["partial_dependence"]}
    assert by_feature["city"]["kind"] == "categorical"
    assert sorted(by_feature["city"]["grid"]) == ["lyon", "nice", "paris"]
    paris = by_feature["city"]["grid"].index("paris")
    assert by_feature["city"]["average"][paris] == max(by_feature["city"]["average"])
    assert by_feature["age"]["kind"] == "numeric"  # an integer column
    assert payload["local_method"] == "shap.PermutationExplainer"
    rows = payload["local"]["rows"]
    assert len(rows) == 50  # the model-agnostic explainer's default row count
    for row in rows[:10]:  # additive: base + contributions = probability of class 1
        assert row["base_value"] + sum(row["contributions"]) == \
            pytest.approx(row["prediction"], abs=1e-6)
    assert payload["background"]["features"] == ["city", "income", "age"]


def test_malformed_records_are_refused_naming_the_field():
    X, y = _signal_and_noise()
    payload = compute_payload(ExplainedModel.of(LinearRegression().fit(X, y),
                                                list(X.columns)), X, y, top=1, rows=30)
    for change, field in [({"task": "ranking"}, "task"), ({"rows": 0}, "rows"),
                          ({"importance": [{"feature": "a", "mean": "x", "std": 0}]},
                           "importance[0].mean"), ({"figures": {"other": {}}}, "figures"),
                          ({"surprise": 1}, "surprise")]:
        with pytest.raises(InvalidInput) as info:
            check_payload({**payload, **change})
        assert info.value.details["field"] == field


# ------------------------------------------------------------------ stored on versions
@pytest.fixture
def registered(mlops_home):
    X, y = _cities()
    mlops.set_experiment("explain")
    with mlops.start_run(name="cities") as run:
        run.log_model(_city_model(X, y), input_example=X.head(5))
    mlops.register_model(run, "cities")
    return X, y, run


@pytest.mark.both_backends
def test_store_list_get_latest(registered, backend_kind):
    X, y, run = registered
    data = X.assign(label=y)
    with pytest.raises(NotFound, match="model cities v1 has no explanation"):
        mlops.get_explanation("cities", 1)
    first = mlops.explain("models:/cities/1", data, target="label", rows=80, top=2)
    assert first.stored and first.record["model"] == "cities" and first.record["version"] == 1
    assert first.record["created_by"] == "alice" and first.record["rows"] == 80
    second = mlops.explain("models:/cities@latest", X, rows=60, top=1, store=True)
    listed = mlops.list_explanations("cities", 1)
    assert list(listed["id"]) == [second.id, first.id] and list(listed["rows"]) == [60, 80]
    latest = mlops.get_explanation("cities", "latest")
    assert latest.id == second.id and "own predictions" in latest.record["scoring"]
    again = mlops.get_explanation("cities", 1, id=first.id)
    assert again.record == first.record
    assert list(again.local.columns[:3]) == ["city", "income", "age"]
    assert set(again.figures) == {"importance", "partial_dependence", "local"}
    assert "Permutation importance" in again._repr_html_()
    by_run = mlops.explain(f"runs:/{run.id}/model", X, y, rows=40)
    assert not by_run.stored and by_run.record["model_uri"] == f"runs:/{run.id}/model"
    assert len(mlops.list_explanations("cities", 1)) == 2  # a run's model: not stored
    with pytest.raises(NotFound):
        mlops.get_explanation("cities", 1, id="0" * 32)
    with pytest.raises(InvalidInput, match="no column 'nope'"):
        mlops.explain("models:/cities/1", data, target="nope")


def test_writers_store_readers_read_and_the_card_shows_the_top_features(registered):
    X, y, _ = registered
    mlops.grant("dave", "viewer")
    mlops.explain("models:/cities/1", X, y, rows=60)
    mlops.configure(user="dave")
    with pytest.raises(PermissionDenied):
        mlops.explain("models:/cities/1", X, y, rows=60)
    assert len(mlops.list_explanations("cities", 1)) == 1  # a viewer reads
    mlops.configure(user="alice")
    card = mlops.model_card("cities", 1).to_markdown()
    assert "## Explanation (permutation importance, " in card and "by alice)" in card
    assert "| city |" in card or "| income |" in card
    events = mlops.audit(action="explanation.record")
    assert len(events) == 1


# ------------------------------------------------------------------ REST
async def test_rest_list_get_post_and_errors(jp_fetch, registered):
    X, y, _ = registered

    async def call(*parts, method="GET", body=None):
        kwargs = {"method": method}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        response = await jp_fetch("mlops", "api", "models", "cities", "versions", *parts,
                                  **kwargs)
        return response.code, json.loads(response.body)

    async def fails(*parts, **kw):
        with pytest.raises(HTTPClientError) as info:
            await call(*parts, **kw)
        return info.value.code, json.loads(info.value.response.body)

    code, body = await fails("1", "explanations", "latest")
    assert code == 404 and body == {"error": "not_found",
                                    "message": "model cities v1 has no explanation"}
    computed = mlops.explain("models:/cities/1", X, y, rows=40, store=False).record
    payload = {k: v for k, v in computed.items()
               if k not in ("id", "model", "version", "created_at", "created_by",
                            "model_uri")}
    code, created = await call("1", "explanations", method="POST", body=payload)
    assert code == 201 and created["model"] == "cities" and created["version"] == 1
    assert len(created["id"]) == 32 and created["figures"]["importance"]["data"]
    code, listed = await call("latest", "explanations")
    assert code == 200 and [e["id"] for e in listed["explanations"]] == [created["id"]]
    assert "figures" not in listed["explanations"][0]
    assert "local" not in listed["explanations"][0]
    code, full = await call("1", "explanations", created["id"])
    assert full == created
    code, body = await fails("1", "explanations", method="POST",
                             body={**payload, "task": "ranking"})
    assert code == 400 and body["error"] == "bad_request" and "task" in body["message"]
    code, body = await fails("7", "explanations")
    assert code == 404 and body["error"] == "not_found"
    for verb, body in (("GET", None), ("POST", payload)):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("mlops", "api", "models", "cities", "versions", "1",
                           "explanations", method=verb, headers={"Authorization": ""},
                           body=None if body is None else json.dumps(body))
        assert info.value.code == 403


# ------------------------------------------------------------------ serving
TOKEN = "t0ken"


def _post(worker, bodies):
    async def go():
        client = TestClient(TestServer(worker.app()))
        await client.start_server()
        try:
            out = []
            for body in bodies:
                resp = await client.post("/v1/predict", data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {TOKEN}",
                                                  "Content-Type": "application/json"})
                out.append((resp.status, await resp.json()))
            return out
        finally:
            await client.close()
    return asyncio.run(go())


def _worker(model, X, background=None):
    manifest = {"signature": infer_signature(X).to_dict(), "model_class": "x"}
    return Worker("w", 1, 0, {1: LoadedModel(model, manifest)},
                  [{"version": 1, "weight": 100}], None,
                  hashlib.sha256(TOKEN.encode()).hexdigest(), lambda rows: None,
                  explain_backgrounds={1: background})


def test_worker_explains_tree_models_additively_and_refuses_a_bad_explain():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(20, random_state=0).fit(X, y)
    reference = reference_row(X)
    background = {"features": list(X.columns), "values": reference.iloc[0].tolist()}
    rows = X.head(3)
    plain, explained, bad, with_proba = _post(_worker(model, X, background), [
        {"inputs": rows.to_dict(orient="records")},
        {"inputs": rows.to_dict(orient="records"), "params": {"explain": True}},
        {"inputs": rows.to_dict(orient="records"), "params": {"explain": "yes"}},
        {"inputs": rows.to_dict(orient="records"), "params": {"explain": True,
                                                              "proba": True}},
    ])
    assert plain[0] == 200 and "explanations" not in plain[1]
    status, body = explained
    assert status == 200 and len(body["explanations"]) == 3 and body["explain_ms"] > 0
    first = body["explanations"][0]
    assert first["target"] == "probability of class '1'"
    assert first["method"] == "shap.TreeExplainer"
    assert list(first["contributions"]) == list(X.columns)
    proba = model.predict_proba(rows)[:, 1]
    for row, p in zip(body["explanations"], proba, strict=True):
        assert row["base_value"] + sum(row["contributions"].values()) == \
            pytest.approx(p, abs=1e-6)
    assert first["base_value"] == pytest.approx(model.predict_proba(reference)[0, 1])
    assert bad[0] == 400 and bad[1]["error"] == "bad_request" and "explain" in \
        bad[1]["message"]
    assert with_proba[0] == 200 and len(with_proba[1]["probabilities"]) == 3


def test_worker_falls_back_to_occlusion_against_the_input_example(monkeypatch):
    monkeypatch.setitem(sys.modules, "shap", None)
    X, y = _cities()
    model = _city_model(X, y)
    manifest = {"signature": infer_signature(X).to_dict(), "model_class": "x",
                "input_example": {"columns": list(X.columns),
                                  "data": X.head(9).values.tolist()}}
    worker = Worker("w", 1, 0, {1: LoadedModel(model, manifest)},
                    [{"version": 1, "weight": 100}], None,
                    hashlib.sha256(TOKEN.encode()).hexdigest(), lambda rows: None)
    ((status, body),) = _post(worker, [{"inputs": X.head(2).to_dict(orient="records"),
                                        "params": {"explain": True}}])
    assert status == 200, body
    row = body["explanations"][0]
    assert row["method"] == "occlusion" and set(row["contributions"]) == set(X.columns)
    reference = reference_row(X.head(9))
    assert row["base_value"] == pytest.approx(model.predict_proba(reference)[0, 1])
    # the city's contribution: this row's output minus the output with the city replaced
    one = X.head(1)
    occluded = one.assign(city=reference["city"].iloc[0])
    assert row["contributions"]["city"] == pytest.approx(
        model.predict_proba(one)[0, 1] - model.predict_proba(occluded)[0, 1])


def test_a_deployed_model_explains_predictions_with_its_stored_background(mlops_home):
    import urllib.request

    from mlops_jlab.serving.controller import DeploymentController

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with mlops.start_run(name="forest") as run:
        run.log_model(RandomForestClassifier(20, random_state=0).fit(X, y),
                      input_example=X.head(5))
    mlops.register_model(run, "explained")
    stored = mlops.explain("models:/explained/1", X, y, rows=100, top=2)
    serving = mlops.backend().serving
    controller = DeploymentController(serving, log_dir=str(mlops_home / "logs"), interval=0.2)
    controller.start()
    try:
        deployment, token = serving.deploy("explained", 1, "alice", name="explained-web")
        import time

        end = time.monotonic() + 60
        while not any(r["ready"] and r["alive"]
                      for r in controller.observed("explained-web")["replicas"]):
            assert time.monotonic() < end, "the worker did not get ready"
            time.sleep(0.1)

        def post(body):
            request = urllib.request.Request(
                deployment.url, data=json.dumps(body).encode(), method="POST",
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        rows = X.head(2).to_dict(orient="records")
        status, body = post({"inputs": rows, "params": {"explain": True}})
        assert status == 200 and body["model_version"] == 1
        (first, _) = body["explanations"]
        background = stored.record["background"]
        model = mlops.load_model("models:/explained/1").model
        reference = pd.DataFrame([background["values"]], columns=background["features"])
        assert first["base_value"] == pytest.approx(model.predict_proba(reference)[0, 1])
        assert first["method"] == "shap.TreeExplainer"
        status, body = post({"inputs": rows, "params": {"explain": 1}})
        assert status == 400 and body["error"] == "bad_request"
    finally:
        serving.stop("explained-web", "alice")
        controller.stop()
