"""People's code on the MLOps host runs as another OS account (issue 17, open item of
section 2), tried from the attacker's side.

A contributor schedules a notebook that tries to read what the server's own account
holds: the server's ``/proc/<pid>/environ`` (its Jupyter token, the store's URL), the
SQLite database, the audit key, the store's home. With ``c.MlopsJlab.job_user`` the
firing runs as that account, so every read is refused, while the notebook still logs
into the store as its owner through the REST API. A team server without a job account
refuses firings and retraining actions instead of running them as itself.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import requests

from mlops_jlab.errors import ConfigurationError, Conflict, PermissionDenied
from mlops_jlab.governance.delegation import Delegation, Job
from mlops_jlab.governance.job_account import (
    JobAccount,
    JobAccounts,
    JobsRefused,
    copy_job_file,
    end_processes_of,
    end_session,
    remove_files_of,
)
from mlops_jlab.monitoring.retrain import Retrainer
from tests.helpers.notebooks import write_notebook
from tests.helpers.team_server import TeamServer

NOBODY = pwd.getpwnam("nobody")
ACCOUNT = JobAccount("nobody", NOBODY.pw_uid, NOBODY.pw_gid)


def _needs_root() -> None:
    """These tests switch to another account: root only. CI runs as root (and makes
    this Python readable by it: .ci/run), so there a skip would hide a failure."""
    if os.geteuid() == 0 and not ACCOUNT.unreachable_python():
        return
    reason = ("needs root and a Python the 'nobody' account can read "
              f"(unreachable: {ACCOUNT.unreachable_python()})")
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


# ---------------------------------------------------------------- the account
def test_an_account_is_refused_when_it_is_root_missing_or_the_servers_own():
    with pytest.raises(ConfigurationError, match="not an account"):
        JobAccount.resolve("no-such-account-here")
    with pytest.raises(ConfigurationError, match="is root"):
        JobAccount.resolve("root")
    own = pwd.getpwuid(os.geteuid()).pw_name
    with pytest.raises(ConfigurationError, match=r"is root|the account this server"):
        JobAccount.resolve(own)


@pytest.fixture
def open_folder():
    """A folder every account may traverse (pytest's own temporary folders are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="mlops-job-test-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_what_the_account_could_read_is_judged_by_every_folder_above_it(open_folder):
    tmp_path = open_folder
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    db = private / "mlops.db"
    db.write_text("")
    db.chmod(0o644)  # world-readable file in a private folder: out of reach
    os.chmod(tmp_path, 0o755)
    assert not ACCOUNT.can_read(db) and ACCOUNT.exposed([private, db, None]) == []
    private.chmod(0o755)
    assert ACCOUNT.can_read(db) and ACCOUNT.exposed([private, db]) == [str(private), str(db)]
    db.chmod(0o600)
    assert ACCOUNT.exposed([db]) == []
    # the account's group counts too
    group = tmp_path / "group"
    group.write_text("")
    group.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(group, 0, ACCOUNT.gid)
        assert ACCOUNT.can_read(group)


def test_a_job_cannot_make_the_server_copy_what_it_may_not_read(tmp_path):
    _needs_root()
    work = tmp_path / "work"
    work.mkdir()
    ACCOUNT.give(work)
    secret = tmp_path / "secret.key"
    secret.write_text("server key")
    secret.chmod(0o600)
    (work / "output.ipynb").symlink_to(secret)  # a link to the server's key
    assert not copy_job_file(work / "output.ipynb", tmp_path / "copy1", ACCOUNT.uid)
    (work / "input.ipynb").write_text("root's file")  # not the account's own
    assert not copy_job_file(work / "input.ipynb", tmp_path / "copy2", ACCOUNT.uid)
    mine = work / "mine.ipynb"
    mine.write_text("{}")
    os.chown(mine, ACCOUNT.uid, ACCOUNT.gid)
    assert copy_job_file(mine, tmp_path / "copy3", ACCOUNT.uid)
    assert (tmp_path / "copy3").read_text() == "{}"
    assert not (tmp_path / "copy1").exists() and not (tmp_path / "copy2").exists()


def test_a_team_server_without_a_job_account_refuses_jobs():
    def delegation(**kwargs):
        return Delegation(None, lambda: "http://127.0.0.1:1/", {}, **kwargs)

    with pytest.raises(JobsRefused, match="job_users") as info:
        delegation().check_jobs("firing schedule 'nightly'")
    assert isinstance(info.value, PermissionDenied)
    assert info.value.to_dict()["error"] == "job_account_required"
    delegation(jobs_as_server_user=True).check_jobs("x")  # the explicit opt-in
    delegation(accounts=JobAccounts([ACCOUNT])).check_jobs("x")
    Delegation(None, None, {}).check_jobs("x")  # single-user: jobs are the user's own


def test_retraining_runs_papermill_as_the_account_and_keeps_only_its_own_output(tmp_path):
    """The retraining process itself (without a store): papermill as the account, in
    its own folder, the executed notebook copied back, nothing left running."""
    _needs_root()
    os.chmod(tmp_path, 0o711)
    secret = tmp_path / "audit.key"
    secret.write_text("k")
    secret.chmod(0o600)
    notebook = tmp_path / "train.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, subprocess\n"
        f"try:\n    open({str(secret)!r}).read(); seen = 'READ'\n"
        "except OSError as exc:\n    seen = type(exc).__name__\n"
        "subprocess.Popen(['sleep', '300'])  # left behind on purpose\n"
        "print('uid', os.getuid(), seen)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, notebook)
    scratch = tempfile.mkdtemp(prefix="mlops-test-job-")
    ACCOUNT.give(scratch)
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **ACCOUNT.environment(scratch)}
    folder = tmp_path / "retrain" / "alert-1"
    retrainer = Retrainer(None, tmp_path, root=tmp_path)

    class Run:
        source: dict[str, str] = {}

    try:
        with JobAccounts([ACCOUNT]).lend() as account:
            done = retrainer._papermill({"id": "alert-1"}, {"notebook": "train.ipynb"},
                                        Run(), folder, Job(env, account), "m v1")
        assert done.returncode == 0, done.stderr
        executed = nbformat.read(folder / "output.ipynb", as_version=4)
        text = "".join(o.get("text", "") for o in executed.cells[0].outputs)
        assert text.strip() == f"uid {ACCOUNT.uid} PermissionError"
        assert (folder / "input.ipynb").is_file()
        time.sleep(0.5)
        assert _alive(lambda status: status["Uid"].split()[0] == str(ACCOUNT.uid)) == [], \
            "a process of the job outlived it"
    finally:
        end_processes_of(ACCOUNT.uid)
        shutil.rmtree(scratch, ignore_errors=True)


