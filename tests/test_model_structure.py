"""A model file with trusted types but crafted indices is refused at load, before
scikit-learn's compiled code walks it (issue 17: a crafted tree segfaulted the
isolated validation process and crash-looped serving workers)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import skops.io as sio
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlops_jlab.errors import UntrustedModel
from mlops_jlab.models.loader import load_verified
from mlops_jlab.models.structure import check_structure

rng = np.random.default_rng(0)
X = rng.random((60, 3))
y = (X[:, 0] > 0.5).astype(int)


def _load(model) -> object:
    """Through the real loader: skops bytes, a manifest, hashes."""
    blob = sio.dumps(model)
    sha = hashlib.sha256(blob).hexdigest()
    manifest = json.dumps({"serializer": "skops", "model_file": "model.skops",
                           "files": {"model.skops": sha}}).encode()
    msha = hashlib.sha256(manifest).hexdigest()
    blobs = {sha: blob, msha: manifest}
    return load_verified(blobs.__getitem__, {"manifest.json": msha, "model.skops": sha},
                         uri="models:/crafted/1").model


@pytest.mark.parametrize("model", [
    DecisionTreeClassifier(), RandomForestClassifier(n_estimators=3),
    GradientBoostingClassifier(n_estimators=3), HistGradientBoostingClassifier(max_iter=3),
    KNeighborsClassifier(algorithm="kd_tree"), KNeighborsClassifier(algorithm="ball_tree"),
    make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=2)),
], ids=lambda m: type(m).__name__)
def test_real_models_pass(model):
    model.fit(X, y)
    check_structure(model)
    assert (_load(model).predict(X) == model.predict(X)).all()


def _crafted_tree(field: str, value: int) -> DecisionTreeClassifier:
    model = DecisionTreeClassifier(max_depth=3).fit(X, y)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes[field][0] = value
    state["nodes"] = nodes
    model.tree_.__setstate__(state)
    return model


@pytest.mark.parametrize("field, value, message", [
    ("left_child", 10_000, "left child 10000 is outside"),
    ("right_child", 0, "right child 0 is outside"),  # a cycle back to the root
    ("feature", 10_000, "splits on feature 10000 of 3"),
])
def test_a_crafted_decision_tree_is_refused_before_it_runs(field, value, message):
    with pytest.raises(UntrustedModel, match=message):
        _load(_crafted_tree(field, value))
    forest = RandomForestClassifier(n_estimators=2).fit(X, y)
    forest.estimators_[1] = _crafted_tree(field, value)
    with pytest.raises(UntrustedModel, match="models:/crafted/1 is malformed"):
        _load(make_pipeline(StandardScaler(), forest))


def test_a_crafted_boosted_tree_is_refused():
    model = HistGradientBoostingClassifier(max_iter=2).fit(X, y)
    predictor = model._predictors[0][0]
    nodes = predictor.nodes.copy()
    internal = int(np.flatnonzero(~nodes["is_leaf"].astype(bool))[0])
    nodes["feature_idx"][internal] = 99
    predictor.nodes = nodes
    with pytest.raises(UntrustedModel, match="splits on feature 99 of 3"):
        check_structure(model)
    nodes["feature_idx"][internal] = 0
    nodes["left"][internal] = len(nodes) + 5
    with pytest.raises(UntrustedModel, match="left child"):
        check_structure(model)
