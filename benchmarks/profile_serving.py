"""Where a serving worker spends its time: py-spy on one replica under wrk load.

    pip install py-spy   # not a project dependency
    .venv/bin/python benchmarks/profile_serving.py [lr|rf] [ROWS] [SECONDS]

Deploys the breast_cancer model in a temporary store (1 replica), puts ``wrk -c8`` load
on it with ROWS rows per request (default 1), samples the worker with
``py-spy record --format raw`` (collapsed stacks, written to
``benchmarks/results/pyspy-KIND-ROWS.txt``) and prints the functions with the largest
inclusive share of the samples. py-spy needs ptrace rights (root, or
``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "lr"
    nrows = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    home = tempfile.mkdtemp(prefix="mlops-profile-")
    for k in [k for k in os.environ if k.startswith("MLOPS_JLAB_")]:
        del os.environ[k]
    os.environ["MLOPS_JLAB_HOME"] = home
    import loadgen
    import workloads as w

    import mlops_jlab as mlops

    model, X = w.serve_model(kind)
    with mlops.start_run(name="m") as run:
        run.log_model(model, name="model", input_example=X.head(5))
    mlops.register_model(run, w.SERVE_MODEL)
    dep = mlops.deploy(w.SERVE_MODEL, 1, name="bench-profile", replicas=1)
    pid = next(e.data["pid"] for e in mlops.client.api.backend().serving.events(dep.name, 100)
               if e.kind == "started")
    body = w.body_ours(w.serve_rows(X, nrows))
    out = HERE / "results" / f"pyspy-{kind}-{nrows}.txt"
    out.parent.mkdir(exist_ok=True)
    load = threading.Thread(target=loadgen.throughput,
                            args=(dep.url, body, dep.token, 8, seconds + 3))
    load.start()
    try:
        py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable),
                                                        "py-spy")
        subprocess.run([py_spy, "record", "--pid", str(pid),
                        "--duration", str(seconds), "--rate", "500", "--format", "raw",
                        "--output", str(out), "--nonblocking"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        load.join()
        dep.stop()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        seen = set()
        for frame in stack.split(";"):
            name = frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0].split(
                "/")[-1] + ")" if " (" in frame else frame
            if name not in seen:
                seen.add(name)
                inclusive[name] += n
    print(f"{total} samples of worker {pid}, {kind}, {nrows} row(s)/request; raw: {out}")
    for name, n in inclusive.most_common(45):
        print(f"{100 * n / total:5.1f}%  {name}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
