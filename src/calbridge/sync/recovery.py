"""What a pass that wrote to the calendar, or died while writing, must ask the server.

Both answers come from the server's change report (RFC 6578) since a kept token, so they
live apart from the engine's plan-and-act loop.
"""

from __future__ import annotations

from calbridge.book import Book
from calbridge.calendars.base import CalendarStore, Listing
from calbridge.sync import status
from calbridge.sync.planner import Known


def lost_creates(
    store: CalendarStore, known: dict[str, Known], present: set[str], token: str | None
) -> set[str]:
    """Unconfirmed creates a full listing lacks: the ones the server reports deleted since
    the crashed pass's token were created, then deleted by the coach. (The rest never
    arrived and are created again; so are all when the token has expired.)"""
    missing = {k.href: k.uid for k in known.values() if not k.confirmed and k.href not in present}
    if not missing or token is None:
        return set()
    since = store.changes(token)
    if since.full:
        return set()
    return {missing[h] for h in since.deleted if h in missing}


def token_after_writes(
    book: Book, calendar_id: str, store: CalendarStore, before: Listing
) -> str | None:
    """The token to keep after a pass wrote to the calendar.

    The listing's token predates our writes. Some servers never report an event created
    and deleted after a token (Xandikos), and a snapshot token (vdir) matches again once
    the folder returns to that state; so list again and, if all that changed since is our
    own doing, keep the new token. Otherwise keep the old one (or none).
    """
    after = store.changes(before.token)
    with book.transaction() as db:
        rows = status.known_rows(db, calendar_id, (), set(after.changed), after.full)
    etags = {r.href: r.etag for r in rows}
    ours = all(etags.get(h) == e for h, e in after.changed.items())
    if after.full:
        ours = ours and set(etags) <= set(after.changed)
    else:
        ours = ours and not (set(after.deleted) & set(etags))
    if ours:
        return after.token
    return None if before.snapshot else before.token
