"""Team identities in the Jupyter server: per-user API tokens through
``MlopsIdentityProvider``, role checks over REST, and ``MlopsAuthorizer`` keeping
viewers from Jupyter's own write actions."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops

pytestmark = pytest.mark.team_identities


async def test_api_tokens_act_as_their_user_and_roles_hold_over_rest(jp_fetch, mlops_home):
    mlops.configure(user="alice")
    assert mlops.whoami()["role"] == "admin"
    mlops.grant("bob", "contributor")
    backend = mlops.backend()
    tokens = {name: backend.access.issue_token("alice", name)  # type: ignore[attr-defined]
              for name in ("bob", "vic")}

    async def as_(name, *parts, **kw):
        kw.setdefault("headers", {})["Authorization"] = f"token {tokens[name]}"
        return await jp_fetch("mlops", "api", *parts, **kw)

    me = json.loads((await as_("bob", "me")).body)
    assert me["user"] == "bob" and me["role"] == "contributor" and not me["can"]["approve"]
    vic = json.loads((await as_("vic", "me")).body)
    assert vic["role"] == "viewer"
    created = await as_("bob", "experiments", method="POST",
                        body=json.dumps({"name": "bobs"}))
    assert created.code == 201
    with pytest.raises(HTTPClientError) as info:  # a viewer cannot write
        await as_("vic", "experiments", method="POST", body=json.dumps({"name": "vics"}))
    body = json.loads(info.value.response.body)
    assert info.value.code == 403 and body["error"] == "permission_denied" and \
        body["needed"] == "contributor"
    with pytest.raises(HTTPClientError) as info:  # nor grant roles
        await as_("bob", "users", "bob", method="PUT", body=json.dumps({"role": "admin"}))
    assert info.value.code == 403
    with pytest.raises(HTTPClientError) as info:  # a wrong mlops token is no login
        await jp_fetch("mlops", "api", "me",
                       headers={"Authorization": "token mlops_not-a-token"})
    assert info.value.code == 403
    # Jupyter's own resources: a viewer reads files but cannot write them
    listing = await jp_fetch("api", "contents",
                             headers={"Authorization": f"token {tokens['vic']}"})
    assert listing.code == 200
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("api", "contents", "x.txt", method="PUT",
                       headers={"Authorization": f"token {tokens['vic']}"},
                       body=json.dumps({"type": "file", "format": "text", "content": "x"}))
    assert info.value.code == 403
    written = await jp_fetch("api", "contents", "y.txt", method="PUT",
                             headers={"Authorization": f"token {tokens['bob']}"},
                             body=json.dumps({"type": "file", "format": "text",
                                              "content": "y"}))
    assert written.code == 201
    assert mlops.audit(actor="bob", action="experiment.create").shape[0] == 1
