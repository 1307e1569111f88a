"""iCalendar <-> Microsoft Graph event JSON, for the ``graph`` store (pure: no I/O).

calbridge's own events carry three single-value extended properties (MAPI named string
properties in calbridge's own property set): the UID, the resource name (``UID.ics``) and
the iCalendar object exactly as calbridge wrote it. Reading one back starts from those bytes
and lays over them what the coach can change in Outlook (start and end, subject, show-as,
categories, cancellation), so an event nobody touched reads back byte for byte and the sync's
fingerprints hold, while every property Graph has no field for (X-CALBRIDGE-*, ATTENDEE with
its PARTSTAT, SEQUENCE) survives. The coach's own events have no such property and are built
from Graph's fields alone, with Graph's ``iCalUId`` as UID.

Clients never go into Graph's ``attendees``: Graph mails every attendee of an event the
mailbox organizes, and calbridge's iMIP is the one mailer (README, "Outlook coaches").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Component, Event

from calbridge.calendars.graphrec import occurrence_key, pattern_of, rrule_of

#: calbridge's property set (a GUID of its own) and the three named properties in it.
PROPSET = "{2f1b6b0e-4c1a-4b7e-9a43-6a1f6c0f3b21}"
UID_PROP = f"String {PROPSET} Name calbridgeUid"
NAME_PROP = f"String {PROPSET} Name calbridgeName"
ICS_PROP = f"String {PROPSET} Name calbridgeIcs"
_IDS = " or ".join(f"id eq '{prop}'" for prop in (UID_PROP, NAME_PROP, ICS_PROP))
EXPAND = f"singleValueExtendedProperties($filter={_IDS})"
GRAPH_TIME = "%Y-%m-%dT%H:%M:%S.0000000"
PRODID = "-//calbridge//Microsoft Graph//EN"


class GraphMapError(ValueError):
    """The iCalendar object cannot be put into a Graph event (names what is wrong)."""


def _vevents(data: bytes) -> tuple[Calendar, Component, list[Component]]:
    try:
        cal = Calendar.from_ical(data)
    except ValueError as exc:
        raise GraphMapError(f"not iCalendar: {exc}") from exc
    events = cal.walk("VEVENT")
    masters = [e for e in events if e.get("RECURRENCE-ID") is None]
    if len(masters) != 1:
        raise GraphMapError(f"{len(masters)} VEVENTs without RECURRENCE-ID (want exactly one)")
    return cal, masters[0], [e for e in events if e.get("RECURRENCE-ID") is not None]


def zone_name(value: date | datetime) -> str:
    """The IANA zone of a DTSTART (Graph takes IANA names in timeZone), else UTC."""
    zone = getattr(value, "tzinfo", None)
    key = getattr(zone, "key", None)
    return str(key) if isinstance(key, str) and key else "UTC"


def graph_time(value: date | datetime) -> dict[str, str]:
    """A Graph dateTimeTimeZone: wall time in the value's IANA zone (a series keeps its
    local time across clock changes), UTC for UTC or floating values, all-day at midnight."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    zone = zone_name(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC if zone == "UTC" else ZoneInfo(zone)).replace(tzinfo=None)
    return {"dateTime": value.strftime(GRAPH_TIME), "timeZone": zone}


def parse_graph_time(value: dict[str, str]) -> datetime:
    """An aware datetime from a dateTimeTimeZone (calbridge asks for answers in UTC)."""
    text = datetime.fromisoformat(value["dateTime"].split(".")[0].rstrip("Z"))
    name = value.get("timeZone") or "UTC"
    try:
        zone = UTC if name == "UTC" else ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        zone = UTC  # a Windows zone name: never in answers, which come in UTC
    return text.replace(tzinfo=zone).astimezone(UTC)


