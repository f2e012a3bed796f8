"""Model registry: format safety, versions, aliases, gates, lineage, crash safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

import mlops_jlab as mlops
from mlops_jlab.errors import (
    InvalidInput,
    NotFound,
    RuleViolation,
    SchemaMismatch,
    UntrustedModel,
)

pytestmark = pytest.mark.both_backends


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return train_test_split(X, y, random_state=0, stratify=y)


def _logged(model, X, name="fit", path="model", **kw):
    with mlops.start_run(name=name) as run:
        run.log_model(model, name=path, input_example=X, **kw)
    return run


def _registered(iris, model=None, name="iris"):
    X_train, _, y_train, _ = iris
    model = model or LogisticRegression(max_iter=500).fit(X_train, y_train)
    return mlops.register_model(_logged(model, X_train), name)


def test_versions_increase_and_snapshot_metrics(mlops_home, iris):
    X_train, _, y_train, _ = iris
    with mlops.start_run(name="m") as run:
        model = LogisticRegression(max_iter=500).fit(X_train, y_train)
        run.log_metric("accuracy", 0.97)
        run.log_model(model, input_example=X_train)
    v1 = mlops.register_model(run, "iris")
    v2 = mlops.register_model(run.id, "iris")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.status == "ready" and v1.metrics == {"accuracy": 0.97}
    assert set(v1.files) == {"manifest.json", "model.skops"}
    assert v1.serializer == "skops" and not v1.unsafe_serializer
    assert [c["name"] for c in v1.signature["inputs"]] == list(X_train.columns)
    assert [v.version for v in mlops.list_model_versions("iris")] == [2, 1]
    model_info = mlops.list_models()[0]
    assert (model_info.name, model_info.version_count, model_info.latest_version) == \
        ("iris", 2, 2)
    assert mlops.get_model_version("iris", "latest").version == 2


def test_load_by_alias_version_and_run_enforces_the_signature(mlops_home, iris):
    X_train, X_test, y_train, _ = iris
    v = _registered(iris)
    mlops.set_alias("iris", "champion", v.version)
    expected = LogisticRegression(max_iter=500).fit(X_train, y_train).predict(X_test)
    for uri in ("models:/iris@champion", "models:/iris/1", f"runs:/{v.run_id}/model"):
        loaded = mlops.load_model(uri)
        assert (loaded.predict(X_test) == expected).all(), uri
    loaded = mlops.load_model("models:/iris/1")
    records = X_test.head(2).to_dict(orient="records")
    assert len(loaded.predict(records)) == 2
    bad = X_test.drop(columns=[X_test.columns[0]]).assign(extra=1)
    bad[X_test.columns[1]] = "text"
    with pytest.raises(SchemaMismatch) as info:
        loaded.predict(bad)
    assert len(info.value.problems) == 3
    text = str(info.value)
    assert "missing column 'sepal length (cm)'" in text
    assert "unexpected column 'extra'" in text
    assert "has dtype" in text
    ints = X_test.head(3).astype("int64")  # int into float columns is lossless: accepted
    assert len(loaded.predict(ints)) == 3
    for uri in ("models:/iris", "s3://x", "models:/iris/99", "runs:/abc/model"):
        with pytest.raises((InvalidInput, NotFound)):
            mlops.load_model(uri)


def test_column_transformer_with_categorical_encoders_round_trips(mlops_home):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.normal(40, 10, 300), "plan": rng.choice(["a", "b", "c"], 300),
                       "region": rng.choice(["n", "s"], 300)})
    y = (df.age > 40).astype(int)
    pre = ColumnTransformer([("num", StandardScaler(), ["age"]),
                             ("oh", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                             ("ord", OrdinalEncoder(), ["region"])])
    for estimator in (LogisticRegression(), RandomForestClassifier(n_estimators=5),
                      HistGradientBoostingClassifier(max_iter=10)):
        model = make_pipeline(pre, estimator).fit(df, y)
        v = mlops.register_model(_logged(model, df), "tabular")
        loaded = mlops.load_model(f"models:/tabular/{v.version}")
        assert (loaded.predict(df) == model.predict(df)).all()


@pytest.mark.local_only  # reaches into the store / governance services
def test_a_tampered_file_is_refused(mlops_home, iris):
    v = _registered(iris)
    store = mlops.backend().tracking.artifacts
    Path(store.blob_path(v.files["model.skops"])).write_bytes(b"not the model")
    with pytest.raises(UntrustedModel, match="fails its sha256 check"):
        mlops.load_model("models:/iris/1")
    manifest_path = Path(store.blob_path(v.files["manifest.json"]))
    manifest = json.loads(manifest_path.read_text())
    manifest["serializer"] = "pickle"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(UntrustedModel, match=r"manifest\.json"):
        mlops.load_model("models:/iris/1")


def test_untrusted_types_are_refused_and_named(mlops_home, iris):
    from tests.helpers import shady_transform

    X_train, X_test, y_train, _ = iris
    model = make_pipeline(FunctionTransformer(shady_transform),
                          LogisticRegression(max_iter=500)).fit(X_train, y_train)
    v = mlops.register_model(_logged(model, X_train), "shady")
    with pytest.raises(UntrustedModel) as info:
        mlops.load_model(f"models:/shady/{v.version}")
    assert info.value.untrusted_types == ["tests.helpers.shady_transform"]
    assert "tests.helpers.shady_transform" in str(info.value)
    loaded = mlops.load_model("models:/shady/1",
                              trusted_types=["tests.helpers.shady_transform"])
    assert len(loaded.predict(X_test)) == len(X_test)


def test_pickle_needs_an_explicit_opt_in_and_is_recorded(mlops_home, iris):
    X_train, _, y_train, _ = iris
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    with pytest.raises(InvalidInput, match="allow_pickle"):
        _logged(model, X_train, serializer="pickle")
    v = mlops.register_model(_logged(model, X_train, serializer="pickle", allow_pickle=True),
                             "pickled")
    assert v.unsafe_serializer and v.serializer == "pickle"
    with pytest.raises(UntrustedModel, match="allow_pickle=True"):
        mlops.load_model("models:/pickled/1")
    assert len(mlops.load_model("models:/pickled/1", allow_pickle=True).predict(X_train)) > 0


@pytest.mark.parametrize("kwargs", [
    {"name": "../escape"}, {"name": "/etc/passwd"}, {"name": "a/b"}, {"name": ""},
    {"name": "ok", "model_path": "../model"}, {"name": "ok", "model_path": "/abs/model"},
    {"name": "ok", "model_path": "model/../../x"}, {"name": "ok", "model_path": "C:\\x"},
])
def test_path_traversal_in_names_and_paths_is_refused(mlops_home, iris, kwargs):
    X_train, _, y_train, _ = iris
    run = _logged(LogisticRegression(max_iter=500).fit(X_train, y_train), X_train)
    with pytest.raises(InvalidInput):
        mlops.register_model(run, **kwargs)
    with pytest.raises(InvalidInput):
        mlops.load_model(f"runs:/{run.id}/../../etc")


def test_sibling_prefix_paths_stay_apart(mlops_home, iris):
    X_train, _, y_train, _ = iris
    a = LogisticRegression(max_iter=500).fit(X_train, y_train)
    b = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_train, y_train)
    with mlops.start_run(name="two") as run:
        run.log_model(a, name="model", input_example=X_train)
        run.log_model(b, name="model2", input_example=X_train)
    v = mlops.register_model(run, "sib", model_path="model")
    assert v.model_class.endswith("LogisticRegression")
    assert set(v.files) == {"manifest.json", "model.skops"}
    with pytest.raises(NotFound):
        mlops.register_model(run, "sib", model_path="mod")


@pytest.mark.local_only  # reaches into the store / governance services
@pytest.mark.parametrize("crash_at", ["register:pending", "register:verified"])
def test_a_process_killed_mid_registration_leaves_no_ready_version(mlops_home, iris,
                                                                   crash_at):
    X_train, _, y_train, _ = iris
    run = _logged(LogisticRegression(max_iter=500).fit(X_train, y_train), X_train)
    env = {**os.environ, "MLOPS_JLAB_TEST_CRASH_AT": crash_at}
    code = f"import mlops_jlab as m; m.register_model({run.id!r}, 'crashy')"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert proc.returncode == 17, proc.stderr
    (version,) = mlops.list_model_versions("crashy")
    assert version.status == "pending" and version.files is None
    with pytest.raises(RuleViolation, match="pending"):
        mlops.set_alias("crashy", "staging", 1)
    with pytest.raises(RuleViolation, match="pending"):
        mlops.load_model("models:/crashy/1")
    assert mlops.backend().registry.sweep_pending(older_than_ms=0) == 1
    failed = mlops.get_model_version("crashy", 1)
    assert failed.status == "failed" and "did not complete" in failed.error
    assert mlops.register_model(run, "crashy").version == 2  # numbers are never reused


@pytest.mark.local_only  # reaches into the store / governance services
def test_a_failing_gate_blocks_production(mlops_home, iris):
    X_train, X_test, y_train, y_test = iris
    good = _registered(iris)
    mlops.set_policy("iris", required_approvals=0)  # the gate alone (approvals: test_governance)
    weak = mlops.register_model(_logged(
        RandomForestClassifier(n_estimators=2, max_depth=1, random_state=0)
        .fit(X_train, y_train), X_train), "iris")
    mlops.set_validation_rules("iris", [
        "accuracy >= 0.9", {"kind": "relative", "metric": "f1", "max_drop": 0.01},
        {"kind": "schema"}, {"kind": "no_nulls"}, {"kind": "predicts_example"},
        {"kind": "latency", "max_ms_per_row": 50}, {"kind": "deterministic"}])
    with pytest.raises(RuleViolation, match="no validation report"):
        mlops.set_alias("iris", "production", good.version)
    report = mlops.validate("iris", good.version, data=(X_test, y_test))
    assert report.passed, report.to_frame()
    frame = report.to_frame()
    assert frame["rule"].iloc[0] == "accuracy >= 0.9" and frame["passed"].all()
    mlops.set_alias("iris", "production", good.version)
    failing = mlops.validate("iris", weak.version, data=(X_test, y_test))
    assert not failing.passed
    failed_rules = set(failing.to_frame().query("not passed")["rule"])
    assert failed_rules == {"accuracy >= 0.9",
                            "f1 must not drop by more than 0.01 vs @production"}
    with pytest.raises(RuleViolation) as info:
        mlops.set_alias("iris", "production", weak.version)
    assert "accuracy >= 0.9" in str(info.value) and "f1 must not drop" in str(info.value)
    assert mlops.get_model_version("iris", "production").version == good.version
    assert mlops.get_model_version("iris", weak.version).validation["passed"] is False
    dirty = X_test.copy()
    dirty.iloc[0, 0] = np.nan
    assert not mlops.validate("iris", good.version, data=(dirty, y_test)).passed
    with pytest.raises(InvalidInput):
        mlops.set_validation_rules("iris", ["accuracy is great"])
    with pytest.raises(InvalidInput):
        mlops.set_validation_rules("iris", [{"kind": "latency"}])


def test_aliases_archive_and_descriptions(mlops_home, iris):
    _registered(iris)
    v2 = _registered(iris)
    assert v2.version == 2
    mlops.set_alias("iris", "@staging", 2)
    mlops.set_alias("iris", "champion", 1)
    assert mlops.get_registered_model("iris").aliases == {"staging": 2, "champion": 1}
    mlops.set_alias("iris", "champion", 2)  # moves
    assert mlops.get_model_version("iris", "champion").version == 2
    with pytest.raises(RuleViolation, match="holds aliases"):
        mlops.archive_model_version("iris", 2)
    mlops.delete_alias("iris", "staging")
    mlops.delete_alias("iris", "champion")
    with pytest.raises(NotFound):
        mlops.delete_alias("iris", "champion")
    archived = mlops.archive_model_version("iris", 2)
    assert archived.archived
    assert [v.version for v in mlops.list_model_versions("iris")] == [1]
    assert [v.version for v in mlops.list_model_versions("iris", include_archived=True)] == [2, 1]
    with pytest.raises(RuleViolation, match="archived"):
        mlops.set_alias("iris", "staging", 2)
    model = mlops.update_registered_model("iris", description="flowers", tags={"owner": "b"})
    assert (model.description, model.tags) == ("flowers", {"owner": "b"})
    updated = mlops.update_model_version("iris", 1, description="baseline", tags={"team": "a"})
    assert (updated.description, updated.tags) == ("baseline", {"team": "a"})
    with pytest.raises(InvalidInput):
        mlops.set_alias("iris", "latest", 1)
    with pytest.raises(InvalidInput):
        mlops.set_alias("iris", "bad alias!", 1)


def test_lineage_reaches_data_notebook_code_and_parents(mlops_home, iris, tmp_path,
                                                        monkeypatch):
    X_train, _, y_train, _ = iris
    nb = tmp_path / "train.ipynb"
    nb.write_text('{"cells": [], "metadata": {}}')
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    with mlops.start_run(name="sweep"), mlops.start_run(name="trial") as run:
        run.log_dataset(X_train.assign(target=y_train), "iris-train", role="train")
        model = LogisticRegression(max_iter=500).fit(X_train, y_train)
        run.log_model(model, input_example=X_train)
    mlops.register_model(run, "iris")
    graph = mlops.lineage("iris", 1)
    kinds = {n["kind"] for n in graph.nodes}
    assert {"model_version", "run", "dataset", "notebook"} <= kinds
    edges = {(e["kind"], e["target"].split(":")[0]) for e in graph.edges}
    assert {("produced_by", "run"), ("trained_on", "dataset"), ("source", "notebook"),
            ("child_of", "run")} <= edges
    notebook = next(n for n in graph.nodes if n["kind"] == "notebook")
    assert notebook["data"]["artifact"] == "source/train.ipynb"
    stored = mlops.get_run(run.id).artifact_bytes("source/train.ipynb")
    assert stored == nb.read_bytes()
    frame = graph.to_frame()
    assert {"source_label", "edge", "target_label"} <= set(frame.columns)


def test_compare_versions_gives_a_table_and_a_figure(mlops_home, iris):
    X_train, X_test, y_train, y_test = iris
    _registered(iris)
    mlops.register_model(_logged(RandomForestClassifier(n_estimators=5, random_state=0)
                                 .fit(X_train, y_train), X_train), "iris")
    result = mlops.compare_versions("iris", 1, 2, data=(X_test, y_test))
    assert list(result.table.columns) == ["v1", "v2", "difference"]
    assert {"accuracy", "f1"} <= set(result.table.index)
    assert len(result.figure.data) == 2 and result.figure.layout.barmode == "group"
