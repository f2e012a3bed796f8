"""AutoML: Optuna over scikit-learn families, every trial a child run of one parent.

Small data and ``max_trials`` keep each search to a few seconds; no timing is asserted
tightly (the machine is shared), only that the budget is not grossly overrun.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

import mlops_jlab as mlops
from mlops_jlab.model_search.metrics import resolve_metric
from mlops_jlab.model_search.schema import infer_schema, infer_task


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


def _children(parent_id: str) -> pd.DataFrame:
    return mlops.search_runs(filter=f"attributes.parent_run_id = '{parent_id}'", limit=500)


@pytest.mark.both_backends
def test_trials_are_child_runs_and_the_best_is_logged_and_registered(mlops_home, cancer):
    result = mlops.automl(cancer, target="target", time_budget=120, cv=3, max_trials=7,
                          families=["linear", "random_forest", "hist_gradient_boosting"],
                          experiment="automl", register="cancer")
    assert result.task == "classification" and result.metric == "accuracy"
    assert result.trials == 7 == len(result.leaderboard)
    assert 0.9 < result.best_score <= 1.0

    parent = mlops.get_run(result.run_id).info
    assert parent.status == "finished" and parent.tags["mlops.runner"] == "automl"
    for key in ("task", "metric", "time_budget", "cv", "families", "rows", "columns"):
        assert key in parent.params, key
    assert parent.params["rows"] == "569" and parent.params["columns"] == "30"
    assert parent.metrics["best_cv_accuracy"] == pytest.approx(result.best_score)
    assert {d["role"] for d in parent.datasets} == {"train"}
    paths = {a["path"] for a in parent.artifacts}
    assert {"model/model.skops", "model/manifest.json", "automl/leaderboard.csv",
            "charts/optimization_history.json", "charts/param_importance.json"} <= paths
    history = json.loads(mlops.get_run(result.run_id).artifact_bytes(
        "charts/optimization_history.json"))
    assert "Optimization history" in history["layout"]["title"]["text"]

    children = _children(result.run_id)
    assert len(children) == 7
    assert set(children["params.family"]) <= {"linear", "random_forest",
                                               "hist_gradient_boosting"}
    # the first trials are the families' defaults (warm start)
    first = children[children["tags.mlops.automl_trial"] == "0"].iloc[0]
    assert first["params.family"] == "linear" and first["params.C"] == "1.0"
    second = children[children["tags.mlops.automl_trial"] == "1"].iloc[0]
    assert second["params.family"] == "hist_gradient_boosting"
    assert second["params.learning_rate"] == "0.1"
    assert set(children["tags.mlops.trial_state"]) <= {"complete", "pruned"}
    board = result.leaderboard
    by_run = children.set_index("run_id")
    for _, row in board.iterrows():
        child = by_run.loc[row["run_id"]]
        assert child["tags.mlops.automl_trial"] == str(row["trial"])
        assert child["tags.mlops.trial_state"] == row["state"]
        assert child["metrics.cv_accuracy"] == pytest.approx(row["cv_accuracy"])
        folds = mlops.get_run(row["run_id"]).metric_history("fold_accuracy")
        assert folds["step"].tolist() == list(range(row["folds"]))
        assert folds["value"].mean() == pytest.approx(row["cv_accuracy"])
    complete = board[board["state"] == "complete"]["cv_accuracy"].tolist()
    assert complete == sorted(complete, reverse=True)
    assert board.iloc[0]["cv_accuracy"] == pytest.approx(result.best_score)
    assert board["rank"].tolist() == list(range(1, 8))

    X = cancer.drop(columns="target")
    assert (result.best_model.predict(X) == cancer["target"]).mean() > 0.9
    assert result.model_version is not None and result.model_version.version == 1
    loaded = mlops.load_model("models:/cancer/1")
    assert list(loaded.predict(X.head(20))) == list(result.best_model.predict(X.head(20)))


def test_regression_reports_errors_as_positive_numbers_to_minimise(mlops_home):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    result = mlops.automl(X, y, metric="rmse", time_budget=120, cv=3, max_trials=6,
                          families=["linear", "knn"], experiment="automl")
    assert result.task == "regression"
    assert 30 < result.best_score < 80  # rmse in the target's units, not negated
    done = result.leaderboard[result.leaderboard["state"] == "complete"]["cv_rmse"]
    assert done.tolist() == sorted(done.tolist()) and done.iloc[0] == result.best_score
    predictions = result.best_model.predict(X)
    assert np.sqrt(np.mean((predictions - y) ** 2)) < 70


def test_preprocessing_follows_the_schema(mlops_home):
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "income": rng.normal(50, 10, n),
        "age": rng.integers(18, 80, n).astype(float),
        "city": rng.choice(["paris", "lyon", "nice"], n),
        "code": rng.choice([f"c{i}" for i in range(40)], n),
        "member": rng.choice([True, False], n),
        "joined": pd.date_range("2020-01-01", periods=n, freq="D"),
        "customer_id": [f"id-{i}" for i in range(n)],
    })
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    frame.loc[rng.random(n) < 0.1, "city"] = None
    frame["churn"] = np.where((frame["age"] > 50) | (frame["city"] == "nice"), "yes", "no")
    schema = infer_schema(frame.drop(columns="churn"))
    assert schema.numeric == ("income", "age") and schema.with_missing == ("income",)
    assert set(schema.one_hot) == {"city", "member"} and schema.ordinal == ("code",)
    assert set(schema.dropped) == {"joined", "customer_id"}

    result = mlops.automl(frame, target="churn", time_budget=120, cv=3, max_trials=3,
                          families=["linear", "hist_gradient_boosting"], metric="f1",
                          experiment="automl")
    assert result.best_score > 0.8
    assert result.schema["dropped"].keys() == {"joined", "customer_id"}
    unseen = frame.drop(columns="churn").head(4).copy()
    unseen.loc[0, "city"] = "marseille"  # a category never seen in training
    unseen.loc[1, "income"] = np.nan
    assert set(result.best_model.predict(unseen)) <= {"yes", "no"}
    loaded = mlops.load_model(f"runs:/{result.run_id}/model")
    assert len(loaded.predict(frame.drop(columns="churn").head(5))) == 5


def test_the_pruner_stops_trials_that_trail(mlops_home, cancer):
    result = mlops.automl(cancer, target="target", time_budget=120, cv=5, max_trials=24,
                          families=["knn", "linear"], experiment="automl", seed=1)
    board = result.leaderboard
    pruned = board[board["state"] == "pruned"]
    assert len(pruned) > 0, board
    assert (pruned["folds"] < 5).all() and (board[board["state"] == "complete"]["folds"]
                                            == 5).all()
    children = _children(result.run_id).set_index("run_id")
    for run_id in pruned["run_id"]:
        assert children.loc[run_id, "tags.mlops.trial_state"] == "pruned"
        assert children.loc[run_id, "tags.mlops.trial_stopped_by"] == "pruner"
    assert mlops.get_run(result.run_id).info.metrics["trials_pruned"] == len(pruned)


def test_the_time_budget_ends_the_search(mlops_home, cancer):
    result = mlops.automl(cancer, target="target", time_budget=6, experiment="automl")
    assert result.elapsed < 6 * 1.5  # loose: the machine is shared
    assert result.trials >= 2
    children = _children(result.run_id)
    assert len(children) == result.trials
    assert set(children["status"]) <= {"finished", "failed"}


def test_trials_run_in_parallel_on_a_dask_local_cluster(mlops_home):
    X, y = load_iris(return_X_y=True, as_frame=True)
    result = mlops.automl(X, y, time_budget=120, cv=3, max_trials=6, parallel=2,
                          families=["linear", "knn", "random_forest"], experiment="automl")
    assert result.trials == 6 and result.best_score > 0.9
    children = _children(result.run_id)
    assert len(children) == 6 and set(children["status"]) == {"finished"}
    assert mlops.get_run(result.run_id).info.params["families"] == "linear,knn,random_forest"
    assert set(result.best_model.predict(X)) <= {0, 1, 2}


def test_a_failing_trial_is_recorded_and_the_search_goes_on(mlops_home, cancer):
    # 30 rows, 3 folds: a training fold has 20 rows, and the seeded sampler soon asks
    # k-NN for more neighbours than that, which scikit-learn refuses
    data = pd.concat([cancer[cancer["target"] == 0].head(15),
                      cancer[cancer["target"] == 1].head(15)])
    result = mlops.automl(data, target="target", time_budget=120, cv=3, max_trials=8,
                          families=["knn", "linear"], experiment="automl", seed=0)
    board = result.leaderboard
    failed = board[board["state"] == "failed"]
    assert len(failed) >= 1 and (failed["family"] == "knn").all()
    assert failed["error"].str.contains("n_neighbors").all()
    assert board.iloc[0]["state"] == "complete" and result.trials == 8
    for run_id in failed["run_id"]:
        info = mlops.get_run(run_id).info
        assert info.status == "failed" and "n_neighbors" in info.error
        assert info.tags["mlops.trial_state"] == "failed"


@pytest.fixture
def shell(mlops_home, cancer):
    sh = InteractiveShell.instance()  # one per process: leave its namespace as it was
    sh.run_cell("%load_ext mlops_jlab", store_history=False)
    before = set(sh.user_ns)
    sh.user_ns["cancer"] = cancer
    yield sh
    for name in set(sh.user_ns) - before:  # what the cells set (frame, x, the results)
        del sh.user_ns[name]


def test_the_magic_binds_and_shows_the_result(shell):
    line = ("--target target --time-budget 60 --task classification --metric roc_auc "
            "--cv 3 --max-trials 3 --families linear,knn --register magic-model "
            "--experiment magic --out found")
    cell = shell.run_cell(f"%%mlops_automl {line}\nframe = cancer.copy()\nframe\n",
                          store_history=False)
    assert cell.success, cell.error_in_exec
    found = shell.user_ns["found"]
    assert found.metric == "roc_auc" and found.trials == 3 and found.best_score > 0.9
    assert found.model_version.name == "magic-model"
    assert mlops.get_run(found.run_id).info.experiment_name == "magic"
    assert "frame" in shell.user_ns  # the cell ran in the notebook's namespace
    html = found._repr_html_()
    assert "Optimization history" in html and "<table" in html


@pytest.mark.parametrize(("line", "body", "message"), [
    ("--target nope --time-budget 5", "cancer", "no column 'nope'"),
    ("--target target --time-budget 5", "x = 1", "must end with the training data"),
    ("--target target --time-budget 0", "cancer", "time_budget must be a positive"),
    ("--target target --metric rmse", "cancer", "regression metric"),
    ("--time-budget 5", "cancer", "required: --target"),
])
def test_the_magic_refuses_bad_input(shell, line, body, message):
    with pytest.raises(UsageError, match=message):
        shell.run_cell_magic("mlops_automl", line, body)


def test_bad_inputs_are_refused_with_a_clear_message(mlops_home, cancer):
    X, y = cancer.drop(columns="target"), cancer["target"]
    iris_X, iris_y = load_iris(return_X_y=True, as_frame=True)
    cases = [
        (lambda: mlops.automl(X, y, metric="rmse"), "regression metric"),
        (lambda: mlops.automl(X, y, metric="nope"), "unknown metric"),
        (lambda: mlops.automl(X, y, task="ranking"), "unknown task"),
        (lambda: mlops.automl(cancer, target="missing"), "no column 'missing'"),
        (lambda: mlops.automl(X), "target is missing"),
        (lambda: mlops.automl(X.iloc[:0], y.iloc[:0]), "empty"),
        (lambda: mlops.automl(X, pd.Series(np.ones(len(X), int)), task="classification"),
         "single class"),
        (lambda: mlops.automl(X, y, time_budget=0), "time_budget"),
        (lambda: mlops.automl(X, y, time_budget=-5), "time_budget"),
        (lambda: mlops.automl(X, y, cv=1), "cv must be"),
        (lambda: mlops.automl(X, y, families=["xgboost"]), "unknown model family"),
        (lambda: mlops.automl(iris_X, iris_y, metric="f1"), "binary target"),
        (lambda: mlops.automl(X, y, register="bad name!"), "name"),
        (lambda: mlops.automl(X, y.iloc[:10]), "rows but y has"),
    ]
    for call, message in cases:
        with pytest.raises(mlops.InvalidInput, match=message):
            call()
    assert mlops.search_runs().empty  # nothing was started for bad input


def test_task_inference_and_metric_direction():
    assert infer_task(pd.Series([0, 1, 1, 0])) == "classification"
    assert infer_task(pd.Series(["a", "b"])) == "classification"
    assert infer_task(pd.Series(np.linspace(0, 1, 50))) == "regression"
    assert infer_task(pd.Series(np.arange(100))) == "regression"
    assert resolve_metric("regression", "mae").direction == "minimize"
    assert resolve_metric("classification", None, [0, 1]).name == "accuracy"
    assert resolve_metric("classification", "roc_auc", [0, 1, 2]).scorer == "roc_auc_ovr"
