"""Team mode over a real Jupyter server: idempotent retries, metric batches, typed errors.

The module-level Python API behaviour in team mode is covered by the ``[http]`` variants
of ``test_api.py`` and ``test_registry.py``; this module tests what only the transport
does.
"""

from __future__ import annotations

import uuid

import pytest

import mlops_jlab as mlops
from mlops_jlab import errors
from mlops_jlab.client.http import HttpBackend, HttpClient
from mlops_jlab.config import resolve
from tests.helpers.dropping_proxy import DroppingProxy
from tests.helpers.team_server import free_port

pytestmark = pytest.mark.team_only


@pytest.fixture
def team(mlops_home, team_server):
    """The session's server, its store emptied, the Python API pointed at it."""
    return team_server


@pytest.fixture
def proxy(team):
    """Drops the answers that ``proxy.drop`` picks (set by each test)."""
    dropping = DroppingProxy(team.port)
    yield dropping
    dropping.close()


def _through(proxy, team) -> HttpBackend:
    """An HttpBackend whose requests pass through ``proxy``."""
    return mlops.configure(uri=proxy.url, token=team.token)  # type: ignore[return-value]


def test_the_same_key_twice_applies_the_write_once(team):
    key = uuid.uuid4().hex
    body = {"name": f"once-{key[:6]}"}
    first = team.api("POST", "/experiments", json=body, headers={"Idempotency-Key": key})
    again = team.api("POST", "/experiments", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    names = [e["name"] for e in team.api("GET", "/experiments").json()["experiments"]]
    assert names.count(body["name"]) == 1
    # without a key the repeat is a new request, which the store refuses
    plain = team.api("POST", "/experiments", json=body)
    assert plain.status_code == 409 and plain.json()["error"] == "conflict"


def test_a_reused_key_with_another_body_is_a_409(team):
    key = uuid.uuid4().hex
    run = team.api("POST", "/runs", json={"name": "a"}, headers={"Idempotency-Key": key})
    assert run.status_code == 201
    other = team.api("POST", "/runs", json={"name": "b"}, headers={"Idempotency-Key": key})
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"
    assert "another body" in other.json()["message"]
    runs = team.api("GET", "/runs").json()["runs"]
    assert [r["name"] for r in runs] == ["a"]


def test_a_failed_write_releases_its_key(team):
    key = uuid.uuid4().hex
    missing = "f" * 32
    body = {"params": {"p": 1}}
    for _ in range(2):  # an error is not stored: the retry runs (and fails) again
        answer = team.api("POST", f"/runs/{missing}/params", json=body,
                          headers={"Idempotency-Key": key})
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_a_dropped_response_is_retried_and_applied_once(team, proxy):
    proxy.drop = lambda method, path, n: method == "POST" and n == 1
    _through(proxy, team)
    exp = mlops.create_experiment("dropped-once")  # not idempotent by itself: 409 twice
    assert exp.name == "dropped-once"
    assert proxy.dropped[("POST", "/mlops/api/experiments")] == 1
    assert proxy.requests[("POST", "/mlops/api/experiments")] == 2
    names = [e.name for e in mlops.list_experiments()]
    assert names.count("dropped-once") == 1

    with mlops.start_run(name="metrics") as run:
        for i in range(300):
            run.log_metric("loss", 1 / (i + 1))
        mlops.backend().metrics.flush()  # one batch; its first answer is dropped
        assert proxy.dropped[("POST", "/mlops/api/metrics")] == 1
    assert len(run.metric_history("loss")) == 300, "the retried batch was written once"


def test_metrics_go_in_batches(team, proxy):
    backend = _through(proxy, team)
    with mlops.start_run(name="batched") as run:
        for i in range(5000):
            run.log_metric("loss", 1 / (i + 1))
        run.log_metrics({"a": 1.0, "b": 2.0}, step=0)
    batches = proxy.requests[("POST", "/mlops/api/metrics")]
    ends = proxy.requests[("POST", f"/mlops/api/runs/{run.id}/end")]
    assert ends == 1 and batches <= 5, (batches, backend.http.sent)
    assert len(run.metric_history("loss")) == 5000
    assert run.metrics == {"loss": 1 / 5000, "a": 1.0, "b": 2.0}


def test_errors_come_back_typed(team):
    with mlops.start_run(name="typed") as run:
        run.log_param("p", 1)
        with pytest.raises(errors.Conflict, match="immutable"):
            run.log_param("p", 2)
    with pytest.raises(errors.FilterError) as info:
        mlops.search_runs(filter="metrics.acc >> 1")
    assert info.value.position is not None
    with pytest.raises(errors.NotFound):
        mlops.get_model_version("nope", 1)
    bad = team.api("POST", "/metrics", json={"points": [["x", "k", "high", 0, 0]]})
    assert bad.status_code == 400
    err = errors.from_dict(bad.json(), bad.status_code)
    assert type(err) is errors.InvalidInput and "must be a number" in err.message


def test_every_error_class_round_trips_through_its_json():
    samples = [errors.InvalidInput("bad", field="x"), errors.FilterError("f", 3, "abc"),
               errors.OrderByError("o"), errors.PageTokenError("t"),
               errors.SchemaMismatch("s", ["column a missing"]),
               errors.UntrustedModel("u", ["x.Y"]), errors.NotFound("n"),
               errors.Conflict("c"), errors.RuleViolation("r"),
               errors.IdempotencyKeyReused("k"), errors.RequestInProgress("p")]
    for original in samples:
        back = errors.from_dict(original.to_dict(), original.http_status)
        assert type(back) is type(original)
        assert back.to_dict() == original.to_dict()
    assert errors.from_dict(errors.SchemaMismatch("s", ["a"]).to_dict()).problems == ["a"]
    assert errors.from_dict(errors.UntrustedModel("u", ["x.Y"]).to_dict(),
                            422).untrusted_types == ["x.Y"]
    assert type(errors.from_dict({"error": "new_kind", "message": "m"}, 404)) is \
        errors.NotFound


def test_an_unreachable_server_is_a_configuration_error(mlops_home):
    url = f"http://127.0.0.1:{free_port()}/"
    settings = resolve(uri=url, token="t", home=str(mlops_home))
    with pytest.raises(errors.ConfigurationError, match=r"127\.0\.0\.1") as info:
        HttpBackend(settings, HttpClient(url, "t", retries=2, backoff=0.01))
    assert "MLOPS_JLAB_URI" in str(info.value)


def test_a_wrong_token_is_a_configuration_error(team):
    settings = resolve(uri=team.url, token="wrong", home="/tmp/unused")
    with pytest.raises(errors.ConfigurationError, match="MLOPS_JLAB_TOKEN"):
        HttpBackend(settings)


def test_deployments_in_team_mode_serve_through_the_server(team):
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    for C in (1.0, 0.05):
        with mlops.start_run(name=f"C={C}") as run:
            model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
            run.log_model(model.fit(X, y), input_example=X)
        mlops.register_model(run, "cancer")
    mlops.set_alias("cancer", "champion", 1)
    dep = mlops.deploy("cancer@champion", name="cancer-team")
    assert dep.token, "the new deployment's token comes back once"
    answer = dep.predict(X.head(2), proba=True)
    assert answer["model_version"] == 1 and len(answer["probabilities"]) == 2
    as_arrow = dep.predict(X.head(50), proba=True, arrow=True)
    assert as_arrow["predictions"] == dep.predict(X.head(50), arrow=False)["predictions"]
    assert len(as_arrow["probabilities"]) == 50
    with pytest.raises(errors.InvalidInput, match="422"):
        dep.predict([{"nope": 1}])
    dep.update(canary=(2, 50))
    assert dep.info.desired["traffic"][1] == {"version": 2, "weight": 50}
    dep.rollback()
    assert dep.info.desired["traffic"] == [{"version": 1, "weight": 100}]
    assert {"deployed", "updated", "rolled_back", "ready"} <= set(dep.events()["kind"])
    assert mlops.deployments().loc[0, "traffic"] == "v1:100%"
    assert any(r["ready"] for r in dep.status()["health"]["replicas"])
    rotated = mlops.rotate_token("cancer-team")
    assert rotated.token and rotated.token != dep.token
    dep.stop()
    assert mlops.get_deployment("cancer-team").info.status == "stopped"
    with pytest.raises(errors.RuleViolation, match="@production"):
        mlops.deploy("cancer/2", env="production", wait=False)


def test_validation_runs_on_the_server_with_the_rows_sent(team):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    with mlops.start_run(name="fit") as run:
        run.log_model(LogisticRegression(max_iter=500).fit(X, y), input_example=X)
    version = mlops.register_model(run, "iris")
    mlops.set_validation_rules("iris", ["accuracy >= 0.9", "accuracy >= 0.999"])
    report = mlops.validate("iris", version.version, (X, y))
    assert [r["passed"] for r in report.results] == [True, False] and not report.passed
    assert report.data["rows"] == 150 and report.created_by == mlops.backend().user
    stored = mlops.get_model_version("iris", version.version).validation
    assert stored is not None and stored["passed"] is False
    with pytest.raises(errors.InvalidInput, match="rows"):
        mlops.validate("iris", version.version, (X, y.head(3)))
