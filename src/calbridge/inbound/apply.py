"""Apply one inbound mail to the book: once, whole, or not at all.

``process`` is what the mailbox reader calls for each message. The message's key is
recorded in the very transaction that applies it, so a message seen again (a crash
between applying and moving it, a re-delivery) changes nothing and is filed where it was
filed the first time. A message that cannot be applied is rolled back whole, recorded as
rejected with its reason, logged, and filed in the rejected folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from calbridge.book import planning
from calbridge.book.context import Book
from calbridge.core.model import Actor, Role, Session, Status
from calbridge.errors import CalbridgeError
from calbridge.inbound.message import Itip, NotItip, message_key, read
from calbridge.mail import notify
from calbridge.store import repo, repo_inbound
from calbridge.store.db import Db, IntegrityError
from calbridge.store.tables import SessionRow
from calbridge.store.tables_inbound import InboundAnswerRow, InboundMessageRow

log = logging.getLogger(__name__)
ANSWERS = {"ACCEPTED": True, "DECLINED": False, "TENTATIVE": None}


@dataclass(frozen=True)
class Outcome:
    outcome: str  # applied | rejected
    code: str
    detail: str
    again: bool = False  # seen before: nothing was changed this time
    coaches: frozenset[str] = frozenset()  # whose calendars the change touches


@dataclass
class Target:
    """The rows of one UID a message is about, and who sent it."""

    itip: Itip
    rows: list[SessionRow]
    party: str
    role: Role


def process(book: Book, raw: bytes) -> Outcome:
    key = message_key(raw)
    with book.transaction() as db:
        seen = _seen(db, key)
    if seen is not None:
        return seen
    itip: Itip | None = None
    try:
        itip = read(raw, key)
        with book.transaction() as db:
            code, detail = _apply(book, db, itip)
            _record(book, db, key, itip, "applied", code, detail)
            coaches = repo_inbound.coaches_of_uid(db, itip.uid)
        return Outcome("applied", code, detail, coaches=coaches)
    except NotItip as error:
        code, detail = error.code, error.reason
    except CalbridgeError as error:  # a rule of the book refused it (as the CLI would)
        code, detail = "refused", str(error)
    except IntegrityError:  # another instance recorded the same message meanwhile
        with book.transaction() as db:
            again = _seen(db, key)
        return again or Outcome("rejected", "duplicate", "recorded by another instance", True)
    try:
        with book.transaction() as db:
            _record(book, db, key, itip, "rejected", code, detail)
    except IntegrityError:  # another instance applied it meanwhile: file it as it did
        with book.transaction() as db:
            again = _seen(db, key)
        if again is not None:
            return again
    return Outcome("rejected", code, detail)


def _seen(db: Db, key: str) -> Outcome | None:
    row = repo_inbound.message(db, key)
    if row is None:
        return None
    return Outcome(row.outcome, row.code, f"seen before: {row.detail}", again=True)


def _record(
    book: Book, db: Db, key: str, itip: Itip | None, outcome: str, code: str, detail: str
) -> None:
    db.add(
        InboundMessageRow(
            key=key,
            method=itip.method if itip else None,
            uid=itip.uid[:255] if itip else None,
            sender=itip.sender[:320] if itip else None,
            outcome=outcome,
            code=code,
            detail=detail,
            seen_at=book.clock(),
        )
    )
    db.flush()


def _apply(book: Book, db: Db, itip: Itip) -> tuple[str, str]:
    target = find(book, db, itip)
    if itip.method == "REPLY":
        return _reply(book, db, target)
    from calbridge.inbound import counter  # it builds on this module

    if itip.method == "COUNTER":
        return counter.received(book, db, target)
    return counter.refresh(book, db, target)


def find(book: Book, db: Db, itip: Itip) -> Target:
    """The UID's rows the message is about; refused unless the UID is ours, the ATTENDEE
    a participant and the From that attendee."""
    rows = repo_inbound.sessions_of_uid(db, itip.uid)
    if not rows:
        raise NotItip("unknown-uid", f"UID {itip.uid} is not a session of this book")
    group = notify.load(book, db, repo.to_session(rows[0]), [repo.to_session(r) for r in rows])
    party = next((p for p, who in group.people.items() if who.email.lower() == itip.attendee), "")
    if not party:
        raise NotItip(
            "not-participant", f"{itip.attendee} is not a participant of session UID {itip.uid}"
        )
    if itip.sender != itip.attendee:
        raise NotItip(
            "from-mismatch",
            f"From {itip.sender or '(none)'} is not the ATTENDEE {itip.attendee}: not applied",
        )
    if itip.recurrence_id is not None:
        rows = [r for r in rows if r.recurrence_id == itip.recurrence_id]
        if not rows:
            when = itip.recurrence_id.isoformat()
            raise NotItip("unknown-occurrence", f"UID {itip.uid} has no occurrence at {when}")
    elif len(rows) > 1:  # the whole series: its open occurrences still ahead
        rows = [r for r in rows if r.status in _OPEN and r.end > book.clock()]
    rows = [r for r in rows if any(p.party_id == party for p in r.participants)]
    if not rows:
        raise NotItip("not-participant", f"{itip.attendee} has no open occurrence of {itip.uid}")
    role = next(Role(p.role) for p in rows[0].participants if p.party_id == party)
    return Target(itip, sorted(rows, key=lambda r: r.start), party, role)


_OPEN = (Status.REQUESTED.value, Status.SCHEDULED.value)


def check_newer(db: Db, target: Target) -> None:
    """Stale unless newer, by (SEQUENCE, DTSTAMP), than the occurrence and than the last
    answer applied from this attendee; recorded as the newest on success."""
    itip = target.itip
    current = [r for r in target.rows if r.sequence <= itip.sequence]
    if not current:
        seq = max(r.sequence for r in target.rows)
        raise NotItip(
            "stale", f"answers SEQUENCE {itip.sequence}; the session is at {seq} since then"
        )
    target.rows = current
    occurrence = itip.recurrence_id.isoformat() if itip.recurrence_id else ""
    known = db.get(InboundAnswerRow, (itip.uid, occurrence, itip.attendee))
    mark = (itip.sequence, itip.dtstamp)
    if known is not None and mark <= (known.sequence, known.dtstamp):
        raise NotItip(
            "stale",
            f"SEQUENCE {itip.sequence}, DTSTAMP {itip.dtstamp.isoformat()} is not newer than"
            f" the answer applied before ({known.sequence}, {known.dtstamp.isoformat()})",
        )
    if known is None:
        db.add(InboundAnswerRow(uid=itip.uid, occurrence=occurrence, attendee=itip.attendee,
                                sequence=itip.sequence, dtstamp=itip.dtstamp))  # fmt: skip
    else:
        known.sequence, known.dtstamp = mark


def _reply(book: Book, db: Db, target: Target) -> tuple[str, str]:
    itip = target.itip
    if itip.partstat not in ANSWERS:
        raise NotItip("partstat", f"PARTSTAT={itip.partstat} is not an answer calbridge records")
    check_newer(db, target)
    accept = ANSWERS[itip.partstat]
    ids = [r.id for r in target.rows]
    for row in target.rows:
        if accept is None or target.role is not Role.CLIENT:
            _partstat(book, db, row, target.party, itip.partstat)
        else:
            planning.answer(book, row.id, Actor.CLIENT, accept, target.party)
    what = {True: "accepted", False: "declined", None: "tentative"}[accept]
    sessions = ", ".join(str(i) for i in ids)
    return what, f"{target.party} {what} session(s) {sessions} (UID {itip.uid})"


def _partstat(book: Book, db: Db, row: SessionRow, party: str, partstat: str) -> None:
    """An answer that changes no status (tentative, or a third party's): the attendee's
    PARTSTAT in the stored copy, and the audit."""
    session = repo.to_session(row)
    session.participants = [
        replace(p, partstat=partstat) if p.party_id == party else p for p in session.participants
    ]
    repo.write_session(db, session, book.clock(), row)
    _audit(book, db, session, "answered", {"party": party, "partstat": partstat})


def _audit(book: Book, db: Db, session: Session, action: str, changes: dict[str, object]) -> None:
    now: datetime = book.clock()
    repo.audit(db, now, "session", session.id, action, Actor.CLIENT, book.origin, changes)
    repo.record_change(db, now, f"session.{action}", session.id, {"uid": session.uid, **changes})
