"""The worker zygote: forks preloaded workers and reports how they exit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from mlops_jlab.serving.zygote import Zygote

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def zygote():
    before = os.getcwd()
    os.chdir(HERE)  # ``python -m`` puts the folder on sys.path: zygote_probe imports
    try:
        z = Zygote()
        assert z.wait_ready(120)
    finally:
        os.chdir(before)
    yield z
    z.close()


def test_a_forked_child_runs_the_module_with_the_given_environment(zygote, tmp_path):
    log = tmp_path / "child.log"
    out = tmp_path / "env.txt"
    script = f"import os; open({str(out)!r}, 'w').write(os.environ['MARK'] + os.getcwd())"
    child = zygote.spawn("zygote_probe", [script],
                         {"MARK": "m1", "PATH": os.environ.get("PATH", "")}, str(log))
    assert child.wait(30) == 0 and child.poll() == 0
    assert out.read_text() == "m1" + os.getcwd()  # the spawner's folder


def test_exit_codes_and_kill_are_reported(zygote, tmp_path):
    log = str(tmp_path / "child.log")
    failing = zygote.spawn("zygote_probe", ["raise SystemExit(3)"], {},
                           log)
    assert failing.wait(30) == 3
    sleeper = zygote.spawn("zygote_probe", ["import time; time.sleep(60)"],
                           {}, log)
    assert sleeper.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        sleeper.wait(0.2)
    os.kill(sleeper.pid, signal.SIGKILL)
    assert sleeper.wait(30) == -signal.SIGKILL
    crashing = zygote.spawn("zygote_probe", ["1 / 0"], {}, log)
    assert crashing.wait(30) == 1
    assert "ZeroDivisionError" in (tmp_path / "child.log").read_text()


def test_children_end_when_the_controller_process_ends(tmp_path):
    """The zygote lives as long as its controller's process; its workers follow."""
    pid_file = tmp_path / "pid"
    code = f"""
import time
from mlops_jlab.serving.zygote import Zygote
z = Zygote()
assert z.wait_ready(120)
child = z.spawn("zygote_probe",
                ["import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid()));"
                 " parent = os.getppid()\\nwhile os.getppid() == parent: time.sleep(0.05)"],
                {{}}, {str(tmp_path / 'c.log')!r})
while not __import__('os').path.exists({str(pid_file)!r}): time.sleep(0.05)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=180, cwd=HERE)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("the forked child outlived its controller process")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper has ended)."""
    try:
        import psutil
    except ImportError:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _gone_within(pids, seconds: float) -> list[int]:
    """The pids still running after up to ``seconds`` (each is then SIGKILLed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    left = [p for p in pids if _alive(p)]
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


def _controller_process(tmp_path, child_code: str, before_exit: str = "") -> list[int]:
    """Run a process that starts a zygote, forks a child running ``child_code`` and
    exits (after ``before_exit``); the zygote's and the child's pids."""
    pid_file = tmp_path / "pids"
    code = f"""
import os, time
from mlops_jlab.serving.zygote import Zygote
z = Zygote()
assert z.wait_ready(120)
child = z.spawn("zygote_probe", [{child_code!r}], {{}}, {str(tmp_path / 'c.log')!r})
open({str(pid_file)!r}, "w").write(f"{{z.process.pid}} {{child.pid}}")
{before_exit}
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=180, cwd=HERE)
    return [int(p) for p in pid_file.read_text().split()]


def test_a_child_that_never_watches_its_parent_ends_with_the_controller(tmp_path):
    """A worker still loading its models (not yet watching its parent) when the
    controller's process ends does not keep running: the zygote ends it."""
    pids = _controller_process(tmp_path, "import time; time.sleep(600)")
    assert _gone_within(pids, 30) == []


def test_the_zygote_ends_with_its_parent_even_if_the_pair_stays_open(tmp_path):
    """A process forked from the controller's (without exec) keeps the controller's end
    of the pair open: the zygote still sees its parent go, and ends its workers."""
    holder = tmp_path / "holder"
    fork_a_holder = f"""
if os.fork() == 0:  # keeps every descriptor of the controller's process, z's pair too
    open({str(holder)!r}, "w").write(str(os.getpid()))
    time.sleep(600)
    os._exit(0)
while not os.path.exists({str(holder)!r}): time.sleep(0.05)
"""
    pids = _controller_process(tmp_path, "import time; time.sleep(600)", fork_a_holder)
    try:
        assert _gone_within(pids, 30) == []
    finally:
        _gone_within([int(holder.read_text())], 0)


def test_nothing_the_server_started_survives_its_sigterm(tmp_path, mlops_home):
    """A real Jupyter server with the extension serves a deployment (zygote and worker
    running); after SIGTERM no process it started is left."""
    psutil = pytest.importorskip("psutil")
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import mlops_jlab as mlops
    from tests.helpers.team_server import TeamServer

    server = TeamServer(tmp_path).wait_ready()
    try:
        X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
        mlops.configure(uri=server.url, token=server.token)  # mlops_home resets it
        with mlops.start_run() as run:
            run.log_model(LogisticRegression().fit(X, [0, 1, 0, 1]), input_example=X)
        mlops.register_model(run, "term")
        created = server.api("POST", "/deployments", json={"model": "term", "version": 1,
                                                           "name": "term-d"})
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replicas = server.api("GET", "/deployments/term-d").json()["observed"]["replicas"]
            if replicas and replicas[0]["ready"]:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"never ready:\n{server.log_tail()}")
        started = psutil.Process(server.process.pid).children(recursive=True)
        pids = [p.pid for p in started]
        assert replicas[0]["pid"] in pids and len(pids) >= 2  # the zygote and the worker
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(60)
        assert _gone_within(pids, 60) == []
    finally:
        server.stop()

