"""Governance: roles, four-eyes promotions, permissions, the hash-chained audit trail,
model cards. Users switch with ``mlops.configure(user=...)`` on one store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sqlalchemy import text

import mlops_jlab as mlops
from mlops_jlab.errors import (
    ApprovalRequired,
    Conflict,
    InvalidInput,
    PermissionDenied,
    RuleViolation,
)


def as_user(name: str) -> None:
    mlops.configure(user=name)


@pytest.fixture
def team(mlops_home):
    """alice (first user: admin), bob contributor, carol approver, dave viewer."""
    as_user("alice")
    assert mlops.whoami()["role"] == "admin"
    mlops.grant("bob", "contributor")
    mlops.grant("carol", "approver")
    as_user("dave")
    assert mlops.whoami()["role"] == "viewer"  # the default role of new users
    return mlops_home


@pytest.fixture
def validated(team):
    """iris v1 trained and validated by bob."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    as_user("bob")
    with mlops.start_run(name="train") as run:
        model = LogisticRegression(max_iter=500).fit(X_train, y_train)
        run.log_metric("accuracy", float(model.score(X_test, y_test)))
        run.log_dataset(X_train, "iris-train", role="train")
        run.log_model(model, input_example=X_train)
    version = mlops.register_model(run, "iris")
    assert mlops.validate("iris", version.version, data=(X_test, y_test)).passed
    return version, (X_train, X_test, y_train, y_test)


def test_roles_are_enforced_for_every_action(validated):
    as_user("dave")
    with pytest.raises(PermissionDenied, match="contributor") as info:
        mlops.start_run(name="nope")
    assert info.value.needed == "contributor" and info.value.http_status == 403
    with pytest.raises(PermissionDenied):
        mlops.set_alias("iris", "staging", 1)
    with pytest.raises(PermissionDenied, match="admin"):
        mlops.grant("dave", "admin")
    assert mlops.get_model_version("iris", 1).version == 1  # viewers read
    as_user("bob")
    req = mlops.request_promotion("iris", 1, "ready")
    with pytest.raises(PermissionDenied, match="admin role"):
        mlops.grant("bob", "approver")
    as_user("alice")
    with pytest.raises(RuleViolation, match="last admin"):
        mlops.grant("alice", "viewer")
    with pytest.raises(InvalidInput, match="unknown role"):
        mlops.grant("bob", "owner")
    with pytest.raises(InvalidInput, match="reserved"):
        mlops.grant("mlops:monitor", "admin")
    users = mlops.users().set_index("name")["role"].to_dict()
    assert users == {"alice": "admin", "bob": "contributor", "carol": "approver",
                     "dave": "viewer"}
    assert req.status == "pending"


def test_four_eyes_promotion(validated):
    as_user("bob")
    with pytest.raises(ApprovalRequired, match="request_promotion"):
        mlops.set_alias("iris", "production", 1)
    req = mlops.request_promotion("iris", 1, "beats the baseline")
    with pytest.raises(Conflict, match="pending"):
        mlops.request_promotion("iris", 1)
    as_user("dave")
    with pytest.raises(PermissionDenied):
        mlops.approve(req, comment="lgtm")
    as_user("carol")
    with pytest.raises(InvalidInput, match="comment"):
        mlops.approve(req, comment="  ")
    detail = mlops.get_promotion(req.id)
    assert detail.validation["passed"] is True and detail.production_version is None
    assert {m["metric"] for m in detail.metrics_diff} == {"accuracy"}
    done = mlops.approve(req, comment="checked the report")
    assert done.status == "approved" and done.approvals == 1
    assert mlops.get_model_version("iris", "production").version == 1
    with pytest.raises(RuleViolation, match="already approved"):
        mlops.reject(req, comment="too late")
    assert [p.id for p in mlops.promotions(status="approved")] == [req.id]


