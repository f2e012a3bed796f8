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
