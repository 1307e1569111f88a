"""Reminders (PRODUCT rule 6): due ones found by one query, each decided exactly once.

A reminder is due at ``start - lead`` for every lead time in ``[reminders] lead_times``,
for active sessions that opted in. Deciding one inserts its key (session, start, lead)
into ``reminders``; the insert does nothing when the key exists, so repeated passes
and several instances queue it once. A moved session has a new start, so it gets new
reminders (its queued ones are dropped by the move); a cancelled one is no longer
active. One whose session began before anyone could queue it is dropped and logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from calbridge.core.model import Session, Status
from calbridge.events.context import BookContext
from calbridge.mail import bodies, notify
from calbridge.mail.channels import texts
from calbridge.store import repo, repo_reminders
from calbridge.store.db import Db

log = logging.getLogger(__name__)
#: Sessions that began at most this long ago are still looked at, to log what was missed.
LOOK_BACK = timedelta(days=1)
OPEN = (Status.REQUESTED.value, Status.SCHEDULED.value)


def queue_due_reminders(
    book: BookContext, now: datetime | None = None, dry_run: bool = False
) -> int:
    """Queue every reminder now due; returns how many messages were queued.

    ``dry_run``: how many would be, with nothing written (a savepoint rolled back).
    """
    now = now or book.clock()
    leads = sorted(set(book.settings.lead_times()))
    if not leads:
        return 0
    with book.transaction() as db:
        if not dry_run:
            return _queue_due(book, db, now, leads, log_drops=True)
        with db.begin_nested() as savepoint:
            queued = _queue_due(book, db, now, leads, log_drops=False)
            savepoint.rollback()
        return queued


def _queue_due(
    book: BookContext, db: Db, now: datetime, leads: list[timedelta], log_drops: bool
) -> int:
    queued = 0
    for row in repo_reminders.due_sessions(db, now, leads, now - LOOK_BACK, OPEN):
        session = repo.to_session(row)
        for lead in leads:
            if session.start - lead > now:
                continue
            late = session.start <= now
            state = "dropped" if late else "queued"
            if not repo_reminders.decide(db, session, lead, state, now):
                continue
            if late and log_drops:
                log.warning(
                    "reminder %s before session %s dropped: the session began at %s",
                    lead,
                    session.id,
                    session.start.isoformat(),
                )
            if not late:
                queued += _queue(book, db, session, lead)
    return queued


def catch_up(book: BookContext, db: Db, sessions: list[Session], party: str) -> None:
    """A participant added to ``sessions`` gets the reminders the others were already
    sent (or have queued) for a session still to come; later ones reach them as usual."""
    now = book.clock()
    for session in sessions:
        if session.start <= now or not session.remind:
            continue
        for seconds in repo_reminders.queued_leads(db, session):
            _queue(book, db, session, timedelta(seconds=seconds), [party])


def _queue(
    book: BookContext, db: Db, session: Session, lead: timedelta, parties: list[str] | None = None
) -> int:
    group = notify.load(book, db, session)
    about = group.about(book, session)
    for party in session.participants:
        if parties is not None and party.party_id not in parties:
            continue
        reader = group.reader(party.party_id)
        body = bodies.reminder(about, reader, lead)
        said = texts.reminder(about, reader)
        notify.send(
            book, db, group, session, reader, body, "reminder", expires_at=session.start, text=said
        )
    return len(session.participants) if parties is None else len(parties)
