"""The Python API (``import mlops_jlab as mlops``), over the local backend and over the
team-mode HttpBackend (a real Jupyter server)."""

from __future__ import annotations

import pandas as pd
import pytest

import mlops_jlab as mlops
from mlops_jlab.client import api

pytestmark = pytest.mark.both_backends


def test_start_run_context_manager_records_everything(mlops_home, tmp_path):
    mlops.set_experiment("api")
    with mlops.start_run(name="ctx", params={"alpha": 0.5}, tags={"team": "x"}) as run:
        run.log_param("depth", 3)
        run.log_metric("loss", 0.9)
        run.log_metric("loss", 0.5)
        run.log_metrics({"acc": 0.7, "f1": 0.6}, step=10)
        run.set_tag("stage", "dev")
        run.log_dataset(pd.DataFrame({"a": [1, 2, 3]}), name="tiny")
        run.log_text("hello", "notes/readme.txt")
        assert mlops.active_run() is run
    info = run.info
    assert info.status == "finished" and info.user == mlops.backend().user
    assert info.params == {"alpha": "0.5", "depth": "3"}
    assert info.metrics == {"loss": 0.5, "acc": 0.7, "f1": 0.6}
    assert info.tags == {"team": "x", "stage": "dev"}
    assert info.environment["packages"]["pandas"] == pd.__version__
    assert info.source["kind"] in ("script", "interactive")
    assert info.datasets[0]["name"] == "tiny" and info.datasets[0]["rows"] == 3
    assert run.artifact_bytes("notes/readme.txt") == b"hello"
    history = run.metric_history("loss")
    assert list(history.columns) == ["step", "value", "timestamp"]
    assert history["step"].tolist() == [0, 1] and history["value"].tolist() == [0.9, 0.5]
    assert str(history["timestamp"].dtype).startswith("datetime64")
    assert mlops.active_run() is None


def test_failure_inside_marks_the_run_failed_with_traceback(mlops_home):
    with pytest.raises(ZeroDivisionError), mlops.start_run(name="boom") as run:
        run.log_metric("x", 1)
        1 / 0  # noqa: B018
    info = mlops.get_run(run.id).info
    assert info.status == "failed"
    assert "ZeroDivisionError" in info.error and "Traceback" in info.error
    assert info.metrics == {"x": 1.0}, "points logged before the failure are kept"


def test_nested_runs_become_children(mlops_home):
    with mlops.start_run(name="parent") as parent, mlops.start_run(name="child") as child:
        pass
    assert child.info.parent_run_id == parent.id


def test_module_level_logging_starts_a_run_when_none_is_active(mlops_home):
    mlops.set_experiment("auto")
    mlops.log_param("k", "v")
    mlops.log_metric("m", 1.5)
    run = mlops.active_run()
    assert run is not None and run.params == {"k": "v"}
    assert run.metrics == {"m": 1.5}
    mlops.end_run()
    assert mlops.active_run() is None
    assert run.status == "finished"
    with pytest.raises(mlops.InvalidInput):
        mlops.end_run()


def test_buffered_metrics_are_visible_to_any_read(mlops_home):
    b = mlops.backend()
    with mlops.start_run(name="buf") as run:
        for i in range(1000):
            run.log_metric("loss", 1 / (i + 1))
        assert len(b.metrics) > 0, "log_metric must not write through"
        df = mlops.search_runs(filter="metrics.loss < 0.01")
        assert df["run_id"].tolist() == [run.id]
        assert len(run.metric_history("loss")) == 1000


def test_bad_input_raises_typed_errors(mlops_home):
    with mlops.start_run() as run:
        with pytest.raises(mlops.InvalidInput, match="must be a number"):
            run.log_metric("acc", "high")
        with pytest.raises(mlops.InvalidInput, match="non-empty"):
            run.log_metric("", 1.0)
        with pytest.raises(mlops.Conflict):
            run.log_param("p", 1)
            run.log_param("p", 2)
    with pytest.raises(mlops.NotFound):
        mlops.get_run("f" * 32)
    with pytest.raises(mlops.FilterError):
        mlops.search_runs(filter="metrics.acc >> 1")


def test_search_runs_dataframe_layout(mlops_home):
    mlops.set_experiment("frame")
    for i, model in enumerate(["rf", "lr", "rf"]):
        with mlops.start_run(name=f"r{i}", params={"model": model}, tags={"i": i}) as run:
            run.log_metric("acc", 0.5 + i / 10)
    df = mlops.search_runs(filter="params.model = 'rf'", order_by=["metrics.acc DESC"])
    assert df["name"].tolist() == ["r2", "r0"]
    assert {"run_id", "status", "start_time", "end_time", "duration", "params.model",
            "metrics.acc", "tags.i"} <= set(df.columns)
    assert str(df["start_time"].dtype).startswith("datetime64")
    assert df["metrics.acc"].tolist() == [0.7, 0.5]
    assert mlops.search_runs(limit=2).shape[0] == 2
    assert mlops.search_runs("frame", filter="params.model = 'x'").empty


def test_search_runs_follows_pages_beyond_one_thousand(mlops_home):
    tracking = mlops.backend().tracking
    exp = "big"
    for _ in range(1100):
        tracking.create_run("alice", exp)
    assert len(mlops.search_runs(exp, limit=1050)) == 1050


def test_metrics_survive_interpreter_exit(tmp_path):
    import subprocess
    import sys

    home = tmp_path / "h"
    code = ("import mlops_jlab as mlops\n"
            "run = mlops.start_run(name='exit')\n"
            "[run.log_metric('x', i) for i in range(5000)]\n"
            "print(run.id)\n")
    out = subprocess.run([sys.executable, "-c", code], env={"MLOPS_JLAB_HOME": str(home),
                         "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True)
    run_id = out.stdout.strip()
    # explicit store: earlier tests may leave MLOPS_JLAB_DB_URL pointing elsewhere
    mlops.configure(home=str(home), db_url=f"sqlite:///{home / 'mlops.db'}",
                    artifacts=str(home / "artifacts"))
    try:
        run = mlops.get_run(run_id)
        assert len(run.metric_history("x")) == 5000
        assert run.status == "finished"
    finally:
        api._state.backend = None


def test_text_dict_and_figure_artifacts(mlops_home):
    import json

    import plotly.graph_objects as go

    with mlops.start_run(name="files") as run:
        run.log_dict({"a": 1, "nested": {"b": [1, 2]}}, "config.json")
        run.log_figure(go.Figure(go.Scatter(x=[0, 1], y=[1, 0])), "plots/curve.json")
    assert json.loads(run.artifact_bytes("config.json")) == {"a": 1, "nested": {"b": [1, 2]}}
    figure = json.loads(run.artifact_bytes("plots/curve.json"))
    assert figure["data"][0]["type"] == "scatter"
    assert [a["path"] for a in run.info.artifacts] == ["config.json", "plots/curve.json"]