def _alive(match) -> list[int]:
    """Processes (not zombies) whose /proc status fields satisfy ``match``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z" and match(status):
            found.append(int(entry.name))
    return found


def test_an_account_serves_one_job_at_a_time_and_comes_back_clean(open_folder):
    """Jobs of two people never share an account (same uid: they could read each
    other's /proc/<pid>/environ and take the other's token)."""
    import threading

    one = JobAccount("job-a", 64999, 64999)
    accounts = JobAccounts([one])
    with pytest.raises(ConfigurationError, match="distinct"):
        JobAccounts([one, JobAccount("job-b", 64999, 64999)])
    order: list[str] = []
    with accounts.lend() as first:
        assert first is one
        with pytest.raises(Conflict, match="busy"), accounts.lend(timeout=0.1):
            pass

        def second() -> None:
            with accounts.lend(timeout=30):
                order.append("second")

        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.3)
        order.append("first ends")
    waiting.join(30)
    assert order == ["first ends", "second"]
    if os.geteuid() == 0:  # what a job leaves in shared temporary folders goes
        left = open_folder / "left-behind"
        left.mkdir()
        os.chown(left, one.uid, one.gid)
        shared = open_folder / "shared"  # e.g. a 1777 folder another program made
        shared.mkdir(mode=0o777)
        deep = shared / "note.txt"
        deep.write_text("a token for the next job")
        os.chown(deep, one.uid, one.gid)
        (open_folder / "someone-elses").write_text("")
        assert remove_files_of(one.uid, [str(open_folder)]) == 2
        assert not left.exists() and not deep.exists()
        assert shared.is_dir() and (open_folder / "someone-elses").exists()


def test_shared_memory_a_job_leaves_is_removed():
    _needs_root()
    make = ("import ctypes; libc = ctypes.CDLL(None); "
            "assert libc.shmget(0x4d4c4f50, 4096, 0o1666) >= 0")
    subprocess.run([sys.executable, "-c", make], check=True, **ACCOUNT.process_options())

    def segments() -> list[list[str]]:
        with open("/proc/sysvipc/shm") as f:
            header, *rows = [line.split() for line in f]
        return [r for r in rows if r[header.index("uid")] == str(ACCOUNT.uid)]

    assert segments()
    remove_files_of(ACCOUNT.uid, [])
    assert not segments()


def test_end_session_kills_what_a_job_left_in_its_session():
    child = subprocess.Popen([sys.executable, "-c",
                              "import subprocess, time; subprocess.Popen(['sleep', '60']); "
                              "time.sleep(60)"], start_new_session=True)
    time.sleep(0.5)
    end_session(child.pid)
    assert child.wait(10) != 0
    time.sleep(0.2)

    def in_group(status: dict[str, str]) -> bool:
        return status.get("NSpgid", status.get("Pgid", "")).split()[-1:] == [str(child.pid)]

    assert _alive(in_group) == []  # dead (maybe not reaped)


# ---------------------------------------------------------------- a real team server
PROBE = ("""import os
import mlops_jlab as mlops

def probe(path, listing=False):
    try:
        os.listdir(path) if listing else open(path, 'rb').read(1)
        return 'READ'
    except OSError as exc:
        return type(exc).__name__