def _span(event: Component) -> tuple[date | datetime, date | datetime]:
    start = event.decoded("DTSTART")
    if event.get("DTEND") is not None:
        return start, event.decoded("DTEND")
    if event.get("DURATION") is not None:
        return start, start + event.decoded("DURATION")
    return start, start + (timedelta(days=1) if not isinstance(start, datetime) else timedelta())


def fields_of(event: Component) -> dict[str, Any]:
    """The Graph fields calbridge sets from one VEVENT (what the coach may change)."""
    start, end = _span(event)
    status = str(event.get("STATUS", "CONFIRMED")).upper()
    categories: list[str] = []
    raw = event.get("CATEGORIES")
    for value in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        categories.extend(str(c) for c in value.cats)
    fields: dict[str, Any] = {
        "subject": str(event.get("SUMMARY", "")),
        "start": graph_time(start),
        "end": graph_time(end),
        "isAllDay": not isinstance(start, datetime),
        "showAs": "tentative" if status == "TENTATIVE" else "busy",
        "categories": categories,
    }
    return fields


def to_graph(data: bytes, name: str) -> dict[str, Any]:
    """The Graph event (POST/PATCH body) for calbridge's iCalendar object ``data``."""
    return to_graph_labelled(data, name)[0]


def to_graph_labelled(data: bytes, name: str) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """``to_graph``, and (the event's first category, its COLOR): the kind and the colour
    calbridge gave it, for the mailbox's category list (one parse for both)."""
    _, master, exceptions = _vevents(data)
    if not str(master.get("UID", "")).strip():
        raise GraphMapError("the VEVENT has no UID")
    body = fields_of(master)
    description = str(master.get("DESCRIPTION", ""))
    named = _attendee_names(master)
    if named:  # clients are named here, never in Graph's attendees (no mail from Graph)
        description = (description + "\n\n" if description else "") + "With: " + named
    location = str(master.get("LOCATION", ""))
    body["body"] = {"contentType": "text", "content": description}
    body["location"] = {"displayName": location}
    minutes = reminder_of(master)
    body["isReminderOn"] = minutes is not None
    if minutes is not None:
        body["reminderMinutesBeforeStart"] = minutes
    rule = master.get("RRULE")
    body["recurrence"] = None  # null: a series the coach made of a single event ends
    if rule is not None:
        first = master.decoded("DTSTART")
        body["recurrence"] = pattern_of(rule, first, zone_name(first))
    del exceptions  # exceptions travel as instances: graph.py writes them after the master
    body["singleValueExtendedProperties"] = [
        {"id": UID_PROP, "value": str(master["UID"])},
        {"id": NAME_PROP, "value": name},
        {"id": ICS_PROP, "value": data.decode("utf-8")},
    ]
    color = master.get("COLOR")
    label = (
        (body["categories"][0], str(color)) if color is not None and body["categories"] else None
    )
    return body, label


def _attendee_names(vevent: Component) -> str:
    raw = vevent.get("ATTENDEE")
    people = raw if isinstance(raw, list) else [raw] if raw is not None else []
    names = []
    for person in people:
        address = str(person).removeprefix("mailto:").removeprefix("MAILTO:")
        cn = person.params.get("CN") if hasattr(person, "params") else None
        names.append(f"{cn} <{address}>" if cn else address)
    return ", ".join(names)


def exceptions_of(data: bytes) -> dict[str, tuple[Component | None, Component]]:
    """Occurrence key -> (the exception VEVENT or None if cancelled by EXDATE, master)."""
    _, master, exceptions = _vevents(data)
    out: dict[str, tuple[Component | None, Component]] = {}
    for ex in exceptions:
        out[occurrence_key(ex.decoded("RECURRENCE-ID"))] = (ex, master)
    for exdate in exdates(master):
        out[occurrence_key(exdate)] = (None, master)
    return out


def exdates(master: Component) -> list[date | datetime]:
    raw = master.get("EXDATE")
    found: list[date | datetime] = []
    for prop in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        found.extend(d.dt for d in prop.dts)
    return found


