"""getSchedule on the fake Graph server (graph_server.py): free/busy of a schedule.

Written from learn.microsoft.com/graph/api/calendar-getschedule and
/graph/outlook-get-free-busy-schedule, with the resources scheduleInformation,
scheduleItem and freeBusyError:

- ``POST /me/calendar/getSchedule`` and ``POST /users/{id}/calendar/getSchedule``; the body
  names ``schedules`` (SMTP addresses), ``startTime`` and ``endTime`` (dateTimeTimeZone) and
  ``availabilityViewInterval`` (minutes, default 30, 5 to 1440); anything else is
  ``400 ErrorInvalidParameter``.
- one scheduleInformation per address asked for, in order: ``scheduleId``,
  ``availabilityView`` (a digit per interval: 0 free, 1 tentative, 2 busy, 3 out of office,
  4 working elsewhere; the strongest item in it wins), ``scheduleItems`` (``status`` free,
  tentative, busy, oof, workingElsewhere; ``start``/``end`` in UTC; ``subject``,
  ``location``, ``isPrivate``) and ``workingHours``. A schedule's items are the events of
  its default calendar overlapping the period, occurrences of series included and cancelled
  ones left out, as the documentation's example says ("events in Alex' default calendar").
- an address the fake has no schedule for answers, in its scheduleInformation, an
  ``error`` (freeBusyError: ``message``, ``responseCode``) and no items; the request
  itself is still ``200``.
- a period longer than 42 days is refused (``400 ErrorInvalidTimeInterval``): Exchange's
  availability service documents that maximum (learn.microsoft.com/exchange/client-
  developer/web-service-reference/timewindow).
- throttling (``429``/``503``/``504`` with ``Retry-After``) and auth come from the server's
  middleware, as for every endpoint.

Left out: ``Prefer: outlook.timezone`` (answers are in UTC), distribution lists and rooms,
working hours other than Monday to Friday 08:00-17:00 UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from servers.graph_state import graph_time, parse_time

if TYPE_CHECKING:
    from servers.graph_server import FakeGraph

VIEW = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
#: Which status shows in a slot several items share (out of office strongest).
STRENGTH = ["free", "tentative", "workingElsewhere", "busy", "oof"]
MAX_PERIOD = timedelta(days=42)
WORKING_HOURS = {
    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "startTime": "08:00:00.0000000",
    "endTime": "17:00:00.0000000",
    "timeZone": {"name": "UTC"},
}


def _bad(message: str, code: str = "ErrorInvalidParameter") -> web.Response:
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=400)


async def get_schedule(fake: FakeGraph, request: web.Request) -> web.Response:
    try:
        body = await request.json()
        schedules = body["schedules"]
        lo, hi = parse_time(body["startTime"]), parse_time(body["endTime"])
        interval = int(body.get("availabilityViewInterval", 30))
    except (ValueError, KeyError, TypeError) as exc:
        return _bad(f"the request body is not a getSchedule request: {exc}")
    if (
        not isinstance(schedules, list)
        or not schedules
        or not all(isinstance(s, str) for s in schedules)
    ):
        return _bad("schedules: a collection of SMTP addresses")
    if not 5 <= interval <= 1440:
        return _bad("availabilityViewInterval: from 5 to 1440 minutes")
    if hi <= lo or hi - lo > MAX_PERIOD:
        return _bad("the time interval is not valid (at most 42 days)", "ErrorInvalidTimeInterval")
    value = [_information(fake, address, lo, hi, interval) for address in schedules]
    context = (
        "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)"
    )
    return web.json_response({"@odata.context": context, "value": value})


def _information(
    fake: FakeGraph, address: str, lo: datetime, hi: datetime, interval: int
) -> dict[str, Any]:
    calendar = fake.schedules.get(address.lower())
    if calendar is None:
        return {
            "scheduleId": address,
            "availabilityView": "",
            "scheduleItems": [],
            "error": {
                "message": f"The user {address} was not found.",
                "responseCode": "ErrorMailRecipientNotFound",
            },
        }
    items = []
    box = fake.mailbox
    for event in box.events.values():
        if event["calendarId"] != calendar:
            continue
        for row in box.rows(event, lo, hi):
            if row.get("isCancelled"):
                continue
            items.append({
                "isPrivate": row.get("sensitivity") == "private",
                "status": row.get("showAs") or "busy",
                "subject": row.get("subject", ""),
                "location": (row.get("location") or {}).get("displayName", ""),
                "start": graph_time(parse_time(row["start"])),
                "end": graph_time(parse_time(row["end"])),
            })  # fmt: skip
    items.sort(key=lambda i: i["start"]["dateTime"])
    return {
        "scheduleId": address,
        "availabilityView": _view(items, lo, hi, interval),
        "scheduleItems": items,
        "workingHours": WORKING_HOURS,
    }


def _view(items: list[dict[str, Any]], lo: datetime, hi: datetime, interval: int) -> str:
    step, digits, at = timedelta(minutes=interval), [], lo
    spans = [(parse_time(i["start"]), parse_time(i["end"]), i["status"]) for i in items]
    while at < hi:
        here = [s for a, b, s in spans if a < at + step and b > at and s in VIEW]
        digits.append(VIEW[max(here, key=STRENGTH.index)] if here else "0")
        at += step
    return "".join(digits)
