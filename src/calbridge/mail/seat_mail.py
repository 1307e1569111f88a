"""Queue the mail for one seat of a session (a participant added or taken off, `session
edit`), inside the change's transaction: the UID is read (``notify.load``), the pure
``seat_notices`` say who is told what, and each notice is queued (``notify.send``).

Besides the notices: a participant added catches up on the reminders the others were
already sent; one taken off loses their queued reminders.
"""

from __future__ import annotations

from collections.abc import Sequence

from calbridge.core.model import Session
from calbridge.events.changes import SeatsAdded, SeatsRemoved
from calbridge.events.context import BookContext
from calbridge.mail import notify, reminders, seat_notices
from calbridge.mail.channels import texts
from calbridge.mail.notices import Notice
from calbridge.store import repo, repo_outbox
from calbridge.store.db import Db


def added(book: BookContext, db: Db, change: SeatsAdded) -> None:
    """The invitation to each participant just added, then the reminders they missed."""
    session, now = change.sessions[0], book.clock()
    if not change.parties or session.end <= now:
        return
    group = notify.load(book, db, session)
    back = set(change.returning) & set(change.parties)
    raised = repo.next_sequence(db, session.uid) if back else None
    view = group.view(book)
    for notice in seat_notices.notices(change, view, book.settings, now, texts, raised):
        _send(book, db, group, notice)
        if notice.to.party is not None:  # always: an invitation goes to a participant
            reminders.catch_up(book, db, list(change.sessions), notice.to.party)


def removed(book: BookContext, db: Db, change: SeatsRemoved) -> None:
    """A CANCEL to each participant taken off, naming only them; their queued reminders
    are dropped."""
    if not change.parties:
        return
    group = notify.load(book, db, change.before[0], list(change.before))
    view = group.view(book)
    told = {
        n.to.party: n
        for n in seat_notices.notices(change, view, book.settings, book.clock(), texts)
    }
    for party in change.parties:
        mine = [s for s in change.before if seat_notices.takes_part(s, party)]
        _drop_reminders(db, mine, group.people[party].email)
        if party in told:
            _send(book, db, group, told[party])


def _send(book: BookContext, db: Db, group: notify.Group, notice: Notice) -> None:
    notify.send(
        book, db, group, notice.session, notice.to, notice.body, notice.kind, notice.calendar,
        None, notice.text,
    )  # fmt: skip


def _drop_reminders(db: Db, sessions: Sequence[Session], recipient: str) -> None:
    ids = [s.id for s in sessions if s.id is not None]
    why = "the participant was taken off the session"
    repo_outbox.drop_queued(db, ids, "reminder", why, [recipient])
