"""Calendar edits come back as book changes through the same rules as the CLI (rule 7).

``sync.decide`` says what the calendar's copy means (move, cancel, answer, tag, revert);
here those commands go through the book's operations, in the caller's transaction, each
in a savepoint: whatever a rule refuses is left undone in the book (the engine then
pushes the book's version back, the revert) and the reason goes to the change log, from
which the coach is told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from calbridge.book import Book, planning
from calbridge.book.requests import EditRequest
from calbridge.config.schema import Coach
from calbridge.core.model import Actor, Role, Session, Status
from calbridge.errors import Refused, UserError
from calbridge.events.changes import Reverted
from calbridge.ical.resource import Resource, read_resource
from calbridge.store import repo, repo_events
from calbridge.store.db import Db
from calbridge.sync import outcome_tags
from calbridge.sync.decide import (
    CANCELLED_REASON,
    Answer,
    Cancel,
    Command,
    Move,
    Revert,
    Rules,
    Tag,
    decide,
)

__all__ = ["CANCELLED_REASON", "Outcome", "apply", "import_event", "import_in", "rules_for"]

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    applied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def import_event(
    book: Book,
    coach: Coach,
    rows: list[Session],
    data: bytes,
    refs: tuple[bytes | None, bytes | None] = (None, None),
    href: str = "",
) -> Outcome:
    """Apply what the calendar says about one UID to the book, in one transaction; report
    what was refused (see ``sync.decide`` for what the copy and ``refs`` mean)."""
    copy = read_resource(data, book.settings.sync.bounds.limits())
    with book.transaction() as db:
        return import_in(book, db, coach, rows, copy, refs, href)


def import_in(
    book: Book,
    db: Db,
    coach: Coach,
    rows: Sequence[Session],
    copy: Resource,
    refs: tuple[bytes | None, bytes | None],
    href: str = "",
    emails: Mapping[str, str] | None = None,
) -> Outcome:
    """``import_event`` inside the caller's transaction ``db``, the copy already read
    (``emails``: the clients' addresses, ``client_emails``, when the caller read them)."""
    if emails is None:
        emails = client_emails(db, rows)
    commands = decide(rows, copy, refs, emails, rules_for(book, coach), href)
    return apply(book, db, commands, href)


def rules_for(book: Book, coach: Coach) -> Rules:
    bounds = book.settings.sync.bounds.limits()
    return Rules(coach.zone(), book.clock(), book.settings.outcomes.tag_targets(), bounds)


def client_emails(db: Db, rows: Sequence[Session]) -> dict[str, str]:
    """Each client's address (lower case) by party id: whose PARTSTAT is whose answer."""
    clients = {p.party_id for r in rows for p in r.participants if p.role is Role.CLIENT}
    people = repo_events.people_of(db, rows) if clients else {}
    return {party: people[party].email.lower() for party in clients if party in people}


def apply(book: Book, db: Db, commands: Sequence[Command], href: str = "") -> Outcome:
    """Run ``commands`` through the book's operations, in order, in transaction ``db``."""
    outcome = Outcome()
    for command in commands:
        if isinstance(command, Revert):
            outcome.refused.append(command.refused)
            if command.row is not None:
                _record_revert(book, db, command.row, command.reason, href)
        elif isinstance(command, Cancel):
            session_id = _id(command.row)
            planning.cancel(book, session_id, Actor.COACH, command.reason)
            outcome.applied.append(f"session {session_id} cancelled")
        elif isinstance(command, Move):
            _move(book, db, command, outcome, href)
        elif isinstance(command, Answer):
            _answer(book, db, command, outcome)
        else:
            _tag(book, db, command, outcome, href)
    return outcome


def _move(book: Book, db: Db, move: Move, outcome: Outcome, href: str) -> None:
    session_id = _id(move.row)
    request = EditRequest(start=move.start, end=move.end, by=Actor.COACH)
    refused = _attempt(db, lambda: planning.edit(book, session_id, request))
    if refused is None:
        outcome.applied.append(f"session {session_id} moved to {move.start.isoformat()}")
        return
    outcome.refused.append(f"moving session {session_id}: {refused}")
    _record_revert(book, db, move.row, refused, href)


def _answer(book: Book, db: Db, answer: Answer, outcome: Outcome) -> None:
    session_id, party = _id(answer.row), answer.party_id
    current = Status(repo.session_row(db, session_id).status)
    if current not in (Status.REQUESTED, Status.SCHEDULED):
        return  # no longer open (an earlier answer declined it): nothing to answer
    try:
        with db.begin_nested():
            planning.answer(book, session_id, Actor.CLIENT, answer.accept, party)
    except Refused as exc:
        outcome.refused.append(f"answer of {party} on session {session_id}: {exc.message}")
        return
    said = "accepted" if answer.accept else "declined"
    outcome.applied.append(f"session {session_id}: {party} {said}")


def _tag(book: Book, db: Db, tag: Tag, outcome: Outcome, href: str) -> None:
    session_id = _id(tag.row)
    refused = _attempt(db, lambda: outcome_tags.save_tag(book, tag))
    if refused is None:
        label = outcome_tags.label(tag)
        outcome.applied.append(f"session {session_id}: {label} (calendar tag {tag.tag!r})")
        return
    reason = f"tag {tag.tag!r}: {refused}"
    outcome.refused.append(f"outcome of session {session_id}: {reason}")
    _record_revert(book, db, tag.row, reason, href)


def _attempt(db: Db, operation: Callable[[], object]) -> str | None:
    """Run a book operation in a savepoint; why a rule refused it (None: it went through).
    A ``UserError`` here is a value no session can have (a move past 24 hours)."""
    try:
        with db.begin_nested():
            operation()
    except (Refused, UserError) as exc:
        return exc.message if isinstance(exc, Refused) else str(exc)
    return None


def _id(row: Session) -> int:
    assert row.id is not None
    return row.id


def _record_revert(book: Book, db: Db, row: Session, reason: str, href: str = "") -> None:
    """Audit it and queue the coach's "your calendar edit was reverted" notice."""
    now = book.clock()
    payload = {"uid": row.uid, "coach": row.coach_id, "reason": reason}
    repo.audit(db, now, "session", row.id, "reverted", Actor.COACH, book.origin, payload)
    repo.record_change(db, now, "session.reverted", row.id, payload)
    book.emit(db, Reverted(row, reason))
    where = f", {href}" if href else ""
    log.warning(
        "calendar %s: reverted a calendar edit of session %s (UID %s%s): %s",
        row.coach_id,
        row.id,
        row.uid,
        where,
        reason,
    )
