"""Python API of schedules: cron schedules of notebooks and pipelines.

Schedules live in the store; the process that leads the store's deployment controller
fires them (the Jupyter server, or ``mlops-jlab serve`` on a host that only serves).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .api import backend


def create_schedule(name: str, cron: str, target: str | os.PathLike[str], *,
                    kind: str | None = None, parameters: Mapping[str, Any] | None = None,
                    experiment: str | None = None, timezone: str = "UTC",
                    paused: bool = False) -> dict[str, Any]:
    """Run ``target`` (a notebook, or a pipeline file when it ends in .yaml/.yml) at every
    time ``cron`` matches (five fields, e.g. ``"0 2 * * *"`` for 02:00 daily) in
    ``timezone``, with ``parameters``. In team mode the path is relative to the server's
    root folder."""
    target = str(target)
    if kind is None:
        kind = "pipeline" if target.lower().endswith((".yaml", ".yml")) else "notebook"
    b = backend()
    return b.schedules.create(b.user, name, cron, kind, target, parameters=parameters,
                              experiment=experiment, timezone=timezone, paused=paused)


def schedules() -> pd.DataFrame:
    """Every schedule: name, cron, description, target, next run, last status, missed."""
    rows = backend().schedules.list()
    frame = pd.DataFrame([{
        "name": r["name"], "cron": r["cron"], "timezone": r["timezone"],
        "description": r["description"], "kind": r["target"]["kind"],
        "target": r["target"]["path"], "paused": r["paused"],
        "next_run_at": r["next_run_at"],
        "last_status": (r["last"] or {}).get("status"),
        "last_run_id": (r["last"] or {}).get("run_id"), "missed": r["missed"]}
        for r in rows], columns=["name", "cron", "timezone", "description", "kind", "target",
                                 "paused", "next_run_at", "last_status", "last_run_id",
                                 "missed"])
    frame["next_run_at"] = pd.to_datetime(frame["next_run_at"], unit="ms", utc=True)
    return frame


def get_schedule(name: str) -> dict[str, Any]:
    """One schedule with its recent firings (``history``)."""
    return backend().schedules.get(name)


def schedule_history(name: str, limit: int = 50) -> pd.DataFrame:
    """A schedule's firings, newest first: when, trigger, status, run, error."""
    rows = backend().schedules.get(name, history=limit).get("history", [])
    frame = pd.DataFrame(rows, columns=["scheduled_for", "trigger", "status", "run_id",
                                        "started_at", "ended_at", "error"])
    for col in ("scheduled_for", "started_at", "ended_at"):
        frame[col] = pd.to_datetime(frame[col], unit="ms", utc=True)
    return frame


def update_schedule(name: str, **changes: Any) -> dict[str, Any]:
    """Change a schedule's ``cron``, ``timezone``, ``parameters``, ``experiment``,
    ``name``, ``paused`` or ``target`` (``{"kind": ..., "path": ...}``)."""
    b = backend()
    return b.schedules.update(name, b.user, **changes)


def pause_schedule(name: str) -> dict[str, Any]:
    """Stop firing ``name`` until resumed."""
    return update_schedule(name, paused=True)


def resume_schedule(name: str) -> dict[str, Any]:
    """Fire ``name`` again, from its next matching time."""
    return update_schedule(name, paused=False)


def delete_schedule(name: str) -> None:
    """Remove a schedule and its history."""
    b = backend()
    b.schedules.delete(name, b.user)