mlops.log_params({'uid': os.getuid(), 'environ': probe(f'/proc/{server_pid}/environ'),
                  'read_database': probe(database), 'read_audit_key': probe(audit_key),
                  'list_home': probe(home, listing=True)})""",
"""import requests
api = os.environ['MLOPS_JLAB_URI']
auth = {'Authorization': 'token ' + os.environ['MLOPS_JLAB_TOKEN']}
page = requests.get(api + 'no-such-page', headers=auth)
mlops.log_params({
    'jupyter_contents': requests.get(api + 'api/contents', headers=auth).status_code,
    'jupyter_kernels': requests.post(api + 'api/kernels', headers=auth, json={}).status_code,
    'page_token': 'data-jupyter-api-token' in page.text})""")


@pytest.fixture(scope="module")
def server():
    """A team server whose jobs run as ``nobody``; its root is readable by that account
    (the notebooks), its store's home is not."""
    if os.geteuid() != 0 or ACCOUNT.unreachable_python():
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="mlops-job-account-"))
    root.chmod(0o755)
    team = TeamServer(root, extra_args=(
        # Jupyter's default authorizer: see the last test
        "--MlopsJlab.schedule_interval=3600", "--MlopsJlab.job_users=nobody"))
    team.log_path.chmod(0o600)  # the test's own log (it prints the token URL)
    try:
        yield team.wait_ready()
    finally:
        team.stop()
        shutil.rmtree(root, ignore_errors=True)



def test_a_scheduled_notebook_runs_as_the_job_account_and_reads_none_of_the_servers_secrets(
        server):
    _needs_root()
    mallory = server.user("mallory", "contributor")
    write_notebook(server.root / "jobs" / "probe.ipynb",
                   "server_pid = 0\ndatabase = home = audit_key = ''", *PROBE)
    params = {"server_pid": server.process.pid, "database": str(server.home / "mlops.db"),
              "audit_key": str(server.home / "audit.key"), "home": str(server.home)}
    created = requests.post(f"{server.url}mlops/api/schedules", headers=mallory, timeout=30,
                            json={"name": "probe", "cron": "0 2 * * *", "paused": True,
                                  "parameters": params,
                                  "target": {"kind": "notebook", "path": "jobs/probe.ipynb"}})
    assert created.status_code == 201, created.text
    fired = requests.post(f"{server.url}mlops/api/schedules/probe/run", headers=mallory,
                          timeout=30)
    assert fired.status_code == 202, fired.text
    firing = server.finished_firing("probe")
    assert firing["status"] == "succeeded", (firing["error"], server.log_tail())
    run = server.api("GET", f"/runs/{firing['run_id']}").json()
    assert run["params"] == {**{k: str(v) for k, v in params.items()},
                             "uid": str(ACCOUNT.uid), "environ": "PermissionError",
                             "read_database": "PermissionError",
                             "read_audit_key": "PermissionError",
                             "list_home": "PermissionError",
                             # the job's token opens mlops_jlab's API only, and no page
                             # hands it the server's own token
                             "jupyter_contents": "403", "jupyter_kernels": "403",
                             "page_token": "False"}
    assert run["user"] == "mallory"  # through the API, as the schedule's owner
    assert (server.home / "audit.key").stat().st_mode & 0o077 == 0
    assert (server.home / "mlops.db").stat().st_mode & 0o077 == 0


def test_a_job_account_that_could_read_the_store_is_not_used(tmp_path):
    """Started with a world-readable store, the server refuses jobs and says why."""
    _needs_root()
    root = Path(tempfile.mkdtemp(prefix="mlops-job-exposed-"))
    root.chmod(0o755)
    (root / "server-home").mkdir(mode=0o755)
    team = TeamServer(root, extra_args=("--MlopsJlab.schedule_interval=3600",
                                        "--MlopsJlab.job_user=nobody"))
    try:
        team.wait_ready()
        write_notebook(root / "n.ipynb", "x = 1", "x")
        assert team.api("POST", "/schedules", json={
            "name": "n", "cron": "0 2 * * *", "paused": True,
            "target": {"kind": "notebook", "path": "n.ipynb"}}).status_code == 201
        refused = team.api("POST", "/schedules/n/run")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "job_account_required"
        log = team.log_tail(200)
        assert "nobody can read" in log
        # and the store's home inside the served root is called out
        assert "lie inside the folder this server serves" in log
    finally:
        team.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_persons_token_opens_only_the_mlops_api_under_jupyters_default_authorizer(server):
    """Jupyter's default authorizer allows everything to whoever signs in: an mlops
    token (a viewer's too) must then not sign in on Jupyter's own routes at all."""
    _needs_root()
    viewer = server.user("vera", "viewer")
    assert requests.get(f"{server.url}mlops/api/me", headers=viewer, timeout=30).ok
    for method, path in [("GET", "api/contents"), ("POST", "api/kernels"),
                         ("GET", "api/terminals"), ("GET", "api/sessions")]:
        answer = requests.request(method, f"{server.url}{path}", headers=viewer, timeout=30,
                                  allow_redirects=False)
        assert answer.status_code == 403, (method, path, answer.status_code)
    page = requests.get(f"{server.url}lab", headers=viewer, timeout=30)
    assert server.token not in page.text
    operator = requests.get(f"{server.url}lab", headers=server.session.headers, timeout=30)
    assert operator.ok and "data-jupyter-api-token" not in operator.text  # team mode
