"""Request bodies to model inputs: the numeric fast path answers like the checked path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_jlab.errors import SchemaMismatch
from mlops_jlab.models.loaded import LoadedModel
from mlops_jlab.models.signature import infer_signature, input_example
from mlops_jlab.serving.inputs import InputPlan, accepts_array, body_rows

# the worker silences this process-wide; here the tests feed matrices to the models
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def _loaded(model, X) -> LoadedModel:
    sig = infer_signature(X)
    manifest = {"signature": sig.to_dict(), "input_example": input_example(X)}
    return LoadedModel(model, manifest)


@pytest.fixture(scope="module")
def numeric():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60),
                      "n": rng.integers(0, 5, size=60)})
    y = (X["a"] + X["b"] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return _loaded(model, X), X


def test_numeric_signature_takes_a_float_matrix(numeric):
    loaded, X = numeric
    plan = InputPlan(loaded)
    assert plan.numeric and plan.takes_array and plan.int_columns == [2]
    rows = X.head(4)
    fast = plan.prepare({"inputs": rows.to_dict(orient="records")})
    assert isinstance(fast.model_input, np.ndarray) and fast.model_input.dtype == np.float64
    split = plan.prepare({"dataframe_split": {"columns": list(rows.columns),
                                              "data": rows.to_numpy().tolist()}})
    expected = loaded.model.predict(rows)
    assert list(loaded.model.predict(fast.model_input)) == list(expected)
    assert list(loaded.model.predict(split.model_input)) == list(expected)
    assert fast.log_form()["columns"] == ["a", "b", "n"] and len(fast) == 4


@pytest.mark.parametrize("change", ["reorder", "string", "bool"])
def test_bodies_the_fast_path_leaves_to_the_checked_path_answer_the_same(numeric, change):
    loaded, X = numeric
    plan = InputPlan(loaded)
    rows = X.head(3)
    records = rows.to_dict(orient="records")
    if change == "reorder":  # columns in another order: the checked path sorts them
        body = {"dataframe_split": {"columns": ["n", "b", "a"],
                                    "data": rows[["n", "b", "a"]].to_numpy().tolist()}}
    elif change == "string":  # numbers sent as text convert, as the signature allows
        body = {"inputs": [{**r, "a": str(r["a"])} for r in records]}
    else:
        body = {"inputs": [{**r, "n": True} for r in records]}
        rows = rows.assign(n=1)
    got = plan.prepare(body)
    assert list(loaded.model.predict(got.model_input)) == list(loaded.model.predict(rows))


@pytest.mark.parametrize("bad, words", [
    ({"a": 1.0, "b": 2.0}, ["missing column 'n'"]),
    ({"a": 1.0, "b": 2.0, "n": 1, "x": 3}, ["unexpected column 'x'"]),
    ({"a": None, "b": 2.0, "n": 1}, ["non-finite"]),
    ({"a": "abc", "b": 2.0, "n": 1}, ["'a'", "expected float64"]),
    ({"a": 1.0, "b": 2.0, "n": 1.5}, ["'n'", "expected int64"]),
])
def test_bad_rows_are_named_by_the_checked_path(numeric, bad, words):
    plan = InputPlan(numeric[0])
    with pytest.raises(SchemaMismatch) as info:
        plan.prepare({"inputs": [bad]})
    for word in words:
        assert word in info.value.message


@pytest.mark.parametrize("body", [[], {"inputs": []}, {"inputs": [1, 2]}, {"rows": []},
                                  {"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}])
def test_malformed_bodies_are_value_errors(body):
    with pytest.raises(ValueError):
        body_rows(body)


@pytest.mark.parametrize("columns, named", [
    (["a", None], "None"),
    ([1, "1"], "1"),
    (["a", {"b": 1}], "{'b': 1}"),
    (["a", ["b"]], "['b']"),
    (["a", True], "True"),
])
def test_column_names_that_are_not_strings_are_refused_by_name(columns, named):
    body = {"dataframe_split": {"columns": columns, "data": [[1.0] * len(columns)]}}
    with pytest.raises(ValueError, match="must hold column names") as info:
        body_rows(body)
    assert named in str(info.value)


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("body, twice", [
    ({"dataframe_split": {"columns": ["a", "b", "n", "a"], "data": [[1.0, 2.0, 1, 3.0]]}},
     ["a"]),
    ({"dataframe_split": {"columns": ["b", "a", "b", "n", "a", "a"],
                          "data": [[1.0, 2.0, 1.0, 1, 2.0, 2.0]]}}, ["b", "a"]),
    ({"dataframe_split": {"columns": ["a", "a"], "data": [[1.0, 2.0], [3.0, 4.0]]}}, ["a"]),
])
def test_duplicate_column_names_are_a_schema_mismatch_naming_them(numeric, signed, body,
                                                                   twice):
    loaded, _ = numeric
    if not signed:  # without a signature the duplicates must not reach the model either
        loaded = LoadedModel(loaded.model, {})
    with pytest.raises(SchemaMismatch) as info:
        InputPlan(loaded).prepare(body)
    assert info.value.problems == [f"duplicate column {c!r}" for c in twice]
    assert "duplicate column names" in info.value.message


def test_models_that_need_column_names_get_a_frame():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 5, "b": [1.0, 0.0, 1.0, 0.0] * 5})
    y = [0, 1] * 10
    by_name = make_pipeline(ColumnTransformer([("s", StandardScaler(), ["b", "a"])]),
                            LogisticRegression()).fit(X, y)
    loaded = _loaded(by_name, X)
    assert not accepts_array(loaded)
    plan = InputPlan(loaded)
    got = plan.prepare({"inputs": X.head(2).to_dict(orient="records")})
    assert isinstance(got.model_input, pd.DataFrame)
    assert list(by_name.predict(got.model_input)) == list(by_name.predict(X.head(2)))


def test_text_columns_take_the_checked_path():
    X = pd.DataFrame({"city": ["a", "b", "c", "a"] * 5, "x": np.arange(20, dtype=float)})
    y = [0, 1, 1, 0] * 5
    model = make_pipeline(ColumnTransformer([("c", OneHotEncoder(), ["city"])],
                                            remainder="passthrough"),
                          LogisticRegression()).fit(X, y)
    plan = InputPlan(_loaded(model, X))
    assert not plan.numeric
    got = plan.prepare({"inputs": [{"city": "b", "x": 3.0}]})
    assert list(model.predict(got.model_input)) == list(model.predict(
        pd.DataFrame({"city": ["b"], "x": [3.0]})))
    assert got.log_form()["data"].tolist() == [["b", 3.0]]