def extended(event: dict[str, Any]) -> dict[str, str]:
    """The event's calbridge extended properties, by property id."""
    props = event.get("singleValueExtendedProperties") or []
    return {str(p.get("id")): str(p.get("value")) for p in props}


def from_graph(
    event: dict[str, Any], instances: list[dict[str, Any]] | None = None
) -> tuple[str | None, bytes]:
    """(calbridge's resource name or None for the coach's own event, iCalendar bytes).

    ``instances``: the series' exceptions and occurrences as Graph lists them (for a
    series master), so exceptions moved and occurrences cancelled in Outlook read back."""
    props = extended(event)
    stored = props.get(ICS_PROP)
    if stored is None:
        return None, _foreign(event)
    return props.get(NAME_PROP), _overlay(stored.encode("utf-8"), event, instances)


def _overlay(stored: bytes, event: dict[str, Any], instances: list[dict[str, Any]] | None) -> bytes:
    cal, master, exceptions = _vevents(stored)
    changed = _apply(master, fields_of(master), event)
    changed = _apply_coach(master, event) or changed
    if event.get("recurrence") and master.get("RRULE") is None:
        # The coach made calbridge's event a series in Outlook: the sync must see it (and
        # refuses it like any repeat rule added to a session).
        master.add("RRULE", rrule_of(event["recurrence"]))
        changed = True
    if instances is not None and master.get("RRULE") is not None:
        changed = _apply_instances(cal, master, exceptions, instances) or changed
    return cal.to_ical() if changed else stored


def _apply(vevent: Component, sent: dict[str, Any], now: dict[str, Any]) -> bool:
    changed = False
    for key in ("start", "end"):
        if key in now and parse_graph_time(now[key]) != parse_graph_time(sent[key]):
            prop = "DTSTART" if key == "start" else "DTEND"
            if prop == "DTEND" and vevent.get("DURATION") is not None:
                del vevent["DURATION"]
            moved: datetime = parse_graph_time(now[key])
            if prop in vevent:
                old = vevent.decoded(prop)
                if isinstance(old, datetime) and old.tzinfo is not None:
                    moved = moved.astimezone(old.tzinfo)  # keep the event's own zone
                del vevent[prop]
            vevent.add(prop, moved)
            changed = True
    if "subject" in now and now["subject"] != sent["subject"]:
        vevent.pop("SUMMARY", None)
        vevent.add("SUMMARY", now["subject"])
        changed = True
    if "showAs" in now and (now["showAs"] == "tentative") != (sent["showAs"] == "tentative"):
        vevent.pop("STATUS", None)
        vevent.add("STATUS", "TENTATIVE" if now["showAs"] == "tentative" else "CONFIRMED")
        changed = True
    if "categories" in now and list(now["categories"]) != sent["categories"]:
        vevent.pop("CATEGORIES", None)
        if now["categories"]:
            vevent.add("CATEGORIES", list(now["categories"]))
        changed = True
    if now.get("isCancelled") and str(vevent.get("STATUS", "")).upper() != "CANCELLED":
        vevent.pop("STATUS", None)
        vevent.add("STATUS", "CANCELLED")
        changed = True
    return changed


def _apply_coach(vevent: Component, now: dict[str, Any]) -> bool:
    """The location and reminder set in Outlook, as LOCATION and a VALARM: the coach's,
    which calbridge's rewrites keep (ical/merge.py) and send back (``to_graph``)."""
    changed = False
    where = (now.get("location") or {}).get("displayName", "") if "location" in now else None
    if where is not None and where != str(vevent.get("LOCATION", "")):
        vevent.pop("LOCATION", None)
        if where:
            vevent.add("LOCATION", where)
        changed = True
    if "isReminderOn" in now:
        wanted = int(now.get("reminderMinutesBeforeStart", 15)) if now["isReminderOn"] else None
        if wanted != reminder_of(vevent):
            vevent.subcomponents = [c for c in vevent.subcomponents if c.name != "VALARM"]
            if wanted is not None:
                alarm = Alarm()
                alarm.add("ACTION", "DISPLAY")
                alarm.add("DESCRIPTION", "Reminder")
                alarm.add("TRIGGER", timedelta(minutes=-wanted))
                vevent.add_component(alarm)
            changed = True
    return changed


