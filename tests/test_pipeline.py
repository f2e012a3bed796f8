"""Pipelines: YAML of notebooks; outputs feed parameters; a failed step stops its
dependents only; running again resumes at the failed step; the example pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mlops_jlab as mlops
from mlops_jlab.automation.pipeline import PipelineError, load_pipeline
from tests.helpers.notebooks import write_notebook

EXAMPLE = Path(__file__).parent.parent / "examples" / "pipeline" / "pipeline.yaml"

PIPELINE = """
name: demo
experiment: pipes
parameters: {base: 2, fail: true}
steps:
  - name: produce
    notebook: produce.ipynb
    parameters: {base: "${parameters.base}"}
  - name: check
    notebook: consume.ipynb
    parameters: {value: "${steps.produce.outputs.value}", fail: "${parameters.fail}",
                 label: "from ${steps.produce.run_id}"}
  - name: report
    notebook: consume.ipynb
    depends_on: [check]
    parameters: {value: 1, fail: false}
  - name: side
    notebook: consume.ipynb
    parameters: {value: "${steps.produce.outputs.value}", fail: false}
"""


@pytest.fixture
def pipeline_file(tmp_path):
    write_notebook(tmp_path / "produce.ipynb", "base = 1",
                   "import mlops_jlab as mlops\nmlops.log_output('value', base * 10)")
    write_notebook(tmp_path / "consume.ipynb", "value = 0\nfail = False\nlabel = ''",
                   "import mlops_jlab as mlops\nmlops.log_metric('value', value)",
                   "if fail:\n    raise RuntimeError(f'check failed on {value}')")
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE)
    return path


def test_failed_step_stops_its_dependents_and_a_rerun_resumes(mlops_home, pipeline_file):
    first = mlops.run_pipeline(pipeline_file, progress=False)
    steps = first.steps.set_index("step")
    assert steps.status.to_dict() == {"produce": "finished", "check": "failed",
                                      "report": "skipped", "side": "finished"}
    assert "check failed on 20" in steps.loc["check", "error"]
    assert "did not finish" in steps.loc["report", "error"]
    parent = mlops.get_run(first.run_id).info
    assert parent.status == "failed" and "step check failed" in parent.error
    assert parent.tags["mlops.pipeline"] == "demo" and parent.experiment_name == "pipes"
    children = mlops.search_runs("pipes", filter=f"attributes.parent_run_id = '{first.run_id}'")
    assert sorted(children["tags.mlops.pipeline_step"]) == ["check", "produce", "side"]
    check = children[children["tags.mlops.pipeline_step"] == "check"].iloc[0]
    # outputs of one step became parameters of the next (types kept; text interpolated)
    assert check["params.value"] == "20" and check["metrics.value"] == 20
    produce_id = steps.loc["produce", "run_id"]
    assert check["params.label"] == f"from {produce_id}"

    second = mlops.run_pipeline(pipeline_file, {"fail": False}, progress=False)
    steps2 = second.steps.set_index("step")
    assert second.resumed_from == first.run_id and second.ok
    assert steps2.status.to_dict() == {"produce": "reused", "check": "finished",
                                       "report": "finished", "side": "reused"}
    assert steps2.loc["produce", "run_id"] == produce_id
    record = json.loads(mlops.get_run(second.run_id).artifact_bytes("pipeline/steps.json"))
    assert record["steps"]["check"]["parameters"]["value"] == 20

    third = mlops.run_pipeline(pipeline_file, {"fail": False}, progress=False)
    assert third.resumed_from is None  # the last run finished: everything runs again
    assert set(third.steps.status) == {"finished"}


@pytest.mark.parametrize("text,message", [
    ("steps: []", "non-empty list"),
    ("steps: [{name: a}]", "'notebook' must be"),
    ("steps: [{name: a, notebook: missing.ipynb}]", "no such notebook"),
    ("steps: [{name: a, notebook: produce.ipynb, extra: 1}]", "unknown key"),
    ("colour: red\nsteps: [{name: a, notebook: produce.ipynb}]", "unknown key"),
    ("steps: [{name: a, notebook: produce.ipynb}, {name: a, notebook: produce.ipynb}]",
     "two steps"),
    ("steps: [{name: a, notebook: produce.ipynb, parameters: {x: '${steps.b.run_id}'}}]",
     "unknown step 'b'"),
    ("steps: [{name: a, notebook: produce.ipynb, parameters: {x: '${parameters.y}'}}]",
     "names no pipeline parameter"),
    ("steps: [{name: a, notebook: produce.ipynb, parameters: {x: '${steps.a.oops}'}}]",
     "cannot resolve"),
    ("steps:\n - {name: a, notebook: produce.ipynb, depends_on: [b]}\n"
     " - {name: b, notebook: produce.ipynb, depends_on: [a]}", "cycle: a → b → a"),
    ("steps: [", "not valid YAML"),
])
def test_invalid_pipeline_files_are_refused_before_anything_runs(tmp_path, text, message):
    write_notebook(tmp_path / "produce.ipynb", "base = 1", "x = base")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PipelineError, match=message):
        load_pipeline(path)


def test_unknown_override_and_cli_check(tmp_path, pipeline_file):
    with pytest.raises(PipelineError, match="unknown pipeline parameter 'nope'"):
        load_pipeline(pipeline_file, {"nope": 1})
    done = subprocess.run([sys.executable, "-m", "mlops_jlab.cli", "pipeline", "check",
                           str(pipeline_file)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["produce: produce.ipynb",
                                            "check: consume.ipynb (after produce)"]


def test_example_pipeline_trains_validates_and_registers(mlops_home, tmp_path):
    result = tmp_path / "result.json"
    done = subprocess.run([sys.executable, "-m", "mlops_jlab.cli", "pipeline", "run",
                           str(EXAMPLE), "--result", str(result), "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(result.read_text())
    assert report["status"] == "finished"
    assert [s["status"] for s in report["steps"]] == ["finished"] * 3
    (version,) = mlops.list_model_versions("iris-pipeline")
    train = next(s for s in report["steps"] if s["step"] == "train")
    assert version.run_id == train["run_id"]
    lineage = mlops.lineage("iris-pipeline", version.version)
    assert lineage is not None
    validate = mlops.get_run(next(s["run_id"] for s in report["steps"]
                                  if s["step"] == "validate"))
    assert validate.metrics["test_accuracy"] > 0.9
    assert validate.params["model_run"] == train["run_id"]
