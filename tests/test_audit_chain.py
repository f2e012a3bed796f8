"""The keyed audit chain, from the attacker's side (issue 17, section 4).

The attacker here has write access to the database (raw SQL on the store's SQLite file)
and sometimes to the anchor folder, but not to the audit key file. Each test tampers
the way such an attacker would and checks that ``mlops-jlab audit verify`` names the
damage and exits non-zero. The attacker's MACs are computed in this file from the
documented algorithm (not with the module's helpers), and a control test shows that
the same re-chaining *with* the real key passes: what is caught is caught for lack of
the key.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import secrets
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import inspect, text

import mlops_jlab as mlops
from mlops_jlab.cli import main
from mlops_jlab.errors import AuditKeyError, PermissionDenied, RuleViolation
from mlops_jlab.governance.anchors import AUDITOR, AnchorLoop
from mlops_jlab.governance.audit import AuditLog
from mlops_jlab.governance.audit_keys import KeyFile, key_id, parse
from mlops_jlab.store import Database

GENESIS = "0" * 64


# ---------------------------------------------------------------- the attacker's tools
def forge(key: bytes | None, prev: str, event: dict[str, Any]) -> str:
    """The MAC (key) or legacy sha256 (None) of an event, computed independently of
    mlops_jlab: canonical JSON with sorted keys, the previous MAC as "prev"."""
    body = orjson.dumps({"prev": prev, "time": event["time"], "actor": event["actor"],
                         "action": event["action"], "target_type": event["target_type"],
                         "target": event["target"], "before": event["before"],
                         "after": event["after"]}, option=orjson.OPT_SORT_KEYS)
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _json(value: Any) -> Any:
    return None if value is None or isinstance(value, (dict, list)) else value


def rows(db: Database, since: int = 1) -> list[dict[str, Any]]:
    with db.read() as conn:
        out = [dict(r._mapping) for r in conn.execute(text(
            'SELECT seq, "time", actor, "action", target_type, target, "before", "after", '
            'prev_hash, "hash", key_id FROM audit_events WHERE seq >= :s ORDER BY seq'),
            {"s": since})]
    for row in out:
        for col in ("before", "after"):
            if isinstance(row[col], str):
                row[col] = json.loads(row[col])
    return out


def sql(db: Database, statement: str, **params: Any) -> None:
    with db.write() as conn:
        conn.execute(text(statement), params)


def rechain(db: Database, start: int, key: bytes | None, kid: str | None,
            edit: dict[str, Any] | None = None) -> None:
    """Rewrite #start (its ``after`` replaced by ``edit``), recompute the MAC of it and
    of every later event with ``key`` (None: plain sha256), and move the head."""
    events = rows(db, start)
    prev = rows(db, start - 1)[0]["hash"] if start > 1 else GENESIS
    with db.write() as conn:
        for i, event in enumerate(events):
            if i == 0 and edit is not None:
                event["after"] = edit
            event["prev_hash"], event["hash"] = prev, forge(key, prev, event)
            conn.execute(text('UPDATE audit_events SET "after" = :a, prev_hash = :p, '
                              '"hash" = :h, key_id = :k WHERE seq = :s'),
                         {"a": json.dumps(event["after"]), "p": prev, "h": event["hash"],
                          "k": kid, "s": event["seq"]})
            prev = event["hash"]
        conn.execute(text('UPDATE audit_head SET "hash" = :h WHERE id = 1'), {"h": prev})


def truncate(db: Database, keep: int) -> None:
    """Delete every event after #keep and move the head back to #keep."""
    last = rows(db, keep)[0]
    sql(db, "DELETE FROM audit_events WHERE seq > :k", k=keep)
    sql(db, 'UPDATE audit_head SET seq = :s, "hash" = :h WHERE id = 1', s=keep,
        h=last["hash"])


# ---------------------------------------------------------------- fixtures
def as_user(name: str) -> None:
    mlops.configure(user=name)


