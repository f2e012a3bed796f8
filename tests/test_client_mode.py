"""Client mode of the extension (``c.MlopsJlab.remote_url``) without a hub: a user's
JupyterLab (pytest-jupyter's server, in this process) forwards its panel's API calls to
a real MLOps server (the session's Jupyter server subprocess) with its user's own mlops
token, and holds nothing of the store. tests/test_hub.py runs the same with JupyterHub.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers.team_server import free_port

LEAKS = {"MLOPS_JLAB_DB_URL": "sqlite:////nonexistent/leak.db",
         "MLOPS_JLAB_ARTIFACTS": "/nonexistent/artifacts",
         "MLOPS_JLAB_AUDIT_KEY_FILE": "/nonexistent/audit.key",
         "MLOPS_JLAB_USER": "alice"}


@pytest.fixture
def bob_token(team_server) -> str:
    """An mlops token of bob, a contributor on the MLOps server (alice is its admin)."""
    granted = team_server.api("PUT", "/users/bob", json={"role": "contributor"})
    assert granted.status_code == 200, granted.text
    made = team_server.api("POST", "/users/bob/token")
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


@pytest.fixture
def remote_target(team_server) -> str:
    """Where the user's server forwards (a test may point it elsewhere)."""
    return str(team_server.url)


@pytest.fixture
def jp_server_config(mlops_home, remote_target, bob_token, monkeypatch):
    """A user's JupyterLab in client mode, started with store variables an operator
    might have left in its environment (mlops_home puts MLOPS_JLAB_* back afterwards)."""
    for var, value in LEAKS.items():
        monkeypatch.setenv(var, value)
    return {"ServerApp": {"jpserver_extensions": {"mlops_jlab": True},
                          "allow_unauthenticated_access": False},
            "MlopsJlab": {"remote_url": remote_target, "remote_token": bob_token}}


async def test_the_panel_api_is_forwarded_as_the_servers_user(jp_fetch, jp_serverapp,
                                                              team_server, bob_token):
    assert jp_serverapp.web_app.settings.get("mlops_services") is None  # no store here
    # kernels this server starts inherit this: the API and the token, no store
    assert os.environ["MLOPS_JLAB_URI"] == team_server.url
    assert os.environ["MLOPS_JLAB_TOKEN"] == bob_token
    assert not [var for var in (*LEAKS, "MLOPS_JLAB_HOME") if var in os.environ]

    me = json.loads((await jp_fetch("mlops", "api", "me")).body)
    assert me["user"] == "bob" and me["role"] == "contributor"
    key, name = uuid.uuid4().hex, f"panel-{uuid.uuid4().hex[:8]}"
    first, again = [await jp_fetch("mlops", "api", "experiments", method="POST",
                                   body=json.dumps({"name": name}),
                                   headers={"Idempotency-Key": key}) for _ in range(2)]
    assert first.code == again.code == 201
    assert json.loads(first.body)["id"] == json.loads(again.body)["id"]  # applied once
    created = team_server.api("GET", f"/experiments/{name}").json()
    assert created["created_by"] == "bob"
    runs = await jp_fetch("mlops", "api", "runs", params={"experiment": name, "limit": "5"})
    assert json.loads(runs.body)["runs"] == []  # the query string goes along

    # the MLOps server's refusals come back as they are
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "users", "bob", method="PUT",
                       body=json.dumps({"role": "admin"}))
    assert info.value.code == 403
    assert json.loads(info.value.response.body)["error"] == "permission_denied"


async def test_nothing_is_forwarded_for_a_caller_this_server_does_not_know(jp_fetch):
    for headers in ({"Authorization": ""}, {"Authorization": "token wrong"}):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("mlops", "api", "me", headers=headers)
        assert info.value.code == 403
    with pytest.raises(HTTPClientError) as info:  # no way out of the API's prefix
        await jp_fetch("mlops", "api", "..", "..", "api", "status")
    assert info.value.code == 400


@pytest.mark.parametrize("remote_target", [f"http://127.0.0.1:{free_port()}/"],
                         ids=["closed-port"])
async def test_an_unreachable_mlops_server_is_a_502_naming_it(jp_fetch, remote_target):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "me")
    body = json.loads(info.value.response.body)
    assert info.value.code == 502 and body["error"] == "bad_gateway"
    assert remote_target in body["message"]
