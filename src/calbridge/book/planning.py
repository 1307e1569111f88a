"""Planning, moving, answering and cancelling sessions: each one transaction."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from calbridge.book import booking, checks
from calbridge.book.context import Book
from calbridge.book.requests import EditRequest, PlanRequest
from calbridge.book.waitlist_offers import booked, freed
from calbridge.config.schema import Coach
from calbridge.core import invitations, limits, series
from calbridge.core.model import (
    CLIENT_KINDS,
    Actor,
    Participant,
    Role,
    Session,
    Status,
)
from calbridge.core.recurrence import Recurrence
from calbridge.core.timeutil import month_of
from calbridge.errors import Refused, UserError
from calbridge.events.changes import Answered, Cancelled, Moved, Planned, RemindersOff
from calbridge.events.spec import event_status
from calbridge.store import repo, repo_clientpage, repo_sessions
from calbridge.store.db import Db, lock
from calbridge.store.tables import SeriesRow, SessionRow


def new_uid() -> str:
    return f"calbridge-{uuid.uuid4()}"


def _validate(book: Book, req: PlanRequest) -> None:
    if req.kind in CLIENT_KINDS and not req.clients:
        raise UserError(f"a {req.kind} session needs at least one --client")
    if req.kind not in CLIENT_KINDS and req.clients:
        raise UserError(f"a {req.kind} event has no clients; drop --client or use --kind client")
    if len(set(req.clients)) != len(req.clients):
        raise UserError("the same --client is named twice")
    if req.end is not None and req.duration is not None:
        raise UserError("give --end or --duration, not both")
    if req.series is not None and req.start is None:
        raise UserError("a series needs --start")
    if req.service is not None:
        checks.service(book, req.service)


def _duration(
    book: Book, start: datetime | None, end: datetime | None, duration: timedelta | None
) -> timedelta:
    if end is not None and start is not None:
        length = end - start
    elif duration is not None:
        length = duration
    else:
        length = timedelta(minutes=book.settings.book.default_duration_minutes)
    if length <= timedelta(0):
        raise UserError("the session ends before it starts: --end must be after --start")
    if length > repo.MAX_SESSION:
        raise UserError("a session longer than 24 hours is not a session; check --end/--duration")
    return length


def plan(book: Book, req: PlanRequest) -> list[Session]:
    """Plan one session or a series; refused whole if any occurrence breaks a rule."""
    _validate(book, req)
    coach = book.coach(req.coach_id)
    zone = coach.zone()
    length = _duration(book, req.start, req.end, req.duration)
    with book.transaction() as db:
        lock(db, [f"coach:{coach.id}"] + [f"client:{c}" for c in req.clients])
        clients = [repo.client(db, c) for c in req.clients]
        for party in req.third_parties:
            repo.third_party(db, party)
        checks.not_archived(db, req.clients, req.third_parties)
        start = req.start or booking.first_free(book, db, coach, clients, length, req)
        starts = series.expand(req.series, start, zone) if req.series else [start]
        spans = [(s, s + length) for s in starts]
        checks.past(coach, spans, book.clock(), req.record)
        checks.availability(book, db, coach, spans, req.override_availability)
        if not req.record:
            booking.check(book, db, coach, spans, req.kind, req.service, req.override_availability)
        if req.kind in CLIENT_KINDS and req.direct:  # indirect work uses no sessions
            checks.monthly_limits(book, db, coach, clients, checks.placements(coach, spans))
        now = book.clock()
        uid = new_uid()
        series_id = _add_series(db, req, coach, uid, start, now) if req.series else None
        status, awaiting = invitations.planned(req.kind, req.by, req.client_requested)
        stat = "ACCEPTED" if req.record else "NEEDS-ACTION"
        if req.record:  # it happened: nothing to ask anyone
            status, awaiting = Status.SCHEDULED, None
        agreed = "ACCEPTED" if req.client_requested else stat
        people = [Participant(c, Role.CLIENT, agreed) for c in req.clients]
        people += [Participant(t, Role.THIRD_PARTY, stat) for t in req.third_parties]
        planned = []
        for occ_start, occ_end in spans:
            session = Session(
                uid=uid,
                coach_id=coach.id,
                start=occ_start,
                end=occ_end,
                tzid=coach.timezone,
                kind=req.kind,
                direct=req.direct,
                participants=list(people),
                service=req.service,
                note=req.note,
                private_note=req.private_note,
                remind=req.remind,
                status=status,
                awaiting=awaiting,
                created_by=req.by,
                series_id=series_id,
                recurrence_id=occ_start if series_id else None,
            )
            repo.write_session(db, session, now)
            _log(book, db, session, "planned", req.by, _describe(session))
            planned.append(session)
        if not req.record:
            book.emit(db, Planned(planned, req.client_requested))
            booked(book, db, planned[0])  # off the coach's waitlist
        return planned


def _add_series(
    db: Db, req: PlanRequest, coach: Coach, uid: str, start: datetime, now: datetime
) -> int:
    spec = req.series
    assert spec is not None
    row = SeriesRow(
        uid=uid,
        coach_id=coach.id,
        tzid=coach.timezone,
        repeat=spec.repeat,
        weekdays=",".join(str(d) for d in spec.weekdays),
        count=spec.count,
        until=spec.until,
        rrule=series.rrule_text(spec, start, coach.zone()),
        enabled=True,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row.id


def _describe(session: Session) -> dict[str, Any]:
    return {
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "status": session.status.value,
        "clients": session.clients,
    }


def _log(
    book: Book, db: Db, session: Session, action: str, by: Actor, changes: dict[str, Any]
) -> None:
    now = book.clock()
    repo.audit(db, now, "session", session.id, action, by, book.origin, changes)
    payload = {"uid": session.uid, "by": by.value, **changes}
    repo.record_change(db, now, f"session.{action}", session.id, payload)


def _open_row(db: Db, session_id: int) -> SessionRow:
    row = repo.session_row(db, session_id)
    if row.status in (Status.CANCELLED.value, Status.DECLINED.value):
        raise Refused("not_open", f"session {session_id} is {row.status}; it cannot change")
    return row


def edit(book: Book, session_id: int, req: EditRequest) -> Session:
    """Move a session (PRODUCT rules 1-3): same checks as planning, itself excluded."""
    with book.transaction() as db:
        first = repo.session_row(db, session_id)
        clients_ids = [p.party_id for p in first.participants if p.role == Role.CLIENT.value]
        lock(db, [f"coach:{first.coach_id}"] + [f"client:{c}" for c in clients_ids])
        row = _open_row(db, session_id)
        old = repo.to_session(row)
        coach = book.coach(old.coach_id)
        start = req.start or old.start
        if req.end is None and req.duration is None:
            length = _duration(book, start, None, old.end - old.start)
        else:
            length = _duration(book, start, req.end, req.duration)
        new = replace(old, start=start, end=start + length)
        moved = (new.start, new.end) != (old.start, old.end)
        if not moved:
            return _set_remind(book, db, row, old, req)
        span, override = [(new.start, new.end)], req.override_availability
        checks.availability(book, db, coach, span, override, ignore=[session_id])
        lifted = override or req.held
        booking.check(book, db, coach, span, old.kind, old.service, lifted, [session_id])
        if (
            old.kind in CLIENT_KINDS
            and old.direct
            and old.status in (Status.REQUESTED, Status.SCHEDULED)
        ):
            zone = coach.zone()
            place = limits.Placement(
                month_of(new.start, zone), new.start, session_id, month_of(old.start, zone)
            )
            clients = [repo.client(db, c) for c in old.clients]
            checks.monthly_limits(book, db, coach, clients, [place])
        new.status, new.awaiting = invitations.edited(
            old.kind, old.status, req.by, req.client_requested
        )
        new.sequence = repo.next_sequence(db, old.uid)
        if req.remind is not None:
            new.remind = req.remind
        new.participants = _partstats_after_move(old, new, req.client_requested)
        repo.write_session(db, new, book.clock(), row)
        changes = {
            "from": [old.start.isoformat(), old.end.isoformat()],
            "to": [new.start.isoformat(), new.end.isoformat()],
            "status": new.status.value,
            "client_requested": req.client_requested,
        }
        _log(book, db, new, "moved", req.by, changes)
        book.emit(db, Moved(old, new, req.client_requested, req.by))
        freed(book, db, old.coach_id, [(old.start, old.end)])  # the old time: to the waitlist
        return new


def _partstats_after_move(old: Session, new: Session, client_requested: bool) -> list[Participant]:
    """A move to be accepted asks the clients again (NEEDS-ACTION); one agreed with the
    clients (``client_requested``) is their acceptance: ACCEPTED, so no RSVP is asked."""
    if new.status is Status.REQUESTED:
        partstat: str | None = "NEEDS-ACTION"
    elif client_requested:
        partstat = "ACCEPTED"
    else:
        partstat = None
    return [
        replace(p, partstat=partstat) if p.role is Role.CLIENT and partstat else p
        for p in old.participants
    ]


def _set_remind(book: Book, db: Db, row: SessionRow, old: Session, req: EditRequest) -> Session:
    """An edit that only turns reminders on or off (no new time: nothing is sent)."""
    if req.remind is None or req.remind == old.remind:
        return old
    new = replace(old, remind=req.remind)
    repo.write_session(db, new, book.clock(), row)
    _log(book, db, new, "reminders", req.by, {"remind": req.remind})
    if not req.remind:
        book.emit(db, RemindersOff([new]))
    return new


def answer(
    book: Book, session_id: int, by: Actor, accept: bool, party_id: str | None = None
) -> Session:
    """Record an acceptance or a decline (by a client, the coach or an admin)."""
    with book.transaction() as db:
        row = repo.session_row(db, session_id)
        lock(db, [f"coach:{row.coach_id}"])
        session = repo.to_session(row)
        _check_answerer(session, by, party_id)
        before = replace(session)
        session.status, session.awaiting = invitations.answered(
            session.status, session.awaiting, by, accept
        )
        partstat = "ACCEPTED" if accept else "DECLINED"
        if by is Actor.CLIENT:
            session.participants = [
                replace(p, partstat=partstat)
                if p.role is Role.CLIENT and party_id in (None, p.party_id)
                else p
                for p in session.participants
            ]
        if not accept or event_status(session) != event_status(before):
            session.sequence = repo.next_sequence(db, session.uid)  # STATUS changes (IMIP.md)
        repo.write_session(db, session, book.clock(), row)
        _log(
            book,
            db,
            session,
            "accepted" if accept else "declined",
            by,
            {"status": session.status.value, "party": party_id},
        )
        book.emit(db, Answered(before, session, by, party_id))
        if session.status is Status.DECLINED:  # a declined session frees its time too
            repo_clientpage.close_requests(db, [row.id], book.clock(), "the session was declined")
            freed(book, db, row.coach_id, [(session.start, session.end)])
        return session


def _check_answerer(session: Session, by: Actor, party_id: str | None) -> None:
    """A client answers for themself only: in a group session they must be named."""
    if by is not Actor.CLIENT:
        return
    if party_id is None and len(session.clients) > 1:
        names = ", ".join(session.clients)
        raise UserError(
            f"session {session.id} is a group session ({names}): "
            "say which client answers with --client ID"
        )
    if party_id is not None and party_id not in session.clients:
        raise UserError(f"{party_id} is not a client of session {session.id}; check --client")


def cancel(
    book: Book,
    session_id: int,
    by: Actor,
    reason: str | None = None,
    following: bool = False,
    notify: bool = True,
) -> list[Session]:
    """Cancel one session, or it and all later occurrences of its series."""
    with book.transaction() as db:
        row = _open_row(db, session_id)
        lock(db, [f"coach:{row.coach_id}"])
        rows = [row]
        if following:
            if row.series_id is None:
                raise UserError(f"session {session_id} is not part of a series; drop --following")
            rows = _following(db, row)
            _end_series(book, db, row, by)
        sequence = repo.next_sequence(db, row.uid)
        done = [cancel_row(book, db, r, by, reason, notify, sequence) for r in rows]
        if notify:
            book.emit(db, Cancelled(done, following, reason))
        freed(book, db, row.coach_id, [(s.start, s.end) for s in done])  # to the waitlist
        return done


def cancel_row(
    book: Book,
    db: Db,
    row: SessionRow,
    by: Actor,
    reason: str | None,
    notify: bool,
    sequence: int | None = None,
) -> Session:
    """Cancel one row; its SEQUENCE goes above every row of its UID (mail is the caller's)."""
    session = repo.to_session(row)
    session.status, session.awaiting = Status.CANCELLED, None
    session.sequence = sequence if sequence is not None else repo.next_sequence(db, row.uid)
    session.cancel_reason = reason
    repo.write_session(db, session, book.clock(), row)
    _log(book, db, session, "cancelled", by, {"reason": reason, "notify": notify})
    repo_clientpage.close_requests(db, [row.id], book.clock(), "the session was cancelled")
    return session


def _following(db: Db, row: SessionRow) -> list[SessionRow]:
    open_ = [Status.REQUESTED.value, Status.SCHEDULED.value]
    return repo_sessions.following(db, row, open_)


def _end_series(book: Book, db: Db, row: SessionRow, by: Actor) -> None:
    """The series now ends before ``row``: RRULE gets an UNTIL just before the cut."""
    found = db.get(SeriesRow, row.series_id)
    if found is None:
        return
    cut = (row.recurrence_id or row.start) - timedelta(seconds=1)
    found.rrule = Recurrence.parse(found.rrule).ended_before(cut).render()
    found.until = cut.astimezone(book.zone(found.coach_id)).date()
    found.count = None
    repo.audit(
        db, book.clock(), "series", found.id, "shortened", by, book.origin, {"rrule": found.rrule}
    )
