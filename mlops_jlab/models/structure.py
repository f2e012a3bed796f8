"""Index checks on the compiled parts of a loaded scikit-learn model.

skops refuses types outside the trusted list, but a trusted type can still carry
crafted numbers: a decision tree whose node points past the node array, or splits on
feature 10,000 of a 3-column input, makes scikit-learn's compiled code read out of
bounds (a segfault at best) when it predicts. The model file's author is not trusted,
so after loading, every tree-like structure scikit-learn walks in compiled code is
checked: child indices inside the node array and pointing forward (no cycles),
feature indices inside the input, sample indices inside the data. A model that fails
is refused with :class:`~..errors.UntrustedModel` before anything runs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UntrustedModel

#: how deep :func:`check_structure` follows attributes, lists and dicts
MAX_DEPTH = 64


def check_structure(model: Any, uri: str | None = None) -> None:
    """Raise :class:`UntrustedModel` when a tree inside ``model`` has an index out of
    its bounds (see the module docstring)."""
    seen: set[int] = set()
    stack: list[tuple[Any, int, int | None]] = [(model, 0, None)]
    while stack:
        obj, depth, n_features = stack.pop()
        if id(obj) in seen or depth > MAX_DEPTH:
            continue
        seen.add(id(obj))
        n_features = _features_of(obj, n_features)
        problem = _problem(obj, n_features)
        if problem:
            raise UntrustedModel(f"{uri or 'model'} is malformed: {problem}; refused "
                                 "before anything runs it")
        stack.extend((child, depth + 1, n_features) for child in _children(obj))


def _features_of(obj: Any, inherited: int | None) -> int | None:
    value = getattr(obj, "n_features_in_", None) if not isinstance(obj, type) else None
    return int(value) if isinstance(value, (int, np.integer)) else inherited


def _children(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if isinstance(obj, np.ndarray):
        return list(obj.ravel()) if obj.dtype == object else []
    if isinstance(obj, (str, bytes, int, float, bool, type(None), np.generic)):
        return []
    attributes = getattr(obj, "__dict__", None)
    return list(attributes.values()) if isinstance(attributes, dict) else []


def _problem(obj: Any, n_features: int | None) -> str | None:
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if kind == "sklearn.tree._tree.Tree":
        return _tree_problem(obj)
    if kind == "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor":
        return _predictor_problem(obj, n_features)
    if kind in ("sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree"):
        return _binary_tree_problem(obj)
    return None


def _forward_children(left: np.ndarray, right: np.ndarray, internal: np.ndarray,
                      count: int, what: str) -> str | None:
    """Children of internal nodes point forward inside the array (no cycle, no
    out-of-bounds read)."""
    index = np.arange(count)
    for name, child in (("left", left), ("right", right)):
        bad = internal & ((child <= index) | (child >= count))
        if bad.any():
            node = int(np.argmax(bad))
            return (f"{what} node {node}'s {name} child {int(child[node])} is outside "
                    f"nodes {node + 1}..{count - 1}")
    return None


def _first_outside(values: np.ndarray, where: np.ndarray, end: int | None) -> int | None:
    """The first node selected by ``where`` whose value lies outside ``0..end-1`` (no
    upper bound when ``end`` is None), else None."""
    bad = where & ((values < 0) | (values >= (end if end is not None else 2**31)))
    return int(np.argmax(bad)) if bad.any() else None


def _tree_problem(tree: Any) -> str | None:
    count = int(tree.node_count)
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    if not (len(left) == len(right) == len(feature) == count):
        return f"a decision tree's node arrays do not hold its {count} nodes"
    leaf = (left == -1) & (right == -1)
    problem = _forward_children(left, right, ~leaf, count, "a decision tree's")
    if problem:
        return problem
    n_features = int(tree.n_features)
    node = _first_outside(feature, ~leaf, n_features)
    if node is not None:
        return (f"a decision tree's node {node} splits on feature {int(feature[node])} "
                f"of {n_features}")
    values = np.asarray(tree.value)
    if values.shape[0] != count:
        return f"a decision tree has {values.shape[0]} node values for {count} nodes"
    return None


def _predictor_problem(predictor: Any, n_features: int | None) -> str | None:
    nodes = np.asarray(predictor.nodes)
    count = len(nodes)
    if count == 0:
        return "a boosted tree has no nodes"
    internal = ~nodes["is_leaf"].astype(bool)
    problem = _forward_children(nodes["left"].astype(np.int64),
                                nodes["right"].astype(np.int64), internal, count,
                                "a boosted tree's")
    if problem:
        return problem
    feature = nodes["feature_idx"].astype(np.int64)
    node = _first_outside(feature, internal, n_features)
    if node is not None:
        return (f"a boosted tree's node {node} splits on feature {int(feature[node])}"
                f"{f' of {n_features}' if n_features is not None else ''}")
    categorical = internal & nodes["is_categorical"].astype(bool)
    index = nodes["bitset_idx"].astype(np.int64)
    for name in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
        bitsets = getattr(predictor, name, None)
        available = len(bitsets) if bitsets is not None else 0
        node = _first_outside(index, categorical, available)
        if node is not None:
            return (f"a boosted tree's node {node} uses category set {int(index[node])} "
                    f"of {available}")
    return None


def _binary_tree_problem(tree: Any) -> str | None:
    data, idx_array, node_data, _bounds = tree.get_arrays()
    samples = len(np.asarray(data))
    idx = np.asarray(idx_array)
    if len(idx) != samples or (len(idx) and (idx.min() < 0 or idx.max() >= samples)):
        return f"a neighbors tree indexes outside its {samples} samples"
    nodes = np.asarray(node_data)
    start, end = nodes["idx_start"], nodes["idx_end"]
    if len(nodes) and ((start < 0).any() or (end > samples).any() or (start > end).any()):
        return f"a neighbors tree's nodes reach outside its {samples} samples"
    return None
