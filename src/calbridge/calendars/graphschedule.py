"""Free/busy from Microsoft Graph's getSchedule: a schedule's busy time as Exchange says it.

``POST …/me/calendar/getSchedule`` (or ``/users/ID/calendar/getSchedule``) with one SMTP
address in ``schedules`` and the period as dateTimeTimeZone in UTC
(learn.microsoft.com/graph/api/calendar-getschedule). The answer's ``scheduleItems`` give
each item's start, end and status; only ``free`` is free: tentative, busy, out of office,
working elsewhere and any status Graph may add are busy time (doubt means busy, and a
tentative event is busy as a TENTATIVE one in a busy calendar is). An answer without items
is read from its ``availabilityView`` (one digit per interval, 0 free). Periods are asked
42 days at a time, the availability service's maximum. An ``error`` in the schedule's
answer (an unknown address, no permission) is a ``StorageError`` naming its response code.
Throttling (429, 503, 504 with Retry-After) is retried by the store's one retry policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from calbridge.calendars.base import StorageError
from calbridge.calendars.davauth import Auth
from calbridge.calendars.davhttp import unexpected
from calbridge.calendars.graph import GraphStore
from calbridge.calendars.graphmap import parse_graph_time

PERIOD = timedelta(days=42)
INTERVAL = 30  # minutes per digit of availabilityView (Graph's default)
_TIME = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class ScheduleItem:
    start: datetime
    end: datetime
    status: str
    subject: str


def is_schedule_url(url: str) -> bool:
    return url.rstrip("/").lower().endswith("/calendar/getschedule")


class GraphSchedule:
    """getSchedule at ``url``; close it (or use ``with``) when done."""

    def __init__(self, url: str, auth: Auth | None = None, **kwargs: Any) -> None:
        self.url = url.rstrip("/")
        calendar = self.url[: -len("/getSchedule")]
        self._store = GraphStore(calendar, auth, read_only=True, **kwargs)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> GraphSchedule:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def requests(self) -> int:
        return self._store.requests

    def busy(self, schedule: str, lo: datetime, hi: datetime) -> list[ScheduleItem]:
        """The busy items of ``schedule`` (an SMTP address) overlapping [lo, hi)."""
        found: list[ScheduleItem] = []
        start = lo
        while start < hi:
            end = min(hi, start + PERIOD)
            found += [i for i in self._period(schedule, start, end) if i.status != "free"]
            start = end
        return sorted(set(found), key=lambda i: (i.start, i.end, i.status))

    def _period(self, schedule: str, lo: datetime, hi: datetime) -> list[ScheduleItem]:
        body = {
            "schedules": [schedule],
            "startTime": {"dateTime": lo.astimezone(UTC).strftime(_TIME), "timeZone": "UTC"},
            "endTime": {"dateTime": hi.astimezone(UTC).strftime(_TIME), "timeZone": "UTC"},
            "availabilityViewInterval": INTERVAL,
        }
        what = f"getSchedule {schedule}"
        reply = self._store.call("POST", self.url, body, idempotent=True)
        if reply.status != 200:
            raise unexpected(reply, what)
        answers = self._store.json_of(reply, what).get("value") or []
        mine = [a for a in answers if str(a.get("scheduleId", "")).lower() == schedule.lower()]
        if not mine:
            raise StorageError(f"{what}: the answer has no schedule for {schedule}")
        answer = mine[0]
        error = answer.get("error")
        if error:
            code = error.get("responseCode") or "error"
            raise StorageError(f"{what}: {code}: {error.get('message', '')}".rstrip(": "))
        items = answer.get("scheduleItems")
        if items is None:
            return _from_view(str(answer.get("availabilityView", "")), lo)
        return [_item(i, what) for i in items]


def _item(raw: dict[str, Any], what: str) -> ScheduleItem:
    try:
        start, end = parse_graph_time(raw["start"]), parse_graph_time(raw["end"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"{what}: a schedule item without a readable time ({exc})") from exc
    status = str(raw.get("status") or "busy")
    status = status[:1].lower() + status[1:]  # the guide's example writes "Tentative"
    return ScheduleItem(start, end, status, str(raw.get("subject") or status))


def _from_view(view: str, lo: datetime) -> list[ScheduleItem]:
    """Busy intervals from an availabilityView: any digit but 0 is busy."""
    step = timedelta(minutes=INTERVAL)
    return [
        ScheduleItem(lo + n * step, lo + (n + 1) * step, "busy", "busy")
        for n, digit in enumerate(view)
        if digit != "0"
    ]
