"""What a book change tells whom: ``notices(change, views, now, texts)`` turns a typed
change event into its notices (who reads it, what the mail says, the calendar object it
carries, the text). Pure: the views (each UID's spec and people) come from
``notify.load``, and ``notify`` queues the notices in the change's transaction.

Each carries the resource the coach's calendar copy is (``events``), so the UID and
SEQUENCE in mail and calendar agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from calbridge.config.schema import Coach
from calbridge.core.model import ACTIVE, Actor, Session, Status
from calbridge.core.recurrence import Recurrence
from calbridge.events.changes import (
    Answered,
    Cancelled,
    Change,
    ClosureNoticed,
    Moved,
    Planned,
    Reverted,
)
from calbridge.events.spec import session_spec, summary
from calbridge.ical.model import EventSpec, Person
from calbridge.mail import bodies, imip
from calbridge.mail.bodies import About, Body, Reader
from calbridge.mail.text_hook import Texts

#: What one reader is told: the mail's body and, if there is one, the text.
_Make = Callable[[About, Reader], tuple[Body, str | None]]


@dataclass(frozen=True)
class View:
    """One UID as its messages show it (read by ``notify.load``)."""

    coach: Coach
    rows: list[Session]
    people: dict[str, Person]
    zones: dict[str, str | None]
    spec: EventSpec | None  # the calendar copy's resource; None: nothing of it is left open
    rule: str | None = None  # a series' rule in words ("weekly, 6 sessions")
    rrule: Recurrence | None = None  # a series' rule, as the spec is built from it

    def about(self, session: Session) -> About:
        return about(self.coach, self.people, self.rule is not None, session)

    def reader(self, party_id: str) -> Reader:
        return reader(self.coach, self.people, self.zones, party_id)

    def coach_reader(self) -> Reader:
        return Reader(self.coach.name, self.coach.email, self.coach.zone())


@dataclass(frozen=True)
class Notice:
    """One message to one reader about ``session`` (``supersede``: in place of a
    still-queued one of the same kind about the same UID)."""

    session: Session
    to: Reader
    body: Body
    kind: str
    calendar: tuple[bytes, str] | None = None
    text: str | None = None
    supersede: bool = False


def about(coach: Coach, people: Mapping[str, Person], series: bool, session: Session) -> About:
    title = summary(session, people)
    return About(title, coach.name, session.start, session.end, session.note, series)


def reader(
    coach: Coach, people: Mapping[str, Person], zones: Mapping[str, str | None], party_id: str
) -> Reader:
    person, own = people[party_id], zones.get(party_id)
    return bodies.reader_of(person.name, person.email, coach.zone(), own, party_id)


def notices(change: Change, views: Mapping[str, View], now: datetime, texts: Texts) -> list[Notice]:
    """What ``change`` tells its people, in the order it is queued (``views``: by UID)."""
    match change:
        case Planned(sessions, agreed):
            live = [s for s in sessions if s.end > now]
            if not live:
                return []
            view = views[live[0].uid]
            told = set(live[0].clients) if agreed else set()  # confirmed: only told
            make = lambda a, r: (bodies.invitation(a, r, view.rule, r.party in told), None)  # noqa: E731
            return _request(view, live[0], "request", now, make)
        case Moved():
            return _moved(change, views[change.new.uid], now, texts)
        case Answered():
            return _answered(change, views[change.after.uid], now, texts)
        case Cancelled():
            return _cancelled(change, views, now, texts)
        case ClosureNoticed():
            return _closure(change, views, now, texts)
        case Reverted(session, reason):
            view = views[session.uid]
            to, what = view.coach_reader(), view.about(session)
            body = bodies.reverted(what, to, reason, session.id or 0)
            said = texts.reverted(what, to, session.id or 0)
            return [Notice(session, to, body, "reverted", text=said)]
    return []


def uids(change: Change, now: datetime) -> list[str]:
    """The UIDs whose views ``notices`` needs for ``change`` (none: it tells nobody)."""
    match change:
        case Planned(sessions, _) | Cancelled(sessions) | ClosureNoticed(sessions):
            return sorted({s.uid for s in sessions if s.end > now})
        case Moved(old, new):
            return [] if over([old, new], now) else [new.uid]
        case Answered(_, after):
            return [] if over([after], now) else [after.uid]
        case Reverted(session):
            return [session.uid]
    return []


def over(sessions: Iterable[Session], now: datetime) -> bool:
    return all(s.end <= now for s in sessions)


def _moved(change: Moved, view: View, now: datetime, texts: Texts) -> list[Notice]:
    """A new time: the whole object with the raised SEQUENCE."""
    old, new = change.old, change.new
    if over([old, new], now):
        return []
    was, by_client = (old.start, old.end), change.by is Actor.CLIENT

    def make(a: About, r: Reader) -> tuple[Body, str | None]:
        body = bodies.moved(a, r, change.client_requested, was, by_client)
        return body, texts.moved(a, r, old.start)

    return _request(view, new, "update", now, make)


def _answered(change: Answered, view: View, now: datetime, texts: Texts) -> list[Notice]:
    """A decline tells the other side; an answer that confirms the session re-sends it."""
    before, after, by, party = change.before, change.after, change.by, change.party
    if over([after], now):
        return []
    if after.status is Status.DECLINED:
        what = view.about(after)
        skip: list[str] = []
        who = view.coach.name
        if by is Actor.CLIENT:
            skip = [party] if party else after.clients
            who = view.people[party].name if party in view.people else "the client"
        parties, why = _attendees(after, skip), f"declined by {who}"
        out = _cancel_to(view, after, parties, why, False, now, texts, view.spec is None)
        if by is Actor.CLIENT:
            to = view.coach_reader()
            body, said = bodies.declined(what, to, who), texts.declined(what, to, who)
            out.append(Notice(after, to, body, "declined", text=said))
        return out
    if after.sequence != before.sequence and after.status in ACTIVE:
        # STATUS changed (TENTATIVE -> CONFIRMED): every participant's copy is updated,
        # which also tells the client that the practice accepted what they asked for.
        make = lambda a, r: (bodies.confirmed(a, r), None)  # noqa: E731
        return _request(view, after, "confirmed", now, make, supersede=True)
    return []


def _cancelled(
    change: Cancelled, views: Mapping[str, View], now: datetime, texts: Texts
) -> list[Notice]:
    """One occurrence (RECURRENCE-ID), a whole session or series, or "this and all
    following" (the master again as a REQUEST whose RRULE has UNTIL)."""
    reason = change.reason
    live = [s for s in change.sessions if s.end > now]
    if not live:
        return []
    if change.following:
        first = live[0]
        view = views[first.uid]
        if view.spec is None:
            return _cancel_to(view, first, _attendees(first), reason, True, now, texts, True)

        def make(a: About, r: Reader) -> tuple[Body, str | None]:
            return bodies.cancelled(a, r, reason, True), texts.cancelled(a, r, reason, True)

        return _request(view, first, "cancel", now, make)
    out: list[Notice] = []
    gone: set[str] = set()  # UIDs whose whole CANCEL is queued
    for session in live:
        if session.uid in gone:
            continue
        view = views[session.uid]
        whole = view.spec is None  # the CANCEL is for the whole series (no RECURRENCE-ID)
        if whole:
            gone.add(session.uid)
        parties = _attendees(session)
        out += _cancel_to(view, session, parties, reason, False, now, texts, whole)
    return out


