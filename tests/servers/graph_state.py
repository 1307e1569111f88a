"""The mailbox behind the fake Graph server (graph_server.py): events, series, change log.

Written from Microsoft's Graph v1.0 documentation (pages named in graph_server.py). What it
keeps: events with ``id``, ``changeKey`` and ``@odata.etag`` (W/"changeKey", new on every
write), ``transactionId`` (a second POST with one gets the first event back), single-value
extended properties, series (``recurrence`` with daily/weekly/absoluteMonthly patterns and
numbered/endDate/noEnd ranges) expanded into occurrences whose ids are the master's id and
the original start, exceptions and cancelled occurrences stored on the master (as Exchange
stores them: changing one changes the master's changeKey), and the mail Exchange would send
to the attendees of an event the mailbox organizes.
"""

from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

TIME = "%Y-%m-%dT%H:%M:%S.0000000"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_counter = itertools.count(1)


def zone(name: str | None) -> Any:
    return UTC if not name or name == "UTC" else ZoneInfo(name)


def parse_time(value: dict[str, str]) -> datetime:
    """A dateTimeTimeZone (IANA or UTC zone names) as an aware UTC datetime."""
    wall = datetime.fromisoformat(value["dateTime"].split(".")[0].rstrip("Z"))
    return wall.replace(tzinfo=zone(value.get("timeZone"))).astimezone(UTC)


def graph_time(value: datetime) -> dict[str, str]:
    return {"dateTime": value.astimezone(UTC).strftime(TIME), "timeZone": "UTC"}


