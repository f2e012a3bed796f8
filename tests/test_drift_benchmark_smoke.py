"""The drift benchmark runs end to end on our side at tiny sizes (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_drift_benchmark_quick_runs_on_our_side():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "drift.py"), "--quick",
                          "--skip-evidently", "--rows", "5000", "--stream-rows", "20000",
                          "--chunk-rows", "5000"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "| scenario | Evidently | mlops_jlab | ratio | target | met? |" in out.stdout
    assert "in memory (exact)" in out.stdout and "stream 20,000 x 25" in out.stdout
    results = json.loads((ROOT / "benchmarks" / "results" / "drift-quick.json").read_text())
    assert results["evidently"] is None
    assert results["ours"]["exact"]["detection"]["ok"]
    assert results["ours"]["streamed"]["same_decisions_as_exact"]
    assert results["stream"]["detection"]["ok"]