def test_nobody_approves_their_own_request_unless_the_policy_says_so(validated):
    _version, (X_train, X_test, y_train, y_test) = validated
    as_user("alice")  # an admin is an approver too, but not of their own request
    with mlops.start_run(name="v2") as run:
        run.log_model(LogisticRegression(max_iter=300, C=0.5).fit(X_train, y_train),
                      input_example=X_train)
    mlops.register_model(run, "iris")
    mlops.validate("iris", 2, data=(X_test, y_test))
    req = mlops.request_promotion("iris", 2, "mine")
    with pytest.raises(PermissionDenied, match="another approver"):
        mlops.approve(req, comment="self")
    mlops.cancel_promotion(req)
    as_user("carol")  # an approver who neither owns the model nor administers
    with pytest.raises(PermissionDenied, match="owner of 'iris'"):
        mlops.set_policy("iris", allow_self_approval=True)
    as_user("alice")
    policy = mlops.set_policy("iris", allow_self_approval=True)
    assert policy.allow_self_approval and policy.required_approvals == 1
    req = mlops.request_promotion("iris", 2, "single-user setup")
    assert req.self_approval is True
    assert mlops.approve(req, comment="self-approved, recorded").status == "approved"
    events = mlops.audit(action="promotion.approve")
    assert events.iloc[0]["after"]["self_approval"] is True


def test_two_approvals_and_a_rejection(validated):
    as_user("alice")
    mlops.set_policy("iris", required_approvals=2)
    mlops.grant("erin", "approver")
    as_user("bob")
    req = mlops.request_promotion("iris", 1)
    as_user("carol")
    assert mlops.approve(req, comment="one").status == "pending"
    with pytest.raises(Conflict, match="already decided"):
        mlops.approve(req, comment="again")
    as_user("erin")
    assert mlops.approve(req, comment="two").status == "approved"
    as_user("alice")
    mlops.set_policy("iris", required_approvals=0)  # approvers move it directly now
    as_user("bob")
    with pytest.raises(PermissionDenied, match="approver"):
        mlops.set_alias("iris", "production", 1)


def test_rejection_closes_the_request(validated):
    as_user("bob")
    req = mlops.request_promotion("iris", 1)
    as_user("carol")
    rejected = mlops.reject(req, comment="needs a fairness check")
    assert rejected.status == "rejected" and rejected.decisions[0].comment.startswith("needs")
    with pytest.raises(Exception, match="no alias"):
        mlops.get_model_version("iris", "production")


def test_permissions_keep_a_team_out(validated):
    as_user("alice")
    mlops.grant("zed", "contributor")
    as_user("bob")  # bob registered iris: he owns it
    perms = mlops.set_permissions("model", "iris", writers=["carol"], readers=["dave"])
    assert perms.owner == "bob" and perms.writers == ["carol"]
    as_user("zed")
    with pytest.raises(PermissionDenied, match="writable only by its owner"):
        mlops.set_alias("iris", "staging", 1)
    with pytest.raises(PermissionDenied, match="owner"):
        mlops.set_permissions("model", "iris", writers=[])
    as_user("alice")  # admins are not held by permissions
    mlops.set_alias("iris", "staging", 1)
    as_user("bob")
    mlops.set_permissions("model", "iris", writers=[], readers=[])
    as_user("zed")
    mlops.set_alias("iris", "champion", 1)


def test_the_audit_trail_is_hash_chained_and_tamper_evident(validated, tmp_path):
    as_user("bob")
    req = mlops.request_promotion("iris", 1, "go")
    as_user("carol")
    mlops.approve(req, comment="ok")
    trail = mlops.audit(limit=10_000)
    actions = set(trail["action"])
    assert {"user.create", "role.grant", "experiment.create", "run.create", "run.end",
            "model.create", "version.register", "validation.record", "promotion.request",
            "promotion.approve", "alias.set"} <= actions
    alias = mlops.audit(action="alias.set").iloc[0]
    assert alias["actor"] == "carol" and alias["after"] == {"version": 1,
                                                             "promotion": req.id}
    assert mlops.verify_audit().ok
    csv_path = mlops.export_audit(str(tmp_path / "audit.csv"))
    assert Path(csv_path).read_text().count("\n") == len(trail) + 1
    exported = json.loads(Path(mlops.export_audit(str(tmp_path / "a.json"),
                                                  actor="carol")).read_text())
    assert {e["actor"] for e in exported} == {"carol"}

    db = mlops.backend().db  # type: ignore[attr-defined]
    seqs = sorted(trail["seq"])

    def cli_verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mlops_jlab.cli", "audit", "verify"],
                              capture_output=True, text=True)

    ok = cli_verify()
    assert ok.returncode == 0 and "verified" in ok.stdout
    with db.write() as conn:  # edit an event
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :s"),
                     {"s": seqs[5]})
    result = mlops.verify_audit()
    assert not result.ok and [(p.seq, p.kind) for p in result.problems] == [(seqs[5], "edited")]
    bad = cli_verify()
    assert bad.returncode == 1 and f"#{seqs[5]} edited" in bad.stdout
    true_actor = trail.set_index("seq").loc[seqs[5], "actor"]
    with db.write() as conn:  # put it back: the chain verifies again
        conn.execute(text("UPDATE audit_events SET actor = :a WHERE seq = :s"),
                     {"a": true_actor, "s": seqs[5]})
    assert mlops.verify_audit().ok
    with db.write() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": seqs[8]})
    problems = mlops.verify_audit().problems
    assert (seqs[8], "deleted") in [(p.seq, p.kind) for p in problems]


