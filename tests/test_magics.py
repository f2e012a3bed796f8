"""``%%mlops_train`` through a real IPython shell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import mlops_jlab as mlops

SETUP = """
from sklearn.datasets import load_iris, load_diabetes
from sklearn.model_selection import train_test_split
X, y = load_iris(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
"""


@pytest.fixture
def shell(mlops_home):
    sh = InteractiveShell.instance()
    sh.run_cell("%load_ext mlops_jlab", store_history=False)
    sh.run_cell(SETUP, store_history=False)
    yield sh
    sh.user_ns.pop("clf", None)


def _cell(sh, source):
    result = sh.run_cell(source, store_history=False)
    return result


def _only_run(name=None):
    df = mlops.search_runs(None, filter=f"attributes.name = '{name}'" if name else None)
    assert len(df) == 1, df
    return mlops.get_run(df["run_id"][0]).info


def test_train_cell_records_params_metrics_model_and_source(shell):
    line = "--experiment magic --name rf --eval X_test,y_test --tag team=risk"
    result = _cell(shell, f"""%%mlops_train {line}
from sklearn.ensemble import RandomForestClassifier
n_estimators = 30
for i in range(3):
    pass
clf = RandomForestClassifier(n_estimators=n_estimators, max_depth=4, random_state=0)
clf.fit(X_train, y_train)
import mlops_jlab as mlops
mlops.log_metric("custom", 42)
""")
    assert result.success, result.error_in_exec
    info = _only_run("rf")
    assert info.status == "finished" and info.experiment_name == "magic"
    assert info.params["estimator"] == "RandomForestClassifier"
    assert info.params["n_estimators"] == "30" and info.params["max_depth"] == "4"
    assert "i" not in info.params, "loop variables are not settings"
    assert info.tags == {"team": "risk"}
    for key in ("accuracy", "f1", "precision", "recall", "roc_auc", "training_duration_s"):
        assert key in info.metrics, key
    assert 0.8 < info.metrics["accuracy"] <= 1.0
    assert info.metrics["custom"] == 42
    assert "clf.fit(X_train, y_train)" in info.source["cell_source"]
    assert info.source["magic"] == "mlops_train"
    paths = {a["path"] for a in info.artifacts}
    assert paths == {"model/model.skops", "model/manifest.json"}
    manifest = mlops.get_run(info.id).artifact_bytes("model/manifest.json")
    import json

    manifest = json.loads(manifest)
    assert manifest["serializer"] == "skops"
    assert [c["name"] for c in manifest["signature"]["inputs"]] == list(
        shell.user_ns["X_train"].columns)
    assert {d["role"]: d["name"] for d in info.datasets} == {"train": "X_train",
                                                             "test": "X_test"}


def test_regression_metrics_and_pipeline_params(shell):
    result = _cell(shell, """%%mlops_train --name ridge --eval Xd_test,yd_test
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import Ridge
Xd, yd = load_diabetes(return_X_y=True, as_frame=True)
Xd_train, Xd_test, yd_train, yd_test = train_test_split(Xd, yd, random_state=0)
pipe = make_pipeline(StandardScaler(), Ridge(alpha=0.3)).fit(Xd_train, yd_train)
""")
    assert result.success, result.error_in_exec
    info = _only_run("ridge")
    assert info.params["estimator"] == "Pipeline"
    assert info.params["ridge__alpha"] == "0.3"
    assert {"rmse", "mae", "r2"} <= set(info.metrics)
    assert info.metrics["rmse"] > 0


def test_model_option_picks_the_stored_model(shell):
    result = _cell(shell, """%%mlops_train --name two --model first --eval X_test,y_test
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
first = LogisticRegression(max_iter=500).fit(X_train, y_train)
second = DecisionTreeClassifier(max_depth=2).fit(X_train, y_train)
""")
    assert result.success, result.error_in_exec
    info = _only_run("two")
    assert info.params["estimator"] == "LogisticRegression"
    assert info.params["second.max_depth"] == "2"


def test_an_empty_cell_is_still_a_run(shell):
    result = _cell(shell, "%%mlops_train --name nothing\nx = 1\n")
    assert result.success
    info = _only_run("nothing")
    assert info.status == "finished" and info.params == {"x": "1"}
    assert not info.artifacts


def test_exception_in_the_cell_fails_the_run_and_re_raises(shell):
    result = _cell(shell, "%%mlops_train --name broken\nraise ValueError('bad data')\n")
    assert isinstance(result.error_in_exec, ValueError)
    info = _only_run("broken")
    assert info.status == "failed" and "bad data" in info.error


@pytest.mark.parametrize("line,fragment", [
    ("--eval X_test", "expected two variable names"),
    ("--eval X_test,nope", "no variable 'nope'"),
    ("--model ghost", "no variable 'ghost'"),
    ("--tag novalue", "expected KEY=VALUE"),
    ("--bogus", "unrecognized arguments"),
])
def test_bad_arguments_raise_usage_error_before_running(shell, line, fragment):
    magic = shell.find_cell_magic("mlops_train")
    with pytest.raises(UsageError, match=fragment):
        magic(line, "ran = True\n")
    assert "ran" not in shell.user_ns
    assert mlops.search_runs(None).empty


def test_eval_without_a_model_is_a_usage_error_and_the_run_fails(shell):
    magic = shell.find_cell_magic("mlops_train")
    with pytest.raises(UsageError, match="fitted no model"):
        magic("--name nomodel --eval X_test,y_test", "z = 2\n")
    assert _only_run("nomodel").status == "failed"


def test_last_expression_is_the_cell_value(shell):
    magic = shell.find_cell_magic("mlops_train")
    assert magic("--name value", "a = 20\na + 1\n") == 21


def test_register_option_registers_the_stored_model(shell):
    result = _cell(shell, """%%mlops_train --name reg --eval X_test,y_test --register iris-magic
from sklearn.linear_model import LogisticRegression
clf = LogisticRegression(max_iter=500).fit(X_train, y_train)
""")
    assert result.success, result.error_in_exec
    version = mlops.get_model_version("iris-magic", "latest")
    assert version.version == 1 and version.run_id == _only_run("reg").id
    assert version.metrics["accuracy"] > 0.8
    magic = shell.find_cell_magic("mlops_train")
    with pytest.raises(UsageError, match="not allowed"):
        magic("--register ../bad", "y = 1\n")
    with pytest.raises(UsageError, match="no model to register"):
        magic("--name none --register iris-magic", "y = 1\n")


def test_a_trailing_semicolon_hides_the_value(shell):
    magic = shell.find_cell_magic("mlops_train")
    assert magic("--name quiet", "a = 20\na + 1;\n") is None
    assert shell.user_ns["a"] == 20


def test_mlops_deploy_magic(shell):
    from mlops_jlab.client import serving as api_serving

    result = _cell(shell, """%%mlops_train --name served --register iris-served
from sklearn.linear_model import LogisticRegression
clf = LogisticRegression(max_iter=500).fit(X_train, y_train)
""")
    assert result.success, result.error_in_exec
    magic = shell.find_line_magic("mlops_deploy")
    try:
        handle = magic("iris-served@latest --name iris-served --timeout 60")
        assert handle.token and handle.predict(shell.user_ns["X_test"].head(2))["predictions"]
        with pytest.raises(UsageError, match="@production"):
            magic("iris-served/1 --env production")
        with pytest.raises(UsageError, match="VERSION:PERCENT"):
            magic("iris-served --canary 2")
        with pytest.raises(UsageError, match="needs MODEL"):
            magic("--replicas 2")
        magic("--name iris-served --stop")
        assert mlops.get_deployment("iris-served").info.status == "stopped"
    finally:
        if api_serving._embedded is not None:
            api_serving._embedded.stop()
            api_serving._embedded = None
