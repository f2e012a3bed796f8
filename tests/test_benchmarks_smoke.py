"""The benchmark runner still runs every scenario on our side (tiny sizes, no timing
assertions: machines here are shared and noisy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_benchmarks_run_quick_on_our_side():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                          "--skip-mlflow"], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    results = json.loads((ROOT / "benchmarks" / "results" / "quick.json").read_text())
    rows = {row["scenario"]: row for row in results["rows"]}
    assert set(rows) == {"log_metric", "log_batch", "runs", "search", "rest_runs", "magic",
                         "register", "load_alias", "serve_lr", "serve_lr_2", "serve_rf",
                         "serve_batch", "cold_start", "rolling_update", "crash"}
    for name, row in rows.items():
        ours = row["ours"]
        assert "error" not in ours, (name, ours.get("error"))
        assert ours["value"] > 0, name
        if "predictions_ok" in ours:  # the server's answers equal the model's own
            assert ours["predictions_ok"], name
        check = ours.get("check")
        if check and "stored" in check:
            assert check["stored"] == check["expected"], (name, check)
    assert "| scenario |" in out.stdout


def test_automation_benchmark_runs_quick():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "automation.py"),
                          "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    facts = json.loads((ROOT / "benchmarks" / "results" / "automation-quick.json").read_text())
    assert facts["overhead"]["papermill_s"] > 0 and facts["overhead"]["tracked_s"] > 0
    assert facts["sweep"]["combinations"] == 2 and facts["sweep"]["sweep_2_s"] > 0
    assert "tracking overhead" in out.stdout


def test_automl_benchmark_runs_quick():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "automl.py"), "--quick"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    facts = json.loads((ROOT / "benchmarks" / "results" / "automl-quick.json").read_text())
    assert set(facts["results"]) == {"breast_cancer", "diabetes"}
    for entry in facts["results"].values():
        (split,) = entry["splits"]
        assert split["flaml"] is None  # --quick never builds the FLAML venv
        assert split["ours"]["trials"] >= 1 and split["ours"]["elapsed_s"] > 0
        assert split["ours"]["test_score"] > split["forest"]["test_score"] - 0.2
    assert "| breast_cancer (accuracy, 1 split) |" in out.stdout


def test_federated_benchmark_runs_quick():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "federated.py"),
                          "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    facts = json.loads((ROOT / "benchmarks" / "results" / "federated-quick.json").read_text())
    assert {(r["dataset"], r["model"], r["dp"]) for r in facts["rows"]} == {
        (d, m, dp) for d in ("breast_cancer", "wine") for m in ("logistic", "sgd", "mlp")
        for dp in (False, True)}
    for row in facts["rows"]:
        assert 0 < row["federated"] <= 1 and 0 < row["centralized"] <= 1
        assert abs(row["gap"] - (row["centralized"] - row["federated"])) < 2e-4
    assert "| federated acc |" in out.stdout


def test_explain_benchmark_runs_quick():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "explain.py"), "--quick"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    facts = json.loads((ROOT / "benchmarks" / "results" / "explain-quick.json").read_text())
    assert [r["model"] for r in facts["results"]] == ["rf", "lr"]
    for result in facts["results"]:
        assert result["explain_200_rows_s"] > 0 and result["first_explain_request_ms"] > 0
        assert len(result["latency"]) == 4
        assert all(s["n"] == facts["requests"] for s in result["latency"].values())
    assert "| model | rows/request | explain |" in out.stdout
