"""The fake Graph server's calendar, seen by the sync state machine as it sees a
``FaultyStore`` (machine_helpers.py): the store calbridge syncs with (a ``GraphStore``
whose operations a ``Fault`` can aim at), the coach's Outlook that edits it, and what the
calendar holds, read straight from the fake's mailbox.

What the calendar holds (``items``) is an iCalendar object per event, built here from the
mailbox's Graph fields (start, end, subject, body, location, showAs, recurrence,
reminder), never through calbridge's own mapping (graphmap.py): a mapping bug cannot hide
itself. Graph has no field for the clients' answers (clients are never Graph attendees),
so their ATTENDEE lines come from the iCalendar copy calbridge stored with its event. An
event calbridge created is keyed by the resource name it gave it (``UID.ics``, as on
CalDAV), the coach's own by its Graph id.

Outlook edits what Outlook can: the machine's edits of an iCalendar object are turned into
the PATCH of the Graph fields they changed (a move, a note, a location, a reminder, a
repeat rule); an edit Graph cannot express (a client's PARTSTAT, an X- property) is an
error here, so the machine's Graph subclass does not make it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Component, Event

from calbridge.calendars.base import Item, Listing
from calbridge.calendars.graph import GraphStore
from calbridge.calendars.graphmap import ICS_PROP, NAME_PROP, UID_PROP
from servers.graph_server import FakeGraph
from servers.graph_state import Mailbox, parse_time
from sync.machine_helpers import Fault, vevent

CALENDAR = "cal1"
#: Fields of a view's VEVENT that Outlook can change, and the Graph field of each.
_OWNED = ("DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION", "RRULE", "VALARM")


def _props(event: dict[str, Any]) -> dict[str, str]:
    return {str(p["id"]): str(p["value"]) for p in event.get("singleValueExtendedProperties", [])}


def view(event: dict[str, Any]) -> bytes:
    """One Graph event as the machine reads it (see the module's docstring)."""
    props = _props(event)
    cal = Calendar()
    cal.add("PRODID", "-//calbridge tests//graph view//EN")
    cal.add("VERSION", "2.0")
    ev = Event()
    ev.add("UID", props.get(UID_PROP) or event["iCalUId"])
    ev.add("DTSTAMP", datetime(2026, 11, 1, tzinfo=UTC))
    ev.add("DTSTART", parse_time(event["start"]))
    ev.add("DTEND", parse_time(event["end"]))
    ev.add("SUMMARY", event.get("subject", ""))
    content = (event.get("body") or {}).get("content", "")
    if content:
        ev.add("DESCRIPTION", content)
    where = (event.get("location") or {}).get("displayName", "")
    if where:
        ev.add("LOCATION", where)
    shown = "TENTATIVE" if event.get("showAs") == "tentative" else "CONFIRMED"
    ev.add("STATUS", "CANCELLED" if event.get("isCancelled") else shown)
    if event.get("showAs") == "free":
        ev.add("TRANSP", "TRANSPARENT")
    if ICS_PROP in props:  # the clients' answers: only in calbridge's own copy
        attendees = vevent(props[ICS_PROP].encode()).get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            ev.add("ATTENDEE", attendee)
    rec = event.get("recurrence")
    if rec:
        freq = {"daily": "DAILY", "weekly": "WEEKLY"}[rec["pattern"]["type"]]
        rule: dict[str, Any] = {"FREQ": freq, "INTERVAL": rec["pattern"].get("interval", 1)}
        if rec["range"]["type"] == "numbered":
            rule["COUNT"] = rec["range"]["numberOfOccurrences"]
        ev.add("RRULE", rule)
    if event.get("isReminderOn"):
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", "Reminder")
        alarm.add("TRIGGER", timedelta(minutes=-int(event.get("reminderMinutesBeforeStart", 15))))
        ev.add_component(alarm)
    ev.add("X-GRAPH-CHANGEKEY", event["changeKey"])  # any write shows
    cal.add_component(ev)
    return bytes(cal.to_ical())


def _time(value: datetime) -> dict[str, str]:
    """A dateTimeTimeZone as Outlook sends it: wall time in the value's zone."""
    zone = getattr(value.tzinfo, "key", None) or "UTC"
    wall = value if zone != "UTC" else value.astimezone(UTC)
    return {"dateTime": wall.replace(tzinfo=None).isoformat(), "timeZone": zone}


def _recurrence(rule: Any, start: datetime) -> dict[str, Any]:
    freq = str(rule["FREQ"][0]).lower()
    pattern: dict[str, Any] = {"type": freq, "interval": int(rule.get("INTERVAL", [1])[0])}
    if freq == "weekly":
        pattern["daysOfWeek"] = [start.astimezone(UTC).strftime("%A").lower()]
    rng: dict[str, Any] = {"type": "noEnd", "startDate": start.date().isoformat()}
    if "COUNT" in rule:
        rng = {**rng, "type": "numbered", "numberOfOccurrences": int(rule["COUNT"][0])}
    return {"pattern": pattern, "range": rng}


def outlook_patch(old: Component, new: Component) -> dict[str, Any]:
    """The Graph fields an Outlook save changes, from the view before and after."""
    body: dict[str, Any] = {}
    for key in ("DTSTART", "DTEND"):
        if old.decoded(key) != new.decoded(key) or str(new[key].params) != str(old[key].params):
            body["start" if key == "DTSTART" else "end"] = _time(new.decoded(key))
    for key, field, wrap in (
        ("SUMMARY", "subject", None),
        ("DESCRIPTION", "body", "content"),
        ("LOCATION", "location", "displayName"),
    ):
        if str(old.get(key, "")) != str(new.get(key, "")):
            value = str(new.get(key, ""))
            body[field] = {wrap: value, **({"contentType": "text"} if field == "body" else {})} \
                if wrap else value  # fmt: skip
    if "RRULE" in new and "RRULE" not in old:
        body["recurrence"] = _recurrence(new["RRULE"], new.decoded("DTSTART"))
    if new.walk("VALARM") and not old.walk("VALARM"):
        trigger = new.walk("VALARM")[0].decoded("TRIGGER")
        body["isReminderOn"] = True
        body["reminderMinutesBeforeStart"] = int(-trigger.total_seconds() // 60)
    unsaid = [
        k
        for k in set(new) | set(old)
        if k not in (*_OWNED, "SEQUENCE", "DTSTAMP") and str(new.get(k)) != str(old.get(k))
    ]
    assert not unsaid, f"Outlook cannot save {unsaid}"
    return body


def _graph_fields(event: Component) -> dict[str, Any]:
    """A new event the coach makes in Outlook."""
    return {
        "subject": str(event.get("SUMMARY", "")),
        "start": _time(event.decoded("DTSTART")),
        "end": _time(event.decoded("DTEND")),
        "showAs": "busy",
    }


class GraphCalendar:
    """The fake's calendar: calbridge's store (faults aimed as ``FaultyStore`` aims them),
    the coach's Outlook (``app()``) and what the calendar holds (``items``)."""

    read_only = False

    def __init__(self, fake: FakeGraph) -> None:
        self.fake = fake
        self.store = GraphStore(fake.calendar_url(CALENDAR), sleep=lambda _: None)
        self.faults: list[Fault] = []
        self.fired = 0
        self._app = False

    def close(self) -> None:
        self.store.close()

    @property
    def mailbox(self) -> Mailbox:
        return self.fake.mailbox

    # -- what the calendar holds -----------------------------------------------------------

    def _key(self, event: dict[str, Any]) -> str:
        return _props(event).get(NAME_PROP) or f"{event['id']}.ics"

    def _events(self) -> dict[str, dict[str, Any]]:
        with self.mailbox.lock:
            return {
                self._key(e): e for e in self.mailbox.events.values() if e["calendarId"] == CALENDAR
            }

    @property
    def items(self) -> dict[str, Item]:
        return {k: Item(k, str(e["@odata.etag"]), view(e)) for k, e in self._events().items()}

    def _graph_id(self, key: str) -> str:
        return str(self._events()[key]["id"])

    def name_of(self, href: str) -> str:
        """The machine's key for a Graph href calbridge names (``ID.ics``)."""
        with self.mailbox.lock:
            event = self.mailbox.events.get(href.removesuffix(".ics"))
        return self._key(event) if event is not None else href

    # -- the coach's Outlook ---------------------------------------------------------------

    @contextmanager
    def app(self) -> Iterator[GraphCalendar]:
        self._app = True
        try:
            yield self
        finally:
            self._app = False

    def expire_tokens(self) -> None:
        with self.mailbox.lock:
            self.mailbox.expire()

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- the store: Outlook's edits when in app(), else calbridge's, through GraphStore ----

    def _aim(self, operation: str, href: str | None = None) -> Fault | None:
        if self._app or not self.faults:
            return None
        fault = self.faults[0]
        if operation not in fault.operations or fault.href not in (None, href):
            return None
        if fault.skip:
            fault.skip -= 1
            return None
        self.faults.pop(0)
        self.fired += 1
        return fault

    def _before(self, fault: Fault | None) -> None:
        if fault is not None and not fault.after:
            raise fault.error

    def _after(self, fault: Fault | None) -> None:
        if fault is not None and fault.after:
            raise fault.error

    def changes(self, token: str | None) -> Listing:
        fault = self._aim("changes")
        self._before(fault)
        listing = self.store.changes(token)
        self._after(fault)
        return listing

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        fault = self._aim("get_many")
        self._before(fault)
        found = self.store.get_many(hrefs)
        self._after(fault)
        return found

    def create(self, name: str, data: bytes) -> Item:
        if self._app:
            with self.mailbox.lock:
                event, _ = self.mailbox.create(CALENDAR, _graph_fields(vevent(data)))
            return Item(self._key(event), str(event["@odata.etag"]), view(event))
        fault = self._aim("create", name)
        self._before(fault)
        item = self.store.create(name, data)
        self._after(fault)
        return item

    def update(self, href: str, data: bytes, etag: str) -> str:
        if self._app:
            item = self.items[href]
            assert etag == item.etag, "the coach's Outlook saved an old version"
            patch = outlook_patch(vevent(item.data), vevent(data))
            with self.mailbox.lock:
                event = self.mailbox.update(self._graph_id(href), patch)
            return str(event["@odata.etag"])
        fault = self._aim("update", self.name_of(href))
        self._before(fault)
        new = self.store.update(href, data, etag)
        self._after(fault)
        return new

    def delete(self, href: str, etag: str) -> None:
        if self._app:
            with self.mailbox.lock:
                self.mailbox.delete(self._graph_id(href))
            return
        fault = self._aim("delete", self.name_of(href))
        self._before(fault)
        self.store.delete(href, etag)
        self._after(fault)
