"""Calendar edits come back as book changes through the same rules as the CLI (rule 7).

A moved event is a reschedule by the coach, a removed occurrence or a CANCELLED event a
cancellation, a changed PARTSTAT a client's answer. Whatever a rule refuses is left
undone in the book; the engine then pushes the book's version back (the revert) and the
reason goes to the change log, from which the coach is told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from calbridge.book import Book, planning
from calbridge.book.changes import Reverted
from calbridge.book.requests import EditRequest
from calbridge.config.schema import Coach
from calbridge.core.model import ACTIVE, Actor, Role, Session, Status
from calbridge.errors import Refused, UserError
from calbridge.ical.bounds import Bounds, check_resource
from calbridge.ical.model import Instance, MalformedEvent
from calbridge.ical.parse import parse_instances
from calbridge.store import repo
from calbridge.sync import outcome_tags, shapes

log = logging.getLogger(__name__)
CANCELLED_REASON = "removed in the coach's calendar"


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
    """Apply what the calendar says about one UID to the book; report what was refused.

    ``refs`` are the content both sides last agreed on and a write of calbridge's sent but
    not confirmed. What the calendar states is the coach's edit only where it differs from
    both (a three-way merge): a value the book itself last wrote there is not an edit, so
    the book's newer state stands. Without references the book's state is the reference.
    """
    outcome = Outcome()
    problem, pairs = _read(coach, rows, data, refs, book.settings.sync.bounds.limits())
    live = _live(rows)
    if problem is not None:  # never read as a deletion: the book's version goes back
        outcome.refused.append(f"{href or rows[0].uid}: {problem}")
        if live:
            _record_revert(book, live[0], problem, href)
        return outcome
    for row, found, refs_of in pairs:
        _apply(book, row, found, refs_of, outcome, href)
    return outcome


def foresee(
    coach: Coach,
    rows: list[Session],
    data: bytes,
    refs: tuple[bytes | None, bytes | None],
    bounds: Bounds,
) -> list[tuple[Session, str]]:
    """What importing ``data`` would do to each live row, for a dry run (nothing written):
    "import cancel", "import move", "revert" (an edit the book's version undoes), or
    "import" (answers, outcome tags). The rules may still refuse a move when applied."""
    problem, pairs = _read(coach, rows, data, refs, bounds)
    if problem is not None:
        return [(row, "revert") for row in _live(rows)]
    seen = []
    for row, found, refs_of in pairs:
        if found is None or found.status == "CANCELLED":
            if not (refs_of and all(r is None or r.status == "CANCELLED" for r in refs_of)):
                seen.append((row, "import cancel"))
        elif shapes.owned_changes(found, refs_of):
            seen.append((row, "revert"))
        elif _moved(row, found, refs_of):
            seen.append((row, "import move"))
        else:
            seen.append((row, "import"))
    return seen


Pair = tuple[Session, Instance | None, list[Instance | None]]


def _read(
    coach: Coach,
    rows: list[Session],
    data: bytes,
    refs: tuple[bytes | None, bytes | None],
    bounds: Bounds,
) -> tuple[str | None, list[Pair]]:
    """Why the calendar's copy cannot be taken (or None), and each live row with its
    instance there and in the references (what both sides agreed on, what was sent)."""
    try:
        check_resource(data, bounds)  # by counting bytes, before any parsing
        problem = shapes.unacceptable(rows, data)
        instances = _instances(coach, rows, data, bounds) if problem is None else {}
    except MalformedEvent as exc:
        problem = f"the calendar's copy could not be read ({exc})"
    if problem is not None:
        return problem, []
    references = [r for r in (_reference(coach, rows, ref, bounds) for ref in refs) if r]
    series = any(r.recurrence_id is not None for r in rows)
    pairs: list[Pair] = []
    for row in sorted(_live(rows), key=lambda r: r.recurrence_id or r.start):
        key = row.recurrence_id if series else None
        pairs.append((row, instances.get(key), [ref.get(key) for ref in references]))
    return None, pairs


def _live(rows: list[Session]) -> list[Session]:
    return [r for r in rows if r.status in ACTIVE and r.id is not None]


def _moved(row: Session, found: Instance, refs: list[Instance | None]) -> bool:
    """The calendar shows another time, one no reference held (the coach moved it)."""
    span = (found.start, found.end)
    return span != (row.start, row.end) and all(r is None or (r.start, r.end) != span for r in refs)


def _reference(
    coach: Coach, rows: list[Session], data: bytes | None, bounds: Bounds
) -> dict[datetime | None, Instance] | None:
    """A version both sides agreed on (or calbridge sent), read like the calendar's."""
    if not data:
        return None
    try:
        return _instances(coach, rows, data, bounds)
    except MalformedEvent:
        return None


def _instances(
    coach: Coach, rows: list[Session], data: bytes, bounds: Bounds
) -> dict[datetime | None, Instance]:
    """The remote series from ``window_days`` before the book's first occurrence to as
    long after its last (to find moved ones), within the caps of ``bounds``."""
    reach = timedelta(days=bounds.window_days)
    first = min(min(r.start, r.recurrence_id or r.start) for r in rows) - reach
    last = max(max(r.end, r.recurrence_id or r.end) for r in rows) + reach
    found = parse_instances(data, (first, last), coach.zone(), bounds)
    return {i.recurrence_id: i for i in found}


def _apply(
    book: Book,
    row: Session,
    found: Instance | None,
    refs: list[Instance | None],
    outcome: Outcome,
    href: str = "",
) -> None:
    assert row.id is not None
    if found is None or found.status == "CANCELLED":
        if refs and all(r is None or r.status == "CANCELLED" for r in refs):
            return  # never shown as open there: nothing the coach removed
        planning.cancel(book, row.id, Actor.COACH, CANCELLED_REASON)
        outcome.applied.append(f"session {row.id} cancelled")
        return
    tagged = outcome_tags.apply(book, row, found)
    if tagged is not None:  # an outcome tag: only it is read; the book's version goes back
        if tagged.refused:
            outcome.refused.append(f"outcome of session {row.id}: {tagged.refused}")
            _record_revert(book, row, tagged.refused, href)
        elif tagged.applied:
            outcome.applied.append(tagged.applied)
        return
    kept = shapes.owned_changes(found, refs)
    if kept:
        reason = "; ".join(kept)
        outcome.refused.append(f"session {row.id}: {reason}")
        _record_revert(book, row, reason, href)
    if _moved(row, found, refs):
        _move(book, row, found, outcome, href)
    _answers(book, row, found, refs, outcome)


def _move(book: Book, row: Session, found: Instance, outcome: Outcome, href: str) -> None:
    assert row.id is not None
    request = EditRequest(start=found.start, end=found.end, by=Actor.COACH)
    try:
        planning.edit(book, row.id, request)
        outcome.applied.append(f"session {row.id} moved to {found.start.isoformat()}")
    except (Refused, UserError) as exc:  # a rule, or a time no session can have (> 24 h)
        reason = exc.message if isinstance(exc, Refused) else str(exc)
        outcome.refused.append(f"moving session {row.id}: {reason}")
        _record_revert(book, row, reason, href)


def _answers(
    book: Book, row: Session, found: Instance, refs: list[Instance | None], outcome: Outcome
) -> None:
    """A client's PARTSTAT that reached the coach's copy is that client's answer (unless
    it is the one the references already held: then it is no news)."""
    assert row.id is not None
    with book.transaction() as db:
        emails = {
            p.party_id: repo.client(db, p.party_id).email.lower()
            for p in row.participants
            if p.role is Role.CLIENT
        }
    for part in row.participants:
        email = emails.get(part.party_id, "")
        new = found.partstats.get(email)
        if new not in ("ACCEPTED", "DECLINED") or new == part.partstat:
            continue
        if any(r is not None and r.partstats.get(email) == new for r in refs):
            continue
        current = repo_status(book, row.id)
        if current not in (Status.REQUESTED, Status.SCHEDULED):
            continue
        try:
            planning.answer(book, row.id, Actor.CLIENT, new == "ACCEPTED", part.party_id)
            outcome.applied.append(f"session {row.id}: {part.party_id} {new.lower()}")
        except Refused as exc:
            outcome.refused.append(f"answer of {part.party_id} on session {row.id}: {exc.message}")


def repo_status(book: Book, session_id: int) -> Status:
    with book.transaction() as db:
        return Status(repo.session_row(db, session_id).status)


def _record_revert(book: Book, row: Session, reason: str, href: str = "") -> None:
    """Audit it and queue the coach's "your calendar edit was reverted" notice."""
    with book.transaction() as db:
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
