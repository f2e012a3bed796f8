"""Alert rules: evaluation, lifecycle, cooldown, webhooks, retraining with papermill."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid

import nbformat
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlops_jlab as mlops
from mlops_jlab.errors import InvalidInput, NotFound, RuleViolation
from mlops_jlab.monitoring.alerts import normalize_rule


@pytest.fixture
def cancer():
    return load_breast_cancer(return_X_y=True, as_frame=True)


def _log(serving, deployment, frame, predictions, *, at=None, status=200, latency=1.0):
    rid = uuid.uuid4().hex
    serving.log_predictions([{
        "deployment": deployment, "request_id": rid, "version": 1, "shadow": 0,
        "inputs": {"columns": list(frame.columns), "data": frame.to_numpy()}
        if status == 200 else {},
        "outputs": np.asarray(predictions) if status == 200 else {"error": "bad_request"},
        "latency_ms": latency, "time": at if at is not None else int(time.time() * 1000),
        "status": status}])
    return rid


@pytest.fixture
def deployed(mlops_home, cancer):
    X, y = cancer
    mlops.set_experiment("alerts")
    with mlops.start_run(name="train") as run:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
        run.log_dataset(X, "cancer-train", role="train")
        run.log_model(model, input_example=X.head(5))
    mlops.register_model(run, "cancer")
    b = mlops.backend()
    b.serving.deploy("cancer", 1, b.user, name="cancer-alerts")
    return b, model, X, y


@pytest.mark.parametrize("rule, field", [
    ({"kind": "nope"}, "kind"),
    ({"kind": "drift_share"}, "threshold"),
    ({"kind": "drift_share", "threshold": 2}, "threshold"),
    ({"kind": "error_rate", "threshold": "x"}, "threshold"),
    ({"kind": "latency_p99", "threshold": -1}, "threshold"),
    ({"kind": "metric", "metric": "auc", "threshold": 0.9}, "metric"),
    ({"kind": "column_drift"}, "column"),
    ({"kind": "drift_share", "threshold": 0.5, "window": "soon"}, "window"),
    ({"kind": "drift_share", "threshold": 0.5, "action": {"type": "email"}}, "action"),
    ({"kind": "drift_share", "threshold": 0.5, "webhook": "ftp://example.com/x"}, "webhook"),
    ({"kind": "drift_share", "threshold": 0.5, "webhook": "http://127.0.0.1:9/x"}, "webhook"),
    ({"kind": "drift_share", "threshold": 0.5, "webhook": "http://10.1.2.3/x"}, "webhook"),
    ({"kind": "drift_share", "threshold": 0.5, "webhook": "http://[64:ff9b::7f00:1]/x"},
     "webhook"),  # NAT64 to loopback
    ({"kind": "drift_share", "threshold": 0.5, "webhook": "http://[::127.0.0.1]/x"},
     "webhook"),  # IPv4-compatible loopback
])
def test_rules_are_checked(rule, field, monkeypatch):
    monkeypatch.delenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    with pytest.raises(InvalidInput) as info:
        normalize_rule(rule)
    assert info.value.details["field"] == field


def test_drift_rule_fires_updates_is_acknowledged_resolves_and_cools_down(deployed):
    b, model, X, _y = deployed
    calm = X.sample(300, replace=True, random_state=0).reset_index(drop=True)
    shifted = calm + X.std() * 1.5
    _log(b.serving, "cancer-alerts", calm, model.predict(calm))
    (rule,) = mlops.set_alert_rules("cancer-alerts", [
        {"kind": "drift_share", "threshold": 0.5, "window": "1h", "cooldown": "1h"}])
    assert rule["id"] and rule["window"] == "1h"
    assert mlops.evaluate_alerts("cancer-alerts") == []  # calm traffic: nothing fires

    ten_minutes_ago = int(time.time() * 1000) - 600_000
    _log(b.serving, "cancer-alerts", shifted, model.predict(shifted), at=ten_minutes_ago)
    (fired,) = mlops.evaluate_alerts("cancer-alerts")
    assert fired["status"] == "firing" and fired["value"] >= 0.5
    assert "columns drifted" in fired["message"]
    assert mlops.evaluate_alerts("cancer-alerts") == []  # still firing: updated, not new
    assert len(mlops.alerts("cancer-alerts", status="open")) == 1
    acked = mlops.acknowledge_alert(fired["id"])
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == b.user
    assert len(mlops.drift_history("cancer-alerts")) == 1  # recorded at most every 5 min

    # a 5-minute window sees only the calm traffic that follows: the alert resolves
    mlops.set_alert_rules("cancer-alerts", [{**rule, "window": "5m"}])
    _log(b.serving, "cancer-alerts", calm, model.predict(calm))
    (resolved,) = mlops.evaluate_alerts("cancer-alerts")
    assert resolved["id"] == fired["id"] and resolved["status"] == "resolved"
    with pytest.raises(RuleViolation):
        mlops.acknowledge_alert(fired["id"])
    # drift again within the cooldown: quiet
    _log(b.serving, "cancer-alerts", shifted, model.predict(shifted))
    _log(b.serving, "cancer-alerts", shifted, model.predict(shifted))
    assert mlops.evaluate_alerts("cancer-alerts") == []
    with pytest.raises(NotFound):
        mlops.acknowledge_alert("0" * 16)


def test_error_rate_latency_column_and_metric_rules(deployed):
    b, model, X, y = deployed
    rows = X.sample(40, random_state=3)  # like the training data: no column drifts
    truth = y.loc[rows.index]
    ids = [_log(b.serving, "cancer-alerts", rows.iloc[i:i + 4], model.predict(rows.iloc[i:i + 4]),
                latency=2.0 if i else 250.0) for i in range(0, 40, 4)]
    for _ in range(5):
        _log(b.serving, "cancer-alerts", rows.head(1), [0], status=422)
    # labels that make the model look bad: the opposite of the truth
    mlops.log_feedback("cancer-alerts", ids, [[1 - v for v in truth.iloc[i:i + 4]]
                                              for i in range(0, 40, 4)])
    mlops.set_alert_rules("cancer-alerts", [
        {"kind": "error_rate", "threshold": 0.2, "name": "refusals"},
        {"kind": "latency_p99", "threshold": 100},
        {"kind": "column_drift", "column": "worst texture"},  # KS p = 0.88 here
        {"kind": "metric", "metric": "accuracy", "threshold": 0.8, "min_rows": 30},
    ])
    fired = {a["kind"]: a for a in mlops.evaluate_alerts("cancer-alerts")}
    assert set(fired) == {"error_rate", "latency_p99", "metric"}  # the column is stable
    assert fired["error_rate"]["value"] == pytest.approx(5 / 15)
    assert fired["latency_p99"]["value"] > 100
    assert fired["metric"]["value"] < 0.2 and "accuracy of v1" in fired["metric"]["message"]
    with pytest.raises(InvalidInput):
        mlops.set_alert_rules("cancer-alerts", [{"kind": "metric", "metric": "accuracy"}])
    assert len(mlops.alert_rules("cancer-alerts")) == 4  # a bad list changes nothing


def test_a_new_alert_is_posted_to_its_webhook(deployed, monkeypatch):
    b, _model, X, _y = deployed
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        with pytest.raises(InvalidInput, match="MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS"):
            mlops.set_alert_rules("cancer-alerts", [
                {"kind": "error_rate", "threshold": 0.1, "webhook": url}])
        monkeypatch.setenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", "1")
        mlops.set_alert_rules("cancer-alerts", [
            {"kind": "error_rate", "threshold": 0.1, "webhook": url}])
        _log(b.serving, "cancer-alerts", X.head(1), [0], status=400)
        (alert,) = mlops.evaluate_alerts("cancer-alerts")
    finally:
        server.shutdown()
    assert alert["data"]["webhook"] == {"ok": True, "status": 204}
    (payload,) = received
    assert payload["alert"]["id"] == alert["id"] and payload["alert"]["kind"] == "error_rate"
    assert "webhook" not in payload["rule"]


TRAIN_CELLS = [
    ("C = 1.0", ["parameters"]),
    ("""import mlops_jlab as mlops
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
mlops.set_experiment("alerts")
with mlops.start_run(name=f"train C={C}", params={"C": C}) as run:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000)).fit(X, y)
    run.log_dataset(X, "cancer-train", role="train")
    run.log_model(model, input_example=X.head(5))""", []),
]


def test_a_drift_alert_retrains_from_the_versions_notebook(mlops_home, tmp_path, monkeypatch,
                                                           cancer):
    import papermill

    X, y = cancer
    notebook = tmp_path / "train.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": tags})
                for src, tags in TRAIN_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, notebook)
    # trained "in JupyterLab": the session names the notebook, so the run stores a copy
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    papermill.execute_notebook(str(notebook), str(tmp_path / "ran.ipynb"), cwd=str(tmp_path),
                               progress_bar=False)
    monkeypatch.delenv("JPY_SESSION_NAME")
    runs = mlops.search_runs("alerts")
    # papermill's run of the notebook, and the training run inside it (the model's)
    assert sorted(runs["name"]) == ["train", "train C=1.0"]
    (first,) = runs.loc[runs.parent_run_id.notna(), "run_id"]
    mlops.register_model(first, "cancer")
    b = mlops.backend()
    b.serving.deploy("cancer", 1, b.user, name="cancer-retrain")
    model = mlops.load_model("models:/cancer/1")
    shifted = X.head(200) + X.std() * 2
    rid = _log(b.serving, "cancer-retrain", shifted, model.predict(shifted))
    mlops.log_feedback("cancer-retrain", [rid], [y.head(200).tolist()])
    mlops.set_alert_rules("cancer-retrain", [
        {"kind": "drift_share", "threshold": 0.5,
         "action": {"type": "retrain", "parameters": {"C": 0.5}}}])
    (alert,) = mlops.evaluate_alerts("cancer-retrain", wait=True)
    retrain = alert["data"]["retrain"]
    assert retrain["status"] == "succeeded", retrain
    assert retrain["candidate_version"] == 2 and retrain["model"] == "cancer"
    assert retrain["validation"]["on"] == "labelled live traffic (200 rows)"
    candidate = mlops.get_model_version("cancer", 2)
    assert candidate.tags["candidate_for_alert"] == alert["id"]
    assert "production" not in candidate.aliases and not candidate.aliases  # never promoted
    new_run = mlops.get_run(retrain["run_id"])
    assert new_run.params["C"] == "0.5"
    assert new_run.info.tags["mlops.retrain_alert"] == alert["id"]
    assert (tmp_path / "ran.ipynb").exists()
    assert retrain["output_notebook"].endswith("output.ipynb")


async def test_deployment_list_carries_drift_and_open_alerts(jp_fetch, deployed):
    b, model, X, _y = deployed
    shifted = X.sample(200, random_state=0) * 1.5
    _log(b.serving, "cancer-alerts", shifted, model.predict(shifted))
    mlops.set_alert_rules("cancer-alerts", [{"kind": "drift_share", "threshold": 0.3}])
    (alert,) = mlops.evaluate_alerts("cancer-alerts")
    response = await jp_fetch("mlops", "api", "deployments")
    (item,) = json.loads(response.body)["deployments"]
    watch = item["monitoring"]
    assert watch["alerts"] == {"firing": 1, "acknowledged": 0}
    assert watch["drift"]["dataset_drift"] and "mean radius" in watch["drift"]["drifted_columns"]
    listed = json.loads((await jp_fetch("mlops", "api", "alerts",
                                        params={"status": "open"})).body)["alerts"]
    assert [a["id"] for a in listed] == [alert["id"]]
    acked = json.loads((await jp_fetch("mlops", "api", "alerts", alert["id"], "acknowledge",
                                       method="POST", body="")).body)
    assert acked["status"] == "acknowledged"
    rules = json.loads((await jp_fetch("mlops", "api", "monitoring", "cancer-alerts", "rules",
                                       method="PUT", body=json.dumps({"rules": [
                                           {"kind": "error_rate", "threshold": 0.5}]}))).body)
    assert [r["kind"] for r in rules["rules"]] == ["error_rate"]
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "monitoring", "cancer-alerts", "rules", method="PUT",
                       body=json.dumps({"rules": [{"kind": "error_rate"}]}))
    assert info.value.code == 400 and "threshold" in json.loads(info.value.response.body)[
        "message"]


def test_the_monitor_loop_evaluates_rules_on_its_own(deployed):
    from mlops_jlab.monitoring.loop import MonitorLoop

    b, _model, X, _y = deployed
    mlops.set_alert_rules("cancer-alerts", [{"kind": "error_rate", "threshold": 0.1}])
    _log(b.serving, "cancer-alerts", X.head(1), [0], status=422)
    leading = threading.Event()
    loop = MonitorLoop(b.alerts, interval=0.05, leading=leading.is_set)
    loop.start()
    try:
        time.sleep(0.3)
        assert mlops.alerts("cancer-alerts").empty  # not the store's evaluator: quiet
        leading.set()
        deadline = time.monotonic() + 30
        while mlops.alerts("cancer-alerts").empty and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.stop()
    assert list(mlops.alerts("cancer-alerts")["status"]) == ["firing"]


def test_a_team_server_without_a_job_account_refuses_a_retraining_rule_when_saved(deployed):
    from mlops_jlab.governance.delegation import Delegation
    from mlops_jlab.governance.job_account import JobsRefused

    b, *_ = deployed
    b.alerts.jobs_check = Delegation(None, lambda: "http://127.0.0.1:1/", {}).check_jobs
    rule = {"kind": "drift_share", "threshold": 0.5, "action": {"type": "retrain"}}
    with pytest.raises(JobsRefused, match="job_users"):
        mlops.set_alert_rules("cancer-alerts", [rule])
    assert mlops.alert_rules("cancer-alerts") == []  # nothing saved
    mlops.set_alert_rules("cancer-alerts", [{"kind": "drift_share", "threshold": 0.5}])
    assert len(mlops.alert_rules("cancer-alerts")) == 1  # rules without an action