def _closure(
    change: ClosureNoticed, views: Mapping[str, View], now: datetime, texts: Texts
) -> list[Notice]:
    """--notify-only: participants are told of the closure; their sessions stay."""
    first, last, reason = change.first, change.last, change.reason
    out: list[Notice] = []
    for session in change.sessions:
        if over([session], now):
            continue
        view = views[session.uid]
        what = view.about(session)
        for party in _attendees(session):
            to = view.reader(party)
            body = bodies.closure_notice(what, to, first, last, reason)
            said = texts.closure(what, to, first, last, reason)
            out.append(Notice(session, to, body, "closure", text=said))
    return out


def _attendees(session: Session, skip: Iterable[str] = ()) -> list[str]:
    left = set(skip)
    return [p.party_id for p in session.participants if p.party_id not in left]


def _request(
    view: View,
    session: Session,
    kind: str,
    now: datetime,
    make: _Make,
    supersede: bool = False,
) -> list[Notice]:
    """The whole object again (METHOD:REQUEST) to every attendee of ``session``."""
    if view.spec is None:
        return []
    data = imip.request(view.spec, now)
    what = view.about(session)
    out = []
    for party in _attendees(session):
        to = view.reader(party)
        body, said = make(what, to)
        out.append(Notice(session, to, body, kind, (data, "REQUEST"), said, supersede))
    return out


def _cancel_to(
    view: View,
    session: Session,
    parties: list[str],
    reason: str | None,
    following: bool,
    now: datetime,
    texts: Texts,
    whole: bool = False,
) -> list[Notice]:
    sequence = max(r.sequence for r in view.rows)
    single = replace(
        session, status=Status.SCHEDULED, recurrence_id=None, series_id=None, sequence=sequence
    )
    organizer = Person(view.coach.name, view.coach.email)
    spec = session_spec([single], organizer, view.people, {}, video_url=view.coach.video_url)
    if spec is None or not parties:
        return []
    keep = set(parties)
    losing = tuple(a for a in spec.master.attendees if _party_of(view, a.person) in keep)
    spec = replace(spec, master=replace(spec.master, attendees=losing))
    recurrence_id = None if whole or session.recurrence_id is None else session.recurrence_id
    data = imip.cancel(spec, now, recurrence_id)
    what = view.about(session)
    out = []
    for party in parties:
        to = view.reader(party)
        body = bodies.cancelled(what, to, reason, following)
        said = texts.cancelled(what, to, reason, following)
        out.append(Notice(session, to, body, "cancel", (data, "CANCEL"), said))
    return out


def _party_of(view: View, person: Person) -> str | None:
    for party, known in view.people.items():
        if known == person:
            return party
    return None
