"""PII columns of a deployment: hashed, masked or dropped before the prediction log stores
them; the model still sees the real values; drift on a hashed categorical still works."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest
from aiohttp.test_utils import TestClient, TestServer
from IPython.core.error import UsageError
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.errors import InvalidInput
from mlops_jlab.magics.deploy import _pii as _magic_pii
from mlops_jlab.serving.controller import DeploymentController
from mlops_jlab.serving.pii import MASK, PiiPolicy, check_pii, hash_value
from mlops_jlab.serving.worker import Worker
from mlops_jlab.store import codec
from mlops_jlab.store import schema as s

EMAILS = [f"user{i}@example.com" for i in range(12)]
NAMES = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"]
PII = {"email": "hash", "ssn": "mask", "name": "drop"}
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _people(n: int, seed: int, weights: np.ndarray | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    email = rng.choice(EMAILS, size=n, p=weights)
    return pd.DataFrame({
        "email": email,
        "ssn": [f"{a:03d}-{b:02d}-{c:04d}" for a, b, c in zip(
            rng.integers(100, 999, n), rng.integers(10, 99, n), rng.integers(1000, 9999, n),
            strict=True)],
        "name": rng.choice(NAMES, size=n),
        "x": rng.normal(size=n),
    })


def _labels(frame: pd.DataFrame) -> np.ndarray:
    # the label depends on the email: a model that saw hashes would answer otherwise
    return np.array([int(e[4:e.index("@")]) % 2 for e in frame["email"]])


@pytest.fixture
def people_model(mlops_home):
    """A registered model using the email, trained on a run with its training dataset."""
    train = _people(600, seed=0)
    model = make_pipeline(
        ColumnTransformer([("e", OneHotEncoder(handle_unknown="ignore"), ["email"]),
                           ("n", "passthrough", ["x"])]),
        LogisticRegression(max_iter=1000)).fit(train, _labels(train))
    mlops.set_experiment("pii")
    with mlops.start_run(name="train") as run:
        run.log_dataset(train, "people", role="train")
        run.log_model(model, input_example=train.head(5))
    mlops.register_model(run, "people")
    return model, train


def _dump_log(db) -> list[str]:
    with db.read() as conn:
        rows = conn.execute(select(s.prediction_log)).all()
    return [codec.dumps(dict(r._mapping)) for r in rows]


def test_pii_settings_are_checked_and_kept_in_the_desired_state(people_model):
    b = mlops.backend()
    for bad in ({"phone": "hash"}, {"email": "encrypt"}, {"email": None}, ["email"]):
        with pytest.raises(InvalidInput, match="pii"):
            b.serving.deploy("people", 1, b.user, name="people-bad", pii=bad)
    deployment, _ = b.serving.deploy("people", 1, b.user, name="people-pii", pii=PII)
    assert deployment.desired["pii"] == PII
    again, _ = b.serving.deploy("people", 1, b.user, name="people-pii")  # None keeps it
    assert again.desired["pii"] == PII and again.revision == 2
    cleared = b.serving.update("people-pii", b.user, pii={})
    assert "pii" not in cleared.desired
    back = b.serving.rollback("people-pii", b.user)
    assert back.desired["pii"] == PII
    with pytest.raises(InvalidInput):
        b.serving.update("people-pii", b.user, pii={"nope": "drop"})
    assert "pii email=hash" in b.serving.events("people-pii")[-1].message
    with pytest.raises(InvalidInput, match="signature"):
        check_pii({"email": "hash"}, None)
    assert _magic_pii("email=hash, ssn=mask") == {"email": "hash", "ssn": "mask"}
    with pytest.raises(UsageError):
        _magic_pii("email")


async def test_rest_deploy_takes_and_checks_pii(people_model, jp_fetch):
    async def post(body):
        response = await jp_fetch("mlops", "api", "deployments", method="POST",
                                  body=json.dumps(body))
        return json.loads(response.body)

    with pytest.raises(HTTPClientError) as info:
        await post({"model": "people", "name": "people-rest", "pii": {"phone": "hash"}})
    assert info.value.code == 400 and "phone" in json.loads(info.value.response.body)[
        "message"]
    created = await post({"model": "people", "name": "people-rest", "pii": PII})
    assert created["desired"]["pii"] == PII


def test_policy_hashes_masks_and_drops_without_touching_the_model_input():
    key = b"k" * 32
    policy = PiiPolicy(PII, key)
    data = np.array([["a@x.org", "123-45-6789", "Ada", 1.5],
                     ["a@x.org", "987-65-4321", "Alan", None]], dtype=object)
    form = {"columns": ["email", "ssn", "name", "x"], "data": data}
    out = policy.apply(form)
    assert out["columns"] == ["email", "ssn", "x"]
    assert out["data"][0, 0] == out["data"][1, 0] == hash_value(key, "a@x.org")
    assert HEX16.match(out["data"][0, 0]) and list(out["data"][:, 1]) == [MASK, MASK]
    assert data[0, 0] == "a@x.org"  # the worker's rows are not changed in place
    # another deployment's key gives other hashes; numbers hash by value, not by type
    assert hash_value(b"other", "a@x.org") != hash_value(key, "a@x.org")
    assert hash_value(key, 42) == hash_value(key, 42.0) == hash_value(key, np.int64(42))
    assert hash_value(key, None) is None and hash_value(key, float("nan")) is None
    with pytest.raises(InvalidInput):
        PiiPolicy({"email": "hash"}, None)


def test_served_requests_leave_no_plain_pii_in_the_log(people_model, mlops_home):
    model, _train = people_model
    b = mlops.backend()
    deployment, token = b.serving.deploy("people", 1, b.user, name="people-live", pii=PII)
    ctl = DeploymentController(b.serving, log_dir=str(mlops_home / "logs"), interval=0.2)
    ctl.start()
    try:
        handle = mlops.get_deployment("people-live", token).wait_ready(60)
        sent = _people(30, seed=5)
        answers = []
        for i in range(0, 30, 10):
            rows = sent.iloc[i:i + 10]
            body = {"inputs": rows.to_dict(orient="records")} if i == 0 else \
                {"dataframe_split": {"columns": list(rows.columns),
                                     "data": rows.to_numpy(dtype=object).tolist()}}
            request = urllib.request.Request(
                handle.url, data=json.dumps(body).encode(), method="POST",
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=30) as response:
                answers.extend(json.loads(response.read())["predictions"])
        # the model got the real emails (its answers depend on them)
        assert answers == model.predict(sent).tolist() and len(set(answers)) == 2
        end = time.monotonic() + 30
        while len(b.serving.predictions("people-live")) < 3 and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        ctl.stop()
    dumped = _dump_log(b.db)
    assert len(dumped) == 3
    plain = {*sent["email"], *sent["ssn"], *sent["name"]}
    for text in dumped:
        leaked = [value for value in plain if value in text]
        assert not leaked, f"plain PII in the prediction log: {leaked[:3]}"
    logged = pd.DataFrame([r for p in b.serving.predictions("people-live")
                           for r in p["inputs"]])
    assert list(logged.columns) == ["email", "ssn", "x"]
    assert logged["email"].map(lambda v: bool(HEX16.match(v))).all()
    assert (logged["ssn"] == MASK).all()
    key = b.serving.pii_key("people-live")
    assert set(logged["email"]) == {hash_value(key, e) for e in sent["email"]}
    assert deployment.desired["pii"] == PII


def _serve_in_process(b, name: str, frames: list[pd.DataFrame]) -> None:
    """POST each frame to an in-process worker of the deployment, logging into the store
    exactly as a worker process does (same masking, same sink)."""
    deployment = b.serving.get(name)
    model = b.registry.load_version("people", 1)
    worker = Worker(name, deployment.revision, 0, {1: model},
                    deployment.desired["traffic"], None, b.serving.token_hash_of(name),
                    b.serving.log_predictions,
                    internal_token=b.serving.internal_token(name),
                    pii=b.serving.pii_policy(name, deployment.desired))

    async def go() -> None:
        client = TestClient(TestServer(worker.app()))
        await client.start_server()
        try:
            for frame in frames:
                body = {"dataframe_split": {"columns": list(frame.columns),
                                            "data": frame.to_numpy(dtype=object).tolist()}}
                response = await client.post("/v1/predict", json=body, headers={
                    "Authorization": f"Bearer {worker.internal_token}"})
                assert response.status == 200, await response.text()
            await worker.flush()
        finally:
            await client.close()

    asyncio.run(go())


def test_drift_on_a_hashed_categorical_is_detected_and_masked_columns_are_skipped(
        people_model):
    b = mlops.backend()
    b.serving.deploy("people", 1, b.user, name="people-calm", pii=PII)
    b.serving.deploy("people", 1, b.user, name="people-moved", pii=PII)
    calm = _people(400, seed=11)  # the training distribution
    weights = np.full(len(EMAILS), 0.02)
    weights[:2] = (1 - 0.02 * (len(EMAILS) - 2)) / 2  # most traffic from two addresses
    moved = _people(400, seed=12, weights=weights)
    _serve_in_process(b, "people-calm", [calm.iloc[i:i + 100] for i in range(0, 400, 100)])
    _serve_in_process(b, "people-moved", [moved.iloc[i:i + 100] for i in range(0, 400, 100)])
    assert not any(text for text in _dump_log(b.db) if "@example.com" in text)

    steady = mlops.drift_report("people-calm", window="1h")
    email = steady["email"]
    assert email.tested and not email.drifted and email.kind == "categorical"
    assert not email.new_categories  # the reference was hashed with the same key
    assert "hashed" in email.note
    for column in ("ssn", "name"):
        assert not steady[column].tested and "drift not tested" in steady[column].note
    assert steady["ssn"].note.startswith("PII masked")
    assert steady["name"].note.startswith("PII dropped")

    shifted = mlops.drift_report("people-moved", window="1h")
    assert shifted["email"].drifted and not shifted["x"].drifted
    assert shifted.summary["tested"] == 2  # email and x; ssn and name skipped
