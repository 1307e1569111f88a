"""Graph's side requests: a series' instances, and the mailbox's category list.

A series in Graph: the master's recurrence, then its exceptions and cancelled occurrences.

Graph has no way to send a series with its exceptions in one request: the master is
created (or patched) with its ``recurrence``, then each moved occurrence is a PATCH of that
instance and each cancelled one a DELETE of it (learn.microsoft.com/graph/api/event-list-
instances, /graph/outlook-schedule-recurring-events). Reading back, the instances in the
window are compared with the occurrences the stored RRULE makes: an occurrence that is no
longer there was cancelled in Outlook.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dateutil.rrule import rrulestr
from icalendar import Calendar

from calbridge.calendars import graphmap as gm
from calbridge.calendars.davhttp import unexpected
from calbridge.calendars.graphcolors import preset_for
from calbridge.calendars.graphrec import occurrence_key

if TYPE_CHECKING:
    from calbridge.calendars.graph import GraphStore


class SeriesWriter:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def _window(self) -> tuple[datetime, datetime]:
        from calbridge.calendars.graph import AHEAD, WINDOW_START

        return WINDOW_START, self.store._now() + AHEAD

    def _instances(self, eid: str) -> list[dict[str, Any]]:
        lo, hi = self._window()
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        url = (
            f"{self.store.event_url(eid)}/instances?startDateTime={lo.strftime(fmt)}"
            f"&endDateTime={hi.strftime(fmt)}"
        )
        found: list[dict[str, Any]] = []
        while url:
            reply = self.store.call("GET", url)
            if reply.status != 200:
                raise unexpected(reply, f"instances {eid}")
            page = self.store.json_of(reply, f"instances {eid}")
            found.extend(page.get("value", []))
            url = str(page.get("@odata.nextLink") or "")
        return found

    def instances(self, master: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The series' instances, plus a removed row for each occurrence the stored RRULE
        makes that Graph no longer has (cancelled in Outlook)."""
        stored = gm.extended(master).get(gm.ICS_PROP)
        if stored is None:
            return None
        found = self._instances(str(master["id"]))
        present = {occurrence_key(gm.parse_graph_time(_orig(i))) for i in found}
        for start in self._expected(stored.encode("utf-8")):
            if occurrence_key(start) not in present:
                found.append({"originalStart": gm.graph_time(start), "@removed": True})
        for inst in found:
            inst["originalStart"] = _orig(inst)
        return found

    def _expected(self, data: bytes) -> list[datetime]:
        cal = Calendar.from_ical(data)
        master = next(e for e in cal.walk("VEVENT") if e.get("RECURRENCE-ID") is None)
        if master.get("RRULE") is None:
            return []
        start = master.decoded("DTSTART")
        if not isinstance(start, datetime):
            return []
        start = start.astimezone(UTC)
        text = master["RRULE"].to_ical()
        rule = rrulestr(text.decode() if isinstance(text, bytes) else str(text), dtstart=start)
        lo, hi = self._window()
        exdates = {occurrence_key(d) for d in gm.exdates(master)}
        return [s for s in rule.between(lo, hi, inc=True) if occurrence_key(s) not in exdates]

    def write_instances(self, event: dict[str, Any], data: bytes) -> str:
        """Make the series' moved and cancelled occurrences what ``data`` says; the
        master's etag afterwards."""
        etag = str(event.get("@odata.etag", ""))
        wanted = gm.exceptions_of(data) if event.get("recurrence") else {}
        if not wanted:
            return etag
        eid = str(event["id"])
        by_key = {occurrence_key(gm.parse_graph_time(_orig(i))): i for i in self._instances(eid)}
        wrote = False
        for key, (exception, _) in wanted.items():
            inst = by_key.get(key)
            if inst is None:
                continue  # already cancelled, or outside the window
            url = self.store.event_url(str(inst["id"]))
            # Both are safe to repeat (a DELETE of a cancelled occurrence is 404, a move
            # sets absolute times), so throttling is waited out like any other request.
            if exception is None:
                reply = self.store.call("DELETE", url, idempotent=True)
                if reply.status not in (204, 404):
                    raise unexpected(reply, f"cancel {inst['id']}")
                wrote = True
                continue
            fields = gm.fields_of(exception)
            if all(_same(inst.get(k), v) for k, v in fields.items() if k != "isAllDay"):
                continue
            moved = {k: v for k, v in fields.items() if k != "isAllDay"}
            reply = self.store.call("PATCH", url, moved, idempotent=True)
            if reply.status != 200:
                raise unexpected(reply, f"move {inst['id']}")
            wrote = True
        if not wrote:
            return etag
        return self.store._etag(eid) or etag


def _orig(inst: dict[str, Any]) -> dict[str, str]:
    value = inst["originalStart"]
    if isinstance(value, dict):
        return value
    return {"dateTime": str(value).rstrip("Z"), "timeZone": "UTC"}


def _same(now: Any, sent: Any) -> bool:
    if isinstance(sent, dict) and "dateTime" in sent and isinstance(now, dict):
        return gm.parse_graph_time(now) == gm.parse_graph_time(sent)
    return bool(now == sent)


class Categories:
    """The mailbox's master category list: each kind calbridge writes is in it, with the
    Outlook preset nearest the kind's colour (read once per store, created when missing;
    a category the coach already has keeps the colour they gave it)."""

    def __init__(self, store: GraphStore, url: str) -> None:
        self.store, self.url = store, url
        self._known: set[str] | None = None
        self._lock = threading.Lock()

    def ensure(self, name: str, color: str) -> None:
        with self._lock:
            if self._known is None:
                reply = self.store.call("GET", self.url)
                if reply.status != 200:
                    raise unexpected(reply, "masterCategories")
                page = self.store.json_of(reply, "masterCategories")
                self._known = {str(c.get("displayName")) for c in page.get("value", [])}
            if name in self._known:
                return
            body = {"displayName": name, "color": preset_for(color)}
            reply = self.store.call("POST", self.url, body, idempotent=True)
            if reply.status not in (200, 201, 409):  # 409: made meanwhile
                raise unexpected(reply, f"masterCategories {name}")
            self._known.add(name)