@pytest.fixture
def store(mlops_home: Path) -> dict[str, Any]:
    """Ten keyed events: alice is created (#1) and grants nine roles (#2..#10)."""
    as_user("alice")
    mlops.whoami()
    for i in range(9):
        mlops.grant(f"user{i}", "viewer")
    backend = mlops.backend()
    audit: AuditLog = backend.access.audit  # type: ignore[attr-defined]
    assert audit.head()["seq"] == 10
    return {"home": mlops_home, "db": backend.db, "audit": audit,  # type: ignore[attr-defined]
            "key_file": mlops_home / "audit.key", "anchors": mlops_home / "audit-anchors"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``mlops-jlab ARGS`` in this process: exit code and stdout + stderr."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def kinds(result: Any) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in result.problems]


# ---------------------------------------------------------------- tampering with events
def test_an_untouched_chain_verifies_and_says_what_it_checked(store, capsys):
    code, out = cli(capsys, "audit", "verify")
    assert code == 0 and "verified: 10 events, 10 HMAC-SHA256" in out
    events = rows(store["db"])
    assert {e["key_id"] for e in events} == {parse(store["key_file"].read_bytes())
                                             .current_id}


def test_editing_one_events_after_is_reported(store, capsys):
    sql(store["db"], 'UPDATE audit_events SET "after" = :a WHERE seq = 5',
        a=json.dumps({"role": "admin"}))
    assert kinds(store["audit"].verify()) == [(5, "edited")]
    code, out = cli(capsys, "audit", "verify")
    assert code == 1 and "#5 edited" in out and "role.grant user3 by alice" in out


@pytest.mark.parametrize("statement", [
    """UPDATE audit_events SET "after" = 'not json{' WHERE seq = 10""",
    "DELETE FROM audit_head"])
def test_rows_that_no_longer_parse_are_reported_not_a_traceback(store, capsys, statement):
    sql(store["db"], statement)
    assert kinds(store["audit"].verify()) == [(0, "unreadable")]
    code, out = cli(capsys, "audit", "verify")
    assert code == 1 and "unreadable" in out and "Traceback" not in out


def test_deleting_a_middle_event_is_reported(store, capsys):
    sql(store["db"], "DELETE FROM audit_events WHERE seq = 6")
    assert kinds(store["audit"].verify()) == [(6, "deleted")]
    code, out = cli(capsys, "audit", "verify")
    assert code == 1 and "#6 deleted: event #6 is missing" in out


def test_inserting_a_forged_event_is_reported(store, capsys):
    forged = {"time": 1_800_000_000_000, "actor": "alice", "action": "role.grant",
              "target_type": "user", "target": "mallory", "before": None,
              "after": {"role": "admin"}}
    prev = rows(store["db"], 10)[0]["hash"]
    digest = forge(secrets.token_bytes(32), prev, forged)
    sql(store["db"], 'INSERT INTO audit_events (seq, "time", actor, "action", target_type, '
        'target, "before", "after", prev_hash, "hash", key_id) VALUES (11, :time, :actor, '
        ':action, :target_type, :target, NULL, :after, :prev, :hash, :kid)',
        **{**forged, "after": json.dumps(forged["after"])}, prev=prev, hash=digest,
        kid=rows(store["db"], 10)[0]["key_id"])
    result = store["audit"].verify()  # the head still says #10
    assert kinds(result) == [(11, "truncated")]
    assert "beyond the chain head #10" in result.problems[0].message
    sql(store["db"], 'UPDATE audit_head SET seq = 11, "hash" = :h WHERE id = 1', h=digest)
    assert kinds(store["audit"].verify()) == [(11, "edited")]
    code, out = cli(capsys, "audit", "verify")
    assert code == 1 and "#11 edited: #11 (role.grant mallory by alice)" in out


def test_cutting_the_tail_behind_an_anchor_is_reported(store, capsys):
    code, out = cli(capsys, "audit", "anchor")  # anchors #10, recorded as #11
    assert code == 0 and "anchored audit head #10" in out
    for i in range(3):
        mlops.grant(f"late{i}", "viewer")  # #12..#14
    truncate(store["db"], 8)  # delete #9..#14, head moved back to #8
    result = store["audit"].verify()
    assert kinds(result) == [(9, "truncated")]
    assert "the chain ends at #8 but anchor anchor-000000000010-" in result.problems[0].message
    run = subprocess.run([sys.executable, "-m", "mlops_jlab.cli", "audit", "verify"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "#9 truncated" in run.stdout


@pytest.mark.parametrize("how", ["sha256 without key id", "sha256 with the key id",
                                 "HMAC with a wrong key", "HMAC with a made-up key"])
def test_rewriting_and_rechaining_without_the_key_is_reported(store, capsys, how):
    real_id = rows(store["db"])[0]["key_id"]
    wrong = secrets.token_bytes(32)
    key, kid = {"sha256 without key id": (None, None),
                "sha256 with the key id": (None, real_id),
                "HMAC with a wrong key": (wrong, real_id),
                "HMAC with a made-up key": (wrong, key_id(wrong))}[how]
    rechain(store["db"], 4, key, kid, edit={"role": "admin"})
    result = store["audit"].verify()
    expected = "downgraded" if kid is None else "rewritten"
    assert kinds(result) == [(4, expected)]
    assert "7 events #4..#10" in result.problems[0].message
    if how == "HMAC with a made-up key":
        assert "which" in result.problems[0].message and "does not hold" in \
            result.problems[0].message
    code, out = cli(capsys, "audit", "verify")
    assert code == 1 and f"#4 {expected}" in out


def test_control_rechaining_with_the_real_key_passes_without_anchors(store):
    """What the key buys: the same rewrite, MACed with the real key, is invisible to
    the chain alone (docs/audit.md: an attacker holding the key file)."""
    keyring = parse(store["key_file"].read_bytes())
    rechain(store["db"], 4, keyring.current, keyring.current_id, edit={"role": "admin"})
    assert store["audit"].verify().ok


def test_an_anchor_catches_a_rewrite_even_by_a_key_holder(store, capsys):
    assert cli(capsys, "audit", "anchor")[0] == 0  # anchors #10
    keyring = parse(store["key_file"].read_bytes())
    rechain(store["db"], 4, keyring.current, keyring.current_id, edit={"role": "admin"})
    result = store["audit"].verify()
    assert kinds(result) == [(10, "rewritten")]
    assert "after it was anchored" in result.problems[0].message
    assert cli(capsys, "audit", "verify")[0] == 1


def test_a_rewrite_below_an_anchor_without_the_key_is_reported_twice(store):
    assert store["audit"].anchor("alice") is not None  # anchors #10 (event #11)
    rechain(store["db"], 3, secrets.token_bytes(32), rows(store["db"])[0]["key_id"],
            edit={"x": 1})
    assert kinds(store["audit"].verify()) == [(3, "rewritten"), (10, "rewritten")]


# ---------------------------------------------------------------- tampering with anchors
def test_a_forged_anchor_is_reported(store, capsys):
    store["audit"].anchor("alice")
    truncate(store["db"], 10)  # drop the anchor's own event: nothing missing in chain
    folder = store["anchors"]
    real = next(folder.glob("anchor-*.json"))
    # a forged anchor vouching for a head the attacker made up, signed with a guess
    fake_key = secrets.token_bytes(32)
    forged = {"version": 1, "seq": 10, "mac": "f" * 64, "time": 1_800_000_000_000,
              "key_id": parse(store["key_file"].read_bytes()).current_id}
    body = b"mlops-jlab audit anchor v1\n" + orjson.dumps(forged, option=orjson.OPT_SORT_KEYS)
    forged["signature"] = hmac.new(fake_key, body, hashlib.sha256).hexdigest()
    (folder / "anchor-000000000010-20270115T080000000Z.json").write_text(json.dumps(forged))
    result = store["audit"].verify()
    assert kinds(result) == [(10, "forged_anchor")]
    assert "signature does not verify" in result.problems[0].message
    # an altered genuine anchor and a file that is not an anchor at all
    altered = json.loads(real.read_text())
    altered["seq"] = 9
    real.write_text(json.dumps(altered))
    (folder / "anchor-junk.json").write_text("not json")
    found = kinds(store["audit"].verify())
    assert sorted(found) == [(0, "forged_anchor"), (9, "forged_anchor"),
                             (10, "forged_anchor")]
    code, out = cli(capsys, "audit", "verify")
    assert code == 1 and "forged_anchor" in out and "anchor-junk.json" in out


def test_deleting_anchors_is_reported(store, capsys):
    audit = store["audit"]
    first = audit.anchor("alice")
    mlops.grant("late", "viewer")
    audit.anchor("alice")
    folder = store["anchors"]
    (folder / first.file).unlink()
    result = audit.verify()
    assert kinds(result) == [(10, "missing_anchor")]
    assert first.file in result.problems[0].message
    # the whole folder gone: the chain still knows anchors were written there
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    result = audit.verify()
    assert [k for _, k in kinds(result)] == ["missing_anchor"]
    assert "does not exist" in result.problems[0].message
    code, out = cli(capsys, "audit", "verify")
    assert code == 1 and "anchors were deleted" in out


def test_deleting_anchors_and_cutting_the_chain_before_them_is_reported(store, capsys):
    audit = store["audit"]
    audit.anchor("alice")  # anchors #10, event #11
    for path in store["anchors"].iterdir():
        path.unlink()
    truncate(store["db"], 7)  # the anchor's event goes with the tail
    result = audit.verify()  # the (empty) default folder still exists
    assert kinds(result) == [(0, "missing_anchor")]
    assert "holds no anchors" in result.problems[0].message
    store["anchors"].rmdir()
    assert audit.verify().ok  # without anchors, the cut is invisible (docs/audit.md)
    code, out = cli(capsys, "audit", "verify", "--anchors", str(store["anchors"]))
    assert code == 1 and "holds no anchors (it does not exist)" in out


def test_anchors_under_an_fsspec_url(store, capsys):
    url = f"memory://audit-anchors-{secrets.token_hex(4)}"
    code, out = cli(capsys, "audit", "anchor", "--to", url)
    assert code == 0 and "anchored audit head #10" in out and "to memory://" in out
    assert cli(capsys, "audit", "verify", "--anchors", url)[0] == 0
    truncate(store["db"], 5)
    code, out = cli(capsys, "audit", "verify", "--anchors", url)
    assert code == 1 and "#6 truncated" in out


def test_anchors_are_new_files_never_overwritten(store):
    audit = store["audit"]
    first = audit.anchor("alice")
    second = audit.anchor("alice")
    assert first is not None and second is not None and first.file != second.file
    assert first.file.startswith("anchor-000000000010-")
    assert second.file.startswith("anchor-000000000011-")
    assert len(list(store["anchors"].glob("anchor-*.json"))) == 2


def test_scheduled_anchors_only_when_the_head_moved(store):
    audit = store["audit"]
    first = audit.anchor(AUDITOR, only_if_moved=True)
    assert first is not None and first.anchor.seq == 10
    assert audit.anchor(AUDITOR, only_if_moved=True) is None  # only its own event since
    mlops.grant("late", "viewer")
    again = audit.anchor(AUDITOR, only_if_moved=True)
    assert again is not None and again.anchor.seq == 12
    written = threading.Event()
    results: list[Any] = []

    def write() -> None:
        results.append(audit.anchor(AUDITOR, only_if_moved=True))
        written.set()

    mlops.grant("later", "viewer")
    loop = AnchorLoop(write, interval=0.01)
    loop.start()
    try:
        assert written.wait(60)
    finally:
        loop.stop()
    assert results[0] is not None and results[0].anchor.seq == 14
    assert audit.verify().ok


def test_an_anchor_never_vouches_for_a_broken_head(store, capsys):
    sql(store["db"], "UPDATE audit_events SET actor = 'mallory' WHERE seq = 10")
    with pytest.raises(RuleViolation, match="not anchoring"):
        store["audit"].anchor("alice")
    code, out = cli(capsys, "audit", "anchor")
    assert code == 2 and "not anchoring the audit head #10" in out
    assert not store["anchors"].exists()


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_anchors_can_be_posted_to_a_webhook(store, capsys, monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/anchors"
    try:
        code, out = cli(capsys, "audit", "anchor", "--webhook", url)
        assert code == 1 and "webhook FAILED" in out and "private" in out  # SSRF check
        monkeypatch.setenv("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", "1")
        code, out = cli(capsys, "audit", "anchor", "--webhook", url)
        assert code == 0 and "webhook delivered" in out
    finally:
        server.shutdown()
        server.server_close()
    posted = _Hook.received[-1]
    on_disk = json.loads((store["anchors"] / posted["file"]).read_text())
    assert posted["anchor"] == on_disk and posted["kind"] == "mlops-jlab.audit.anchor"
    assert store["audit"].verify().ok


# ---------------------------------------------------------------- the key file
def test_the_key_file_is_created_0600_with_32_random_bytes(store):
    path = store["key_file"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keyring = parse(path.read_bytes())
    assert len(keyring.keys) == 1 and len(keyring.current) == 32
    assert keyring.current.hex() not in repr(keyring)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_key_file_readable_by_others_is_refused(store, capsys):
    os.chmod(store["key_file"], 0o644)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        mlops.grant("eve", "viewer")
    code, out = cli(capsys, "audit", "verify")
    assert code == 2 and "readable or writable by group or others" in out
    os.chmod(store["key_file"], 0o600)
    assert store["audit"].verify().ok


def test_creators_racing_for_the_key_file_agree_on_one_key(tmp_path):
    path = tmp_path / "keys" / "audit.key"
    barrier = threading.Barrier(8)
    ids: list[str] = []

    def create() -> None:
        kf = KeyFile(path)  # one per thread: nothing shared but the file system
        barrier.wait()
        ring = kf.keyring()
        assert ring is not None
        ids.append(ring.current_id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]


def test_a_raw_32_byte_key_file_is_accepted(tmp_path):
    path = tmp_path / "raw.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, secrets.token_bytes(32))
    os.close(fd)
    db = Database(f"sqlite:///{tmp_path / 'raw.db'}")
    log = AuditLog(db, key=path)
    with db.write() as conn:
        log.append(conn, "alice", "test.event", "test", "x", None, {"n": 1})
    assert log.verify().ok and log.verify().key_ids == [key_id(path.read_bytes())]
    db.dispose()


# ---------------------------------------------------------------- rotation
def test_rotation_keeps_old_events_verifiable(store, capsys):
    old = parse(store["key_file"].read_bytes())
    code, out = cli(capsys, "audit", "rotate-key")
    assert code == 0 and "rotated the audit key" in out
    new = parse(store["key_file"].read_bytes())
    assert new.keys[:-1] == old.keys and new.current_id != old.current_id
    assert stat.S_IMODE(store["key_file"].stat().st_mode) == 0o600
    mlops.grant("after", "viewer")
    events = rows(store["db"])
    rotate = events[10]
    assert rotate["action"] == "audit.key_rotate" and rotate["key_id"] == old.current_id
    assert rotate["after"]["key_id"] == new.current_id
    assert new.current.hex() not in json.dumps(events)  # the key itself is never stored
    assert events[11]["key_id"] == new.current_id
    result = store["audit"].verify()
    assert result.ok and result.key_ids == [old.current_id, new.current_id]
    # a second rotation, then the chain still verifies end to end
    assert cli(capsys, "audit", "rotate-key")[0] == 0
    mlops.grant("after2", "viewer")
    assert cli(capsys, "audit", "verify")[0] == 0
    # dropping the old keys from the file makes the old events unverifiable
    latest = parse(store["key_file"].read_bytes())
    store["key_file"].write_bytes(latest.render().replace(
        f"{old.current_id} {old.current.hex()}\n".encode(), b""))
    result = store["audit"].verify()
    assert kinds(result) == [(1, "rewritten")] and "does not hold" in \
        result.problems[0].message


def test_writing_with_a_retired_key_after_a_rotation_is_reported(store):
    from mlops_jlab.client.governance import rotate_audit_key

    old = parse(store["key_file"].read_bytes())
    rotate_audit_key()
    stale = AuditLog(store["db"], key=old.current)  # a process holding the old key
    with store["db"].write() as conn:
        seq = stale.append(conn, "mallory", "role.grant", "user", "mallory", None,
                           {"role": "admin"})
    assert kinds(store["audit"].verify()) == [(seq, "stale_key")]


def test_only_admins_rotate_the_key(store, capsys):
    as_user("user0")
    from mlops_jlab.client.governance import rotate_audit_key

    with pytest.raises(PermissionDenied):
        rotate_audit_key()
    code, out = cli(capsys, "audit", "rotate-key")
    assert code == 2 and "admin" in out


# ---------------------------------------------------------------- upgraded stores
def _legacy_store(url: str, count: int) -> None:
    """A store at revision 0008 with ``count`` events chained with plain sha256, as
    mlops_jlab wrote them before keyed MACs."""
    from alembic import command
    from alembic.config import Config

    from mlops_jlab.store.migrations import HERE

    db = Database(url, migrate=False)
    with db.write() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(HERE))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    prev = GENESIS
    with db.write() as conn:
        for seq in range(1, count + 1):
            event = {"time": 1_700_000_000_000 + seq, "actor": "alice",
                     "action": "role.grant", "target_type": "user", "target": f"old{seq}",
                     "before": None, "after": {"role": "viewer"}}
            digest = forge(None, prev, event)
            conn.execute(text(
                'INSERT INTO audit_events (seq, "time", actor, "action", target_type, '
                'target, "before", "after", prev_hash, "hash") VALUES (:seq, :time, '
                ':actor, :action, :target_type, :target, NULL, :after, :prev, :hash)'),
                {**event, "seq": seq, "after": json.dumps(event["after"]), "prev": prev,
                 "hash": digest})
            prev = digest
        conn.execute(text('UPDATE audit_head SET seq = :s, "hash" = :h WHERE id = 1'),
                     {"s": count, "h": prev})
    db.dispose()


def test_an_upgraded_legacy_store_verifies_and_catches_a_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    _legacy_store(url, 5)
    db = Database(url)  # migrates 0008 -> 0009
    columns = {c["name"]: c for c in inspect(db.engine).get_columns("audit_events")}
    assert columns["key_id"]["nullable"]
    key_file = tmp_path / "home" / "audit.key"
    log = AuditLog(db, key=key_file)
    result = log.verify()
    assert result.ok and result.legacy == 5 and result.key_ids == []
    assert not key_file.exists()  # verifying creates no key
    for i in range(3):
        with db.write() as conn:
            log.append(conn, "alice", "role.grant", "user", f"new{i}", None, {"role": "x"})
    result = log.verify()
    assert result.ok and result.legacy == 5 and result.events == 8
    assert "5 legacy sha256" in str(result)
    assert [e["key_id"] is None for e in rows(db)] == [True] * 5 + [False] * 3
    # an edited legacy event is still caught
    sql(db, 'UPDATE audit_events SET target = :t WHERE seq = 2', t="someone-else")
    assert kinds(log.verify()) == [(2, "edited")]
    sql(db, 'UPDATE audit_events SET target = :t WHERE seq = 2', t="old2")
    # the attacker turns keyed events back into legacy ones
    rechain(db, 7, None, None, edit={"role": "admin"})
    result = log.verify()
    assert kinds(result) == [(7, "downgraded")] and result.legacy == 7
    db.dispose()


def test_an_anchor_catches_a_downgrade_of_every_keyed_event(tmp_path):
    """Rewritten as legacy from the first keyed event on, the chain looks like a store
    never upgraded (docs/audit.md); an anchor written after the upgrade catches it."""
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    _legacy_store(url, 5)
    db = Database(url)
    log = AuditLog(db, key=tmp_path / "audit.key", anchors=str(tmp_path / "anchors"))
    with db.write() as conn:
        log.append(conn, "alice", "role.grant", "user", "new", None, {"role": "x"})
    assert log.anchor("alice") is not None  # anchors #6
    rechain(db, 6, None, None)
    assert log.verify(anchors=None).legacy == 7
    assert kinds(log.verify()) == [(6, "rewritten")]
    db.dispose()


# ---------------------------------------------------------------- settings and the server
def test_the_key_file_setting_resolves_like_the_others(tmp_path):
    from mlops_jlab import config

    s = config.resolve(environ={"MLOPS_JLAB_HOME": "/data/m"})
    assert s.audit_key_file == Path("/data/m/audit.key")
    assert s.audit_anchors == "/data/m/audit-anchors"
    env = {"MLOPS_JLAB_HOME": "/data/m", "MLOPS_JLAB_AUDIT_KEY_FILE": "/secrets/a.key"}
    assert config.resolve(environ=env).audit_key_file == Path("/secrets/a.key")
    assert config.resolve(audit_key_file="/x.key", environ=env).audit_key_file == \
        Path("/x.key")
    assert config.store_env(config.resolve(environ=env))["MLOPS_JLAB_AUDIT_KEY_FILE"] == \
        "/secrets/a.key"


@pytest.fixture
def jp_server_config(mlops_home: Path, tmp_path: Path) -> dict[str, Any]:
    """The server with its own key file and anchor folder, anchoring every 0.05 s."""
    return {"ServerApp": {"jpserver_extensions": {"mlops_jlab": True},
                          "allow_unauthenticated_access": False},
            "MlopsJlab": {"home": str(mlops_home),
                          "audit_key_file": str(tmp_path / "server.key"),
                          "audit_anchors": str(tmp_path / "server-anchors"),
                          "audit_anchor_interval": 0.05}}


async def test_the_server_keys_anchors_and_verifies_with_its_traits(jp_fetch, mlops_home,
                                                                     tmp_path):
    import asyncio

    response = await jp_fetch("mlops", "api", "experiments", method="POST",
                              body=json.dumps({"name": "keyed"}),
                              headers={"Content-Type": "application/json"})
    assert response.code == 201
    key_file, anchors = tmp_path / "server.key", tmp_path / "server-anchors"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not (mlops_home / "audit.key").exists()
    assert os.environ["MLOPS_JLAB_AUDIT_KEY_FILE"] == str(key_file)  # for its kernels
    for _ in range(600):  # the server's anchor loop writes one once it leads
        if list(anchors.glob("anchor-*.json")):
            break
        await asyncio.sleep(0.1)
    body = json.loads((await jp_fetch("mlops", "api", "audit", "verify")).body)
    assert body["ok"], body["problems"]
    assert body["key_ids"] == [parse(key_file.read_bytes()).current_id]
    assert body["anchors"]["location"] == str(anchors) and body["anchors"]["count"] >= 1
    assert body["anchors"]["latest"]["seq"] >= 2 and body["legacy"] == 0
    db = Database(f"sqlite:///{mlops_home / 'mlops.db'}")
    try:
        truncate(db, 1)  # only user.create is left; the anchor of #2 remembers more
    finally:
        db.dispose()
    body = json.loads((await jp_fetch("mlops", "api", "audit", "verify")).body)
    assert not body["ok"]
    assert {p["kind"] for p in body["problems"]} <= {"truncated", "rewritten"}
