"""What a coach's calendar should hold for the book's sessions and closures (pure).

STATUS of a session event, the same in the CalDAV copy, the feeds and every mail:
TENTATIVE while the session awaits an acceptance (book status *requested*: new, moved
or offered, whichever side must answer), CONFIRMED once *scheduled* or *completed*.
CANCELLED is never stored: a cancelled or declined single session leaves the calendar
(the resource is deleted), a cancelled occurrence of a series is an EXDATE of its
master, and the master of a series is only ever gone, never CANCELLED, once every
occurrence is. Mail says CANCELLED in METHOD:CANCEL only (``mail.imip.cancel``).
A change of STATUS raises SEQUENCE (IMIP.md; ``book.planning.answer``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from calbridge.core.model import ACTIVE, Closure, Kind, Role, Session, Status
from calbridge.core.recurrence import Recurrence
from calbridge.ical.model import AllDay, Attendee, EventSpec, Occurrence, Person

SESSION_MARK = "X-CALBRIDGE-SESSION"
KIND_MARK = "X-CALBRIDGE-KIND"
LABELS = {
    Kind.CLIENT: "Session",
    Kind.VIDEO: "Video session",
    Kind.NON_CLIENT: "Non-client event",
    Kind.TEAM: "Team event",
}


def closure_uid(closure_id: int) -> str:
    return f"calbridge-closure-{closure_id}"


def _status(session: Session) -> str:
    """TENTATIVE while requested, CONFIRMED once accepted (the rule at the top)."""
    if session.status is Status.REQUESTED:
        return "TENTATIVE"
    return "CANCELLED" if session.status not in ACTIVE else "CONFIRMED"


def event_status(session: Session) -> str:
    """The STATUS the session's VEVENT has (a change of it raises SEQUENCE, IMIP.md)."""
    return _status(session)


def _attendees(session: Session, people: Mapping[str, Person]) -> tuple[Attendee, ...]:
    found = []
    for part in session.participants:
        role = "REQ-PARTICIPANT" if part.role is Role.CLIENT else "OPT-PARTICIPANT"
        found.append(Attendee(people[part.party_id], role, part.partstat))
    return tuple(found)


def summary(session: Session, people: Mapping[str, Person]) -> str:
    """The event's title: the kind and the clients' names (a session without clients:
    the first line of its note). Mail subjects and texts use it too."""
    label = LABELS[session.kind]
    names = [people[c].name for c in session.clients]
    if len(names) > 1:
        label = "Group " + label.lower()
    return f"{label}: {', '.join(names)}" if names else (session.note.splitlines() or [label])[0]


def _occurrence(
    session: Session, people: Mapping[str, Person], recurrence_id: datetime | None = None
) -> Occurrence:
    return Occurrence(
        start=session.start,
        end=session.end,
        status=_status(session),
        attendees=_attendees(session, people),
        summary=summary(session, people),
        description=session.note,
        recurrence_id=recurrence_id,
    )


def session_spec(
    rows: Sequence[Session],
    organizer: Person,
    people: Mapping[str, Person],
    colors: Mapping[str, str],
    rrule: Recurrence | None = None,
    video_url: str | None = None,
) -> EventSpec | None:
    """The resource for one UID: a single session, or a series (master + overrides).

    None when nothing of it belongs in the calendar any more (all cancelled or declined).
    ``video_url`` (the coach's call link) goes into video sessions as CONFERENCE and URL.
    """
    spec = _session_spec(rows, organizer, people, colors, rrule)
    if spec is None or not video_url or rows[0].kind is not Kind.VIDEO:
        return spec
    return replace(spec, url=video_url)


