"""Sweeps: one child run per combination on a Dask LocalCluster; failures reported."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import mlops_jlab as mlops
from mlops_jlab.automation.grid import combinations, parse_value
from mlops_jlab.automation.sweep import SweepResult
from tests.helpers.notebooks import write_notebook

BODY = ("import mlops_jlab as mlops\n"
        "if alpha == 1 and depth == 5:\n"
        "    raise RuntimeError('diverged')\n"
        "mlops.log_metric('score', 1 - abs(alpha - 0.1) - depth / 100)\n"
        "mlops.log_metric('depth_seen', depth)")


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "sweep.ipynb", "alpha = 0.5\ndepth = 3", BODY)


def test_sweep_of_eight_on_two_local_workers(mlops_home, notebook):
    grid = {"alpha": [0.01, 0.1, 1, 2], "depth": [3, 5]}
    result = mlops.sweep(notebook, grid, parallel=2, experiment="sweeps", progress=False)
    assert result.workers == 2 and len(result.children) == 8
    children = mlops.search_runs("sweeps", filter=(
        f"attributes.parent_run_id = '{result.parent_run_id}'"))
    assert len(children) == 8
    by_params = {(float(r["params.alpha"]), int(r["params.depth"])): r
                 for _, r in children.iterrows()}
    assert set(by_params) == {(a, d) for a in grid["alpha"] for d in grid["depth"]}
    for (alpha, depth), row in by_params.items():
        if (alpha, depth) == (1, 5):
            assert row["status"] == "failed"
            continue
        assert row["status"] == "finished"
        assert row["metrics.score"] == pytest.approx(1 - abs(alpha - 0.1) - depth / 100)
        assert row["metrics.depth_seen"] == depth
        assert row["tags.mlops.sweep"] == result.parent_run_id
    # the failed child is reported, with its error, and did not stop the others
    failed = result.failed
    assert len(failed) == 1 and "diverged" in failed["error"].iloc[0]
    assert result.metric == "depth_seen" or result.metric == "score"
    best = SweepResult(**{**result.__dict__, "metric": "score"}).best
    assert (best["params.alpha"], best["params.depth"]) == (0.1, 3)
    parent = mlops.get_run(result.parent_run_id).info
    assert parent.status == "finished" and parent.tags["mlops.sweep_failed"] == "1"
    assert parent.tags["mlops.runner"] == "sweep"
    assert "1 of 8 combination(s) failed" in parent.error
    assert json.loads(parent.params["grid"]) == grid
    paths = {a["path"] for a in parent.artifacts}
    assert {"sweep/summary.csv", "sweep/summary.json", "source/sweep.ipynb"} <= paths
    figure = json.loads(mlops.get_run(parent.id).artifact_bytes("sweep/summary.json"))
    assert figure["data"][0]["type"] == "heatmap"  # two swept params: the grid
    table = result.table()
    assert list(table.columns[:2]) == ["alpha", "depth"] and len(table) == 8


def test_cli_sweep_on_a_running_dask_scheduler(mlops_home, notebook, tmp_path):
    """``--scheduler``: the same sweep on an existing cluster (here a local one)."""
    from distributed import LocalCluster

    html = tmp_path / "chart.html"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster:
        done = subprocess.run(
            [sys.executable, "-m", "mlops_jlab.cli", "sweep", str(notebook),
             "-p", "alpha", "1", "0.1", "-p", "depth", "5", "--scheduler",
             cluster.scheduler_address, "--metric", "score", "--html", str(html), "-q"],
            capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr  # one combination failed
    assert "2 combination(s), 1 finished, 1 failed" in done.stdout
    assert "on 1 worker(s)" in done.stdout
    assert "best score" in done.stdout and "plotly" in html.read_text()


def test_grid_validation_and_values():
    assert combinations({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"},
                                                       {"a": 2, "b": "x"}]
    for bad, message in (({}, "map parameter names"), ({"a": []}, "empty"),
                         ({"a": "xy"}, "must be a list"), ({"1a": [1]}, "not a parameter"),
                         ({"a": list(range(200)), "b": list(range(200))}, "at most")):
        with pytest.raises(mlops.InvalidInput, match=message):
            combinations(bad)
    assert [parse_value(v) for v in ("3", "0.5", "true", "None", "rf")] == [3, 0.5, True,
                                                                           None, "rf"]


def test_sweep_checks_its_arguments(mlops_home, notebook):
    with pytest.raises(mlops.InvalidInput, match="parallel"):
        mlops.sweep(notebook, {"alpha": [1]}, parallel=0)
    with pytest.raises(mlops.InvalidInput, match="goal"):
        mlops.sweep(notebook, {"alpha": [1]}, goal="up")
    with pytest.raises(mlops.InvalidInput, match="no such notebook"):
        mlops.sweep(notebook.with_name("nope.ipynb"), {"alpha": [1]})


@pytest.mark.parametrize("keys,trace", [(["a"], "scatter"), (["a", "b", "c"], "parcoords")])
def test_sweep_figure_shapes(keys, trace):
    rows = []
    for i in range(4):
        row = {"index": i, "run_id": f"r{i}", "status": "finished" if i else "failed",
               "seconds": 1.0, "error": None if i else "boom", "metrics.acc": i / 4 or None}
        row.update({f"params.{k}": i * (j + 1) for j, k in enumerate(keys)})
        rows.append(row)
    result = SweepResult(parent_run_id="p" * 32, notebook="/x/nb.ipynb",
                         grid={k: [0, 1, 2, 3] for k in keys}, children=pd.DataFrame(rows),
                         metric="acc", goal="max", seconds=3.0, workers=2)
    fig = result.figure()
    assert fig.data[0].type == trace
    assert "1 failed" in fig.layout.title.text and "best acc" in fig.layout.title.text
    assert "best acc = 0.75" in result.summary()