def test_reordering_and_truncation_are_detected(validated):
    db = mlops.backend().db  # type: ignore[attr-defined]
    seqs = sorted(mlops.audit(limit=10_000)["seq"])
    with db.write() as conn:  # swap two events' places
        conn.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = :s"), {"s": seqs[3]})
        conn.execute(text("UPDATE audit_events SET seq = :a WHERE seq = :b"),
                     {"a": seqs[3], "b": seqs[4]})
        conn.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": seqs[4]})
    kinds = [(p.seq, p.kind) for p in mlops.verify_audit().problems]
    assert (seqs[3], "reordered") in kinds
    with db.write() as conn:  # put them back, then cut the tail
        conn.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = :s"), {"s": seqs[3]})
        conn.execute(text("UPDATE audit_events SET seq = :a WHERE seq = :b"),
                     {"a": seqs[3], "b": seqs[4]})
        conn.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": seqs[4]})
    assert mlops.verify_audit().ok
    with db.write() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": seqs[-1]})
    assert [p.kind for p in mlops.verify_audit().problems] == ["truncated"]


def test_model_card(validated, tmp_path):
    as_user("bob")
    mlops.set_intended_use("iris", 1, "Classifies <iris> species; not for medical use.")
    req = mlops.request_promotion("iris", 1, "ship it")
    as_user("carol")
    mlops.approve(req, comment="fine")
    card = mlops.model_card("iris", 1)
    md = card.to_markdown()
    for part in ("# Model card: iris v1", "not for medical use", "## Training data",
                 "accuracy", "## Validation (passed", "## Lineage", "ship it", "fine",
                 "alias.set", "@production", "iris-train", "sepal length (cm)"):
        assert part in md, part
    html_text = card.to_html()
    assert "&lt;iris&gt;" in html_text and "<iris>" not in html_text
    assert card.save(str(tmp_path / "card.html")).endswith("card.html")
    assert mlops.audit(action="card.update").iloc[0]["actor"] == "bob"


def test_production_deployments_follow_an_approved_promotion(validated):
    _version, (X_train, X_test, y_train, y_test) = validated
    as_user("bob")
    first = mlops.request_promotion("iris", 1)
    as_user("carol")
    mlops.approve(first, comment="v1")
    backend = mlops.backend()
    backend.serving.deploy("iris", "production", "carol", name="iris-prod",  # type: ignore[attr-defined]
                           environment="production")
    as_user("bob")
    with mlops.start_run(name="v2") as run:
        run.log_model(LogisticRegression(max_iter=300, C=2.0).fit(X_train, y_train),
                      input_example=X_train)
    mlops.register_model(run, "iris")
    mlops.validate("iris", 2, data=(X_test, y_test))
    second = mlops.request_promotion("iris", 2)
    as_user("carol")
    mlops.approve(second, comment="v2")
    dep = mlops.backend().serving.get("iris-prod")  # type: ignore[attr-defined]
    assert dep.desired["traffic"] == [{"version": 2, "weight": 100}]
    actions = list(mlops.audit(target="iris-prod")["action"])
    assert actions[:2] == ["deployment.update", "deployment.deploy"]


