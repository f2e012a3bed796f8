"""Schedules: validation, firing with a fake clock (real notebook executions), missed
fire times reported after an outage, pause/resume, recovery, the REST routes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.config import store_env
from mlops_jlab.scheduling import ScheduleService
from mlops_jlab.scheduling.runner import ScheduleRunner
from tests.helpers.notebooks import write_notebook


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


class Clock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self, iso: str) -> None:
        self.now = _ms(iso) / 1000

    def set(self, iso: str) -> None:
        self.now = _ms(iso) / 1000

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "nightly.ipynb", "alpha = 1",
                          "import mlops_jlab as mlops\nmlops.log_metric('alpha', alpha)")


@pytest.fixture
def clock():
    return Clock("2026-01-01T00:01:00")


@pytest.fixture
def service(mlops_home, clock):
    b = mlops.backend()
    return ScheduleService(b.db, b.access, clock=clock)


@pytest.fixture
def runner(service):
    r = ScheduleRunner(service, store_env(mlops.backend().settings), interval=3600)
    yield r
    r.stop()


def test_a_schedule_fires_with_a_fake_clock(service, runner, clock, notebook):
    created = service.create("alice", "nightly", "*/5 * * * *", "notebook", str(notebook),
                             parameters={"alpha": 7}, experiment="scheduled")
    assert created["next_run_at"] == _ms("2026-01-01T00:05:00")
    assert created["description"] == "Every fifth minute of every hour"
    clock.set("2026-01-01T00:04:59")
    assert runner.tick() == []
    clock.set("2026-01-01T00:05:20")
    (future,) = runner.tick()
    outcome = future.result(timeout=180)
    assert outcome["status"] == "succeeded", outcome
    info = service.get("nightly")
    assert info["next_run_at"] == _ms("2026-01-01T00:10:00") and not info["running"]
    (firing,) = info["history"]
    assert firing["trigger"] == "cron" and firing["status"] == "succeeded"
    assert firing["scheduled_for"] == _ms("2026-01-01T00:05:00")
    run = mlops.get_run(firing["run_id"]).info
    assert run.status == "finished" and run.experiment_name == "scheduled"
    assert run.params["alpha"] == "7" and run.metrics["alpha"] == 7
    assert run.tags["mlops.schedule"] == "nightly"
    assert run.tags["mlops.schedule_firing"] == firing["id"]
    assert run.user == "alice"  # the schedule's creator
    assert runner.tick() == []  # fired once per fire time


def test_fire_times_missed_while_down_are_reported_and_one_catches_up(service, runner,
                                                                     clock, notebook):
    service.create("alice", "often", "*/5 * * * *", "notebook", str(notebook))
    clock.set("2026-01-01T00:33:00")  # down since 00:01: 00:05 ... 00:30 passed unseen
    (future,) = runner.tick()
    assert future.result(timeout=180)["status"] == "succeeded"
    info = service.get("often")
    history = info["history"]
    assert [h["status"] for h in history] == ["succeeded"] + ["missed"] * 5
    assert history[0]["trigger"] == "catch-up"  # 3 minutes late: past the grace period
    assert history[0]["scheduled_for"] == _ms("2026-01-01T00:30:00")
    assert history[-1]["scheduled_for"] == _ms("2026-01-01T00:05:00")
    assert "not running" in history[-1]["error"]
    assert info["missed"] == 5 and info["last"]["status"] == "succeeded"
    assert info["next_run_at"] == _ms("2026-01-01T00:35:00")


def test_pause_resume_update_and_recover(service, runner, clock, notebook):
    service.create("alice", "p", "0 2 * * *", "notebook", str(notebook),
                   timezone="Europe/Paris")
    assert service.get("p")["next_run_at"] == _ms("2026-01-01T01:00:00")  # 02:00 Paris
    paused = service.update("p", "alice", paused=True)
    assert paused["paused"] and paused["next_run_at"] is None
    clock.set("2026-01-03T00:00:00")
    assert runner.tick() == []
    resumed = service.update("p", "alice", paused=False, cron="30 3 * * *")
    assert resumed["next_run_at"] == _ms("2026-01-03T02:30:00")
    assert resumed["cron"] == "30 3 * * *"
    _, firing = service.start_manual("p", "alice")
    with pytest.raises(mlops.Conflict, match="running already"):
        service.start_manual("p", "alice")
    assert service.recover() == 1  # a process stopped while it ran
    (row,) = service.get("p")["history"]
    assert row["id"] == firing["id"] and row["status"] == "failed"
    assert "interrupted" in row["error"] and row["trigger"] == "manual"
    actions = [e["action"] for e in mlops.audit(target="p").to_dict("records")]
    assert {"schedule.create", "schedule.pause", "schedule.resume", "schedule.run"} <= \
        set(actions)


@pytest.mark.parametrize("kwargs,message", [
    ({"cron_expr": "61 * * * *"}, "bad minute"),
    ({"cron_expr": "* * *"}, "five fields"),
    ({"timezone": "Mars/Olympus"}, "unknown timezone"),
    ({"kind": "script"}, "kind must be"),
    ({"path": "missing.ipynb"}, "no such notebook"),
    ({"name": "../x"}, "not allowed"),
    ({"parameters": [1]}, "must be an object"),
])
def test_bad_schedules_are_refused(service, notebook, kwargs, message):
    args = {"name": "ok", "cron_expr": "0 * * * *", "kind": "notebook",
            "path": str(notebook)}
    args.update(kwargs)
    user = "alice"
    with pytest.raises(mlops.InvalidInput, match=message):
        service.create(user, args.pop("name"), args.pop("cron_expr"), args.pop("kind"),
                       args.pop("path"), **args)
    assert service.list() == []


def test_python_api_and_pipeline_targets(mlops_home, tmp_path, notebook):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: []")
    with pytest.raises(mlops.InvalidInput, match="non-empty list"):
        mlops.create_schedule("pipe", "0 3 * * *", bad)
    created = mlops.create_schedule("nb", "0 3 * * 1-5", notebook, parameters={"alpha": 2})
    assert created["target"] == {"kind": "notebook", "path": str(notebook)}
    with pytest.raises(mlops.Conflict):
        mlops.create_schedule("nb", "0 3 * * *", notebook)
    assert mlops.pause_schedule("nb")["paused"]
    frame = mlops.schedules()
    assert frame.loc[0, "name"] == "nb" and bool(frame.loc[0, "paused"])
    assert mlops.schedule_history("nb").empty
    mlops.delete_schedule("nb")
    with pytest.raises(mlops.NotFound):
        mlops.get_schedule("nb")


async def _json(jp_fetch, *path, **kwargs):
    response = await jp_fetch("mlops", "api", *path, **kwargs)
    return response.code, json.loads(response.body)


async def test_rest_routes(jp_fetch, jp_root_dir, notebook):
    target = jp_root_dir / "jobs" / "nightly.ipynb"
    target.parent.mkdir()
    target.write_bytes(notebook.read_bytes())
    code, body = await _json(jp_fetch, "schedules", "preview", method="POST",
                             body=json.dumps({"cron": "0 2 * * *", "count": 3}))
    assert code == 200 and body["description"] == "At 02:00 every day" and len(body["next"]) == 3
    with pytest.raises(HTTPClientError) as bad:
        await jp_fetch("mlops", "api", "schedules", "preview", method="POST",
                       body=json.dumps({"cron": "0 25 * * *"}))
    assert bad.value.code == 400 and "bad hour" in json.loads(bad.value.response.body)[
        "message"]
    spec = {"name": "nightly", "cron": "0 2 * * *", "parameters": {"alpha": 3},
            "target": {"kind": "notebook", "path": "jobs/nightly.ipynb"}}
    code, created = await _json(jp_fetch, "schedules", method="POST", body=json.dumps(spec))
    assert code == 201 and created["target"]["path"] == "jobs/nightly.ipynb"
    for path, message in (("../outside.ipynb", "outside the server's root"),
                          ("jobs/none.ipynb", "no such notebook")):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("mlops", "api", "schedules", method="POST", body=json.dumps(
                {**spec, "name": "other", "target": {"kind": "notebook", "path": path}}))
        assert refused.value.code == 400
        assert message in json.loads(refused.value.response.body)["message"]
    code, listed = await _json(jp_fetch, "schedules")
    assert [s["name"] for s in listed["schedules"]] == ["nightly"]
    code, patched = await _json(jp_fetch, "schedules", "nightly", method="PATCH",
                                body=json.dumps({"paused": True}))
    assert patched["paused"] and patched["next_run_at"] is None
    code, firing = await _json(jp_fetch, "schedules", created["id"], "run", method="POST",
                               body="{}")
    assert code == 202 and firing["trigger"] == "manual" and firing["status"] == "running"
    code, one = await _json(jp_fetch, "schedules", "nightly", params={"limit": 5})
    assert one["history"][0]["id"] == firing["id"]
    with pytest.raises(HTTPClientError) as unknown:
        await jp_fetch("mlops", "api", "schedules", "nightly", method="PATCH",
                       body=json.dumps({"colour": "red"}))
    assert unknown.value.code == 400
    import asyncio

    for _ in range(240):  # the manual firing runs the notebook in a child process
        code, one = await _json(jp_fetch, "schedules", "nightly")
        if one["history"][0]["status"] != "running":
            break
        await asyncio.sleep(0.5)
    assert one["history"][0]["status"] == "succeeded", one["history"][0]
    code, gone = await _json(jp_fetch, "schedules", "nightly", method="DELETE")
    assert gone == {"deleted": created["id"]}


@pytest.mark.team_only
def test_team_mode_schedules_through_the_server(mlops_home, team_server, notebook):
    target = team_server.root / "jobs" / "team.ipynb"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(notebook.read_bytes())
    with pytest.raises(mlops.InvalidInput, match="bad minute"):
        mlops.create_schedule("team", "99 * * * *", "jobs/team.ipynb")
    with pytest.raises(mlops.InvalidInput, match="outside the server's root"):
        mlops.create_schedule("team", "0 * * * *", str(notebook))
    created = mlops.create_schedule("team", "0 * * * *", "jobs/team.ipynb",
                                    parameters={"alpha": 4})
    assert created["target"] == {"kind": "notebook", "path": "jobs/team.ipynb"}
    assert created["created_by"] == mlops.backend().user
    assert mlops.pause_schedule("team")["next_run_at"] is None
    assert list(mlops.schedules()["name"]) == ["team"]
    assert mlops.schedule_history("team").empty
    mlops.delete_schedule("team")
    assert mlops.schedules().empty



def test_run_now_before_the_runners_first_pass_is_recorded_as_it_really_ends(
        service, runner, tmp_path, notebook):
    """The first pass recovers firings an earlier process left running; a "run now"
    this runner is executing is not one of them (it used to be recorded "interrupted"
    while its notebook went on)."""
    slow = write_notebook(tmp_path / "slow.ipynb", "alpha = 1",
                          "import time, mlops_jlab as mlops\ntime.sleep(4)\n"
                          "mlops.log_metric('alpha', alpha)")
    service.create("alice", "slow", "0 * * * *", "notebook", str(slow), paused=True)
    service.create("alice", "orphan", "0 * * * *", "notebook", str(notebook), paused=True)
    orphan = service.start_manual("orphan", "alice")[1]  # a dead process's firing
    _, future = runner.run_now("slow", "alice")
    runner.start()  # its first pass recovers, while "slow" still runs here
    for _ in range(300):  # the first pass runs in the runner's thread
        (recovered,) = service.get("orphan")["history"]
        if recovered["status"] != "running":
            break
        time.sleep(0.1)
    assert recovered["id"] == orphan["id"] and recovered["status"] == "failed"
    assert recovered["error"].startswith("interrupted")
    assert not future.done()
    (during,) = service.get("slow")["history"]
    assert during["status"] == "running" and during["error"] is None
    outcome = future.result(timeout=180)
    assert outcome["status"] == "succeeded", outcome
    (slow_firing,) = service.get("slow")["history"]
    assert slow_firing["status"] == "succeeded" and slow_firing["error"] is None
