"""The mass-deletion guard's state: a calendar held until the admin decides (rule 8).

The planner decides that a pass trips the guard (``planner.Guard``); this records it.
The first pass that trips holds the calendar: one WARNING, one mail to the coach and the
admin, and ``held_reason`` set (shown by /status, /healthz and the metrics). Later passes
keep holding quietly. The hold ends when the admin restores or accepts, or when a pass
finds nothing vanished any more (the events came back).
"""

from __future__ import annotations

import logging

from calbridge.book import Book
from calbridge.config.schema import Coach
from calbridge.sync import status
from calbridge.sync.planner import Decision, Guard

log = logging.getLogger(__name__)


def guard_for(book: Book, state: status.State, total: int, decision: Decision | None) -> Guard:
    sync = book.settings.sync
    return Guard(sync.guard_deletions, sync.guard_share, total, state.held is not None, decision)


def explain(coach: Coach, held: str) -> str:
    return (
        f"{held}. Run `calbridge sync --coach {coach.id} --restore` to write the book back,"
        f" or `calbridge sync --coach {coach.id} --accept-deletions` to cancel them"
    )


def record(book: Book, coach: Coach, state: status.State, held: str | None) -> None:
    """Hold the calendar for ``held`` (the planner's reason), or release a hold."""
    if held is None and state.held is None:
        return
    with book.transaction() as db:
        changed = status.hold(db, state.calendar_id, held, book.clock())
        if changed and held is not None:
            from calbridge.mail import notify  # message building: only when a hold begins

            notify.calendar_held(book, db, coach, held)
    if changed and held is not None:
        log.warning("calendar %s held by the mass-deletion guard: %s", coach.id, held)
    elif changed:
        log.info("calendar %s is no longer held by the mass-deletion guard", coach.id)