async def test_governance_over_rest(jp_fetch, validated):
    from tornado.httpclient import HTTPClientError

    async def call(*parts, **kw):
        response = await jp_fetch("mlops", "api", *parts, **kw)
        return response.code, (json.loads(response.body) if response.body and
                               response.headers.get("Content-Type", "").startswith(
                                   "application/json") else response.body)

    _, me = await call("me")  # Jupyter's shared token: the server's local user acts
    assert me["user"] == "alice" and me["role"] == "admin" and me["can"]["approve"]
    as_user("bob")
    req = mlops.request_promotion("iris", 1, "over REST")
    _, pending = await call("promotions", params={"status": "pending"})
    assert [p["id"] for p in pending["promotions"]] == [req.id]
    _, detail = await call("promotions", req.id)
    assert detail["validation"]["passed"] and detail["metrics_diff"][0]["metric"] == "accuracy"
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "promotions", req.id, "approve", method="POST",
                       body=json.dumps({"comment": ""}))
    assert info.value.code == 400
    _, done = await call("promotions", req.id, "approve", method="POST",
                         body=json.dumps({"comment": "approved in the panel"}))
    assert done["status"] == "approved" and done["decisions"][0]["user"] == "alice"
    with pytest.raises(HTTPClientError) as info:  # already @production
        await jp_fetch("mlops", "api", "models", "iris", "promotions", method="POST",
                       body=json.dumps({"version": 1}))
    assert info.value.code == 422
    _, verified = await call("audit", "verify")
    assert verified["ok"] and verified["events"] > 10
    _, page = await call("audit", params={"action": "promotion", "limit": "1"})
    assert page["events"][0]["action"] == "promotion.approve" and page["next"]
    code, csv_body = await call("audit", "export", params={"format": "csv"})
    assert code == 200 and csv_body.decode().startswith("seq,time,actor,action")
    _, policy = await call("models", "iris", "policy", method="PUT",
                           body=json.dumps({"required_approvals": 2}))
    assert policy == {"required_approvals": 2, "allow_self_approval": False}
    _, perms = await call("models", "iris", "permissions")
    assert perms["owner"] == "bob"
    _, card = await call("models", "iris", "versions", "1", "card",
                         params={"format": "html"})
    assert "Model card: iris v1" in card["html"]
    _, granted = await call("users", "dave", method="PUT",
                            body=json.dumps({"role": "contributor"}))
    assert granted["role"] == "contributor"
    for parts, body, status in ((("users", "dave"), {"role": "king"}, 400),
                                (("promotions", "0abc", "approve"), {"comment": "x"}, 404),
                                (("models", "iris", "policy"), {"nope": 1}, 400)):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("mlops", "api", *parts, method="PUT" if "users" in parts or
                           "policy" in parts else "POST", body=json.dumps(body))
        assert info.value.code == status
        assert json.loads(info.value.response.body)["message"]


def test_readers_restrict_who_sees_a_model_or_an_experiment(validated):
    as_user("alice")
    mlops.grant("zed", "contributor")
    as_user("bob")
    mlops.set_permissions("model", "iris", readers=["dave"])
    mlops.set_permissions("experiment", "Default", readers=["dave"])
    as_user("zed")
    with pytest.raises(PermissionDenied, match="readable only"):
        mlops.get_model_version("iris", 1)
    assert "iris" not in [m.name for m in mlops.list_models()]
    assert mlops.search_runs().empty
    assert "Default" not in [e.name for e in mlops.list_experiments()]
    with mlops.start_run(experiment="zed-team", name="mine"):
        pass
    assert list(mlops.search_runs()["name"]) == ["mine"]
    for reader in ("dave", "alice", "bob"):  # a reader, an admin, the owner
        as_user(reader)
        assert mlops.get_model_version("iris", 1).version == 1
        assert len(mlops.search_runs("Default")) == 1