def _session_spec(
    rows: Sequence[Session],
    organizer: Person,
    people: Mapping[str, Person],
    colors: Mapping[str, str],
    rrule: Recurrence | None,
) -> EventSpec | None:
    ordered = sorted(rows, key=lambda r: r.recurrence_id or r.start)
    live = [r for r in ordered if r.status in ACTIVE]
    if not live:
        return None
    first = ordered[0]
    if rrule is None or first.recurrence_id is None:
        done = live[0].status is Status.COMPLETED
        return _spec(first, organizer, people, colors, _occurrence(live[0], people), done)
    pattern = _pattern(ordered)
    # The master keeps the series' DTSTART (the first occurrence, even a cancelled one:
    # its EXDATE removes it) but takes the rest from the first occurrence still open, so
    # cancelling the first occurrence never marks the whole series CANCELLED.
    master = _occurrence(live[0], people)
    master = Occurrence(
        first.recurrence_id,
        first.recurrence_id + pattern,
        master.status,
        master.attendees,
        master.summary,
        master.description,
    )
    exdates, overrides = [], []
    for row in ordered:
        rid = row.recurrence_id or row.start
        if row.status not in ACTIVE:
            exdates.append(rid)
            continue
        mine = _occurrence(row, people, rid)
        if (mine.start, mine.end, mine.status, mine.attendees) != (
            rid,
            rid + pattern,
            master.status,
            master.attendees,
        ) or mine.description != master.description:
            overrides.append(mine)
    base = _spec(first, organizer, people, colors, master)
    return EventSpec(
        uid=base.uid,
        sequence=max(r.sequence for r in rows),
        tzid=base.tzid,
        organizer=organizer,
        master=master,
        transp="OPAQUE",
        color=base.color,
        categories=base.categories,
        url=None,
        rrule=rrule,
        exdates=tuple(exdates),
        overrides=tuple(overrides),
        x_props=base.x_props,
    )


def _pattern(rows: Sequence[Session]) -> timedelta:
    """The series' usual length: that of an occurrence still at its original time."""
    for row in rows:
        if row.recurrence_id == row.start:
            return row.end - row.start
    return rows[0].end - rows[0].start


def _spec(
    session: Session,
    organizer: Person,
    people: Mapping[str, Person],
    colors: Mapping[str, str],
    master: Occurrence,
    done: bool = False,
) -> EventSpec:
    """``done``: the session has an outcome; shown in the ``done`` colour if one is set."""
    return EventSpec(
        uid=session.uid,
        sequence=session.sequence,
        tzid=session.tzid,
        organizer=organizer,
        master=master,
        color=colors.get("done") if done and "done" in colors else colors.get(session.kind.value),
        categories=(LABELS[session.kind],),
        x_props={SESSION_MARK: str(session.id), KIND_MARK: session.kind.value},
    )


HOLD_PREFIX = "calbridge-hold-"
OFFER_MARK = "X-CALBRIDGE-OFFER"


@dataclass(frozen=True)
class Hold:
    """One offered time held for the coach (PRODUCT rule 4), as the calendar shows it."""

    uid: str
    offer_id: int
    start: datetime
    end: datetime
    tzid: str
    client_name: str


def hold_spec(hold: Hold, organizer: Person, color: str | None) -> EventSpec:
    """TENTATIVE and OPAQUE (IMIP.md "Holds"): busy for free/busy and other booking tools.
    No ATTENDEE: a hold is the coach's own note, never an invitation."""
    return EventSpec(
        uid=hold.uid,
        sequence=0,
        tzid=hold.tzid,
        organizer=organizer,
        master=Occurrence(
            start=hold.start,
            end=hold.end,
            status="TENTATIVE",
            summary=f"Held: offered to {hold.client_name}",
            description=f"Offered time (offer #{hold.offer_id}); released when the client "
            "picks another time, rejects the offer, or it expires.",
        ),
        transp="OPAQUE",
        color=color,
        categories=("Hold",),
        x_props={KIND_MARK: "hold", OFFER_MARK: str(hold.offer_id)},
    )


def closure_spec(closure: Closure, colors: Mapping[str, str]) -> AllDay:
    """A closure as an all-day event (DTEND exclusive, so the last day is included), in
    the ``closure`` colour of ``[sync] colors``."""
    assert closure.id is not None
    return AllDay(
        uid=closure_uid(closure.id),
        start=closure.start,
        end=closure.end + timedelta(days=1),
        summary=f"Closed: {closure.reason}",
        description=closure.reason,
        categories=("Closure",),
        x_props={KIND_MARK: "closure"},
        color=colors.get("closure"),
    )
