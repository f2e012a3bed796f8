"""Model files are untrusted: the server loads them only in an isolated process without
secrets, with the types its own configuration trusts, after the route's access check.

The attack (issue 17, section 1): a contributor registers a model whose file carries a
function the type check should refuse; a viewer (or anyone) asks the server to validate
it on rows it sends, with ``trusted_types=`` naming that function. Here the smuggled
function (:func:`tests.helpers.record_environment`) writes down the process and the
environment it runs in, so the test sees whether it ran, where, and what it could reach.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.errors import UntrustedModel
from mlops_jlab.models.folder import MANIFEST
from mlops_jlab.models.isolation import IsolatedModels, scrubbed_env
from tests.helpers import record_environment, shady_transform

pytestmark = pytest.mark.team_identities

SPY = "tests.helpers.record_environment"
REPO = str(Path(__file__).resolve().parents[1])
SECRETS = {"MLOPS_JLAB_DB_URL": "postgresql://admin:hunter2@db/mlops",
           "MLOPS_JLAB_TOKEN": "mlops_secret", "AWS_SECRET_ACCESS_KEY": "aws-secret",
           "JUPYTER_TOKEN": "jupyter-secret", "PGPASSWORD": "pg-secret",
           "JUPYTERHUB_API_TOKEN": "hub-secret"}


@pytest.fixture
def jp_server_config(mlops_home: Path):
    """The team server of these tests trusts the spy, as an administrator might have
    trusted a type that later turns out to be dangerous."""
    return {"ServerApp": {"jpserver_extensions": {"mlops_jlab": True},
                          "allow_unauthenticated_access": False,
                          "identity_provider_class":
                              "mlops_jlab.server.identity.MlopsIdentityProvider",
                          "authorizer_class": "mlops_jlab.server.identity.MlopsAuthorizer"},
            "MlopsJlab": {"home": str(mlops_home), "trusted_types": [SPY],
                          "team_mode": False}}


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    X = pd.DataFrame(np.random.default_rng(1).normal(size=(40, 3)), columns=["a", "b", "c"])
    return X, (X["a"] > 0).astype(int).to_numpy()


def _spy_model(out: Path, owner: str = "cory") -> int:
    """``owner`` registers a model that runs the spy on every predict."""
    X, y = _data()
    model = make_pipeline(FunctionTransformer(record_environment, kw_args={"out": str(out)}),
                          LogisticRegression()).fit(X, y)
    mlops.configure(user=owner)
    with mlops.start_run(experiment="spy", name="spy") as run:
        run.log_model(model, input_example=X.head(3))
    version = mlops.register_model(run, "spy").version
    out.unlink(missing_ok=True)  # fitting and logging ran it here, in the test process
    return version


def _arrow(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _tokens() -> dict[str, str]:
    mlops.configure(user="alice")
    assert mlops.whoami()["role"] == "admin"
    mlops.grant("cory", "contributor")
    mlops.grant("vic", "viewer")
    b = mlops.backend()
    return {name: b.access.issue_token("alice", name)  # type: ignore[attr-defined]
            for name in ("cory", "vic")}


def test_the_model_process_environment_is_an_allow_list(monkeypatch, tmp_path):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    env = scrubbed_env(tmp_path)
    assert not set(SECRETS) & set(env)
    assert env["HOME"] == env["TMPDIR"] == str(tmp_path)
    assert not [k for k in env if "TOKEN" in k or "SECRET" in k or "PASSWORD" in k]


async def test_validation_runs_the_model_isolated_and_never_trusts_the_request(
        jp_fetch, mlops_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", REPO)  # so the model process can import the spy
    for key, value in SECRETS.items():
        if key != "MLOPS_JLAB_DB_URL":  # the server exported its own store URL already
            monkeypatch.setenv(key, value)
    assert os.environ.get("MLOPS_JLAB_DB_URL") or os.environ.get("MLOPS_JLAB_HOME")
    tokens = _tokens()
    out = tmp_path / "spy.json"
    version = _spy_model(out)
    X, y = _data()
    body = _arrow(X.head(5).assign(y=y[:5]))
    path = ("mlops", "api", "models", "spy", "versions", str(version), "validations")

    async def post(caller: str, query: str) -> int:
        try:
            response = await jp_fetch(
                *path, method="POST", body=body, params={"target": "y", **dict(
                    [query.split("=")] if query else [])},
                headers={"Authorization": f"token {tokens[caller]}",
                         "Content-Type": "application/vnd.apache.arrow.stream"})
            return response.code
        except HTTPClientError as exc:
            return exc.code

    # a viewer is refused before the body is read or the model touched
    assert await post("vic", f"trusted_types={SPY}") == 403
    assert await post("vic", "") == 403
    assert not out.exists()
    # trust is never taken from a request, not even a contributor's
    assert await post("cory", "trusted_types=posix.system") == 400
    assert not out.exists()
    # validation runs, with the server's configured trust, in another process
    assert await post("cory", "") == 201
    seen = json.loads(out.read_text())
    assert seen["pid"] != os.getpid()
    leaked = {k for k in seen["env"] if k.startswith(("MLOPS_JLAB_DB", "MLOPS_JLAB_ART",
                                                       "MLOPS_JLAB_TOKEN", "MLOPS_JLAB_HOME"))}
    assert not leaked and not set(SECRETS) & set(seen["env"]), seen["env"]
    assert seen["env"]["HOME"] == seen["cwd"] and not Path(seen["cwd"]).exists()


def test_a_type_the_server_does_not_trust_is_refused_in_the_isolated_process(
        mlops_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", REPO)
    out = tmp_path / "spy.json"
    version = _spy_model(out, owner="alice")
    b = mlops.backend()
    files = b.registry.get_version("spy", version).files  # type: ignore[attr-defined]
    X, y = _data()
    with pytest.raises(UntrustedModel) as info:
        IsolatedModels(b.registry.artifacts.read_bytes).run_rules(  # type: ignore[attr-defined]
            [{"kind": "metric", "metric": "accuracy", "min": 0.5}], files, None, X, y)
    assert SPY in info.value.untrusted_types and not out.exists()
    assert IsolatedModels(b.registry.artifacts.read_bytes).preflight(  # type: ignore[attr-defined]
        {"1": files})["1"].startswith("UntrustedModel")


def test_a_manifest_cannot_declare_itself_safe(mlops_home, tmp_path):
    """``unsafe_serializer`` is the server's finding, not the manifest's claim."""
    X, y = _data()
    mlops.configure(user="alice")
    with mlops.start_run(name="liar") as run:
        run.log_model(LogisticRegression().fit(X, y), serializer="pickle", allow_pickle=True)
    folder = tmp_path / "model"
    b = mlops.backend()
    for artifact in b.tracking.list_artifacts(run.id):  # type: ignore[attr-defined]
        target = tmp_path / artifact["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b.tracking.artifacts.read_bytes(artifact["sha256"]))  # type: ignore[attr-defined]
    name = MANIFEST
    manifest = json.loads((folder / name).read_text())
    manifest["unsafe_serializer"] = False
    (folder / name).write_text(json.dumps(manifest))
    with mlops.start_run(name="liar-upload") as crafted:
        crafted.log_artifact(str(folder), artifact_path="model")
    version = mlops.register_model(crafted, "liar")
    assert version.unsafe_serializer
    manifest["serializer"] = "marshal"
    (folder / name).write_text(json.dumps(manifest))
    with mlops.start_run(name="unknown-serializer") as odd:
        odd.log_artifact(str(folder), artifact_path="model")
    with pytest.raises(UntrustedModel, match="unknown serializer"):
        mlops.register_model(odd, "odd")


async def test_a_deployment_that_cannot_load_is_refused_with_the_reason(
        jp_fetch, mlops_home, tmp_path):
    mlops.configure(user="alice")
    X, y = _data()
    # a function the server's configuration does not trust: every worker would fail
    model = make_pipeline(FunctionTransformer(shady_transform), LogisticRegression()).fit(X, y)
    with mlops.start_run(name="odd") as run:
        run.log_model(model)
    mlops.register_model(run, "odd")
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "deployments", method="POST",
                       body=json.dumps({"model": "odd", "version": 1}))
    answer = json.loads(info.value.response.body)
    assert info.value.code == 422 and answer["error"] == "untrusted_model"
    assert "cannot be loaded for serving" in answer["message"]
    listing = json.loads((await jp_fetch("mlops", "api", "deployments")).body)
    assert listing["deployments"] == []


@pytest.mark.parametrize("path,body", [
    ("models/any/versions/1/validations",
     {"dataset": "d", "target": "y", "trusted_types": ["posix.system"]}),
    ("deployments", {"model": "any", "version": 1, "allow_pickle": True}),
    ("deployments", {"model": "any", "version": 1, "trusted_types": ["posix.system"]}),
])
async def test_json_bodies_cannot_widen_trust_either(jp_fetch, mlops_home, path, body):
    mlops.configure(user="alice")
    mlops.whoami()
    mlops.backend().registry.create_model("any", "alice")  # type: ignore[attr-defined]
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", *path.split("/"), method="POST", body=json.dumps(body))
    answer = json.loads(info.value.response.body)
    assert info.value.code == 400 and answer["field"] in ("trusted_types", "allow_pickle")
