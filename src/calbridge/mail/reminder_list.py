"""`reminder list`: what reminders are coming, when and for whom (read only).

Two kinds: ``queued`` ones are messages in the outbox waiting to go (one per recipient
and channel); ``planned`` ones are not decided yet: an opted-in active session, one per
``[reminders] lead_times`` entry, queued by the pass after ``due`` (start - lead).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from calbridge.events.context import BookContext
from calbridge.mail.reminders import OPEN
from calbridge.store import repo_reminders
from calbridge.store.tables import SessionRow

WAITING = ("queued", "sending")


def _lead(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h" + (f"{rest // 60:02d}m" if rest else "")


def upcoming(
    book: BookContext, coach_id: str | None = None, session_id: int | None = None
) -> list[dict[str, Any]]:
    """Queued and planned reminders, soonest first (a planned one already due goes out
    with the next pass of `run` or `mail send`)."""
    if coach_id:
        book.settings.coach(coach_id)
    now = book.clock()
    leads = sorted(set(book.settings.lead_times()))
    out: list[dict[str, Any]] = []
    with book.transaction() as db:
        queued, sessions = repo_reminders.listed(db, now, WAITING, OPEN, coach_id, session_id)
        for message, session in queued:
            out.append(_item(book, session, "queued", message.not_before, [message.recipient]))
            out[-1] |= {"channel": message.channel, "outbox": message.id}
        decided = repo_reminders.decided(db, [s.id for s in sessions])
        for session in sessions:
            for lead in leads:
                if (session.id, session.start, int(lead.total_seconds())) in decided:
                    continue  # queued (listed above if still unsent) or dropped
                who = [p.party_id for p in session.participants]
                out.append(_item(book, session, "planned", session.start - lead, who, lead))
    out.sort(key=lambda r: (datetime.fromisoformat(r["due"]), r["session"], r["state"]))
    return out


def _item(
    book: BookContext,
    session: SessionRow,
    state: str,
    due: datetime,
    to: list[str],
    lead: timedelta | None = None,
) -> dict[str, Any]:
    zone = book.settings.coach(session.coach_id).zone()
    return {
        "state": state,
        "due": due.astimezone(zone).isoformat(),
        "session": session.id,
        "coach": session.coach_id,
        "start": session.start.astimezone(zone).isoformat(),
        "lead": _lead(((session.start - due) if lead is None else lead).total_seconds()),
        "to": to,
    }
