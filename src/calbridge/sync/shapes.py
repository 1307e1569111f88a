"""Calendar edits calbridge cannot take, told apart from the ones it can (pure).

A session's event may be moved, cancelled, answered or tagged in the coach's calendar.
What it may not become is something else: a repeating event where the book has one
session, a single event where the book has a series, an event with another UID; and the
properties calbridge writes from the book (title, public note, who takes part, that it
blocks time) are the book's. Such an edit is reverted and the coach told why (PRODUCT
rule 8), never read as a deletion.
"""

from __future__ import annotations

from collections.abc import Sequence

from icalendar import Calendar

from calbridge.core.model import Session
from calbridge.ical.model import Instance

SINGLE = (
    "a single session cannot repeat in the calendar ({what} was added); plan a series"
    " with `calbridge session plan --repeat`"
)
SERIES = (
    "the repeat rule of the series was removed; cancel occurrences one by one in the"
    " calendar, or with `calbridge session cancel ID --following`"
)


def unacceptable(rows: Sequence[Session], calendar: Calendar) -> str | None:
    """Why the calendar's version (``calendar``) of these rows' UID cannot be taken, or None."""
    events = calendar.walk("VEVENT")
    uid = rows[0].uid
    uids = sorted({str(e.get("UID", "")) for e in events} - {uid})
    if uids or not events:
        found = ", ".join(repr(u) for u in uids) or "nothing"
        return f"its UID was changed to {found}; the event must keep UID {uid}"
    masters = [e for e in events if "RECURRENCE-ID" not in e]
    series = any(r.recurrence_id is not None for r in rows)
    if not series:
        added = [n for n in ("RRULE", "RDATE", "EXDATE") if any(n in e for e in masters)]
        if len(events) > len(masters):
            added.append("a RECURRENCE-ID override")
        return SINGLE.format(what=" and ".join(added)) if added else None
    if not any("RRULE" in e for e in masters):
        return SERIES
    return None


def owned_changes(found: Instance, refs: Sequence[Instance | None]) -> list[str]:
    """What the coach changed of the properties calbridge writes from the book (they go
    back as the book has them), judged against the versions both sides agreed on."""
    known = [r for r in refs if r is not None]
    if not known:
        return []
    changed = []
    if all(found.summary != r.summary for r in known):
        changed.append("the title is written by calbridge (the kind and the clients' names)")
    if all(found.description != r.description for r in known):
        changed.append(
            "the description is the session's public note; an admin changes it in calbridge"
        )
    if all(set(found.partstats) != set(r.partstats) for r in known):
        changed.append("who takes part is set in calbridge (session plan or edit), not here")
    if found.transp == "TRANSPARENT" and all(r.transp != "TRANSPARENT" for r in known):
        changed.append("a session always blocks the coach's time (shown as busy)")
    return changed
