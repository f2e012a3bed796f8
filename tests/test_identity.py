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


async def _error(fetch, *args, **kwargs) -> tuple[int, dict]:
    """Status and JSON body of a request that must fail."""
    with pytest.raises(HTTPClientError) as info:
        await fetch(*args, **kwargs)
    return info.value.code, json.loads(info.value.response.body)


async def test_mlops_tokens_only_in_the_authorization_header(jp_fetch, jp_serverapp,
                                                             mlops_home):
    mlops.configure(user="alice")
    mlops.whoami()  # alice: the first user, admin
    token = mlops.backend().access.issue_token("alice", "bob")  # type: ignore[attr-defined]
    bare = {"Authorization": ""}  # no other credential than the one under test
    # in the URL, where logs and proxies keep it: refused, and the message says why
    for path in (("mlops", "api", "me"), ("api", "contents")):
        code, body = await _error(jp_fetch, *path, params={"token": token}, headers=bare)
        assert code == 403 and "Authorization header" in body["message"]
    # even next to a valid credential: the URL form of an mlops token is never taken
    code, _ = await _error(jp_fetch, "mlops", "api", "me", params={"token": token})
    assert code == 403
    me = await jp_fetch("mlops", "api", "me", headers={"Authorization": f"token {token}"})
    assert json.loads(me.body)["user"] == "bob"
    assert "Set-Cookie" not in me.headers  # a token login leaves no cookie behind
    # Jupyter's own token keeps its URL form
    jupyter_token = jp_serverapp.identity_provider.token
    ok = await jp_fetch("mlops", "api", "me", params={"token": jupyter_token}, headers=bare)
    assert json.loads(ok.body)["user"] == "alice"


async def test_user_names_are_case_folded_and_odd_ones_refused(jp_fetch, mlops_home):
    mlops.configure(user="alice")
    mlops.whoami()
    access = mlops.backend().access  # type: ignore[attr-defined]
    admin = access.issue_token("alice", "alice")
    as_admin = {"Authorization": f"token {admin}"}

    # "Alice" and "ALICE" are alice: no second user, and her role is hers
    granted = await jp_fetch("mlops", "api", "users", "Bob", method="PUT", headers=as_admin,
                             body=json.dumps({"role": "contributor"}))
    assert json.loads(granted.body)["name"] == "bob"
    issued = await jp_fetch("mlops", "api", "users", "BOB", "token", method="POST",
                            headers=as_admin, body=b"{}")
    bob = json.loads(issued.body)
    assert bob["user"] == "bob"
    me = await jp_fetch("mlops", "api", "me", headers={"Authorization": f"token {bob['token']}"})
    assert json.loads(me.body)["role"] == "contributor"
    users = json.loads((await jp_fetch("mlops", "api", "users", headers=as_admin)).body)
    assert sorted(u["name"] for u in users["users"]) == ["alice", "bob"]

    # "alice " (alice%20 in a URL) used to be trimmed to alice and replace her token:
    # now refused with the reason, and her token still works
    for name, reason in (("alice ", "whitespace"), ("ali\nce", "line break"),
                         ("ali\u202ece", "bidi"), ("al\x07ice", "control"),
                         ("ali\u200bce", "invisible")):
        code, body = await _error(jp_fetch, "mlops", "api", "users", name, "token",
                                  method="POST", headers=as_admin, body=b"{}")
        assert code == 400 and reason in body["message"], (name, body)
        code, body = await _error(jp_fetch, "mlops", "api", "users", name, method="PUT",
                                  headers=as_admin, body=json.dumps({"role": "admin"}))
        assert code == 400 and reason in body["message"], (name, body)
    me = await jp_fetch("mlops", "api", "me", headers=as_admin)
    assert json.loads(me.body)["user"] == "alice"
    # readers and writers lists take the same names
    exp = json.loads((await jp_fetch("mlops", "api", "experiments", method="POST",
                                     headers=as_admin, body=json.dumps({"name": "e"}))).body)
    code, body = await _error(jp_fetch, "mlops", "api", "experiments", exp["id"],
                              "permissions", method="PUT", headers=as_admin,
                              body=json.dumps({"readers": ["bo\rb"]}))
    assert code == 400 and "line break" in body["message"]
    perms = await jp_fetch("mlops", "api", "experiments", exp["id"], "permissions",
                           method="PUT", headers=as_admin,
                           body=json.dumps({"readers": ["BOB"], "writers": []}))
    assert json.loads(perms.body)["readers"] == ["bob"]


async def test_names_stored_before_normalising_match_case_folded(jp_fetch, mlops_home):
    """A store written by an older version may hold "Carol": she is carol, keeps her
    role and her row, and nobody gets a second account by changing the case."""
    from sqlalchemy import insert, select

    from mlops_jlab.store import schema as s

    mlops.configure(user="alice")
    mlops.whoami()
    access = mlops.backend().access  # type: ignore[attr-defined]
    with access.db.write() as conn:
        conn.execute(insert(s.users).values(name="Carol", role="approver", created_at=1))
    token = access.issue_token("alice", "carol")  # replaces the legacy row's token
    me = json.loads((await jp_fetch("mlops", "api", "me",
                                    headers={"Authorization": f"token {token}"})).body)
    assert me["user"] == "carol" and me["role"] == "approver"
    access.grant("alice", "CAROL", "viewer")
    with access.db.read() as conn:
        rows = conn.execute(select(s.users.c.name, s.users.c.role)
                            .where(s.users.c.name.in_(["Carol", "carol"]))).all()
    assert [tuple(r) for r in rows] == [("Carol", "viewer")]
    me = json.loads((await jp_fetch("mlops", "api", "me",
                                    headers={"Authorization": f"token {token}"})).body)
    assert me["role"] == "viewer"


async def test_experiment_names_refuse_control_bidi_and_newlines(jp_fetch, mlops_home):
    mlops.configure(user="alice")
    for name, reason in (("churn\u202egpj.exe", "bidi"), ("churn\u2066x\u2069", "bidi"),
                         ("churn\nprod", "line break"), ("churn\x1b[31m", "control"),
                         ("churn\u2028", "line break")):
        code, body = await _error(jp_fetch, "mlops", "api", "experiments", method="POST",
                                  body=json.dumps({"name": name}))
        assert code == 400 and reason in body["message"], (name, body)
        with pytest.raises(mlops.errors.InvalidInput):
            mlops.set_experiment(name)
    ok = await jp_fetch("mlops", "api", "experiments", method="POST",
                        body=json.dumps({"name": "churn v2 (ünïcode)"}))
    assert ok.code == 201