def _key(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class Mail:
    """What Exchange would send: ``kind`` invitation, update or cancellation."""

    to: str
    kind: str
    subject: str


@dataclass
class Mailbox:
    owner: str = "coach@example.org"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[int, str]] = field(default_factory=list)  # (seq, event id)
    seq: int = 0
    horizon: int = 0
    transactions: dict[str, str] = field(default_factory=dict)
    mail: list[Mail] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- writes ---------------------------------------------------------------------------

    def _touch(self, event: dict[str, Any]) -> None:
        self.seq += 1
        event["changeKey"] = f"ck{next(_counter)}"
        event["@odata.etag"] = f'W/"{event["changeKey"]}"'
        event["lastModifiedDateTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.log.append((self.seq, event["id"]))

    def create(self, calendar: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """(the event, created?) — an existing transactionId gives the first event back."""
        txid = body.get("transactionId")
        if txid and txid in self.transactions and self.transactions[txid] in self.events:
            return self.events[self.transactions[txid]], False
        eid = f"AAMkAG-{next(_counter):08d}x="  # Graph ids: URL-safe base64, "-" and "=" too
        event = {
            "id": eid,
            "calendarId": calendar,
            "iCalUId": f"040000008200E00074C5B7101A82E008{next(_counter):08X}",
            "subject": "",
            "showAs": "busy",
            "categories": [],
            "isAllDay": False,
            "isCancelled": False,
            "attendees": [],
            "organizer": {"emailAddress": {"address": self.owner}},
            "type": "seriesMaster" if body.get("recurrence") else "singleInstance",
            "exceptions": {},
            "cancelled": [],
            "singleValueExtendedProperties": [],
        }
        self._merge(event, body)
        if txid:
            self.transactions[txid] = eid
        self.events[eid] = event
        self._touch(event)
        self._mail(event, "invitation", event.get("attendees", []))
        return event, True

    def _merge(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        for key, value in body.items():
            if key == "singleValueExtendedProperties":
                props = {p["id"]: p for p in event.get(key, [])}
                props.update({p["id"]: dict(p) for p in value})
                event[key] = list(props.values())
            elif key not in ("id", "changeKey", "@odata.etag", "exceptions", "cancelled"):
                event[key] = copy.deepcopy(value)

    def update(self, eid: str, body: dict[str, Any]) -> dict[str, Any]:
        master_id, key = split_id(eid)
        master = self.events[master_id]
        if key is None:
            self._merge(master, body)
            if "recurrence" in body:  # null ends a series: one event, its occurrences gone
                master["type"] = "seriesMaster" if body["recurrence"] else "singleInstance"
                if not body["recurrence"]:
                    master["exceptions"], master["cancelled"] = {}, []
            self._touch(master)
            self._mail(master, "update", master.get("attendees", []))
            return self.get(eid)
        exception = master["exceptions"].setdefault(key, {})
        exception.update({k: copy.deepcopy(v) for k, v in body.items() if k in EXCEPTION_FIELDS})
        self._touch(master)
        return self.get(eid)

    def delete(self, eid: str) -> None:
        master_id, key = split_id(eid)
        master = self.events[master_id]
        if key is None:
            del self.events[master_id]
            self.seq += 1
            self.log.append((self.seq, master_id))
            self._mail(master, "cancellation", master.get("attendees", []))
            return
        master["exceptions"].pop(key, None)
        master["cancelled"].append(key)
        self._touch(master)

    def _mail(self, event: dict[str, Any], kind: str, attendees: list[dict[str, Any]]) -> None:
        """Exchange mails the attendees of a meeting the mailbox organizes (and not the
        organizer); calbridge must leave clients out of ``attendees`` to stay the one mailer."""
        organizer = event.get("organizer", {}).get("emailAddress", {}).get("address")
        if organizer != self.owner:
            return
        for attendee in attendees:
            address = attendee.get("emailAddress", {}).get("address", "")
            if address and address != self.owner:
                self.mail.append(Mail(address, kind, str(event.get("subject", ""))))

    # -- reads ----------------------------------------------------------------------------

    def exists(self, eid: str) -> bool:
        master_id, key = split_id(eid)
        master = self.events.get(master_id)
        if master is None:
            return False
        return key is None or key in {_key(s) for s in self.starts(master)}

    def get(self, eid: str) -> dict[str, Any]:
        master_id, key = split_id(eid)
        master = self.events[master_id]
        if key is None:
            return master
        return self.instance(master, key)

    def starts(self, master: dict[str, Any]) -> list[datetime]:
        """The original starts of a series' occurrences (cancelled ones left out)."""
        rec = master.get("recurrence")
        if not rec:
            return []
        pattern, rng = rec["pattern"], rec["range"]
        local = zone(rng.get("recurrenceTimeZone"))  # the series keeps its wall time there
        start = parse_time(master["start"]).astimezone(local)
        freq = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY}.get(pattern["type"], rrule.MONTHLY)
        kwargs: dict[str, Any] = {"interval": int(pattern.get("interval", 1)), "dtstart": start}
        if pattern["type"] == "weekly":
            kwargs["byweekday"] = [WEEKDAYS.index(d) for d in pattern["daysOfWeek"]]
        if pattern["type"] == "absoluteMonthly":
            kwargs["bymonthday"] = int(pattern["dayOfMonth"])
        if rng["type"] == "numbered":
            kwargs["count"] = int(rng["numberOfOccurrences"])
        elif rng["type"] == "endDate":
            end = datetime.fromisoformat(rng["endDate"]).replace(tzinfo=local)
            kwargs["until"] = end + timedelta(days=1) - timedelta(seconds=1)
        else:
            kwargs["until"] = start + timedelta(days=3 * 366)
        cancelled = set(master["cancelled"])
        found = [s.astimezone(UTC) for s in rrule.rrule(freq, **kwargs)]
        return [s for s in found if _key(s) not in cancelled]

    def instance(self, master: dict[str, Any], key: str) -> dict[str, Any]:
        original = datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        length = parse_time(master["end"]) - parse_time(master["start"])
        exception = master["exceptions"].get(key)
        event = {
            k: copy.deepcopy(v)
            for k, v in master.items()
            if k not in ("recurrence", "exceptions", "cancelled", "singleValueExtendedProperties")
        }
        event.update(
            id=f"{master['id']}_{key}",
            seriesMasterId=master["id"],
            type="exception" if exception else "occurrence",
            originalStart=original.strftime("%Y-%m-%dT%H:%M:%SZ"),
            start=graph_time(original),
            end=graph_time(original + length),
        )
        event.update(copy.deepcopy(exception or {}))
        return event

    def rows(self, master: dict[str, Any], lo: datetime, hi: datetime) -> list[dict[str, Any]]:
        """What a calendar view between ``lo`` and ``hi`` shows of one event."""
        if not master.get("recurrence"):
            return [master] if _overlaps(master, lo, hi) else []
        found = [self.instance(master, _key(s)) for s in self.starts(master)]
        return [e for e in found if _overlaps(e, lo, hi)]

    def expire(self) -> None:
        """Forget the sync history: every delta token issued so far is refused (410)."""
        self.horizon = self.seq + 1
        self.seq += 1


EXCEPTION_FIELDS = frozenset({"start", "end", "subject", "showAs", "categories", "body"})


def split_id(eid: str) -> tuple[str, str | None]:
    if "_" in eid:
        master, key = eid.split("_", 1)
        return master, key
    return eid, None


def _overlaps(event: dict[str, Any], lo: datetime, hi: datetime) -> bool:
    return parse_time(event["start"]) < hi and parse_time(event["end"]) > lo
