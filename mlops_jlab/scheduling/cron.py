"""Cron expressions (five fields, as crontab) in a time zone, read with cronsim."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from ..errors import InvalidInput

#: catching up more fire times than this after a long outage reports them in one row
MAX_MISSED = 100


def zone(name: object) -> ZoneInfo:
    """The IANA time zone ``name`` (``UTC``, ``Europe/Paris``), or InvalidInput."""
    if not isinstance(name, str) or not name:
        raise InvalidInput("timezone must be an IANA name such as 'UTC' or "
                           "'Europe/Paris'", field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r}; use an IANA name such as 'UTC' or "
                           "'Europe/Paris'", field="timezone") from None


def check(expr: object, tz: str = "UTC") -> str:
    """``expr`` when it is a valid five-field cron expression, else InvalidInput naming
    the field that is wrong."""
    if not isinstance(expr, str) or not expr.strip():
        raise InvalidInput("cron must be a five-field expression such as '0 2 * * *' "
                           "(minute hour day month weekday)", field="cron")
    expr = " ".join(expr.split())
    if len(expr.split(" ")) != 5:
        raise InvalidInput(f"cron {expr!r} must have five fields (minute hour day month "
                           "weekday), e.g. '0 2 * * *'", field="cron")
    try:
        CronSim(expr, datetime.now(zone(tz)))
    except CronSimError as exc:
        raise InvalidInput(f"cron {expr!r}: {str(exc).lower()}", field="cron") from None
    return expr


def describe(expr: str) -> str:
    """Human text for an expression ("At 02:00 every day")."""
    try:
        return str(CronSim(expr, datetime.now(timezone.utc)).explain())
    except Exception:  # explain() does not cover every expression cronsim accepts
        return expr


def next_after(expr: str, tz: str, after_ms: int, count: int = 1) -> list[int]:
    """The next ``count`` fire times strictly after ``after_ms`` (epoch ms)."""
    start = datetime.fromtimestamp(after_ms / 1000, zone(tz))
    it = CronSim(expr, start)
    out: list[int] = []
    for when in it:
        ms = int(when.timestamp() * 1000)
        if ms > after_ms:
            out.append(ms)
        if len(out) >= count:
            break
    return out


def due_between(expr: str, tz: str, first_ms: int, now_ms: int) -> list[int]:
    """Fire times from ``first_ms`` (itself a fire time) up to ``now_ms``, oldest first,
    at most ``MAX_MISSED + 1`` (the newest kept)."""
    times = [first_ms]
    start = datetime.fromtimestamp(first_ms / 1000, zone(tz))
    for steps, when in enumerate(CronSim(expr, start)):
        if steps > 100_000:  # an outage of years on a per-minute schedule: stop counting
            break
        ms = int(when.timestamp() * 1000)
        if ms <= first_ms:
            continue
        if ms > now_ms:
            break
        times.append(ms)
        if len(times) > 10 * MAX_MISSED:
            times = times[-(MAX_MISSED + 1):]
    return times[-(MAX_MISSED + 1):] if len(times) > MAX_MISSED + 1 else times
