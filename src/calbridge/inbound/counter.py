"""COUNTER and REFRESH from a client's calendar app, and the admin's `calbridge counter`.

A counter-proposal is checked exactly as a client-requested move (``planning.edit`` with
``client_requested``: the monthly limit, the coach's availability and closures), inside a
savepoint so a check that fails leaves nothing behind (``client_moves.check_move``).
``[policies] counter`` says what a counter that passes does: ``accept`` moves the session
at once, ``admin`` keeps it for `calbridge counter accept|decline`. A refused one gets a
DECLINECOUNTER. `calbridge counter` answers the times asked for on the client's page
(``[policies] page_move = "coach"``, source "page") the same way; a refused one is told
to the client by mail (and on their page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from calbridge.book.client_moves import check_move
from calbridge.book.context import Book
from calbridge.core.model import Role
from calbridge.errors import CalbridgeError, NotFound, UserError
from calbridge.inbound.apply import Target, check_newer
from calbridge.inbound.message import NotItip
from calbridge.mail import counter_mail
from calbridge.store import repo, repo_inbound
from calbridge.store.db import Db
from calbridge.store.tables_inbound import CounterRow


def received(book: Book, db: Db, target: Target) -> tuple[str, str]:
    itip = target.itip
    if target.role is not Role.CLIENT:
        raise NotItip("not-client", f"{itip.attendee} is not a client; only clients propose")
    if len(target.rows) != 1:
        raise NotItip("malformed", "a COUNTER for a whole series: propose one occurrence")
    if itip.start is None or itip.end is None or itip.end <= itip.start:
        raise NotItip("malformed", "a COUNTER needs a proposed DTSTART before its DTEND")
    check_newer(db, target)
    row = target.rows[0]
    counter = CounterRow(
        session_id=row.id, client_id=target.party, attendee=itip.attendee,
        start=itip.start, end=itip.end, comment=itip.comment[:2000], sequence=itip.sequence,
        dtstamp=itip.dtstamp, state="open", created_at=book.clock(),
    )  # fmt: skip
    db.add(counter)
    db.flush()
    accept = book.settings.policies.counter == "accept"
    problem = _try_move(book, db, counter, keep=accept)
    if problem is not None:
        _decline(book, db, counter, problem)
        return "counter-declined", f"counter {counter.id} for session {row.id}: {problem}"
    if accept:
        _close(book, counter, "accepted")
        return "counter-accepted", f"session {row.id} moved as {target.party} proposed"
    session = repo.to_session(row)
    counter_mail.waiting(book, db, session, target.party, itip.start, itip.end, counter.id)
    return "counter-open", f"counter {counter.id} for session {row.id} waits for the admin"


def refresh(book: Book, db: Db, target: Target) -> tuple[str, str]:
    session = repo.to_session(target.rows[0])
    if not counter_mail.refreshed(book, db, session, target.party):
        raise NotItip("not-open", f"UID {session.uid} has nothing open to send again")
    return "refreshed", f"the current REQUEST of {session.uid} sent again to {target.party}"


def _try_move(book: Book, db: Db, counter: CounterRow, keep: bool) -> str | None:
    """None if the move passes every check of a client-requested move (kept when
    ``keep``), else why not; nothing of a failed or unkept check remains."""
    try:
        check_move(book, db, counter.session_id, (counter.start, counter.end), keep)
    except CalbridgeError as error:
        return str(error)
    return None


def _decline(book: Book, db: Db, counter: CounterRow, reason: str) -> None:
    session = repo.to_session(repo.session_row(db, counter.session_id))
    if counter.source == "page":
        span = (counter.start, counter.end)
        counter_mail.page_declined(book, db, session, counter.client_id, span, reason)
    else:
        counter_mail.declined(book, db, session, counter.client_id, reason)
    _close(book, counter, "declined", reason)


def _close(book: Book, counter: CounterRow, state: str, reason: str | None = None) -> None:
    counter.state, counter.reason, counter.decided_at = state, reason, book.clock()


# --- the admin's side: calbridge counter list|accept|decline -------------------------


def listing(book: Book, every: bool = False) -> list[dict[str, Any]]:
    with book.transaction() as db:
        return [_describe(c) for c in repo_inbound.counters(db, every)]


def _describe(counter: CounterRow) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": counter.id,
        "from": counter.source,
        "session": counter.session_id,
        "client": counter.client_id,
        "start": iso(counter.start),
        "end": iso(counter.end),
        "comment": counter.comment,
        "state": counter.state,
        "reason": counter.reason,
        "received": iso(counter.created_at),
    }


def accept(book: Book, counter_id: int) -> dict[str, Any]:
    """Move the session as proposed (a client-requested move: the client is sent the new
    time); refused if it no longer passes the checks (the monthly limit, availability,
    booking policies, each named: the counter stays open: decline it, or free the time)."""
    with book.transaction() as db:
        counter = _open(db, counter_id)
        problem = _try_move(book, db, counter, keep=True)
        if problem is not None:
            raise UserError(
                f"counter {counter_id} cannot be accepted: {problem}"
                f" (refuse it with `calbridge counter decline {counter_id}`)"
            )
        _close(book, counter, "accepted")
        return _describe(counter)


def decline(book: Book, counter_id: int, reason: str | None = None) -> dict[str, Any]:
    with book.transaction() as db:
        counter = _open(db, counter_id)
        _decline(book, db, counter, reason or "the practice cannot offer that time")
        return _describe(counter)


def _open(db: Db, counter_id: int) -> CounterRow:
    counter = db.get(CounterRow, counter_id)
    if counter is None:
        raise NotFound(f"unknown counter {counter_id} (see `calbridge counter list`)")
    if counter.state != "open":
        raise UserError(f"counter {counter_id} is already {counter.state}")
    return counter
