"""Every notebook in examples/ runs top to bottom with papermill against a fresh store."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlops_jlab as mlops

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_with_papermill(notebook, mlops_home, tmp_path, monkeypatch):
    import papermill as pm

    out = tmp_path / notebook.name
    monkeypatch.setenv("MLOPS_JLAB_HOME", str(mlops_home))
    pm.execute_notebook(str(notebook), str(out), cwd=str(notebook.parent),
                        kernel_name="python3", progress_bar=False,
                        parameters={"experiment": f"test-{notebook.stem}"})
    if notebook.stem == "quickstart":
        mlops.configure()
        runs = mlops.search_runs("test-quickstart")
        # the notebook's own run (papermill) and the two %%mlops_train runs inside it
        notebook_run = runs.loc[runs.name == "quickstart"].iloc[0]
        assert notebook_run["tags.mlops.runner"] == "papermill"
        assert notebook_run["params.n_estimators"] == "120"
        runs = runs[runs.parent_run_id == notebook_run["run_id"]]
        assert sorted(runs["name"]) == ["gboost", "logreg"]
        assert set(runs["status"]) == {"finished"}
        assert (runs["metrics.accuracy"] > 0.9).all()
        gboost = mlops.get_run(runs.loc[runs.name == "gboost", "run_id"].iloc[0])
        assert len(gboost.metric_history("stage_accuracy")) == 120
        assert gboost.info.source["kind"] == "papermill" or gboost.info.source["cell_source"]
        executed = out.read_text()
        assert "mlops-run-card" in executed and "mlops-compare-table" in executed
    if notebook.stem == "registry":
        mlops.configure()
        versions = {v.version: v for v in mlops.list_model_versions("cancer-classifier")}
        assert sorted(versions) == [1, 2, 3]
        assert mlops.get_model_version("cancer-classifier", "production").version == 1
        assert versions[1].validation["passed"] is True
        assert versions[3].validation["passed"] is False
        assert "production" not in versions[3].aliases
        executed = out.read_text()
        assert "refused:" in executed and "cannot become @production" in executed
    if notebook.stem == "deploy":
        mlops.configure()
        dep = mlops.get_deployment("cancer-demo")
        assert dep.info.status == "stopped"
        kinds = set(dep.events()["kind"])
        assert {"deployed", "ready", "updated", "rolled_back", "stopped"} <= kinds
        executed = out.read_text()
        assert "missing column" in executed and "422" in executed
    if notebook.stem == "monitoring":
        mlops.configure()
        (alert,) = [a for a in mlops.backend().alerts.alerts("cancer-watch")
                    if a["kind"] == "drift_share"]
        retrain = alert["data"]["retrain"]
        assert alert["status"] == "acknowledged" and retrain["status"] == "succeeded"
        candidate = mlops.get_model_version("cancer-monitored", retrain["candidate_version"])
        assert candidate.version == 2 and not candidate.aliases
        assert retrain["validation"]["passed"] is not None
        history = mlops.drift_history("cancer-watch")
        assert history["share"].iloc[0] >= 0.25 and history["share"].iloc[-1] == 0
        perf = mlops.performance("cancer-watch")
        assert perf.loc[0, "rows"] == 171 and perf.loc[0, "accuracy"] > 0.5
