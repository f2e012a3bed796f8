"""Nobody acts as someone else on a team server (issue 17, section 2), from the
attacker's side, against a real Jupyter server in its own process.

Reproduction of the issue: a contributor saves a notebook that sets
``MLOPS_JLAB_USER`` to the admin, calls ``mlops.configure(user=<admin>)`` and then
``mlops.grant(<self>, "admin")``, schedules it paused and presses "run now". Before,
the firing ran with the store's credentials as whoever the notebook named, so the
contributor became admin and the audit trail named the admin. Now the firing acts as
its owner through the REST API, with a delegated token and nothing else; the same holds
for a kernel the contributor starts on the server.
"""

from __future__ import annotations

import json

import pytest
import requests

from mlops_jlab.governance.delegation import is_secret, scrubbed
from tests.helpers.kernels import execute, start_kernel
from tests.helpers.notebooks import write_notebook
from tests.helpers.team_server import TeamServer

ESCALATE = [
    "import json, os\njson.dump(sorted(os.environ), open('seen-env.json', 'w'))",
    "os.environ['MLOPS_JLAB_USER'] = 'alice'\nimport mlops_jlab as mlops\n"
    "try:\n    mlops.configure(user='alice')\n"
    "except Exception as exc:\n"
    "    open('configure.txt', 'w').write(f'{type(exc).__name__}: {exc}')",
    "mlops.grant('mallory', 'admin')",
]
STORE_VARS = {"MLOPS_JLAB_DB_URL", "MLOPS_JLAB_ARTIFACTS", "MLOPS_JLAB_AUDIT_KEY_FILE",
              "MLOPS_JLAB_USER", "JUPYTER_TOKEN"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A team server: per-user tokens, role-aware authorization, delegated kernels."""
    team = TeamServer(tmp_path_factory.mktemp("delegation"), extra_args=(
        "--ServerApp.authorizer_class=mlops_jlab.server.identity.MlopsAuthorizer",
        "--ServerApp.kernel_manager_class=mlops_jlab.server.kernels.MlopsKernelManager",
        "--MlopsJlab.schedule_interval=3600",
        # jobs as the server's own OS user: this module checks the protocol (who acts,
        # what the environment holds); test_job_account.py runs them as another account
        "--MlopsJlab.jobs_as_server_user=True"))
    try:
        yield team.wait_ready()
    finally:
        team.stop()



def test_environment_scrubbing_keeps_nothing_that_reaches_the_store():
    env = {"MLOPS_JLAB_DB_URL": "postgresql://u:p@h/db", "MLOPS_JLAB_HOME": "/srv/mlops",
           "MLOPS_JLAB_TOKEN": "mlops_x", "JUPYTERHUB_API_TOKEN": "h", "AWS_ACCESS_KEY_ID": "a",
           "PGPASSWORD": "p", "MY_SERVICE_SECRET": "s", "PATH": "/usr/bin", "LANG": "C.UTF-8",
           "MLOPS_JLAB_RUN_TAGS": "{}", "POSTGRES_URL": "postgresql://u:s3cret@db/x",
           "SENTRY_DSN": "https://k@sentry/1", "REDIS_URL": "redis://:pw@r", "DB_URI": "x",
           "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/x.db"}
    kept = scrubbed(env)
    assert set(kept) == {"PATH", "LANG", "MLOPS_JLAB_RUN_TAGS"}
    assert "JPY_SESSION_NAME" in scrubbed({"JPY_SESSION_NAME": "/srv/work/train.ipynb"})
    assert is_secret("GOOGLE_APPLICATION_CREDENTIALS") and not is_secret("HOME")


def test_a_scheduled_notebook_cannot_borrow_the_admins_identity(server):
    mallory = server.user("mallory", "contributor")
    write_notebook(server.root / "jobs" / "escalate.ipynb", "alpha = 1", *ESCALATE)
    created = requests.post(f"{server.url}mlops/api/schedules", headers=mallory, timeout=30,
                            json={"name": "escalate", "cron": "0 2 * * *", "paused": True,
                                  "target": {"kind": "notebook",
                                             "path": "jobs/escalate.ipynb"}})
    assert created.status_code == 201, created.text
    fired = requests.post(f"{server.url}mlops/api/schedules/escalate/run", headers=mallory,
                          timeout=30)
    assert fired.status_code == 202, fired.text
    firing = server.finished_firing("escalate")
    # the grant was refused as mallory, so the firing failed and said why
    assert firing["status"] == "failed" and "mallory" in (firing["error"] or ""), firing
    roles = {u["name"]: u["role"] for u in server.api("GET", "/users").json()["users"]}
    assert roles["mallory"] == "contributor"
    grants = server.api("GET", "/audit", params={"action": "role.grant",
                                                 "target": "mallory"}).json()["events"]
    assert [e["after"]["role"] for e in grants] == ["contributor"]  # only alice's own
    # configure(user=) was refused in the notebook, and it never saw the store
    jobs = server.root / "jobs"
    refusal = (jobs / "configure.txt").read_text()
    assert refusal.startswith("PermissionDenied") and "team mode" in refusal
    seen = set(json.loads((jobs / "seen-env.json").read_text()))
    assert not seen & STORE_VARS and {"MLOPS_JLAB_URI", "MLOPS_JLAB_TOKEN"} <= seen
    delegated = server.api("GET", "/audit", params={"action": "token.delegate"}).json()
    assert {e["actor"] for e in delegated["events"]} == {"mallory"}


async def test_a_kernel_on_the_team_server_acts_as_the_person_who_started_it(server):
    viola = server.user("viola", "contributor")
    kernel = start_kernel(server.url, viola)
    who = await execute(server.url, viola, kernel,
                        "import os, mlops_jlab as mlops\n"
                        "print(sorted(k for k in os.environ if k.startswith('MLOPS_JLAB')))\n"
                        "print(mlops.whoami()['user'], mlops.whoami()['role'])")
    assert who.status == "ok", who.errors
    names, identity = who.stdout.strip().splitlines()
    assert "MLOPS_JLAB_DB_URL" not in names and "MLOPS_JLAB_TOKEN" in names
    assert identity == "viola contributor"
    forged = await execute(server.url, viola, kernel,
                           "os.environ['MLOPS_JLAB_USER'] = 'alice'\n"
                           "mlops.configure(user='alice')")
    assert forged.status == "error" and "team mode" in forged.errors[0]
    grant = await execute(server.url, viola, kernel, "mlops.configure()\n"
                                                     "mlops.grant('viola', 'admin')")
    assert grant.status == "error" and "PermissionDenied" in grant.errors[0]
    # the kernel's delegated token cannot mint a lasting one (nor replace viola's own)
    minted = await execute(server.url, viola, kernel,
                           "import requests\nr = requests.post(os.environ['MLOPS_JLAB_URI'] + "
                           "'mlops/api/users/viola/token', headers={'Authorization': 'token ' "
                           "+ os.environ['MLOPS_JLAB_TOKEN']})\nprint(r.status_code)")
    assert minted.stdout.strip() == "403", (minted.stdout, minted.errors)
    roles = {u["name"]: u["role"] for u in server.api("GET", "/users").json()["users"]}
    assert roles["viola"] == "contributor"
    assert requests.get(f"{server.url}mlops/api/me", headers=viola, timeout=30).ok
    # the kernel's token opens mlops_jlab's API only: no files, no kernels (which would
    # run next to the store and outlive the token's work)
    jupyter = await execute(server.url, viola, kernel,
                            "auth = {'Authorization': 'token ' + os.environ['MLOPS_JLAB_TOKEN']}"
                            "\nuri = os.environ['MLOPS_JLAB_URI']\n"
                            "print(requests.get(uri + 'api/contents', headers=auth).status_code,"
                            " requests.post(uri + 'api/kernels', headers=auth).status_code)")
    assert jupyter.stdout.split() == ["403", "403"], (jupyter.stdout, jupyter.errors)
    # pages never carry the server's own token to a person signed in with theirs
    page = requests.get(f"{server.url}lab", headers=viola, timeout=30)
    assert page.ok and server.token not in page.text
    requests.delete(f"{server.url}api/kernels/{kernel}", headers=viola, timeout=30)


async def test_nobody_but_its_owner_or_an_admin_uses_a_kernel_on_the_team_server(server):
    """A contributor cannot execute in, restart, interrupt or shut down another
    contributor's kernel, directly or through a session."""
    owner = server.user("kora", "contributor")
    other = server.user("oscar", "contributor")
    kernel = start_kernel(server.url, owner)
    try:
        with pytest.raises(Exception, match="403"):
            await execute(server.url, other, kernel, "print('borrowed')")
        for method, path in [("POST", f"api/kernels/{kernel}/restart"),
                             ("POST", f"api/kernels/{kernel}/interrupt"),
                             ("DELETE", f"api/kernels/{kernel}")]:
            answer = requests.request(method, f"{server.url}{path}", headers=other, timeout=30)
            assert answer.status_code == 403, (method, path, answer.status_code)
        # nor through a session: the attacker cannot bind one to the kernel, nor end
        # the owner's session (which would shut the kernel down)
        bind = {"path": "k.ipynb", "type": "notebook", "kernel": {"id": kernel}}
        assert requests.post(f"{server.url}api/sessions", headers=other, timeout=30,
                             json=bind).status_code == 403
        session = requests.post(f"{server.url}api/sessions", headers=owner, timeout=30,
                                json=bind)
        assert session.status_code == 201, session.text
        sid = session.json()["id"]
        assert requests.delete(f"{server.url}api/sessions/{sid}", headers=other,
                               timeout=30).status_code == 403
        assert requests.get(f"{server.url}api/kernels/{kernel}", headers=owner,
                            timeout=30).ok  # still running
        mine = await execute(server.url, owner, kernel, "print('mine')")
        assert mine.stdout.strip() == "mine"
        admin = await execute(server.url, {"Authorization": f"token {server.token}"}, kernel,
                              "print('admin')")  # the operator (an admin) may
        assert admin.stdout.strip() == "admin"
    finally:
        requests.delete(f"{server.url}api/kernels/{kernel}", headers=owner, timeout=30)


def test_jupyterlabs_own_routes_that_skip_the_authorizer_change_nothing_for_a_token(server):
    """JupyterLab's extension manager, plugins, build, settings and workspaces only check
    that someone signed in: a viewer's (or anyone's) mlops token must not change them
    (installing an extension runs pip as the server's user)."""
    viewer = server.user("vince", "viewer")
    contributor = server.user("connie", "contributor")
    writes = [
        ("POST", "lab/api/extensions", {"cmd": "install", "extension_name": "nothing-here"}),
        ("POST", "lab/api/plugins", {"cmd": "disable", "plugin_name": "x:y"}),
        ("POST", "lab/api/build", {}),
        ("PUT", "lab/api/settings/@jupyterlab/apputils-extension:themes", {"raw": "{}"}),
        ("PUT", "lab/api/workspaces/mine", {"data": {}, "metadata": {"id": "mine"}}),
        ("DELETE", "lab/api/workspaces/default", None),
    ]
    for headers in (viewer, contributor):
        for method, path, body in writes:
            answer = requests.request(method, f"{server.url}{path}", headers=headers,
                                      json=body, timeout=30, allow_redirects=False)
            assert answer.status_code == 403, (method, path, answer.status_code)
    assert requests.get(f"{server.url}lab", headers=viewer, timeout=30).ok  # reading is
    assert requests.get(f"{server.url}api/contents", headers=viewer, timeout=30).ok
