"""Papermill executions recorded as runs: plain ``papermill``, ``mlops-jlab run`` and
``mlops.run_notebook``; the kernel's module-level logging and nested runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

import mlops_jlab as mlops
from mlops_jlab.automation.parameters import declared_experiment, default_parameters
from mlops_jlab.tracking.snapshot import notebook_snapshot
from tests.helpers.notebooks import write_notebook

TRACKED = ("import mlops_jlab as mlops\n"
           "mlops.log_metric('score', alpha * 2)\n"
           "mlops.log_output('doubled', alpha * 2)")
NESTED = "%load_ext mlops_jlab"
TRAIN = "%%mlops_train --no-model --name inner\nsteps = 3"
ENDS = "mlops.end_run()  # an MLflow habit: papermill's process still ends the run"
FAILS = "if alpha > 1:\n    raise ValueError('alpha too large')"


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "nb" / "train.ipynb",
                          "alpha = 0.5\nmodel = 'rf'\nlayers = [1, 2]\nseed = int('3')",
                          TRACKED, NESTED, TRAIN, ENDS, FAILS)


def _papermill(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papermill", *args, "--no-progress-bar"],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=180)


def _only_run(name: str):
    runs = mlops.search_runs(filter=f"attributes.name = '{name}'")
    assert len(runs) == 1, runs
    return mlops.get_run(runs.run_id[0])


def test_plain_papermill_records_the_notebook_as_a_run(mlops_home, notebook, tmp_path):
    out = tmp_path / "out.ipynb"
    done = _papermill(str(notebook), str(out), "-p", "alpha", "0.1",
                      "--cwd", str(notebook.parent))
    assert done.returncode == 0, done.stderr
    run = _only_run("train")
    info = run.info
    assert info.status == "finished" and info.parent_run_id is None
    # defaults of the parameters cell (literals evaluated, the rest as text) + injected
    assert info.params == {"alpha": "0.1", "model": "rf", "layers": "[1, 2]",
                           "seed": "int('3')"}
    assert info.metrics == {"score": pytest.approx(0.2)}
    assert info.tags["mlops.runner"] == "papermill"
    assert json.loads(info.tags["mlops.output.doubled"]) == pytest.approx(0.2)
    assert info.source["kind"] == "papermill"
    assert info.source["papermill_parameters"] == {"alpha": 0.1}
    assert info.source["notebook_abspath"] == str(notebook)
    paths = {a["path"] for a in info.artifacts}
    assert {"source/train.ipynb", "output/out.ipynb"} <= paths
    # the %%mlops_train cell nested under the notebook's run
    inner = _only_run("inner")
    assert inner.info.parent_run_id == run.id and inner.info.params["steps"] == "3"
    # the executed notebook is stored and readable like the source copy
    snap = notebook_snapshot(mlops.backend().tracking, run.id, None, "output/out.ipynb")
    executed = nbformat.reads(snap.data.decode(), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert all(c.get("execution_count") for c in executed.cells if c.cell_type == "code")


def test_a_failing_cell_fails_the_run_with_the_cell_and_traceback(mlops_home, notebook,
                                                                 tmp_path):
    done = _papermill(str(notebook), str(tmp_path / "bad.ipynb"), "-p", "alpha", "2")
    assert done.returncode != 0
    info = _only_run("train").info
    assert info.status == "failed"
    assert "raised ValueError: alpha too large" in info.error
    assert "raise ValueError('alpha too large')" in info.error  # the cell's source
    assert "Traceback" in info.error and "\x1b[" not in info.error  # no terminal colours
    assert info.tags["mlops.failed_cell"] == "6"  # 0-based, injected cell included
    assert "output/bad.ipynb" in {a["path"] for a in info.artifacts}
    assert info.metrics["score"] == pytest.approx(4.0)  # logged before the failure


def test_notebooks_without_mlops_and_opt_out_are_not_recorded(mlops_home, tmp_path,
                                                             notebook):
    plain = write_notebook(tmp_path / "plain.ipynb", "x = 1", "y = x + 1")
    assert _papermill(str(plain), str(tmp_path / "p.ipynb")).returncode == 0
    off = _papermill(str(notebook), str(tmp_path / "o.ipynb"),
                     env={"MLOPS_JLAB_PAPERMILL": "off"})
    assert off.returncode == 0, off.stderr
    runs = mlops.search_runs()
    # opted out: the notebook logs on its own, as a kernel outside papermill would
    assert "plain" not in set(runs["name"]) and "train" not in set(runs["name"])


def test_cli_run_with_parameters_experiment_and_result(mlops_home, notebook, tmp_path):
    result = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "mlops_jlab.cli", "run", str(notebook), "-p", "alpha", "0.25",
         "-p", "model", "gb", "--experiment", "batch", "--result", str(result), "-q"],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "finished" in done.stdout and "score=0.5" in done.stdout
    report = json.loads(result.read_text())
    assert report["status"] == "finished" and report["parameters"] == {"alpha": 0.25,
                                                                        "model": "gb"}
    assert report["outputs"] == {"doubled": 0.5}
    run = mlops.get_run(report["run_id"])
    assert run.info.experiment_name == "batch" and run.params["model"] == "gb"
    assert os.path.isfile(report["output_path"])


def test_run_notebook_reports_failure_without_raising(mlops_home, notebook):
    result = mlops.run_notebook(notebook, {"alpha": 3}, experiment="api")
    assert not result.ok and result.status == "failed"
    assert "alpha too large" in result.error and result.run_id
    assert mlops.get_run(result.run_id).status == "failed"
    with pytest.raises(mlops.InvalidInput, match="no such notebook"):
        mlops.run_notebook(notebook.parent / "missing.ipynb")


def test_parameters_cell_and_declared_experiment_are_read_statically():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("a = 1\nb: float = 2.5\nc = 'x'\nd = a + 1\nimport os")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("mlops.set_experiment(exp_name)")]
    assert default_parameters(nb) == {"a": 1, "b": 2.5, "c": "x", "d": "a + 1"}
    assert declared_experiment(nb, {"exp_name": "from-param"}) == "from-param"
    nb.cells[1] = nbformat.v4.new_code_cell('mlops.set_experiment("literal")')
    assert declared_experiment(nb) == "literal"
    nb.cells[1] = nbformat.v4.new_code_cell("%%mlops_train --name a --experiment $exp\nx=1")
    assert declared_experiment(nb, {"exp": "magic-param"}) == "magic-param"
    nb.cells[1] = nbformat.v4.new_code_cell("%%mlops_train --experiment iris\nx=1")
    assert declared_experiment(nb) == "iris"
    broken = nbformat.v4.new_code_cell("a = (")
    broken.metadata["tags"] = ["parameters"]
    nb.cells = [broken]
    assert default_parameters(nb) == {}


def test_log_output_checks_its_name_and_value(mlops_home):
    with pytest.raises(mlops.InvalidInput, match="identifier"):
        mlops.log_output("not a name", 1)
    with pytest.raises(mlops.InvalidInput, match="JSON"):
        mlops.log_output("x", object())
    mlops.log_output("rows", 3)
    assert mlops.active_run().tags["mlops.output.rows"] == "3"
    mlops.end_run()