def reminder_of(vevent: Component) -> int | None:
    """Minutes before the start of the event's first alarm (Graph keeps one reminder)."""
    for alarm in vevent.walk("VALARM"):
        trigger = alarm.get("TRIGGER")
        value = getattr(trigger, "dt", None)
        if isinstance(value, timedelta):
            return max(0, int(-value.total_seconds() // 60))
    return None


def _apply_instances(
    cal: Calendar, master: Component, exceptions: list[Component], instances: list[dict[str, Any]]
) -> bool:
    """Exceptions and cancelled occurrences as Graph has them, onto the stored series."""
    by_key = {occurrence_key(ex.decoded("RECURRENCE-ID")): ex for ex in exceptions}
    cancelled = {occurrence_key(d) for d in exdates(master)}
    start, end = _span(master)
    changed = False
    for inst in instances:
        key = occurrence_key(parse_graph_time(inst["originalStart"]))
        ex = by_key.get(key)
        if inst.get("@removed") or inst.get("isCancelled"):
            if key not in cancelled:
                master.add("EXDATE", parse_graph_time(inst["originalStart"]))
                cancelled.add(key)
                changed = True
            if ex is not None:
                cal.subcomponents.remove(ex)
                del by_key[key]
                changed = True
            continue
        if ex is not None:
            changed = _apply(ex, fields_of(ex), inst) or changed
        elif inst.get("type") == "exception":
            ex = _exception_of(master, parse_graph_time(inst["originalStart"]), end, start)
            if _apply(ex, fields_of(ex), inst):
                cal.add_component(ex)
                by_key[key] = ex
                changed = True
    return changed


def _exception_of(
    master: Component, original: datetime, end: date | datetime, start: date | datetime
) -> Component:
    """A new exception: the master's properties, at its original time (moved after)."""
    ex = Event()
    for name, value in master.property_items(recursive=False)[1:-1]:
        if name not in ("RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DURATION"):
            ex.add(name, value, encode=False)
    ex.add("RECURRENCE-ID", original)
    ex.add("DTSTART", original)
    ex.add("DTEND", original + (_as_dt(end) - _as_dt(start)))
    return ex


def _as_dt(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _foreign(event: dict[str, Any]) -> bytes:
    """An iCalendar object for an event the coach made in Outlook."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    vevent = Event()
    vevent.add("UID", event.get("iCalUId") or event["id"])
    stamp = event.get("lastModifiedDateTime") or "2000-01-01T00:00:00Z"
    vevent.add("DTSTAMP", datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC))
    start, end = parse_graph_time(event["start"]), parse_graph_time(event["end"])
    if event.get("isAllDay"):
        vevent.add("DTSTART", start.date())
        vevent.add("DTEND", end.date())
    else:
        vevent.add("DTSTART", start)
        vevent.add("DTEND", end)
    vevent.add("SUMMARY", event.get("subject") or "")
    show = event.get("showAs", "busy")
    vevent.add("TRANSP", "TRANSPARENT" if show == "free" else "OPAQUE")
    if event.get("isCancelled"):
        vevent.add("STATUS", "CANCELLED")
    elif show == "tentative":
        vevent.add("STATUS", "TENTATIVE")
    if event.get("categories"):
        vevent.add("CATEGORIES", list(event["categories"]))
    if event.get("recurrence"):
        vevent.add("RRULE", rrule_of(event["recurrence"]))
    cal.add_component(vevent)
    return bytes(cal.to_ical())
