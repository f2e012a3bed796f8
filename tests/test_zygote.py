"""The worker zygote: forks preloaded workers and reports how they exit."""

from __future__ import annotations

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
