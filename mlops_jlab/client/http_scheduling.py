"""Schedules over REST (team mode): the same calls as :class:`ScheduleService`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote


def _q(ref: str) -> str:
    return quote(str(ref), safe="")


class HttpSchedules:
    """``/mlops/api/schedules`` behind the ScheduleService methods the API uses."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def list(self, user: str | None = None) -> list[dict[str, Any]]:
        return list(self.http.json("GET", "/schedules")["schedules"])

    def get(self, ref: str, user: str | None = None, history: int = 50) -> dict[str, Any]:
        return dict(self.http.json("GET", f"/schedules/{_q(ref)}",
                                   params={"limit": history}))

    def create(self, user: str, name: str, cron_expr: str, kind: str, path: str,
               parameters: Mapping[str, Any] | None = None, experiment: str | None = None,
               timezone: str = "UTC", paused: bool = False) -> dict[str, Any]:
        body = {"name": name, "cron": cron_expr, "target": {"kind": kind, "path": path},
                "parameters": dict(parameters or {}), "experiment": experiment,
                "timezone": timezone, "paused": paused}
        return dict(self.http.json("POST", "/schedules", json=body))

    def update(self, ref: str, user: str, **changes: Any) -> dict[str, Any]:
        return dict(self.http.json("PATCH", f"/schedules/{_q(ref)}", json=changes))

    def delete(self, ref: str, user: str) -> str:
        return str(self.http.json("DELETE", f"/schedules/{_q(ref)}")["deleted"])

    def preview(self, expr: str, tz: str = "UTC", count: int = 5) -> dict[str, Any]:
        return dict(self.http.json("POST", "/schedules/preview",
                                   json={"cron": expr, "timezone": tz, "count": count}))