@pytest.mark.team_only
def test_four_eyes_in_team_mode_with_api_tokens(mlops_home, monkeypatch):
    """Over HttpBackend: the shared token acts as the server's user; per-user tokens
    act as bob and carol, and the server holds each to their role."""
    me = mlops.whoami()
    assert me["role"] == "admin", me
    mlops.grant("bob", "contributor")
    mlops.grant("carol", "approver")
    tokens = {name: mlops.issue_token(name) for name in ("bob", "carol")}

    def as_token(name: str) -> None:
        monkeypatch.setenv("MLOPS_JLAB_TOKEN", tokens[name])
        monkeypatch.delenv("MLOPS_JLAB_USER", raising=False)  # in team mode the token decides
        mlops.configure()
        assert mlops.whoami()["user"] == name

    X, y = load_iris(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1, stratify=y)
    as_token("bob")
    with mlops.start_run(name="team") as run:
        run.log_model(LogisticRegression(max_iter=500).fit(X_train, y_train),
                      input_example=X_train)
    mlops.register_model(run, "iris")
    assert mlops.validate("iris", 1, data=(X_test, y_test)).passed
    req = mlops.request_promotion("iris", 1, "from bob's kernel")
    with pytest.raises(PermissionDenied, match="approver role"):  # a contributor
        mlops.approve(req, comment="mine")
    as_token("carol")
    assert [p.id for p in mlops.promotions(status="pending")] == [req.id]
    assert mlops.approve(req, comment="carol approves").status == "approved"
    assert mlops.get_model_version("iris", "production").version == 1
    assert mlops.verify_audit().ok
    assert mlops.audit(action="promotion.approve").iloc[0]["actor"] == "carol"
    assert "carol approves" in mlops.model_card("iris", 1).to_markdown()


def test_the_chain_stays_linear_under_concurrent_writers(team):
    """Threads writing at once (SQLite here; PostgreSQL in the CI's second pass) still
    leave one unbroken chain: appends serialize on the chain head."""
    from concurrent.futures import ThreadPoolExecutor

    as_user("bob")
    tracking = mlops.backend().tracking  # type: ignore[attr-defined]

    def work(i: int) -> None:
        run = tracking.create_run("bob", "parallel", name=f"r{i}", params={"i": i})
        tracking.set_tags(run.id, {"k": i}, "bob")
        tracking.end_run(run.id, "bob")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(work, range(60)))
    result = mlops.verify_audit()
    assert result.ok, str(result)
    trail = mlops.audit(actor="bob", limit=10_000)
    assert (trail["action"] == "run.create").sum() == 60
    assert (trail["action"] == "run.end").sum() == 60


def test_new_users_arriving_at_once_make_exactly_one_admin(mlops_home):
    """The first user of an empty store is admin even when several arrive together
    (SQLite here; PostgreSQL in the CI's second pass)."""
    from concurrent.futures import ThreadPoolExecutor

    access = mlops.backend().access  # type: ignore[attr-defined]
    names = [f"user{i}" for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        roles = list(pool.map(lambda n: access.whoami(n)["role"], names))
    assert sorted(roles) == ["admin"] + ["viewer"] * 7
    assert mlops.verify_audit().ok


def test_a_restricted_run_leaks_through_no_side_door(mlops_home):
    """Registering a run, nesting under it and validating on its dataset all take
    reading it: otherwise a version, a child run or a validation report of one's own
    would copy a restricted run's params, columns and data out (found attacking issue
    17's fixes from outside)."""
    as_user("alice")
    mlops.grant("cory", "contributor")
    mlops.grant("carl", "contributor")
    X, y = load_iris(return_X_y=True, as_frame=True)
    as_user("cory")
    with mlops.start_run(experiment="cory-secret", params={"db_password": "s3cret"}) as run:
        run.log_dataset(X.assign(target=y), "cory-train")
        run.log_model(LogisticRegression(max_iter=500).fit(X, y), input_example=X)
    exp = mlops.get_experiment("cory-secret")
    mlops.set_permissions("experiment", exp.id, readers=["cory"], writers=["cory"])
    as_user("carl")
    with pytest.raises(PermissionDenied):
        mlops.register_model(run.id, "carl-copy")
    with pytest.raises(PermissionDenied):
        mlops.backend().create_run(experiment="carl-exp", parent_run_id=run.id)
    with mlops.start_run(experiment="carl-exp") as own:
        own.log_model(LogisticRegression(max_iter=500).fit(X, y), input_example=X)
    mlops.register_model(own, "carl-model")
    with pytest.raises(PermissionDenied, match="may not read"):
        mlops.backend().registry.validate_with_dataset(
            "carl-model", 1, "cory-train", "target", "carl")
    as_user("cory")  # the owner still can, and carl's refusal changed nothing
    assert mlops.register_model(run.id, "cory-model").version == 1
