"""Artifacts on any fsspec URL: a local folder, a ``file://`` URL and an in-process
``memory://`` filesystem carry the whole flow (log artifacts, a dataset and a model,
register, load the version); deploying from ``memory://`` is refused with a reason."""

from __future__ import annotations

import uuid

import fsspec
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mlops_jlab as mlops
from mlops_jlab.errors import ConfigurationError, RuleViolation


def _flow(tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    note = tmp_path / "notes.txt"
    note.write_text("trained on iris")
    mlops.set_experiment("urls")
    with mlops.start_run(name="lr") as run:
        run.log_artifact(note)
        run.log_dict({"C": 1.0}, "config.json")
        run.log_dataset(X, "iris", role="train")
        model = LogisticRegression(max_iter=500).fit(X, y)
        run.log_model(model, input_example=X.head(3))
    version = mlops.register_model(run, "iris")
    assert version.status == "ready"
    assert mlops.get_run(run.id).artifact_bytes("notes.txt") == b"trained on iris"
    loaded = mlops.load_model("models:/iris/1")
    assert np.array_equal(loaded.predict(X), model.predict(X))
    kinds = {n["kind"] for n in mlops.lineage("iris", 1).nodes}
    assert {"run", "dataset"} <= kinds
    return run


@pytest.mark.parametrize("kind", ["folder", "file-url"])
def test_local_artifact_stores(mlops_home, monkeypatch, tmp_path, kind):
    root = tmp_path / "blobs"
    monkeypatch.setenv("MLOPS_JLAB_ARTIFACTS", str(root) if kind == "folder"
                       else f"file://{root}")
    mlops.configure()
    _flow(tmp_path)
    assert list((root / "sha256").iterdir())  # the blobs are there, not in the home


def test_memory_artifact_store_carries_the_whole_flow(mlops_home, monkeypatch, tmp_path):
    url = f"memory://mlops-test-{uuid.uuid4().hex}/artifacts"
    monkeypatch.setenv("MLOPS_JLAB_ARTIFACTS", url)
    mlops.configure()
    try:
        _flow(tmp_path)
        memory = fsspec.filesystem("memory")
        assert memory.find(url.removeprefix("memory://") + "/sha256")
        assert not list((mlops_home / "artifacts").rglob("*/*/*"))  # no local blob
        # serving workers are other processes: they cannot see this process's memory,
        # so deploying says so instead of starting workers that would crash
        b = mlops.backend()
        with pytest.raises(RuleViolation, match=r"memory://.*s3://"):
            mlops.deploy("iris@latest", name="iris-served", wait=False)
        assert b.serving.list() == []
    finally:
        fsspec.filesystem("memory").rm(url.removeprefix("memory://").split("/")[0],
                                       recursive=True)


def test_an_unknown_artifact_protocol_is_a_configuration_error(mlops_home, monkeypatch):
    monkeypatch.setenv("MLOPS_JLAB_ARTIFACTS", "nosuchfs://bucket/prefix")
    with pytest.raises(ConfigurationError, match="nosuchfs"):
        mlops.configure()
